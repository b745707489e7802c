//! Each rule of the register: a case that triggers it and one that does not; and a municipality
//! that changed EPJ mid-year.

use std::path::Path;

use kpr_bridge::checks::{CheckReport, MapsTo};
use kpr_bridge::mapping::Mapping;
use kpr_bridge::model::{
    Assessment, Decision, Diagnosis, DiagnosisSystem, HoursPerWeek, Ident, Pause, Person,
    PersonName, Service,
};
use kpr_bridge::source::Snapshot;
use support::checks::{Source, run_checks};

mod support;

const MAPPING: &str = r#"
[[rule]]
local_type = "HJSPL"
code = "15"
[[rule]]
local_type = "TRYGGH"
code = "6"
[[rule]]
local_type = "OMSBOLIG"
code = "29"
[[rule]]
local_type = "BOLIG"
code = "12"
to = "2018-12-31"
[[rule]]
local_type = "REHAB"
attribute = "rehab_outside_institution"
"#;

fn mapping() -> Mapping {
    Mapping::parse(MAPPING, Path::new("test.toml")).unwrap()
}

fn date(text: &str) -> chrono::NaiveDate {
    text.parse().unwrap()
}

fn person(id: &str, ident: &str) -> Person {
    Person {
        person_id: id.into(),
        ident: Some(Ident::new(ident)),
        name: Some(PersonName::new("Kari Nordmann")),
        birth_year: Some(1901),
        gender: None,
        municipality: Some("4601".into()),
        district: None,
        household: None,
    }
}

fn service(id: &str, person: &str, local_type: &str, start: &str) -> Service {
    Service {
        service_id: id.into(),
        person_id: person.into(),
        local_type: local_type.into(),
        decision: Decision::Granted,
        decided_on: None,
        start: Some(date(start)),
        end: None,
        hours_per_week: Some("7.5".parse().unwrap()),
        provider_orgnr: Some("974760673".into()),
        pauses: vec![],
    }
}

/// A clean source: one person with home nursing and a safety alarm.
fn clean() -> Snapshot {
    Snapshot {
        persons: vec![person("p1", "01810112332")],
        services: vec![
            service("s1", "p1", "HJSPL", "2025-01-01"),
            Service {
                hours_per_week: None,
                ..service("s2", "p1", "TRYGGH", "2024-06-01")
            },
        ],
        assessments: vec![Assessment {
            person_id: "p1".into(),
            assessed_on: Some(date("2025-02-01")),
            variable: "hukommelse".into(),
            score: 3,
        }]
        .into_iter()
        .collect(),
        diagnoses: vec![Diagnosis {
            person_id: "p1".into(),
            system: DiagnosisSystem::Icpc2,
            code: "P70".into(),
            registered_on: None,
        }],
        attributes: vec![],
    }
}

fn run_with(sources: &[(&str, &Snapshot)], production: bool) -> CheckReport {
    let windows: Vec<_> = sources.iter().map(|&(n, r)| (n, r, None, None)).collect();
    run_windowed(&windows, production)
}

fn run_windowed(sources: &[Source], production: bool) -> CheckReport {
    run_checks(sources, &mapping(), production)
}

fn run(records: &Snapshot) -> CheckReport {
    run_with(&[("epj", records)], false)
}

/// `changed` triggers `rule` exactly `count` times; the clean data does not trigger it.
fn assert_rule(rule: &str, changed: impl FnOnce(&mut Snapshot), count: u64) -> CheckReport {
    assert_eq!(run(&clean()).count(rule), 0, "clean data triggers {rule}");
    let mut records = clean();
    changed(&mut records);
    let report = run(&records);
    assert_eq!(report.count(rule), count, "{rule}: {:#?}", report.findings);
    report
}

fn detail(report: &CheckReport, rule: &str) -> String {
    report
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap()
        .examples[0]
        .detail
        .clone()
}

#[test]
fn clean_data_has_no_findings() {
    let report = run(&clean());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!((report.persons, report.services), (1, 2));
}

#[test]
fn test_user_by_name_and_in_production_by_synthetic_ident() {
    let report = assert_rule(
        "test-user",
        |r| r.persons[0].name = Some(PersonName::new("Donald Duck")),
        1,
    );
    assert!(
        report
            .test_users
            .contains(&("epj".to_string(), "p1".to_string()))
    );
    assert_eq!(
        (report.persons, report.services),
        (0, 0),
        "test users are left out of everything"
    );

    let report = run_with(&[("epj", &clean())], true);
    assert_eq!(
        report.count("test-user"),
        1,
        "a synthetic ident in production is a test user"
    );
    let mut real = clean();
    real.persons[0].ident = Some(Ident::new("01010112377"));
    assert_eq!(run_with(&[("epj", &real)], true).count("test-user"), 0);
}

#[test]
fn municipality_invalid_names_the_replacement() {
    let report = assert_rule(
        "municipality-invalid",
        |r| r.persons[0].municipality = Some("3024".into()),
        1,
    );
    assert!(detail(&report, "municipality-invalid").contains("replaced by 3201"));
}

#[test]
fn ident_invalid_never_shows_the_number() {
    let report = assert_rule(
        "ident-invalid",
        |r| r.persons[0].ident = Some(Ident::new("01810112333")),
        1,
    );
    let text = format!("{:?}", report.findings);
    assert!(!text.contains("01810112333"), "{text}");
    assert_rule("ident-invalid", |r| r.persons[0].ident = None, 1);
}

#[test]
fn orgnr_rules() {
    assert_rule(
        "orgnr-invalid",
        |r| r.services[0].provider_orgnr = Some("974760674".into()),
        1,
    );
    assert_rule("orgnr-missing", |r| r.services[0].provider_orgnr = None, 1);
    // Optional for a safety alarm; not needed on a refusal.
    assert_rule("orgnr-missing", |r| r.services[1].provider_orgnr = None, 0);
    assert_rule(
        "orgnr-missing",
        |r| {
            r.services[0].provider_orgnr = None;
            r.services[0].decision = Decision::Refused;
            r.services[0].decided_on = Some(date("2025-03-01"));
        },
        0,
    );
    assert_rule(
        "orgnr-forbidden",
        |r| {
            r.services
                .push(service("s3", "p1", "OMSBOLIG", "2025-01-01"))
        },
        1,
    );
    assert_rule(
        "orgnr-forbidden",
        |r| {
            r.services.push(Service {
                provider_orgnr: None,
                ..service("s3", "p1", "OMSBOLIG", "2025-01-01")
            })
        },
        0,
    );
}

#[test]
fn code_retired_and_local_type_unmapped() {
    let report = assert_rule(
        "code-retired",
        |r| r.services.push(service("s3", "p1", "BOLIG", "2025-01-01")),
        1,
    );
    assert!(detail(&report, "code-retired").contains("BOLIG was mapped to 12"));
    assert_eq!(report.count("local-type-unmapped"), 0);
    let report = assert_rule(
        "local-type-unmapped",
        |r| r.services[0].local_type = "NYTYPE".into(),
        1,
    );
    assert_eq!(detail(&report, "local-type-unmapped"), "NYTYPE");
    // A type mapped to an attribute is not unmapped.
    assert_rule(
        "local-type-unmapped",
        |r| r.services.push(service("s3", "p1", "REHAB", "2025-01-01")),
        0,
    );
}

#[test]
fn hours_invalid() {
    assert_rule(
        "hours-invalid",
        |r| r.services[0].hours_per_week = Some("168.5".parse().unwrap()),
        1,
    );
    assert_rule(
        "hours-invalid",
        |r| r.services[0].hours_per_week = Some(HoursPerWeek::from_hundredths(-100)),
        1,
    );
    assert_rule(
        "hours-invalid",
        |r| r.services[0].hours_per_week = Some("168".parse().unwrap()),
        0,
    );
}

#[test]
fn dates_invalid() {
    assert_rule(
        "dates-invalid",
        |r| r.services[0].end = Some(date("2024-12-31")),
        1,
    );
    assert_rule(
        "dates-invalid",
        |r| {
            r.services[0].pauses.push(Pause {
                from: date("2024-12-01"),
                to: None,
            })
        },
        1,
    );
    assert_rule(
        "dates-invalid",
        |r| {
            r.services[0].pauses.push(Pause {
                from: date("2025-03-01"),
                to: Some(date("2025-02-01")),
            })
        },
        1,
    );
    assert_rule(
        "dates-invalid",
        |r| {
            r.services[0].pauses.push(Pause {
                from: date("2025-03-01"),
                to: Some(date("2025-03-10")),
            })
        },
        0,
    );
}

#[test]
fn period_outside() {
    assert_rule(
        "period-outside",
        |r| r.services[1].end = Some(date("2024-12-31")),
        1,
    );
    assert_rule(
        "period-outside",
        |r| r.services[0].start = Some(date("2026-01-01")),
        1,
    );
    assert_rule(
        "period-outside",
        |r| r.services[1].end = Some(date("2025-01-01")),
        0,
    );
}

#[test]
fn service_duplicate_within_one_source() {
    assert_rule(
        "service-duplicate",
        |r| r.services.push(service("s3", "p1", "HJSPL", "2025-06-01")),
        1,
    );
    assert_rule(
        "service-duplicate",
        |r| {
            r.services[0].end = Some(date("2025-05-31"));
            r.services.push(service("s3", "p1", "HJSPL", "2025-06-01"));
        },
        0,
    );
}

#[test]
fn service_duplicate_across_two_sources() {
    let old = clean();
    let mut new = clean();
    new.persons[0].person_id = "X-77".into();
    for s in &mut new.services {
        s.person_id = "X-77".into();
        s.service_id = format!("new-{}", s.service_id).into();
    }
    let report = run_with(&[("old", &old), ("new", &new)], false);
    assert_eq!(report.persons, 1, "joined by identity number");
    assert_eq!(report.count("service-duplicate"), 2);
    let example = &report
        .findings
        .iter()
        .find(|f| f.rule == "service-duplicate")
        .unwrap()
        .examples[0];
    assert!(example.detail.contains("overlaps"), "{example:?}");
}

#[test]
fn assessment_and_diagnosis_rules() {
    assert_rule(
        "score-invalid",
        |r| r.assessments.update(0, |a| a.score = 7),
        1,
    );
    assert_rule(
        "score-invalid",
        |r| r.assessments.update(0, |a| a.score = 9),
        0,
    );
    assert_rule(
        "variable-unknown",
        |r| r.assessments.update(0, |a| a.variable = "flying".into()),
        1,
    );
    assert_rule(
        "variable-unknown",
        |r| {
            r.assessments
                .update(0, |a| a.variable = "Hukommelse".into())
        },
        0,
    );
    assert_rule(
        "diagnosis-malformed",
        |r| r.diagnoses[0].code = "P7".into(),
        1,
    );
    assert_rule(
        "diagnosis-malformed",
        |r| {
            r.diagnoses[0].system = DiagnosisSystem::Icd10;
            r.diagnoses[0].code = "F03.9".into();
        },
        0,
    );
}

#[test]
fn welfare_tech_missing_and_residence_missing() {
    assert_rule("welfare-tech-missing", |r| r.services.truncate(1), 1);
    assert_rule("residence-missing", |r| r.persons[0].municipality = None, 1);
    // Without a granted service, no residence is needed.
    assert_rule(
        "residence-missing",
        |r| {
            r.persons[0].municipality = None;
            r.services.clear();
        },
        0,
    );
}

#[test]
fn a_mid_year_epj_switch_has_each_person_once_and_no_false_duplicates() {
    // The old EPJ until 31 May, the new one from 1 June, with its own local ids.
    let mut old = clean();
    for s in &mut old.services {
        s.end = Some(date("2025-05-31"));
    }
    old.persons.push(person("p2", "01810112170"));
    old.services.push(Service {
        end: Some(date("2025-05-31")),
        ..service("s9", "p2", "HJSPL", "2023-01-01")
    });
    let mut new = Snapshot::default();
    for (local, original) in [("N1", &old.persons[0]), ("N2", &old.persons[1])] {
        new.persons.push(Person {
            person_id: local.into(),
            ..original.clone()
        });
    }
    for (i, s) in old.services.iter().enumerate() {
        let person = if s.person_id == "p1" { "N1" } else { "N2" };
        new.services.push(Service {
            end: None,
            ..service(&format!("n{i}"), person, &s.local_type, "2025-06-01")
        });
    }
    let report = run_with(&[("old", &old), ("new", &new)], false);
    assert_eq!(report.persons, 2);
    assert_eq!(report.services, 6);
    assert_eq!(
        report.count("service-duplicate"),
        0,
        "{:#?}",
        report.findings
    );
    assert!(!report.has_errors(), "{:#?}", report.findings);
}

#[test]
fn examples_are_capped_and_counts_are_complete() {
    let mut records = clean();
    for i in 0..50 {
        records.services.push(service(
            &format!("u{i}"),
            "p1",
            &format!("NY{i}"),
            "2025-01-01",
        ));
    }
    let report = run(&records);
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "local-type-unmapped")
        .unwrap();
    assert_eq!(finding.count, 50);
    assert_eq!(finding.examples.len(), kpr_bridge::checks::MAX_EXAMPLES);
}

#[test]
fn a_source_speaks_only_for_its_days() {
    // The old EPJ still holds the service open after the switch; the new one continues it.
    let old = clean();
    let mut new = clean();
    new.persons[0].person_id = "N1".into();
    for s in &mut new.services {
        s.person_id = "N1".into();
        s.service_id = format!("n-{}", s.service_id).into();
        s.start = Some(date("2025-06-01"));
    }
    let unbounded = run_with(&[("old", &old), ("new", &new)], false);
    assert_eq!(unbounded.count("service-duplicate"), 2);
    let windowed = run_windowed(
        &[
            ("old", &old, None, Some("2025-05-31")),
            ("new", &new, Some("2025-06-01"), None),
        ],
        false,
    );
    assert_eq!(
        windowed.count("service-duplicate"),
        0,
        "{:#?}",
        windowed.findings
    );
    assert_eq!(windowed.persons, 1);
    // The person has home nursing (15) in every month: from the old EPJ, then the new.
    let nursing = windowed
        .months
        .iter()
        .find(|m| m.code.to_string() == "15")
        .unwrap();
    assert_eq!(nursing.persons, [1; 12]);
    assert_eq!(nursing.services, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
}

#[test]
fn months_and_mapping_coverage() {
    let mut records = clean();
    records.services[0].start = Some(date("2025-03-15"));
    records.services[0].end = Some(date("2025-04-02"));
    records
        .services
        .push(service("s3", "p1", "HJSPL", "2025-04-01"));
    records
        .services
        .push(service("s4", "p1", "UKJENT", "2025-04-01"));
    let report = run(&records);
    let nursing = report
        .months
        .iter()
        .find(|m| m.code.to_string() == "15")
        .unwrap();
    assert_eq!(nursing.services, [0, 0, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
    // One person, though two services overlap in April.
    assert_eq!(nursing.persons, [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    let coverage: Vec<_> = report
        .coverage
        .iter()
        .map(|c| (c.local_type.as_str(), c.services, c.mapped))
        .collect();
    assert_eq!(
        coverage,
        [
            ("HJSPL", 2, true),
            ("TRYGGH", 1, true),
            ("UKJENT", 1, false)
        ]
    );
    assert_eq!(
        report.coverage[0].target,
        MapsTo::Service("15".parse().unwrap()),
        "{:?}",
        report.coverage[0]
    );
}
