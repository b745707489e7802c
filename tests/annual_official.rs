//! The annual message in the register's own formats, proven by someone else's validator:
//! `kpr-bridge annual --dry-run` over a generated year of 2,000 persons writes KPR_IPL (IPLOS
//! 3.7) and KPR_IDE (XPR(ide) 53.1.3) that xmllint validates against the official XSDs
//! (IPLOS's with the reporting year's namespace put in), every pePeID is one pid and the
//! reverse, and the register's own examples are read by our readers.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use kpr_bridge::generate::{self, Options, OutputEncoding};
use kpr_bridge::message::iplos37::{self, FAGMELDING, IDENTMELDING, find};
use kpr_bridge::message::schema::Schemas;
use kpr_bridge::message::{ident, iplos37::read_ipl};
use support::delivery::repo;

/// The published files as built in: `schemas/official/` (verbatim copies).
fn official(path: &str) -> PathBuf {
    repo("schemas/official").join(path)
}

#[test]
fn the_built_in_official_schemas_are_the_published_files() {
    // Beside the project, the reference copy says what was published.
    let reference = repo("../shared/reference/xsd/official");
    if !reference.exists() {
        return;
    }
    for file in [
        "iplos37/iplos_2019.xsd",
        "iplos37/iplos_2019_Annotations.xsd",
        "ide-53.1.3/XPR(ide).xsd",
        "ide-53.1.3/XPR(ide)_CodingSchemes.xsd",
        "ide-53.1.3/NPR.xsd",
        "ipl-56.0.0/XPR(ipl).xsd",
        "ipl-56.0.0/XPR(ipl)_Annotations.xsd",
        "ipl-56.0.0/XPR(ipl)_CodingSchemes.xsd",
        "ipl-56.0.0/NPR.xsd",
    ] {
        assert!(
            std::fs::read(official(file)).unwrap() == std::fs::read(reference.join(file)).unwrap(),
            "{file} differs from the published file"
        );
    }
}

#[test]
fn the_register_s_examples_are_read_by_our_readers() {
    let ipl = std::fs::read(repo("tests/data/official/iplos37-example-valid.xml")).unwrap();
    let read = read_ipl(&ipl).unwrap();
    assert_eq!(read.namespace, "http://www.npr.no/xmlstds/iplos/2019");
    assert_eq!(read.municipality, "1106");
    assert_eq!(read.period, ("20190101".into(), "20191231".into()));
    assert_eq!(read.running_number, Some(1));
    assert_eq!(read.contacts.len(), 2);
    assert_eq!(read.persons.len(), 1);
    let person = &read.persons[0];
    assert_eq!(person.id, 1001);
    assert_eq!(person.field("peKjonn"), Some("M"));
    let service = person.records("TJENESTE").next().unwrap();
    assert_eq!(find(service, "tjTjenType"), Some("18"));
    assert_eq!(find(service, "tjFraDato"), Some("20190310"));
    let assessment = person.records("FUNKSJON").next().unwrap();
    assert_eq!(find(assessment, "fnTilDato"), Some("99991231"));

    let ide = std::fs::read(repo("tests/data/official/ide-53.1.3-example-valid.xml")).unwrap();
    let read = ident::read_ide(&ide).unwrap();
    assert_eq!(read.institution, "999000010");
    assert_eq!(read.contact_types, ["8"]);
    assert_eq!(
        read.persons,
        [("1001".into(), "13816199926".into(), "1".into())]
    );
}

/// xmllint's verdict on `document` against `schema`.
fn xmllint(schema: &Path, document: &Path) {
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(document)
        .output()
        .expect("xmllint runs (Debian's libxml2-utils; ops/services.sh installs it)");
    assert!(
        output.status.success(),
        "xmllint refuses {}: {}",
        document.display(),
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .take(10)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_generated_year_validates_with_xmllint_against_the_official_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let options = Options {
        persons: 2000,
        seed: 17,
        year: 2025,
        municipality: "4601".into(),
        encoding: OutputEncoding::Utf8,
    };
    generate::generate(&root.join("extract"), &options).unwrap();
    let config = root.join("kpr-bridge.toml");
    std::fs::write(
        &config,
        format!(
            r#"mode = "test"
data_dir = "state"
mapping = "{mapping}"
[municipality]
number = "4601"
name = "Bergen"
orgnr = "964338531"
[her_id]
municipality = "12345"
service_unit = "67890"
[[contact]]
type = 16
name = "IPLOS-kontakt"
phone = "55 00 00 00"
email = "iplos@example.invalid"
[[contact]]
type = 17
name = "Innsendingsansvarlig"
email = "innsending@example.invalid"
[[source]]
name = "epj"
kind = "extract"
path = "extract"
product = "Generert EPJ"
version = "1.0"
"#,
            mapping = repo("mappings/sample-epj.toml").display()
        ),
    )
    .unwrap();
    let out = root.join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
        .args(["annual", "--config"])
        .arg(&config)
        .args(["--year", "2025", "--target", "validation", "--allow-errors"])
        .args(["--dry-run", "--out"])
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let written = |prefix: &str| {
        std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .unwrap()
    };
    let (ipl, ide) = (written("KPR_IPL-2025-"), written("KPR_IDE-2025-"));

    // xmllint, with IPLOS's namespace that of the reporting year.
    let schemas = root.join("official");
    std::fs::create_dir_all(&schemas).unwrap();
    let iplos = String::from_utf8(std::fs::read(official("iplos37/iplos_2019.xsd")).unwrap())
        .unwrap()
        .replace(iplos37::PUBLISHED_NAMESPACE, &iplos37::namespace(2025));
    let iplos_2025 = schemas.join("iplos_2025.xsd");
    std::fs::write(&iplos_2025, iplos).unwrap();
    xmllint(&iplos_2025, &ipl);
    xmllint(&official("ide-53.1.3/XPR(ide).xsd"), &ide);

    // And in-process, as every send does.
    let built_in = Schemas::load(&[]).unwrap();
    let (ipl, ide) = (std::fs::read(ipl).unwrap(), std::fs::read(ide).unwrap());
    built_in.validate_payload(FAGMELDING, &ipl).unwrap();
    built_in.validate_payload(IDENTMELDING, &ide).unwrap();

    // Every pePeID is exactly one pid, and the reverse.
    let fagmelding = read_ipl(&ipl).unwrap();
    let identities = ident::read_ide(&ide).unwrap();
    let ids: Vec<String> = fagmelding
        .persons
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    let pids: Vec<String> = identities
        .persons
        .iter()
        .map(|(p, _, _)| p.clone())
        .collect();
    assert!(ids.len() > 1000, "{} persons", ids.len());
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len());
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>(),
        pids.iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(pids.len(), ids.len());
    // KPR_IPL holds no identity number: no run of eleven digits.
    let text = String::from_utf8(ipl).unwrap();
    let runs: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 11)
        .collect();
    assert!(runs.is_empty(), "{runs:?}");
    for (_, fid, _) in identities.persons.iter().take(50) {
        assert!(!text.contains(fid.as_str()));
    }
}

#[test]
fn the_register_s_checks_are_data_made_by_the_script_from_the_annotations() {
    let codes = repo("../shared/reference/codes/official");
    if !codes.exists() {
        return;
    }
    let output = Command::new("python3")
        .arg(repo("ops/iplos37-controls.py"))
        .env("CODES_DIR", &codes)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = std::fs::read(repo("src/assembly/data/iplos37_controls.csv")).unwrap();
    assert!(
        output.stdout == committed,
        "src/assembly/data/iplos37_controls.csv is not what ops/iplos37-controls.py makes: run it again"
    );
}
