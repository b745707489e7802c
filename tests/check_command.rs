//! `kpr-bridge check` end to end: a configuration, real sources (an extract and a PostgreSQL
//! database), the summary table, the JSON shape and the exit codes; and a municipality that
//! changed EPJ mid-year.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use kpr_bridge::check_run;
use kpr_bridge::config::Config;
use kpr_bridge::generate::{self, Options, OutputEncoding};
use kpr_bridge::i18n::Language;
use kpr_bridge::model::Decision;
use kpr_bridge::source::{Snapshot, read_extract};
use regex::Regex;
use support::{SCHEMA, Server, TestDatabase};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn generate(dir: &Path, persons: u64) -> Snapshot {
    let options = Options {
        persons,
        seed: 11,
        year: 2025,
        municipality: "4601".into(),
        encoding: OutputEncoding::Utf8,
    };
    generate::generate(dir, &options).unwrap();
    let mut records = Snapshot::default();
    read_extract(dir, &mut records).unwrap();
    records
}

/// A configuration in `dir` with `sources` (TOML `[[source]]` tables).
fn config(dir: &Path, sources: &str) -> PathBuf {
    config_with(dir, "", sources)
}

/// A configuration in `dir` with top-level `settings` (such as `language = "en"`) and
/// `sources`.
fn config_with(dir: &Path, settings: &str, sources: &str) -> PathBuf {
    let file = dir.join("kpr-bridge.toml");
    let text = format!(
        r#"
{settings}
mode = "test"
data_dir = "state"
mapping = "{}"

[municipality]
number = "4601"
name = "Bergen"

[her_id]
municipality = "12345"
service_unit = "67890"
{sources}"#,
        root().join("mappings/sample-epj.toml").display()
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn kpr_bridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn prints_a_table_or_json_and_exits_by_what_it_found() {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("extract");
    let records = generate(&extract, 600);
    let file = config(
        dir.path(),
        r#"
[[source]]
name = "epj"
kind = "extract"
path = "extract"
"#,
    );
    let file = file.to_str().unwrap();

    let table = kpr_bridge(&["check", "--config", file, "--year", "2025"]);
    let stdout = String::from_utf8(table.stdout).unwrap();
    // Bokmål by default.
    assert!(
        stdout.starts_with("Kontroll av 4601 Bergen for 2025 (modus: test), "),
        "{stdout}"
    );
    assert!(stdout.contains("  epj  "), "{stdout}");
    assert!(stdout.contains("regel"), "{stdout}");

    let json = kpr_bridge(&["check", "--config", file, "--year", "2025", "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("stdout is JSON");
    let object = value.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["findings", "persons", "register_checks", "services", "year"]
    );
    assert_eq!(value["year"], 2025);
    // The register's own arrival checks ran on KPR_IPL as the year would be written: the
    // generated data has services without the application date the register asks for.
    let checks = value["register_checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["field"] == "tjSoknadDato" && c["kind"] == "Mandatory"),
        "{checks:?}"
    );
    assert!(value["persons"].as_u64().unwrap() > 0);
    let findings = value["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "generated data has findings");
    for finding in findings {
        let mut keys: Vec<&str> = finding
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["count", "examples", "rule", "severity"]);
        assert!(["error", "warning"].contains(&finding["severity"].as_str().unwrap()));
        assert!(finding["examples"].as_array().unwrap().len() <= 20);
    }
    let has_errors = findings.iter().any(|f| f["severity"] == "error");
    assert_eq!(json.status.code(), Some(if has_errors { 1 } else { 0 }));
    assert_eq!(table.status.code(), json.status.code());

    // The table's figures and date as Norwegians write them: `1 234 tjenester`, `dd.mm.åååå`.
    let services = value["services"].as_u64().unwrap();
    assert!(services >= 1000, "{services} services: too few to group");
    let grouped = format!("{} tjenester", Language::Nb.number(services));
    assert!(
        grouped.contains(' ') && stdout.contains(&grouped),
        "{grouped}\n{stdout}"
    );
    let title = stdout.lines().next().unwrap();
    let day = Regex::new(r", \d{2}\.\d{2}\.20\d{2} \d{2}:\d{2}$").unwrap();
    assert!(day.is_match(title), "{title}");
    for english in ["Check of", "persons", "services", "rule(s)", "severity"] {
        assert!(
            !stdout.contains(english),
            "{english:?} in the bokmål table:\n{stdout}"
        );
    }

    // The HTML report too, and in English with `language = "en"`.
    let report = dir.path().join("report.html");
    let out = kpr_bridge(&[
        "check",
        "--config",
        file,
        "--year",
        "2025",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Rapporten er skrevet til"),
        "{out:?}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<html lang=\"nb\">") && html.contains("IPLOS-kontroll"));

    let english = config_with(
        dir.path(),
        "language = \"en\"",
        r#"
[[source]]
name = "epj"
kind = "extract"
path = "extract"
"#,
    );
    let english = english.to_str().unwrap();
    let out = kpr_bridge(&[
        "check",
        "--config",
        english,
        "--year",
        "2025",
        "--report",
        report.to_str().unwrap(),
    ]);
    let in_english = String::from_utf8(out.stdout).unwrap();
    assert!(
        in_english.starts_with("Check of 4601 Bergen, 2025 (test mode), "),
        "{in_english}"
    );
    assert!(
        in_english.contains(&format!("{} services", Language::En.number(services))),
        "{in_english}"
    );
    assert!(in_english.contains("Report written to"), "{in_english}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("IPLOS check"));

    // No identity number or name reaches the output, in either form.
    let all = [stdout.as_bytes(), &json.stdout, &json.stderr, &table.stderr].concat();
    let all = String::from_utf8(all).unwrap();
    for person in &records.persons {
        assert!(!all.contains(person.ident.as_ref().unwrap().expose()));
        assert!(!all.contains(person.name.as_ref().unwrap().expose()));
    }
}

#[test]
fn unusable_configuration_or_source_exits_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = kpr_bridge(&["check", "--config", "/nonexistent/kpr.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot be read"));

    let file = config(
        dir.path(),
        r#"
[[source]]
name = "old-epj"
kind = "extract"
path = "no-such-dir"

[[source]]
name = "new-epj"
kind = "database"
url = "postgres://reader:pw@127.0.0.1:1/epj"
[source.queries]
persons = "SELECT 1"
services = "SELECT 2"
"#,
    );
    let out = kpr_bridge(&[
        "check",
        "--config",
        file.to_str().unwrap(),
        "--year",
        "2025",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("source 'old-epj'") && stderr.contains("no-such-dir"),
        "{stderr}"
    );
    assert!(
        stderr.contains("source 'new-epj': cannot connect to postgres://reader@127.0.0.1:1/epj"),
        "{stderr}"
    );
    assert!(!stderr.contains("pw@"), "{stderr}");
}

/// The old EPJ's extract until 31 May; the new EPJ's PostgreSQL database from 1 June, with
/// its own local ids, continuing every service that still ran.
#[test]
fn a_mid_year_switch_through_real_sources_has_each_person_once_and_no_false_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let old = generate(&dir.path().join("old"), 400);
    let switch = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();

    let mut new = Snapshot::default();
    for person in &old.persons {
        let mut person = person.clone();
        person.person_id = format!("N{}", person.person_id).into();
        new.persons.push(person);
    }
    for service in &old.services {
        let runs_on = service.end.is_none_or(|end| end >= switch);
        if service.decision == Decision::Granted && runs_on {
            let mut service = service.clone();
            service.service_id = format!("N{}", service.service_id).into();
            service.person_id = format!("N{}", service.person_id).into();
            service.start = Some(service.start.map_or(switch, |s| s.max(switch)));
            service.pauses.retain(|p| p.from >= switch);
            new.services.push(service);
        }
    }
    assert!(
        new.services.len() > 100,
        "many services go on after the switch"
    );
    let db = TestDatabase::create(Server::Postgres);
    db.execute(&format!("{SCHEMA}\n{}", support::insert_script(&new)));
    let example = std::fs::read_to_string(root().join("ops/examples/kpr-bridge.toml")).unwrap();
    let queries =
        &example[example.find("[source.queries]").unwrap()..example.find("[test_users]").unwrap()];

    let old_source = r#"
[[source]]
name = "old-epj"
kind = "extract"
path = "old"
to = "2025-05-31"
"#;
    let new_source = format!(
        r#"
[[source]]
name = "new-epj"
kind = "database"
url = "{}"
from = "2025-06-01"
{queries}"#,
        db.url
    );
    let run = |sources: &str| {
        let file = config(dir.path(), sources);
        let config = Config::load(&file).unwrap();
        let run = check_run::run(&config, 2025);
        for source in &run.sources {
            assert!(
                !source.is_unusable(),
                "{}: {:?}",
                source.name,
                source.unusable
            );
            assert_eq!(source.problems(), 0, "{}", source.name);
        }
        run.report
    };
    let merged = run(&format!("{old_source}{new_source}"));
    let old_alone = run(old_source);
    let new_alone = run(&new_source);

    assert_eq!(
        merged.persons, old_alone.persons,
        "each person once, joined by ident"
    );
    assert_eq!(merged.services, old_alone.services + new_alone.services);
    assert_eq!(
        merged.count("service-duplicate"),
        old_alone.count("service-duplicate") + new_alone.count("service-duplicate"),
        "a service continued in the new EPJ is not a duplicate of the old one"
    );
}
