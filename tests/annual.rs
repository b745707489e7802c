//! The annual message assembled from sources built by hand, written as KPR_IPL and KPR_IDE,
//! read back and validated against the built-in schemas: who is in it, what each person
//! carries, and that identity goes only where it belongs.

mod support;

use chrono::{TimeZone, Utc};
use kpr_bridge::assembly::assemble::{Assembled, assemble};
use kpr_bridge::assembly::checker::check_year;
use kpr_bridge::assembly::controls::Controls;
use kpr_bridge::checks::{CheckOptions, CheckReport, SourceRecords, TestUsers, check};
use kpr_bridge::mapping::Mapping;
use kpr_bridge::message::ident::{self, IdeWriter, Identmelding};
use kpr_bridge::message::iplos37::{
    self, FAGMELDING, Fagmelding, Header, IDENTMELDING, IplPerson, IplWriter, find,
};
use kpr_bridge::message::schema::Schemas;
use kpr_bridge::model::assessment::AssessmentVariables;
use kpr_bridge::model::{
    AttributeKind, Decision, Diagnosis, DiagnosisSystem, HoursPerWeek, PersonAttribute, PersonName,
};
use kpr_bridge::source::Snapshot;
use quick_xml::events::Event;
use support::daily::{ORGNR, day, ident_number, mapping, person, service};
use uuid::Uuid;

/// One source: name, records, and the days it speaks for.
struct Source {
    name: &'static str,
    records: Snapshot,
    from: Option<&'static str>,
    to: Option<&'static str>,
}

fn source(records: Snapshot) -> Source {
    Source {
        name: "epj",
        records,
        from: None,
        to: None,
    }
}

/// The two messages as written, with the check report and what was assembled.
struct Written {
    report: CheckReport,
    assembled: Assembled,
    ipl: Vec<u8>,
    ide: Vec<u8>,
    header: Header,
}

impl Written {
    fn fagmelding(&self) -> Fagmelding {
        iplos37::read_ipl(&self.ipl).unwrap()
    }

    fn identities(&self) -> Identmelding {
        ident::read_ide(&self.ide).unwrap()
    }

    /// The PERSON of KPR_IPL whose `pePeID` KPR_IDE pairs with `ident` (its `pid`).
    fn written(&self, ident: &str) -> Option<IplPerson> {
        let (pid, _, _) = self
            .identities()
            .persons
            .into_iter()
            .find(|(_, fid, _)| fid == ident)?;
        let person = self
            .fagmelding()
            .persons
            .into_iter()
            .find(|p| p.id.to_string() == pid);
        Some(person.expect("every pid of KPR_IDE is a pePeID of KPR_IPL"))
    }

    /// The person as assembled whose identity is `ident`, checked to be in both messages.
    fn person_of(&self, ident: &str) -> Option<kpr_bridge::model::annual::AnnualPerson> {
        let written = self.written(ident)?;
        let (_, person) = self
            .assembled
            .persons
            .iter()
            .find(|(i, _)| i.expose() == ident)?;
        assert_eq!(u64::from(person.serial), written.id);
        Some(person.clone())
    }
}

fn write(sources: &[Source]) -> Written {
    let mapping: Mapping = mapping();
    let records: Vec<SourceRecords> = sources
        .iter()
        .map(|s| SourceRecords {
            name: s.name,
            records: &s.records,
            mapping: &mapping,
            from: s.from.map(day),
            to: s.to.map(day),
        })
        .collect();
    let test_users = TestUsers::default();
    let options = CheckOptions {
        year: 2025,
        production: false,
        test_users: &test_users,
        variables: AssessmentVariables::builtin(),
    };
    let report = check(&records, &options);
    let assembled = assemble(&records, 2025, &report, &mut rand::rng());
    let header = Header {
        shipment: Uuid::new_v4(),
        municipality: "4601".into(),
        district: "00".into(),
        institution: "964338531".into(),
        year: 2025,
        generated: Utc.with_ymd_and_hms(2026, 1, 10, 8, 0, 0).unwrap(),
        running_number: 1,
        namespace: iplos37::namespace(2025),
        epj: vec![("Test-EPJ".into(), "1.0".into())],
        contacts: [16, 17]
            .map(|kind| kpr_bridge::model::register::Contact {
                kind,
                name: "IPLOS".into(),
                phone: None,
                email: "iplos@example.invalid".into(),
            })
            .to_vec(),
    };
    let variables = AssessmentVariables::builtin().clone();
    let mut ipl = IplWriter::start(Vec::new(), &header, variables).unwrap();
    let mut ide = IdeWriter::start(Vec::new(), &header).unwrap();
    for (ident, person) in &assembled.persons {
        ipl.person(person, 2025).unwrap();
        ide.person(person.serial, ident).unwrap();
    }
    Written {
        report,
        assembled,
        ipl: ipl.finish().unwrap(),
        ide: ide.finish().unwrap(),
        header,
    }
}

/// Three persons with services, one of them known by name only to be a test user.
fn municipality() -> Snapshot {
    let mut records = Snapshot {
        persons: vec![
            person("p1", 1, "4601"),
            person("p2", 2, "4601"),
            person("p3", 3, "4601"),
        ],
        ..Snapshot::default()
    };
    records.persons[1].name = Some(PersonName::new("Kari Nordmann"));
    records.services = vec![
        service("s1", "p1", "MATOMBR", "2025-02-01"),
        service("s2", "p2", "PRAKT", "2024-05-01"),
        service("s3", "p3", "TRYGGH", "2025-11-01"),
    ];
    records.services[1].provider_orgnr = Some(ORGNR.into());
    records.services[1].hours_per_week = Some("7.5".parse().unwrap());
    records
}

/// Every run of digits in `bytes` that is eleven or more long.
fn long_digit_runs(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 11)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_fagmelding_carries_no_identity_number_and_no_name() {
    let written = write(&[source(municipality())]);
    assert_eq!(written.fagmelding().persons.len(), 3);
    assert_eq!(long_digit_runs(&written.ipl), Vec::<String>::new());
    for n in 1..=3 {
        let ident = ident_number(n);
        assert!(!String::from_utf8_lossy(&written.ipl).contains(&ident));
        // The identity message is where it goes.
        assert!(String::from_utf8_lossy(&written.ide).contains(&ident));
    }
    assert!(!String::from_utf8_lossy(&written.ipl).contains("Nordmann"));
    assert!(!String::from_utf8_lossy(&written.ide).contains("Nordmann"));
}

#[test]
fn the_identity_message_has_one_entry_per_person_and_nothing_more() {
    let written = write(&[source(municipality())]);
    let mut ids: Vec<String> = written
        .fagmelding()
        .persons
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["1", "2", "3"], "pePeIDs are 1..n, each once");
    // Every pePeID is exactly one pid, and the reverse.
    let identities = written.identities();
    let mut pids: Vec<String> = identities
        .persons
        .iter()
        .map(|(p, _, _)| p.clone())
        .collect();
    pids.sort();
    assert_eq!(pids, ids);
    let mut idents: Vec<&str> = identities
        .persons
        .iter()
        .map(|(_, f, _)| f.as_str())
        .collect();
    idents.sort();
    idents.dedup();
    assert_eq!(idents.len(), 3);
    // Fødselsnumre: typeID 1.
    assert!(identities.persons.iter().all(|(_, _, t)| t == "1"));

    // Each entry says pid, fid and typeID, nothing else.
    let mut reader = quick_xml::Reader::from_reader(&written.ide[..]);
    let mut buffer = Vec::new();
    let mut entries = 0;
    loop {
        match reader.read_event_into(&mut buffer).unwrap() {
            Event::Empty(e) if e.local_name().as_ref() == b"PasientIdent" => {
                let names: Vec<Vec<u8>> = e
                    .attributes()
                    .map(|a| a.unwrap().key.as_ref().to_vec())
                    .collect();
                assert_eq!(
                    names,
                    [b"pid".to_vec(), b"fid".to_vec(), b"typeID".to_vec()]
                );
                entries += 1;
            }
            Event::Start(e) if e.local_name().as_ref() == b"PasientIdent" => {
                panic!("a PasientIdent with content in KPR_IDE")
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    assert_eq!(entries, 3);
}

#[test]
fn both_messages_validate_against_the_built_in_schemas() {
    let mut records = municipality();
    records.assessments = vec![kpr_bridge::model::Assessment {
        person_id: "p1".into(),
        assessed_on: Some(day("2025-03-01")),
        variable: "hukommelse".into(),
        score: 3,
    }]
    .into_iter()
    .collect();
    records.diagnoses = vec![Diagnosis {
        person_id: "p1".into(),
        system: DiagnosisSystem::Icpc2,
        code: "K86".into(),
        registered_on: Some(day("2020-01-01")),
    }];
    let written = write(&[source(records)]);
    let schemas = Schemas::load(&[]).unwrap();
    schemas.validate_payload(FAGMELDING, &written.ipl).unwrap();
    schemas
        .validate_payload(IDENTMELDING, &written.ide)
        .unwrap();
    let p1 = written.written(&ident_number(1)).unwrap();
    let assessment = p1.records("FUNKSJON").next().expect("the assessment");
    assert_eq!(
        find(assessment, "fnFunkType"),
        Some("15"),
        "hukommelse is 9111 code 15"
    );
    assert_eq!(find(assessment, "fnFunkVerdi"), Some("3"));
    assert_eq!(find(assessment, "fnFraDato"), Some("20250301"));
    let diagnosis = p1.records("DIAGNOSE").next().expect("the diagnosis");
    assert_eq!(find(diagnosis, "diKodeVersjon"), Some("ICPC-2"));
    assert_eq!(find(diagnosis, "diDiagKode"), Some("K86"));

    // And the schema is not a formality: a fagmelding with an identity number does not pass.
    let with_ident = String::from_utf8(written.ipl.clone()).unwrap().replacen(
        "<PERSON pePeID=\"1\">",
        &format!("<PERSON pePeID=\"1\"><peFnr>{}</peFnr>", ident_number(1)),
        1,
    );
    assert!(
        schemas
            .validate_payload(FAGMELDING, with_ident.as_bytes())
            .is_err()
    );
}

#[test]
fn test_users_are_absent_from_both_messages() {
    let mut records = municipality();
    records.persons[2].name = Some(PersonName::new("Donald Duck"));
    let written = write(&[source(records)]);
    assert!(
        !written.report.test_users.is_empty(),
        "the check saw the test user"
    );
    assert_eq!(written.fagmelding().persons.len(), 2);
    assert!(written.person_of(&ident_number(3)).is_none());
    assert!(!String::from_utf8_lossy(&written.ide).contains(&ident_number(3)));
    assert_eq!(written.assembled.left_out.test_users, 1);
}

#[test]
fn a_person_with_services_from_two_epjs_appears_once() {
    // The municipality changed EPJ on 1 June; both know person 1, under their own ids.
    let old = Snapshot {
        persons: vec![person("gammel-1", 1, "4601")],
        services: vec![service("g1", "gammel-1", "MATOMBR", "2024-01-01")],
        ..Snapshot::default()
    };
    let mut new = Snapshot {
        persons: vec![person("ny-77", 1, "4601"), person("ny-78", 2, "4601")],
        services: vec![
            service("n1", "ny-77", "MATOMBR", "2025-06-01"),
            service("n2", "ny-77", "TRYGGH", "2025-08-01"),
            service("n3", "ny-78", "TRYGGH", "2025-08-01"),
        ],
        ..Snapshot::default()
    };
    new.persons[0].district = Some("460101".into());
    let written = write(&[
        Source {
            name: "old",
            records: old,
            from: None,
            to: Some("2025-05-31"),
        },
        Source {
            name: "new",
            records: new,
            from: Some("2025-06-01"),
            to: None,
        },
    ]);
    assert_eq!(written.fagmelding().persons.len(), 2);
    let one = written.person_of(&ident_number(1)).unwrap();
    let periods: Vec<_> = one
        .services
        .iter()
        .map(|s| (s.code.to_string(), s.start, s.end))
        .collect();
    assert_eq!(
        periods,
        [
            (
                "5".to_string(),
                Some(day("2025-01-01")),
                Some(day("2025-05-31"))
            ),
            ("5".to_string(), Some(day("2025-06-01")), None),
            ("6".to_string(), Some(day("2025-08-01")), None),
        ]
    );
    // The newer EPJ, later in the configuration, tells where the person lives: bydel 01.
    assert_eq!(one.district.as_deref(), Some("460101"));
    let written_one = written.written(&ident_number(1)).unwrap();
    assert_eq!(written_one.field("peBydelsnr"), Some("01"));
    assert_eq!(written_one.records("TJENESTE").count(), 3);
}

#[test]
fn services_are_clipped_to_the_year_and_refusals_stay_refusals() {
    let mut across = service("s1", "p1", "PRAKT", "2024-10-01");
    across.end = Some(day("2025-02-28"));
    across.provider_orgnr = Some(ORGNR.into());
    across.hours_per_week = Some("4".parse().unwrap());
    let mut refused = service("s2", "p2", "MATOMBR", "2025-05-01");
    refused.decision = Decision::Refused;
    refused.decided_on = Some(day("2025-05-01"));
    refused.start = None;
    let mut last_year = service("s3", "p3", "MATOMBR", "2024-01-01");
    last_year.end = Some(day("2024-12-31"));
    let records = Snapshot {
        persons: vec![
            person("p1", 1, "4601"),
            person("p2", 2, "4601"),
            person("p3", 3, "4601"),
            person("p4", 4, "4601"),
        ],
        services: vec![across, refused, last_year],
        // Person 4 has no service, only an individual plan that runs through the year.
        attributes: vec![PersonAttribute {
            person_id: "p4".into(),
            kind: AttributeKind::IndividualPlan,
            from: Some(day("2023-03-01")),
            to: None,
        }],
        ..Snapshot::default()
    };
    let written = write(&[source(records)]);
    let schemas = Schemas::load(&[]).unwrap();
    schemas.validate_payload(FAGMELDING, &written.ipl).unwrap();

    let p1 = written.person_of(&ident_number(1)).unwrap();
    assert_eq!(p1.services.len(), 1);
    assert_eq!(p1.services[0].start, Some(day("2025-01-01")));
    assert_eq!(p1.services[0].end, Some(day("2025-02-28")));
    assert_eq!(p1.services[0].decision, Decision::Granted);

    let p2 = written.person_of(&ident_number(2)).unwrap();
    assert_eq!(p2.services.len(), 1);
    assert_eq!(p2.services[0].decision, Decision::Refused);
    assert_eq!(p2.services[0].decided_on, Some(day("2025-05-01")));
    let refusal = written.written(&ident_number(2)).unwrap();
    let refusal = refusal.records("TJENESTE").next().unwrap().to_vec();
    assert_eq!(find(&refusal, "tjTjenType"), Some("5"));
    assert_eq!(find(&refusal, "tjVedtak"), Some("1"), "9171: 1 refused");
    assert_eq!(find(&refusal, "tjVedtDato"), Some("20250501"));
    let granted = written.written(&ident_number(1)).unwrap();
    let granted = granted.records("TJENESTE").next().unwrap().to_vec();
    assert_eq!(find(&granted, "tjVedtak"), Some("2"), "9171: 2 granted");
    assert_eq!(find(&granted, "tjTimerUke"), Some("4.00"));
    assert_eq!(find(&granted, "tjFraDato"), Some("20250101"));
    assert_eq!(find(&granted, "tjTilDato"), Some("20250228"));

    assert!(
        written.person_of(&ident_number(3)).is_none(),
        "a service that ended in 2024 is not in 2025"
    );
    let p4 = written.person_of(&ident_number(4)).unwrap();
    assert!(p4.services.is_empty());
    assert_eq!(p4.attributes.len(), 1);
    assert_eq!(p4.attributes[0].from, Some(day("2025-01-01")));
    let plan = written.written(&ident_number(4)).unwrap();
    let plan = plan.records("PERSONOPPL").next().unwrap().to_vec();
    assert_eq!(
        find(&plan, "poIndPlan"),
        Some("1"),
        "9336: 1 a plan in effect"
    );
}

#[test]
fn what_a_check_marks_as_an_error_is_left_out() {
    let mut records = municipality();
    // Home help (1) needs the provider's organisation number; s1 lacks it.
    records
        .services
        .push(service("s4", "p1", "PRAKT", "2025-03-01"));
    // An invalid identity number is an error in the person.
    records.persons[2].ident = Some(kpr_bridge::model::Ident::new("12345678901"));
    let written = write(&[source(records)]);
    assert!(written.report.has_errors());
    let p1 = written.person_of(&ident_number(1)).unwrap();
    assert_eq!(
        p1.services.len(),
        1,
        "the service without orgnr is left out"
    );
    assert_eq!(written.fagmelding().persons.len(), 2);
    assert_eq!(written.assembled.left_out.persons_with_errors, 1);
    assert_eq!(written.assembled.left_out.services_with_errors, 1);
    let schemas = Schemas::load(&[]).unwrap();
    schemas.validate_payload(FAGMELDING, &written.ipl).unwrap();
    schemas
        .validate_payload(IDENTMELDING, &written.ide)
        .unwrap();
}

#[test]
fn the_arrival_checks_on_the_records_find_what_they_find_in_the_written_document() {
    // No hours a week is below the register's range; no application date is missing for
    // home care.
    let mut records = municipality();
    records.services[0].hours_per_week = Some(HoursPerWeek::from_hundredths(0));
    let written = write(&[source(records)]);
    let variables = AssessmentVariables::builtin();
    let on_records = check_year(&written.assembled.persons, &written.header, variables);
    let on_document = Controls::built_in().run(written.ipl.as_slice(), 2025);
    assert!(
        on_records.iter().any(|f| f.field == "tjTimerUke"),
        "{on_records:#?}"
    );
    assert_eq!(on_records, on_document);
}
