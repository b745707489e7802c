//! The annual pair read back as a source (a property over generated extracts): what the
//! annual message writes of a year, an `iplos` source reads as the same persons, services,
//! codes and dates, and the checks find the same.
//!
//! Round 1: a generated extract → the year assembled → KPR_IPL + KPR_IDE written as the
//! annual dry run writes them → read as an `iplos` source → the year assembled again: the
//! same persons with the same services, assessments, diagnoses and attributes, compared on
//! what IPLOS 3.7 carries. Not carried, so not compared (docs/iplos-source.md): names (no
//! test users by name), the EPJ's local ids and types (the national code is), pauses,
//! refusals' dates, provider and respite's sub-code (08.01/08.02), an attribute's end and a plan's or coordinator's dates, the
//! day of a dental or doctor's assessment (the month is), a diagnosis's date, variables
//! without a 9111 code.
//!
//! Round 2: the year read back is written and read again; `check` of both (as `--json`
//! says it: each rule's severity and count, and the register's arrival checks) is the same,
//! since everything in them is what the format carries.

mod support;

use std::path::Path;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use kpr_bridge::annual::ship::{header, write_messages};
use kpr_bridge::annual::year::Year;
use kpr_bridge::check_run;
use kpr_bridge::config::Config;
use kpr_bridge::generate::{Options, OutputEncoding, generate};
use kpr_bridge::message::iplos37;
use kpr_bridge::model::AttributeKind;
use kpr_bridge::model::annual::AnnualPerson;
use proptest::prelude::*;

const YEAR: i32 = 2025;

fn config(dir: &Path, source: &str) -> Config {
    let text = format!(
        r#"mode = "test"
data_dir = "{dir}/state"
[municipality]
number = "4601"
name = "Bergen"
[her_id]
municipality = "12345"
service_unit = "67890"
[[contact]]
type = 16
name = "Kari Nordmann"
email = "kari@example.invalid"
[[contact]]
type = 17
name = "Ola Nordmann"
email = "ola@example.invalid"
[[source]]
name = "epj"
{source}
"#,
        dir = dir.display()
    );
    Config::parse(&text, &dir.join("kpr-bridge.toml")).unwrap()
}

fn extract_config(dir: &Path) -> Config {
    config(
        dir,
        &format!(
            "kind = \"extract\"\npath = \"{}/extract\"\nmapping = \"{}\"",
            dir.display(),
            support::delivery::repo("mappings/sample-epj.toml").display()
        ),
    )
}

fn iplos_config(dir: &Path, inbox: &str) -> Config {
    config(
        dir,
        &format!(
            "kind = \"iplos\"\npath = \"{}/{inbox}\"\nsettle_seconds = 0",
            dir.display()
        ),
    )
}

/// Writes the year's pair into `dir/inbox` as the annual dry run does.
fn write_pair(config: &Config, year: &Year, dir: &Path, inbox: &str) {
    let inbox = dir.join(inbox);
    std::fs::create_dir_all(&inbox).unwrap();
    let header = header(
        config,
        year,
        chrono::Utc::now(),
        1,
        iplos37::namespace(YEAR),
    );
    let persons = &year.assembled.persons;
    write_messages(
        persons,
        &header,
        year.variables.clone(),
        &inbox.join("ipl.xml"),
        &inbox.join("ide.xml"),
    )
    .unwrap();
    // Settled: older than any settle time.
    support::iplos::backdate(&inbox, &["ipl.xml", "ide.xml"], Duration::from_secs(10));
}

/// A person as far as IPLOS 3.7 carries it, by identity number.
fn carried(year: &Year) -> Vec<(String, AnnualPerson)> {
    let first = NaiveDate::from_ymd_opt(YEAR, 1, 1).unwrap();
    let mut persons: Vec<(String, AnnualPerson)> = year
        .assembled
        .persons
        .iter()
        .map(|(ident, person)| {
            let mut p = person.clone();
            p.serial = 0;
            if p.municipality.is_none() {
                p.district = None;
            }
            p.district = p.district.map(|d| d[d.len().saturating_sub(2)..].into());
            p.assessment = p.assessment.and_then(|mut a| {
                a.assessed_on = Some(a.assessed_on.unwrap_or(first));
                a.scores = a
                    .scores
                    .into_iter()
                    .filter_map(|(variable, score)| {
                        let code = year.variables.find(&variable)?.iplos?;
                        Some((code.to_string().into(), score))
                    })
                    .collect();
                a.scores.sort();
                (!a.scores.is_empty()).then_some(a)
            });
            let mut kinds = Vec::new();
            p.attributes.retain(|a| {
                let new = !kinds.contains(&a.kind);
                kinds.push(a.kind);
                new
            });
            for a in &mut p.attributes {
                a.to = None;
                a.from = match a.kind {
                    AttributeKind::DentalAssessment | AttributeKind::DoctorAssessment => {
                        a.from.and_then(|d| d.with_day(1))
                    }
                    AttributeKind::RehabOutsideInstitution => a.from,
                    _ => None,
                };
            }
            for s in &mut p.services {
                if s.decision == kpr_bridge::model::Decision::Refused {
                    // A refusal carries the type alone: respite's rolling or not is written
                    // for a grant only.
                    s.code = s.code.main().to_string().parse().unwrap();
                    s.start = None;
                    s.end = None;
                    s.hours = None;
                    s.orgnr = None;
                }
                s.hours = s.hours.map(|h| {
                    kpr_bridge::model::HoursPerWeek::from_hundredths(h.hundredths().max(0))
                });
            }
            p.services.sort();
            (ident.expose().to_string(), p)
        })
        .collect();
    persons.sort_by(|a, b| a.0.cmp(&b.0));
    persons
}

/// `check --json` as far as it can be compared across messages: each rule's severity and
/// count, and each arrival check's field, kind and count (the examples name message-local
/// numbers).
fn findings(config: &Config) -> (Vec<String>, Vec<String>) {
    let run = check_run::run(config, YEAR);
    let findings = run
        .report
        .findings
        .iter()
        .map(|f| format!("{} {:?} {}", f.rule, f.severity, f.count))
        .collect();
    let controls = run
        .controls
        .iter()
        .map(|c| format!("{}/{} {} {}", c.record, c.field, c.kind.as_str(), c.count))
        .collect();
    (findings, controls)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn the_annual_pair_read_back_gives_the_same_year(seed in 1u64..100_000, persons in 5u64..80) {
        let dir = tempfile::tempdir().unwrap();
        generate(
            &dir.path().join("extract"),
            &Options {
                persons,
                seed,
                year: YEAR,
                municipality: "4601".into(),
                encoding: OutputEncoding::Utf8,
            },
        )
        .unwrap();
        let from_extract = extract_config(dir.path());
        let first = Year::read(&from_extract, YEAR);
        prop_assert!(!first.assembled.persons.is_empty());
        write_pair(&from_extract, &first, dir.path(), "round1");

        let round1 = iplos_config(dir.path(), "round1");
        let second = Year::read(&round1, YEAR);
        prop_assert!(!second.incomplete(), "the pair reads without problems");
        prop_assert_eq!(carried(&first), carried(&second));

        write_pair(&round1, &second, dir.path(), "round2");
        let round2 = iplos_config(dir.path(), "round2");
        let third = Year::read(&round2, YEAR);
        prop_assert_eq!(carried(&second), carried(&third));
        prop_assert_eq!(findings(&round1), findings(&round2));
    }
}
