//! Every kind of bad extract input gives a located, readable problem, never a panic, and the
//! other files of the extract are still read (invariant 5). No problem text carries an
//! identity number or a name (invariant 4).

use std::fs;
use std::path::Path;

use kpr_bridge::source::{Problem, ReadSummary, Snapshot, read_extract};

const PERSONS: &str = "person_id;ident;name;birth_year;gender;municipality;district;household\n\
    1;01810112332;Åse Ødegård;1901;K;4601;460101;alone\n\
    2;01810112170;Bjørn Sæther;1901;M;4601;460102;with_others\n";
const SERVICES: &str = "service_id;person_id;local_type;decision;decided_on;start_date;end_date;hours_per_week;provider_orgnr;pause_from;pause_to\n\
    s1;1;HJSPL;granted;2025-01-01;2025-01-02;;7,5;974760673;;\n\
    s2;2;TRYGGH;granted;01.02.2025;01.02.2025;;;;;\n";
const DIAGNOSES: &str = "person_id;system;code;registered_on\n1;ICPC2;P70;2025-03-01\n";

/// Writes a complete extract with `overrides` replacing or adding files.
fn extract(overrides: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("persons.csv"), PERSONS).unwrap();
    fs::write(dir.path().join("services.csv"), SERVICES).unwrap();
    fs::write(dir.path().join("diagnoses.csv"), DIAGNOSES).unwrap();
    for (name, content) in overrides {
        fs::write(dir.path().join(name), content).unwrap();
    }
    fs::write(dir.path().join("READY"), "").unwrap();
    dir
}

fn read(dir: &Path) -> (Snapshot, ReadSummary) {
    let mut snapshot = Snapshot::default();
    let summary = read_extract(dir, &mut snapshot).expect("the directory itself is usable");
    (snapshot, summary)
}

fn only_problem(summary: &ReadSummary) -> &Problem {
    let problems = summary.problems.kept();
    assert_eq!(problems.len(), 1, "expected one problem, got {problems:#?}");
    assert_no_identity(&problems[0].to_string());
    &problems[0]
}

/// The problem is at `line`, in `column`, and says `says`.
fn assert_located(problem: &Problem, line: u64, column: &str, says: &str) {
    assert_eq!(
        (problem.line, problem.column.as_deref()),
        (Some(line), Some(column)),
        "{problem}"
    );
    assert!(problem.what.contains(says), "{problem}");
}

fn assert_no_identity(text: &str) {
    for secret in [
        "01810112332",
        "01810112170",
        "Åse",
        "Ødegård",
        "Bjørn",
        "Sæther",
    ] {
        assert!(!text.contains(secret), "a problem shows identity: {text}");
    }
}

#[test]
fn a_clean_extract_has_no_problems() {
    let dir = extract(&[]);
    let (snapshot, summary) = read(dir.path());
    assert!(
        summary.problems.is_empty(),
        "{:#?}",
        summary.problems.kept()
    );
    assert_eq!(
        (
            snapshot.persons.len(),
            snapshot.services.len(),
            snapshot.diagnoses.len()
        ),
        (2, 2, 1)
    );
    assert_eq!(
        snapshot.services[0].hours_per_week.unwrap().to_string(),
        "7.5"
    );
}

#[test]
fn truncated_file() {
    let cut = &SERVICES.as_bytes()[..SERVICES.len() - 12];
    let dir = extract(&[("services.csv", cut)]);
    let (snapshot, summary) = read(dir.path());
    let problem = only_problem(&summary);
    assert_eq!(
        (problem.file.as_str(), problem.line),
        ("services.csv", Some(3))
    );
    assert!(
        problem.what.contains("has 6 fields, the header has 11"),
        "{problem}"
    );
    assert!(problem.fix.contains("truncated"), "{problem}");
    assert_eq!(snapshot.services.len(), 1, "the complete row is still read");
    assert_eq!(snapshot.persons.len(), 2);
}

#[test]
fn wrong_delimiter() {
    let dir = extract(&[("services.csv", SERVICES.replace(';', ",").as_bytes())]);
    let (snapshot, summary) = read(dir.path());
    let problem = only_problem(&summary);
    assert!(problem.fatal);
    assert_eq!(
        (problem.file.as_str(), problem.line),
        ("services.csv", Some(1))
    );
    assert!(problem.what.contains("separated by ','"), "{problem}");
    assert!(problem.fix.contains("';'"), "{problem}");
    assert_eq!(
        (snapshot.persons.len(), snapshot.diagnoses.len()),
        (2, 1),
        "other files still read"
    );
}

#[test]
fn windows_1252_is_detected_and_read() {
    let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(PERSONS);
    let dir = extract(&[("persons.csv", &encoded)]);
    let (snapshot, summary) = read(dir.path());
    assert!(
        summary.problems.is_empty(),
        "{:#?}",
        summary.problems.kept()
    );
    assert_eq!(
        snapshot.persons[0].name.as_ref().unwrap().expose(),
        "Åse Ødegård"
    );
    let utf8 = read(extract(&[]).path()).0;
    assert_eq!(snapshot, utf8);
}

#[test]
fn utf8_with_bom_is_read() {
    let with_bom = [b"\xef\xbb\xbf".as_slice(), PERSONS.as_bytes()].concat();
    let (snapshot, summary) = read(extract(&[("persons.csv", &with_bom)]).path());
    assert!(summary.problems.is_empty());
    assert_eq!(snapshot.persons[0].person_id, "1");
}

#[test]
fn wrong_encoding_utf16() {
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(PERSONS.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let dir = extract(&[("persons.csv", &utf16)]);
    let (snapshot, summary) = read(dir.path());
    let problems = summary.problems.kept();
    assert!(
        problems[0].what.contains("UTF-16") && problems[0].fix.contains("UTF-8"),
        "{}",
        problems[0]
    );
    assert!(problems[0].fatal);
    // Without persons, references cannot be judged, but services are still read.
    assert_eq!(snapshot.services.len(), 2);
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

#[test]
fn a_utf8_file_with_one_windows_1252_line_is_read_and_reported() {
    let mixed = [
        PERSONS.as_bytes(),
        b"3;01810112170;J\xf8rgen;1901;M;4601;;\n",
    ]
    .concat();
    let dir = extract(&[("persons.csv", &mixed)]);
    let (snapshot, summary) = read(dir.path());
    let problem = only_problem(&summary);
    assert_eq!(problem.line, Some(4));
    assert!(problem.what.contains("not valid UTF-8"), "{problem}");
    assert_eq!(
        snapshot.persons[2].name.as_ref().unwrap().expose(),
        "Jørgen"
    );
}

#[test]
fn empty_file() {
    let dir = extract(&[("services.csv", b"")]);
    let (snapshot, summary) = read(dir.path());
    let problem = only_problem(&summary);
    assert!(problem.fatal && problem.what.contains("empty"), "{problem}");
    assert_eq!(problem.file, "services.csv");
    assert_eq!(snapshot.persons.len(), 2);
}

#[test]
fn header_only() {
    let header = PERSONS.lines().next().unwrap();
    let dir = extract(&[("persons.csv", header.as_bytes())]);
    let (_, summary) = read(dir.path());
    let problems = summary.problems.kept();
    assert!(
        problems[0].what.contains("has no persons"),
        "{}",
        problems[0]
    );
    // With no persons, every service points at an unknown person, and says so.
    assert!(
        problems[1..]
            .iter()
            .all(|p| p.what.contains("is not in persons.csv"))
    );
    // A header-only optional file is simply empty.
    let header = DIAGNOSES.lines().next().unwrap();
    let (snapshot, summary) = read(extract(&[("diagnoses.csv", header.as_bytes())]).path());
    assert!(summary.problems.is_empty());
    assert!(snapshot.diagnoses.is_empty());
}

#[test]
fn duplicate_person_id() {
    let doubled = format!("{PERSONS}1;01010112377;Kari Nordmann;1901;K;4601;;\n");
    let dir = extract(&[("persons.csv", doubled.as_bytes())]);
    let (snapshot, summary) = read(dir.path());
    let problem = only_problem(&summary);
    assert_located(
        problem,
        4,
        "person_id",
        "'1' appears again (first on line 2)",
    );
    assert_eq!(snapshot.persons.len(), 2);
    assert!(!problem.to_string().contains("01010112377") && !problem.to_string().contains("Kari"));
}

#[test]
fn service_pointing_at_unknown_person() {
    let extra = format!("{SERVICES}s3;99;HJSPL;granted;2025-01-01;2025-01-01;;;974760673;;\n");
    let dir = extract(&[("services.csv", extra.as_bytes())]);
    let (snapshot, summary) = read(dir.path());
    let problem = only_problem(&summary);
    assert_located(problem, 4, "person_id", "'99' is not in persons.csv");
    assert_eq!(snapshot.services.len(), 2);
}

#[test]
fn impossible_date() {
    let bad = SERVICES.replace("01.02.2025;01.02.2025", "01.02.2025;31.02.2025");
    let dir = extract(&[("services.csv", bad.as_bytes())]);
    let (snapshot, summary) = read(dir.path());
    let problem = only_problem(&summary);
    assert_eq!(
        problem.to_string(),
        "services.csv:3 column start_date: '31.02.2025' is not a date: February 2025 has 28 days \
         — write the date as YYYY-MM-DD or DD.MM.YYYY"
    );
    // The service still flows, without the bad date, for the checks to judge.
    assert_eq!(snapshot.services.len(), 2);
    assert_eq!(snapshot.services[1].start, None);
}

#[test]
fn a_300_mb_line_without_newline() {
    let dir = extract(&[]);
    let path = dir.path().join("services.csv");
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(fs::File::create(&path).unwrap());
        file.write_all(SERVICES.as_bytes()).unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..300 {
            file.write_all(&chunk).unwrap();
        }
    }
    let (snapshot, summary) = read(dir.path());
    let problem = only_problem(&summary);
    assert!(problem.fatal);
    assert_eq!(
        (problem.file.as_str(), problem.line),
        ("services.csv", Some(4))
    );
    assert!(problem.what.contains("longer than 1 MiB"), "{problem}");
    assert_eq!(
        snapshot.services.len(),
        2,
        "rows before the long line are read"
    );
    assert_eq!(snapshot.diagnoses.len(), 1, "the other files are read");
}

#[test]
fn a_binary_file_named_persons_csv() {
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    let dir = extract(&[("persons.csv", &binary)]);
    let (snapshot, summary) = read(dir.path());
    let problem = &summary.problems.kept()[0];
    assert!(
        problem.fatal && problem.what.contains("not a text file"),
        "{problem}"
    );
    assert_eq!(problem.file, "persons.csv");
    assert_eq!(snapshot.services.len(), 2, "services are still read");
    assert_eq!(summary.problems.total(), 1);
}

#[test]
fn a_missing_required_column_names_it() {
    let without_ident = PERSONS.replace("person_id;ident;", "person_id;");
    let dir = extract(&[("persons.csv", without_ident.as_bytes())]);
    let (_, summary) = read(dir.path());
    let problem = &summary.problems.kept()[0];
    assert!(problem.what.contains("lacks the column ident"), "{problem}");
    assert!(problem.fix.contains("person_id;ident"), "{problem}");
}

#[test]
fn a_missing_optional_column_is_reported_once() {
    let without_household = PERSONS
        .lines()
        .map(|l| l.rsplit_once(';').unwrap().0)
        .collect::<Vec<_>>()
        .join("\n");
    let (snapshot, summary) =
        read(extract(&[("persons.csv", without_household.as_bytes())]).path());
    let problem = only_problem(&summary);
    assert_eq!(problem.column.as_deref(), Some("household"));
    assert_eq!(snapshot.persons.len(), 2);
    assert_eq!(snapshot.persons[0].household, None);
}

#[test]
fn pause_rows_make_one_service_and_other_repeats_are_refused() {
    let services = format!(
        "{SERVICES}s3;1;PRAKT;granted;2025-01-01;2025-01-01;;2;974760673;2025-02-01;2025-02-10\n\
         s3;1;PRAKT;granted;2025-01-01;2025-01-01;;2;974760673;2025-04-01;\n\
         s3;1;PRAKT;granted;2025-01-01;2025-01-01;;3;974760673;2025-05-01;\n\
         s1;1;HJSPL;granted;2025-01-01;2025-01-02;;7,5;974760673;;\n"
    );
    let (snapshot, summary) = read(extract(&[("services.csv", services.as_bytes())]).path());
    let s3 = snapshot
        .services
        .iter()
        .find(|s| s.service_id == "s3")
        .unwrap();
    assert_eq!(s3.pauses.len(), 2);
    assert_eq!(s3.pauses[1].to, None);
    let lines: Vec<Option<u64>> = summary.problems.kept().iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(6), Some(7)]);
}

#[test]
fn bad_values_in_other_columns_are_located_and_the_row_kept() {
    let persons = PERSONS.replace("1901;K;4601;460101;alone", "19x1;X;301;4601;sometimes");
    let (snapshot, summary) = read(extract(&[("persons.csv", persons.as_bytes())]).path());
    let columns: Vec<&str> = summary
        .problems
        .kept()
        .iter()
        .map(|p| p.column.as_deref().unwrap())
        .collect();
    assert_eq!(
        columns,
        [
            "municipality",
            "district",
            "birth_year",
            "gender",
            "household"
        ]
    );
    let municipality = &summary.problems.kept()[0];
    assert!(
        municipality.what.contains("leading zero (0301)"),
        "{municipality}"
    );
    assert_eq!(snapshot.persons.len(), 2);
    for problem in summary.problems.kept() {
        assert_no_identity(&problem.to_string());
    }
}

#[test]
fn a_shifted_identity_number_is_masked_in_messages() {
    // The ident landed in the birth_year column: its value must not be shown.
    let persons = PERSONS.replace("Åse Ødegård;1901", "Åse Ødegård;01810112332");
    let (_, summary) = read(extract(&[("persons.csv", persons.as_bytes())]).path());
    let problem = only_problem(&summary);
    assert!(problem.what.contains("<number hidden>"), "{problem}");
}

#[test]
fn the_directory_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = Snapshot::default();
    fs::write(dir.path().join("persons.csv"), PERSONS).unwrap();
    let error = read_extract(dir.path(), &mut sink).unwrap_err();
    assert!(error.what.contains("no READY file"), "{error}");

    let error = read_extract(&dir.path().join("nope"), &mut sink).unwrap_err();
    assert!(error.what.contains("cannot be opened"), "{error}");

    let error = read_extract(&dir.path().join("persons.csv"), &mut sink).unwrap_err();
    assert!(error.what.contains("not a directory"), "{error}");

    fs::write(dir.path().join("READY"), "").unwrap();
    let (_, summary) = read(dir.path());
    let problem = &summary.problems.kept()[0];
    assert_eq!(problem.file, "services.csv");
    assert!(problem.what.contains("missing"), "{problem}");
}

#[test]
fn an_empty_key_is_named_as_empty() {
    let services = format!("{SERVICES}s3;;HJSPL;granted;2025-01-01;2025-01-01;;;974760673;;\n");
    let (snapshot, summary) = read(extract(&[("services.csv", services.as_bytes())]).path());
    let problem = only_problem(&summary);
    assert_located(problem, 4, "person_id", "is empty");
    assert_eq!(snapshot.services.len(), 2);
}

/// A generated extract of 50 persons, read as it is and with `defect` applied to it.
fn generated_with(defect: impl Fn(&Path)) -> ((Snapshot, ReadSummary), (Snapshot, ReadSummary)) {
    use kpr_bridge::generate::{self, Options, OutputEncoding};
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        persons: 50,
        seed: 23,
        year: 2025,
        municipality: "4601".into(),
        encoding: OutputEncoding::Utf8,
    };
    generate::generate(dir.path(), &options).unwrap();
    let clean = read(dir.path());
    defect(dir.path());
    (clean, read(dir.path()))
}

#[test]
fn a_nul_byte_in_one_name_costs_that_value_not_the_file() {
    let ((clean, clean_summary), (snapshot, summary)) = generated_with(|dir| {
        let file = dir.join("persons.csv");
        let text = fs::read_to_string(&file).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Line 11: one NUL in the middle of the name (the third column).
        let fields: Vec<&str> = lines[10].split(';').collect();
        let name = fields[2];
        let broken = format!("{}\0{}", &name[..1], &name[1..]);
        lines[10] = lines[10].replacen(name, &broken, 1);
        fs::write(&file, lines.join("\n") + "\n").unwrap();
    });
    assert_eq!(clean.persons.len(), 50);
    assert_eq!(
        snapshot.persons.len(),
        50,
        "49 persons, and the one whose name is empty"
    );
    assert_eq!(
        snapshot.services.len(),
        clean.services.len(),
        "every service is read"
    );
    assert_eq!(
        summary.problems.total(),
        clean_summary.problems.total() + 1,
        "{:#?}",
        summary.problems.kept()
    );
    let problem = summary
        .problems
        .kept()
        .iter()
        .find(|p| p.what.contains("NUL"))
        .expect("the NUL is reported");
    assert_eq!(problem.file, "persons.csv");
    assert!(!problem.fatal, "{problem}");
    assert_eq!(
        (problem.line, problem.column.as_deref()),
        (Some(11), Some("name"))
    );
    // Nothing of the value is shown.
    assert!(!problem.to_string().contains('\0'), "{problem}");
    assert_no_identity(&problem.to_string());
}

#[test]
fn a_column_named_twice_in_the_header_is_named_once_with_both_positions() {
    let ((clean, _), (snapshot, summary)) = generated_with(|dir| {
        let file = dir.join("services.csv");
        let text = fs::read_to_string(&file).unwrap();
        let (header, rest) = text.split_once('\n').unwrap();
        let header = header.replacen("end_date", "start_date", 1);
        fs::write(&file, format!("{header}\n{rest}")).unwrap();
    });
    assert!(!clean.services.is_empty());
    let problem = only_problem(&summary);
    assert!(problem.fatal);
    assert_eq!(problem.file, "services.csv");
    assert_eq!(
        problem.what,
        "names the column start_date twice in its header, as column 6 and column 7"
    );
    assert!(snapshot.services.is_empty());
    assert_eq!(snapshot.persons.len(), 50, "the other files are read");
}

#[test]
fn packed_and_utf16_files_are_still_refused_as_files() {
    let mut gzip = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3];
    gzip.extend(SERVICES.bytes());
    let utf16: Vec<u8> = PERSONS
        .encode_utf16()
        .flat_map(|unit| unit.to_le_bytes())
        .collect();
    let dir = extract(&[("services.csv", &gzip), ("persons.csv", &utf16)]);
    let (snapshot, summary) = read(dir.path());
    let problems = summary.problems.kept();
    let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        said.iter()
            .any(|p| p.starts_with("services.csv: is not a text file (it is gzip-compressed)")),
        "{said:#?}"
    );
    assert!(
        said.iter()
            .any(|p| p.starts_with("persons.csv: is not a text file")),
        "{said:#?}"
    );
    assert!(problems.iter().all(|p| p.fatal), "{said:#?}");
    assert_eq!(snapshot.diagnoses.len(), 1, "the other files are read");
}
