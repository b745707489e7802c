//! The daily capture on a real state store: each event kind and correction status, a person
//! moving, a service deleted in the EPJ, an EPJ change mid-year, errors held back, the first
//! run, and invariant 3 (the same day twice gives nothing).

mod support;

use kpr_bridge::daily::capture::CaptureError;
use kpr_bridge::daily::event::{About, Event, EventKind, PersonFact, Status};
use kpr_bridge::model::{
    Assessment, AttributeKind, Diagnosis, DiagnosisSystem, HoursPerWeek, Ident, Pause, Person,
    PersonAttribute, ident,
};
use kpr_bridge::source::Snapshot;
use kpr_bridge::store::Store;
use support::daily::{
    ORGNR, OTHER_ORGNR, Source, baseline, capture_on, day, only, person, service,
};
use support::on_both;

use EventKind::*;
use Status::*;

/// Runs `scenario` on a fresh SQLite store.
fn on_sqlite<F, Fut>(scenario: F)
where
    F: FnOnce(Store) -> Fut + Send,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    support::block_on(
        || async move { scenario(Store::open(None, &data_dir).await.unwrap()).await },
    );
}

/// `(kind, status)` of each event.
fn kinds(events: &[Event]) -> Vec<(EventKind, Status)> {
    events.iter().map(|e| (e.kind, e.status)).collect()
}

fn service_events(events: &[Event]) -> Vec<(EventKind, Status)> {
    kinds(
        &events
            .iter()
            .filter(|e| matches!(e.about, About::Service { .. }))
            .cloned()
            .collect::<Vec<_>>(),
    )
}

fn one_person_one_service() -> Snapshot {
    Snapshot {
        persons: vec![person("p1", 1, "4601")],
        services: vec![service("s1", "p1", "MATOMBR", "2026-01-10")],
        ..Snapshot::default()
    }
}

#[test]
fn the_first_run_needs_initial_and_reports_only_what_is_active() {
    on_both(|store| async move {
        let mut epj = one_person_one_service();
        epj.persons.push(person("p2", 2, "4601"));
        let mut old = service("s2", "p2", "TRYGGH", "2025-01-01");
        old.end = Some(day("2025-12-31"));
        epj.services.push(old);
        let refused = capture_on(&store, &only(&epj), "2026-03-01", false).await;
        assert!(
            matches!(refused, Err(CaptureError::NoBaseline)),
            "{:?}",
            refused.err()
        );

        let first = capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        assert_eq!(
            kinds(&first.events),
            [(Start, Original), (ResidenceChanged, Original)]
        );
        assert_eq!(first.summary.history, 1);
        // Both services are in the baseline; only one was reported.
        assert_eq!(baseline(&store).await.services.len(), 2);

        let again = capture_on(&store, &only(&epj), "2026-03-01", true).await;
        assert!(matches!(again, Err(CaptureError::AlreadyStarted(_))));
        let before = capture_on(&store, &only(&epj), "2026-02-01", false).await;
        assert!(matches!(before, Err(CaptureError::BeforeInitial { .. })));
    });
}

#[test]
fn the_same_day_twice_gives_no_new_events() {
    on_both(|store| async move {
        let epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let second = capture_on(&store, &only(&epj), "2026-03-01", false)
            .await
            .unwrap();
        assert!(second.events.is_empty(), "{:?}", kinds(&second.events));
        let next_day = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert!(next_day.events.is_empty());
    });
}

/// What a step is, what it changes, and the events it must give.
type Step = (
    &'static str,
    Box<dyn Fn(&mut Snapshot)>,
    Vec<(EventKind, Status)>,
);

/// Each step changes the one service and names the events it must give.
#[test]
fn each_service_event_and_correction_status() {
    on_sqlite(|store| async move {
        let mut epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let mut all: Vec<Event> = Vec::new();
        let steps: Vec<Step> = vec![
            (
                "a pause begins",
                Box::new(|e| {
                    e.services[0].pauses = vec![Pause {
                        from: day("2026-03-02"),
                        to: None,
                    }]
                }),
                vec![(PauseFrom, Original)],
            ),
            (
                "the pause's end is known",
                Box::new(|e| e.services[0].pauses[0].to = Some(day("2026-03-09"))),
                vec![(PauseUntil, Original)],
            ),
            (
                "the pause's end moves",
                Box::new(|e| e.services[0].pauses[0].to = Some(day("2026-03-12"))),
                vec![(PauseUntil, Replaces)],
            ),
            (
                "the pause's end is removed",
                Box::new(|e| e.services[0].pauses[0].to = None),
                vec![(PauseUntil, Annuls)],
            ),
            (
                "the pause was registered in error",
                Box::new(|e| e.services[0].pauses.clear()),
                vec![(PauseFrom, Annuls)],
            ),
            (
                "a provider is filled in",
                Box::new(|e| e.services[0].provider_orgnr = Some(ORGNR.into())),
                vec![(ProviderChanged, Supplements)],
            ),
            (
                "the provider changes",
                Box::new(|e| e.services[0].provider_orgnr = Some(OTHER_ORGNR.into())),
                vec![(ProviderChanged, Original)],
            ),
            (
                "hours are filled in",
                Box::new(|e| {
                    e.services[0].hours_per_week = Some(HoursPerWeek::from_hundredths(300))
                }),
                vec![(Start, Supplements)],
            ),
            (
                "the hours change",
                Box::new(|e| {
                    e.services[0].hours_per_week = Some(HoursPerWeek::from_hundredths(450))
                }),
                vec![(Start, Replaces)],
            ),
            (
                "the start date is corrected",
                Box::new(|e| e.services[0].start = Some(day("2026-01-12"))),
                vec![(Start, Replaces)],
            ),
            (
                "the type is corrected",
                Box::new(|e| e.services[0].local_type = "TRYGGH".into()),
                vec![(Start, Replaces)],
            ),
            (
                "the service ends",
                Box::new(|e| e.services[0].end = Some(day("2026-04-30"))),
                vec![(End, Original)],
            ),
            (
                "the end moves",
                Box::new(|e| e.services[0].end = Some(day("2026-05-31"))),
                vec![(End, Replaces)],
            ),
            (
                "the end is removed",
                Box::new(|e| e.services[0].end = None),
                vec![(End, Annuls)],
            ),
            (
                "the service is deleted in the EPJ",
                Box::new(|e| e.services.clear()),
                vec![(Start, Annuls)],
            ),
        ];
        for (n, (what, change, expected)) in steps.into_iter().enumerate() {
            change(&mut epj);
            let date = format!("2026-03-{:02}", n + 2);
            let captured = capture_on(&store, &only(&epj), &date, false).await.unwrap();
            assert_eq!(service_events(&captured.events), expected, "{what}");
            all.extend(captured.events);
        }
        // One chain: each event links to the one before it, all name the same service.
        for pair in all.windows(2) {
            assert_eq!(pair[1].previous, Some(pair[0].id));
        }
        let refs: std::collections::HashSet<_> = all
            .iter()
            .map(|e| match &e.about {
                About::Service { service, .. } => *service,
                About::Person(_) => panic!("a person event"),
            })
            .collect();
        assert_eq!(refs.len(), 1);
        assert!(
            baseline(&store).await.services.is_empty(),
            "a deleted service leaves the baseline"
        );
    });
}

#[test]
fn a_refusal_is_reported_and_a_new_service_with_a_past_pause_and_end_is_complete() {
    on_sqlite(|store| async move {
        let mut epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let mut refused = service("s2", "p1", "TRYGGH", "2026-03-01");
        refused.decision = kpr_bridge::model::Decision::Refused;
        refused.start = None;
        refused.decided_on = Some(day("2026-03-01"));
        let mut short = service("s3", "p1", "PRAKT", "2026-02-01");
        short.provider_orgnr = Some(ORGNR.into());
        short.pauses = vec![Pause {
            from: day("2026-02-05"),
            to: Some(day("2026-02-07")),
        }];
        short.end = Some(day("2026-02-28"));
        epj.services.extend([refused, short]);
        let captured = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(
            service_events(&captured.events),
            [
                (Refused, Original),
                (Start, Original),
                (PauseFrom, Original),
                (PauseUntil, Original),
                (End, Original)
            ]
        );
    });
}

#[test]
fn person_events_moving_municipality_diagnoses_attributes_assessments() {
    on_sqlite(|store| async move {
        let mut epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let person_events = |events: &[Event]| {
            events
                .iter()
                .filter(|e| matches!(e.about, About::Person(_)))
                .map(|e| (e.kind, e.status))
                .collect::<Vec<_>>()
        };

        epj.persons[0].municipality = Some("0301".into());
        let moved = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(person_events(&moved.events), [(ResidenceChanged, Original)]);
        match &moved.events[0].about {
            About::Person(PersonFact::Residence(r)) => {
                assert_eq!(r.municipality.as_deref(), Some("0301"))
            }
            other => panic!("{other:?}"),
        }

        epj.diagnoses = vec![Diagnosis {
            person_id: "p1".into(),
            system: DiagnosisSystem::Icpc2,
            code: "K86".into(),
            registered_on: None,
        }];
        epj.attributes = vec![PersonAttribute {
            person_id: "p1".into(),
            kind: AttributeKind::IndividualPlan,
            from: Some(day("2026-03-01")),
            to: None,
        }];
        epj.assessments = vec![Assessment {
            person_id: "p1".into(),
            assessed_on: Some(day("2026-03-01")),
            variable: "V01".into(),
            score: 2,
        }];
        let added = capture_on(&store, &only(&epj), "2026-03-03", false)
            .await
            .unwrap();
        assert_eq!(
            person_events(&added.events),
            [
                (AssessmentChanged, Original),
                (DiagnosisAdded, Original),
                (AttributeStarted, Original)
            ]
        );

        epj.assessments[0].score = 3;
        epj.attributes[0].to = Some(day("2026-03-31"));
        epj.diagnoses.clear();
        let changed = capture_on(&store, &only(&epj), "2026-03-04", false)
            .await
            .unwrap();
        assert_eq!(
            person_events(&changed.events),
            [
                (AssessmentChanged, Replaces),
                (DiagnosisRemoved, Original),
                (AttributeEnded, Original)
            ]
        );

        epj.assessments[0].assessed_on = Some(day("2026-03-04"));
        epj.attributes.clear();
        let again = capture_on(&store, &only(&epj), "2026-03-05", false)
            .await
            .unwrap();
        assert_eq!(
            person_events(&again.events),
            [(AssessmentChanged, Original), (AttributeStarted, Annuls)]
        );
    });
}

#[test]
fn a_service_missing_from_a_source_with_unreadable_rows_is_not_annulled() {
    on_sqlite(|store| async move {
        let epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let emptied = Snapshot {
            persons: epj.persons.clone(),
            ..Snapshot::default()
        };
        let partial = vec![Source {
            name: "epj",
            records: Some(&emptied),
            from: None,
            to: None,
            complete: false,
        }];
        let captured = capture_on(&store, &partial, "2026-03-02", false)
            .await
            .unwrap();
        assert!(captured.events.is_empty());
        assert_eq!(captured.summary.left_as_they_are.len(), 1);
        let unread = vec![Source {
            name: "epj",
            records: None,
            from: None,
            to: None,
            complete: false,
        }];
        let captured = capture_on(&store, &unread, "2026-03-02", false)
            .await
            .unwrap();
        assert!(captured.events.is_empty());
        assert_eq!(baseline(&store).await.services.len(), 1);
    });
}

#[test]
fn an_error_holds_back_that_change_while_the_rest_flows() {
    on_sqlite(|store| async move {
        let mut epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        epj.persons.push(person("p2", 2, "4601"));
        // Practical help needs the provider's orgnr: an error, held back.
        epj.services
            .push(service("s2", "p2", "PRAKT", "2026-03-01"));
        epj.services[0].hours_per_week = Some(HoursPerWeek::from_hundredths(200));
        let captured = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(service_events(&captured.events), [(Start, Supplements)]);
        assert_eq!(captured.summary.held_services, 1);
        assert_eq!(captured.current.report.count("orgnr-missing"), 1);

        epj.services[1].provider_orgnr = Some(ORGNR.into());
        let fixed = capture_on(&store, &only(&epj), "2026-03-03", false)
            .await
            .unwrap();
        assert_eq!(service_events(&fixed.events), [(Start, Original)]);
        assert_eq!(fixed.summary.held_services, 0);
    });
}

/// The old EPJ's last day is 31 May; the new one's first extract names the same services
/// under its own ids, some with the migration date as start. The register must see neither
/// an annulment nor a restart — only what really differs.
#[test]
fn an_epj_change_mid_year_continues_what_the_old_epj_reported() {
    on_both(|store| async move {
        let mut old = Snapshot {
            persons: (1..=4)
                .map(|n| person(&format!("a{n}"), n, "4601"))
                .collect(),
            services: vec![
                service("a-s1", "a1", "MATOMBR", "2025-06-01"),
                service("a-s2", "a2", "TRYGGH", "2026-01-01"),
                service("a-s4", "a4", "TRYGGH", "2026-02-01"),
            ],
            ..Snapshot::default()
        };
        let mut ended = service("a-s3", "a3", "MATOMBR", "2025-01-01");
        ended.end = Some(day("2026-04-30"));
        old.services.push(ended);
        let before = vec![Source {
            name: "old-epj",
            records: Some(&old),
            from: None,
            to: Some("2026-05-31"),
            complete: true,
        }];
        capture_on(&store, &before, "2026-05-01", true)
            .await
            .unwrap();
        let refs_before = baseline(&store).await.refs;

        let mut new = Snapshot {
            persons: (1..=3)
                .map(|n| person(&format!("b{n}"), n, "4601"))
                .collect(),
            services: vec![
                service("b-x1", "b1", "MATOMBR", "2026-06-01"),
                service("b-x2", "b2", "TRYGGH", "2026-01-01"),
            ],
            ..Snapshot::default()
        };
        new.services[1].hours_per_week = Some(HoursPerWeek::from_hundredths(100));
        let after = vec![
            Source {
                name: "old-epj",
                records: None,
                from: None,
                to: Some("2026-05-31"),
                complete: false,
            },
            Source {
                name: "new-epj",
                records: Some(&new),
                from: Some("2026-06-01"),
                to: None,
                complete: true,
            },
        ];
        let switched = capture_on(&store, &after, "2026-06-01", false)
            .await
            .unwrap();
        // x1 continues s1 unchanged; x2 continues s2 with hours filled in; s4 was not taken
        // over, so it ends on the old EPJ's last day; s3 had ended and stays history.
        assert_eq!(
            service_events(&switched.events),
            [(Start, Supplements), (End, Original)]
        );
        assert!(switched.events.iter().all(|e| e.status != Annuls));
        assert_eq!(switched.summary.continued_services, 2);
        assert_eq!(switched.summary.ended_at_switch, 1);
        let end = switched.events.iter().find(|e| e.kind == End).unwrap();
        assert_eq!(end.effective_on, day("2026-05-31"));
        // The register knows the continued services by the references it had.
        let refs_after = baseline(&store).await.refs;
        assert_eq!(
            refs_after[&("new-epj".to_string(), "b-x1".to_string())],
            refs_before[&("old-epj".to_string(), "a-s1".to_string())]
        );
        assert_eq!(
            refs_after[&("new-epj".to_string(), "b-x2".to_string())],
            refs_before[&("old-epj".to_string(), "a-s2".to_string())]
        );
        assert!(
            !refs_after.keys().any(|(source, _)| source == "old-epj"),
            "{refs_after:?}"
        );

        let next = capture_on(&store, &after, "2026-06-02", false)
            .await
            .unwrap();
        assert!(next.events.is_empty(), "{:?}", kinds(&next.events));
    });
}

#[test]
fn a_retired_epj_without_a_successor_is_left_as_it_is() {
    on_sqlite(|store| async move {
        let old = one_person_one_service();
        let before = vec![Source {
            name: "old-epj",
            records: Some(&old),
            from: None,
            to: Some("2026-05-31"),
            complete: true,
        }];
        capture_on(&store, &before, "2026-05-01", true)
            .await
            .unwrap();
        let after = vec![Source {
            name: "old-epj",
            records: None,
            from: None,
            to: Some("2026-05-31"),
            complete: false,
        }];
        let captured = capture_on(&store, &after, "2026-06-01", false)
            .await
            .unwrap();
        assert!(captured.events.is_empty());
        assert_eq!(captured.summary.left_as_they_are.len(), 1);
        assert!(
            captured.summary.left_as_they_are[0]
                .why
                .contains("no configured source takes over")
        );
    });
}

/// Local ids as an EPJ may have them (a tab, a line break, capitals, letters outside ASCII)
/// and enough services that today's states are hashed on more than one thread: the
/// baseline reads back whichever way it has to be read, and only what changed gives events.
/// "s TAB 1 LF 2" reads as two good lines of the aggregated hashes; only their count
/// shows that they are one id.
#[test]
fn awkward_local_ids_and_many_services_give_exactly_the_changes() {
    on_both(|store| async move {
        let first_birth = day("1930-01-01");
        let unique_person = |id: String, n: u64| {
            let birth = first_birth + chrono::Days::new(n);
            let number = (0..500)
                .find_map(|individual| ident::synthetic(birth, individual))
                .unwrap();
            Person {
                ident: Some(Ident::new(number)),
                ..person(&id, 0, "4601")
            }
        };
        let mut epj = Snapshot::default();
        for p in 0..5_250u64 {
            epj.persons.push(unique_person(format!("p{p}"), p));
            let (a, b) = (format!("r{p}a"), format!("r{p}b"));
            epj.services
                .push(service(&a, &format!("p{p}"), "MATOMBR", "2026-01-05"));
            epj.services
                .push(service(&b, &format!("p{p}"), "TRYGGH", "2026-01-05"));
        }
        let awkward = ["tab\there", "Zed", "apple", "Ærlig", "ærlig", "s\t1\n2"];
        for (i, id) in awkward.iter().enumerate() {
            let person_id = format!("q{i}");
            epj.persons
                .push(unique_person(person_id.clone(), 10_000 + i as u64));
            epj.services
                .push(service(id, &person_id, "MATOMBR", "2026-01-05"));
        }
        let first = capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        assert_eq!(first.summary.new_services, 10_500 + awkward.len());
        assert_eq!(first.summary.held_services, 0);

        let hours = Some(HoursPerWeek::from_hundredths(450));
        let index = |epj: &Snapshot, id: &str| {
            epj.services
                .iter()
                .position(|s| s.service_id == id)
                .unwrap()
        };
        let (line_break, regular) = (index(&epj, "s\t1\n2"), index(&epj, "r17b"));
        epj.services[line_break].hours_per_week = hours;
        epj.services[regular].hours_per_week = hours;
        let tab = index(&epj, "tab\there");
        epj.services.remove(tab);
        epj.services
            .push(service("new\tone", "q3", "TRYGGH", "2026-03-01"));
        let second = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(
            (
                second.summary.changed_services,
                second.summary.annulled_services,
                second.summary.new_services
            ),
            (2, 1, 1)
        );
        assert_eq!(second.events.len(), 4, "{:?}", kinds(&second.events));

        let third = capture_on(&store, &only(&epj), "2026-03-03", false)
            .await
            .unwrap();
        assert!(third.events.is_empty(), "{:?}", kinds(&third.events));
        assert_eq!(third.summary.changed_services, 0);
        assert_eq!(
            baseline(&store).await.services.len(),
            10_500 + awkward.len()
        );
    });
}

/// The identity numbers the identity message needs: written, updated and read back by key,
/// on each store's way of sending many rows at once.
#[test]
fn identities_are_written_and_read_back_by_key() {
    on_both(|store| async move {
        use kpr_bridge::daily::state::PersonKey;
        let keys: Vec<PersonKey> = (0..1_200u16)
            .map(|i| {
                let mut key = [0u8; 16];
                key[..2].copy_from_slice(&i.to_be_bytes());
                PersonKey(key)
            })
            .collect();
        let numbers: Vec<String> = (0..keys.len()).map(|i| format!("n{i}")).collect();
        let rows: Vec<(PersonKey, &str)> = keys
            .iter()
            .zip(&numbers)
            .map(|(key, n)| (*key, n.as_str()))
            .collect();
        let mut tx = store.begin_daily().await.unwrap();
        tx.upsert_identities(&rows).await.unwrap();
        tx.upsert_identities(&[(keys[7], "changed")]).await.unwrap();
        let mut wanted = vec![keys[7], keys[1_199], PersonKey([0xff; 16])];
        wanted.extend(&keys[100..700]);
        let mut found = tx.identities(&wanted).await.unwrap();
        found.sort();
        tx.rollback().await.unwrap();
        assert_eq!(found.len(), 602);
        assert!(found.contains(&(keys[7], "changed".to_string())));
        assert!(found.contains(&(keys[1_199], "n1199".to_string())));
        assert!(found.contains(&(keys[650], "n650".to_string())));
    });
}
