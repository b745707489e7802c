//! `generate` → read → `inspect`, through the library and through the real binary.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use kpr_bridge::generate::{self, Generated, Options, OutputEncoding};
use kpr_bridge::mapping::Mapping;
use kpr_bridge::model::ident;
use kpr_bridge::source::{Snapshot, read_extract};

fn options(persons: u64, seed: u64) -> Options {
    Options {
        persons,
        seed,
        year: 2025,
        municipality: "4601".into(),
        encoding: OutputEncoding::Utf8,
    }
}

fn generated(options: &Options) -> (tempfile::TempDir, Generated) {
    let dir = tempfile::tempdir().unwrap();
    let made = generate::generate(dir.path(), options).unwrap();
    (dir, made)
}

fn read(dir: &Path) -> Snapshot {
    let mut snapshot = Snapshot::default();
    let summary = read_extract(dir, &mut snapshot).unwrap();
    assert!(
        summary.problems.is_empty(),
        "{:#?}",
        summary.problems.kept()
    );
    snapshot
}

fn sample_mapping() -> Mapping {
    Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/sample-epj.toml")).unwrap()
}

#[test]
fn generated_extracts_read_back_completely_and_cleanly() {
    let (dir, made) = generated(&options(1_500, 3));
    let snapshot = read(dir.path());
    assert_eq!(snapshot.persons.len() as u64, made.persons);
    assert_eq!(snapshot.services.len() as u64, made.services);
    assert_eq!(snapshot.assessments.len() as u64, made.assessments);
    assert_eq!(snapshot.diagnoses.len() as u64, made.diagnoses);
    assert_eq!(snapshot.attributes.len() as u64, made.attributes);
    assert!(
        made.service_rows > made.services,
        "some services have several pauses"
    );

    // Every identity number is synthetic, valid and unique.
    let mut seen = HashSet::new();
    for person in &snapshot.persons {
        let number = person.ident.as_ref().unwrap().expose();
        let info = ident::validate(number).unwrap();
        assert!(info.synthetic);
        assert_eq!(
            Some(info.birth_date.format("%Y").to_string().parse().unwrap()),
            person.birth_year
        );
        assert!(
            seen.insert(number.to_string()),
            "identity numbers must be unique"
        );
    }
    // Realistic shape: refusals, pauses, several services per person, æøå in names.
    use kpr_bridge::model::Decision;
    assert!(
        snapshot
            .services
            .iter()
            .any(|s| s.decision == Decision::Refused)
    );
    assert!(snapshot.services.iter().any(|s| !s.pauses.is_empty()));
    assert!(snapshot.persons.iter().any(|p| {
        p.name
            .as_ref()
            .unwrap()
            .expose()
            .contains(['æ', 'ø', 'å', 'Æ', 'Ø', 'Å'])
    }));
    let per_person = snapshot.services.len() as f64 / snapshot.persons.len() as f64;
    assert!(
        (1.5..2.5).contains(&per_person),
        "{per_person} services per person"
    );
    for service in &snapshot.services {
        if let Some(orgnr) = &service.provider_orgnr {
            kpr_bridge::model::orgnr::validate(orgnr).unwrap();
        }
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, _) = generated(&options(300, 42));
    let (b, _) = generated(&options(300, 42));
    let (c, _) = generated(&options(300, 43));
    for file in [
        "persons.csv",
        "services.csv",
        "assessments.csv",
        "diagnoses.csv",
        "attributes.csv",
    ] {
        let bytes = |dir: &tempfile::TempDir| std::fs::read(dir.path().join(file)).unwrap();
        assert_eq!(bytes(&a), bytes(&b), "{file}");
        assert_ne!(bytes(&a), bytes(&c), "{file}");
    }
}

#[test]
fn windows_1252_extracts_read_the_same_as_utf8() {
    let (utf8, _) = generated(&options(400, 5));
    let (cp1252, _) = generated(&Options {
        encoding: OutputEncoding::Windows1252,
        ..options(400, 5)
    });
    assert_ne!(
        std::fs::read(utf8.path().join("persons.csv")).unwrap(),
        std::fs::read(cp1252.path().join("persons.csv")).unwrap()
    );
    assert_eq!(read(utf8.path()), read(cp1252.path()));
}

#[test]
fn inspect_maps_every_generated_service() {
    let (dir, made) = generated(&options(1_000, 9));
    let inspection = kpr_bridge::inspect::inspect(
        dir.path(),
        kpr_bridge::inspect::Origin::Extract,
        &sample_mapping(),
        2025,
    )
    .unwrap();
    assert!(inspection.unmapped.is_empty(), "{:?}", inspection.unmapped);
    let coded: u64 = inspection
        .per_code
        .values()
        .map(|c| c.granted + c.refused)
        .sum();
    let as_attribute: u64 = inspection.as_attribute.values().sum();
    let ignored: u64 = inspection.ignored.values().map(|(n, _)| n).sum();
    assert_eq!(coded + as_attribute + ignored, made.services);
    // Welfare technology is present, and retired codes are not.
    for code in ["6", "26", "27", "28", "29"] {
        assert!(
            inspection.per_code.contains_key(&code.parse().unwrap()),
            "{code}"
        );
    }
    assert_eq!(inspection.exit_code(), 0);
}

fn kpr_bridge(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap(), text)
}

#[test]
fn the_binary_generates_and_inspects_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("extract");
    let mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/sample-epj.toml");
    let (mapping, out_str) = (mapping.to_str().unwrap(), out.to_str().unwrap());

    let (code, text) = kpr_bridge(&[
        "generate",
        "--persons",
        "200",
        "--seed",
        "1",
        "--out",
        out_str,
    ]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = kpr_bridge(&["inspect", out_str, "--mapping", mapping, "--year", "2025"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("Helsetjenester i hjemmet") && text.contains("No problems"),
        "{text}"
    );

    // An unmapped local type and a bad row: problems found, exit 1, and no identity shown.
    let services = out.join("services.csv");
    let mut content = std::fs::read_to_string(&services).unwrap();
    content.push_str("99999;10000001;NYTYPE;granted;2025-01-01;31.02.2025;;;;;\n");
    std::fs::write(&services, content).unwrap();
    let (code, text) = kpr_bridge(&["inspect", out_str, "--mapping", mapping, "--year", "2025"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("NYTYPE") && text.contains("31.02.2025"),
        "{text}"
    );
    assert_no_identity(&text, &out);

    // Unusable input and arguments: exit 2.
    std::fs::write(out.join("persons.csv"), [0u8, 1, 2, 3]).unwrap();
    let (code, text) = kpr_bridge(&["inspect", out_str, "--mapping", mapping, "--year", "2025"]);
    assert_eq!(code, 2, "{text}");
    let (code, text) = kpr_bridge(&["inspect", out_str, "--mapping", "/nonexistent.toml"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("/nonexistent.toml"), "{text}");
    let (code, _) = kpr_bridge(&["inspect"]);
    assert_eq!(code, 2);
    let (code, text) = kpr_bridge(&[
        "generate",
        "--persons",
        "1",
        "--out",
        out_str,
        "--municipality",
        "3024",
    ]);
    assert_eq!(code, 2);
    assert!(text.contains("replaced by 3201"), "{text}");
}

/// No line of `text` holds an identity number or a name from the extract in `dir`.
fn assert_no_identity(text: &str, dir: &Path) {
    let snapshot = {
        let mut s = Snapshot::default();
        read_extract(dir, &mut s).unwrap();
        s
    };
    for person in snapshot.persons.iter() {
        assert!(!text.contains(person.ident.as_ref().unwrap().expose()));
        assert!(!text.contains(person.name.as_ref().unwrap().expose()));
    }
}
