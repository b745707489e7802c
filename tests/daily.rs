//! The daily capture on a real state store, by HIS 1135's triggers: each event with its
//! status and the N original it refers to, a service gone from the EPJ, an EPJ change
//! mid-year, the initial load, the chain of numbers over days, errors held back, the scope,
//! identity numbers only sealed in the store, and invariant 3 (the same day twice gives
//! nothing).

mod support;

use kpr_bridge::daily::capture::CaptureError;
use kpr_bridge::message::ipl56::{EventKind, Notification, Status};
use kpr_bridge::model::{Ident, Pause, Person, ident};
use kpr_bridge::source::Snapshot;
use kpr_bridge::store::Store;
use support::daily::{
    ORGNR, OTHER_ORGNR, Source, assert_chain, baseline, capture_on, capture_with, day,
    ident_number, notifications, notifications_after, only, person, service,
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

/// `(kind, status)` of each notification.
fn kinds(notifications: &[Notification]) -> Vec<(EventKind, Status)> {
    notifications
        .iter()
        .map(|n| (n.event.kind, n.status))
        .collect()
}

fn one_person_one_service() -> Snapshot {
    Snapshot {
        persons: vec![person("p1", 1, "4601")],
        services: vec![service("s1", "p1", "MATOMBR", "2026-01-10")],
        ..Snapshot::default()
    }
}

/// The notifications one change gives: `epj` reported on 1 March, then changed by
/// `change` and captured on 2 March.
fn after_change(
    epj: Snapshot,
    change: impl FnOnce(&mut Snapshot) + Send,
) -> (Vec<Notification>, Vec<Notification>) {
    let result = std::sync::Mutex::new(None);
    let out = &result;
    on_sqlite(|store| async move {
        let mut epj = epj;
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let first = notifications_after(&store, 0).await;
        change(&mut epj);
        capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        let second = notifications_after(&store, first.len() as i64).await;
        assert_chain(&notifications_after(&store, 0).await);
        *out.lock().unwrap() = Some((first, second));
    });
    result.into_inner().unwrap().unwrap()
}

#[test]
fn the_first_run_needs_the_initial_load() {
    on_sqlite(|store| async move {
        let epj = one_person_one_service();
        let refused = capture_on(&store, &only(&epj), "2026-03-01", false).await;
        assert!(matches!(refused, Err(CaptureError::NoBaseline)));
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let again = capture_on(&store, &only(&epj), "2026-03-02", true).await;
        assert!(matches!(again, Err(CaptureError::AlreadyStarted(_))));
        let before = capture_on(&store, &only(&epj), "2026-02-28", false).await;
        assert!(matches!(before, Err(CaptureError::BeforeInitial { .. })));
    });
}

/// HIS 1135: TjenesteStart for each service active on the start date and
/// MidlertidigStoppFra for each stop active then, then every event since, in date order.
#[test]
fn the_initial_load_sends_what_is_active_on_its_start_date_and_every_event_since() {
    on_both(|store| async move {
        let mut running = service("s1", "p1", "MATOMBR", "2025-06-01");
        running.pauses = vec![
            Pause {
                from: day("2025-10-01"),
                to: Some(day("2025-10-05")),
            },
            Pause {
                from: day("2025-12-20"),
                to: Some(day("2026-01-10")),
            },
        ];
        let mut over = service("s2", "p2", "MATOMBR", "2025-03-01");
        over.end = Some(day("2025-12-15"));
        let mut short = service("s3", "p2", "MATOMBR", "2026-02-01");
        short.end = Some(day("2026-02-20"));
        let epj = Snapshot {
            persons: vec![person("p1", 1, "4601"), person("p2", 2, "4601")],
            services: vec![running, over, short],
            ..Snapshot::default()
        };
        let captured = capture_with(&store, &only(&epj), "2026-03-01", Some(day("2026-01-01")))
            .await
            .unwrap();
        assert_eq!(captured.summary.history, 1);
        let sent = notifications_after(&store, 0).await;
        let days: Vec<(EventKind, String)> = sent
            .iter()
            .map(|n| (n.event.kind, n.event.day.to_string()))
            .collect();
        assert_eq!(
            days,
            [
                (Start, "2025-06-01".to_string()),
                (StopFrom, "2025-12-20".to_string()),
                (StopUntil, "2026-01-10".to_string()),
                (Start, "2026-02-01".to_string()),
                (End, "2026-02-20".to_string()),
            ]
        );
        assert!(
            sent.iter()
                .all(|n| n.status == Original && n.corrects.is_none())
        );
        assert_eq!(sent[1].event.stop_id, sent[2].event.stop_id);
        assert_chain(&sent);

        let again = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(
            again.summary.notifications, 0,
            "the same EPJ again gives nothing"
        );
    });
}

#[test]
fn the_same_day_twice_gives_no_new_notifications() {
    on_both(|store| async move {
        let epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        for date in ["2026-03-01", "2026-03-02"] {
            let again = capture_on(&store, &only(&epj), date, false).await.unwrap();
            assert_eq!(again.summary.notifications, 0);
            assert_eq!(again.summary.changed_services, 0);
        }
        assert_eq!(notifications_after(&store, 0).await.len(), 1);
    });
}

#[test]
fn a_service_that_starts_is_a_tjenestestart_n_with_its_user() {
    let (_, sent) = after_change(one_person_one_service(), |epj| {
        epj.persons.push(person("p2", 2, "4601"));
        let mut new = service("s2", "p2", "MATOMBR", "2026-03-02");
        new.provider_orgnr = Some(ORGNR.into());
        epj.services.push(new);
    });
    assert_eq!(kinds(&sent), [(Start, Original)]);
    let n = &sent[0];
    assert_eq!(n.event.service_id, "s2");
    assert_eq!(n.event.service_type, 5);
    assert_eq!(n.event.orgnr.as_deref(), Some(ORGNR));
    assert_eq!(n.event.day, day("2026-03-02"));
    assert_eq!(n.event.user.user_number, "p2");
    assert_eq!(n.event.user.fid, ident_number(2));
    assert_eq!(n.event.user.id_type, 1);
}

#[test]
fn a_service_without_a_start_date_sends_nothing_until_it_has_one() {
    let mut epj = one_person_one_service();
    epj.services[0].start = None;
    let (first, _) = after_change(epj.clone(), |_| {});
    assert!(first.is_empty());
    let (_, sent) = after_change(epj, |epj| {
        epj.services[0].start = Some(day("2026-02-01"));
    });
    assert_eq!(kinds(&sent), [(Start, Original)]);
}

#[test]
fn a_changed_start_date_is_a_tjenestestart_m_pointing_to_the_original() {
    let (first, sent) = after_change(one_person_one_service(), |epj| {
        epj.services[0].start = Some(day("2026-01-12"));
    });
    assert_eq!(kinds(&sent), [(Start, Replaces)]);
    assert_eq!(sent[0].corrects, Some(first[0].guid));
    assert_eq!(sent[0].event.day, day("2026-01-12"));
}

#[test]
fn an_end_date_set_changed_and_removed_is_n_then_m_then_c_on_the_original() {
    on_sqlite(|store| async move {
        let mut epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let mut steps = Vec::new();
        for (date, end) in [
            ("2026-03-02", Some("2026-03-31")),
            ("2026-03-03", Some("2026-04-30")),
            ("2026-03-04", None),
        ] {
            epj.services[0].end = end.map(day);
            let before = notifications_after(&store, 0).await.len() as i64;
            capture_on(&store, &only(&epj), date, false).await.unwrap();
            steps.extend(notifications_after(&store, before).await);
        }
        assert_eq!(
            kinds(&steps),
            [(End, Original), (End, Replaces), (End, Cancels)]
        );
        assert_eq!(steps[1].corrects, Some(steps[0].guid));
        assert_eq!(
            steps[2].corrects,
            Some(steps[0].guid),
            "always the N original"
        );
        assert_eq!(steps[1].event.day, day("2026-04-30"));
        assert_chain(&notifications_after(&store, 0).await);
    });
}

#[test]
fn a_new_provider_is_a_tjenesteutforerendret_n() {
    let mut epj = one_person_one_service();
    epj.services[0].provider_orgnr = Some(ORGNR.into());
    let (_, sent) = after_change(epj, |epj| {
        epj.services[0].provider_orgnr = Some(OTHER_ORGNR.into());
    });
    assert_eq!(kinds(&sent), [(ProviderChanged, Original)]);
    assert_eq!(sent[0].event.orgnr.as_deref(), Some(OTHER_ORGNR));
    assert_eq!(sent[0].event.day, day("2026-03-02"));
}

#[test]
fn a_stop_is_a_pair_of_fra_and_til_with_one_stop_id() {
    on_sqlite(|store| async move {
        let mut epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        epj.services[0].pauses = vec![Pause {
            from: day("2026-03-02"),
            to: None,
        }];
        capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        epj.services[0].pauses[0].to = Some(day("2026-03-09"));
        capture_on(&store, &only(&epj), "2026-03-09", false)
            .await
            .unwrap();
        epj.services[0].pauses.clear();
        capture_on(&store, &only(&epj), "2026-03-10", false)
            .await
            .unwrap();
        let all = notifications_after(&store, 1).await;
        assert_eq!(
            kinds(&all),
            [
                (StopFrom, Original),
                (StopUntil, Original),
                (StopUntil, Cancels),
                (StopFrom, Cancels)
            ]
        );
        let id = all[0].event.stop_id.clone().unwrap();
        assert!(all.iter().all(|n| n.event.stop_id.as_deref() == Some(&*id)));
        assert_eq!(all[2].corrects, Some(all[1].guid));
        assert_eq!(all[3].corrects, Some(all[0].guid));
    });
}

#[test]
fn a_service_gone_from_the_epj_cancels_each_of_its_originals() {
    let mut epj = one_person_one_service();
    epj.services[0].end = Some(day("2026-06-30"));
    epj.services[0].pauses = vec![Pause {
        from: day("2026-03-01"),
        to: Some(day("2026-03-10")),
    }];
    let (first, sent) = after_change(epj, |epj| {
        epj.services.clear();
    });
    assert_eq!(first.len(), 4);
    assert!(
        sent.iter().all(|n| n.status == Cancels),
        "{:?}",
        kinds(&sent)
    );
    let mut corrected: Vec<_> = sent.iter().map(|n| n.corrects.unwrap()).collect();
    let mut originals: Vec<_> = first.iter().map(|n| n.guid).collect();
    corrected.sort();
    originals.sort();
    assert_eq!(corrected, originals);
    // The person is no longer in the EPJ's list either: the register's names still go.
    assert!(sent.iter().all(|n| n.event.user.fid == ident_number(1)));
}

#[test]
fn a_service_outside_the_daily_scope_sends_nothing() {
    let (_, sent) = after_change(one_person_one_service(), |epj| {
        // TRYGGH is 6, trygghetsalarm, withdrawn from the 56.0.0 code list.
        epj.services
            .push(service("s2", "p1", "TRYGGH", "2026-03-02"));
    });
    assert!(sent.is_empty(), "{:?}", kinds(&sent));
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
        assert_eq!(captured.summary.notifications, 0);
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
        assert_eq!(captured.summary.notifications, 0);
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
        epj.services[0].end = Some(day("2026-03-31"));
        let captured = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(
            kinds(&notifications_after(&store, 1).await),
            [(End, Original)]
        );
        assert_eq!(captured.summary.held_services, 1);
        assert_eq!(captured.current.report.count("orgnr-missing"), 1);

        epj.services[1].provider_orgnr = Some(ORGNR.into());
        let fixed = capture_on(&store, &only(&epj), "2026-03-03", false)
            .await
            .unwrap();
        assert_eq!(
            kinds(&notifications_after(&store, 2).await),
            [(Start, Original)]
        );
        assert_eq!(fixed.summary.held_services, 0);
    });
}

/// The old EPJ's last day is 31 May; the new one's first extract names the same services
/// under its own ids, some with the migration date as start. The register sees neither an
/// annulment nor a new TjenesteStart, and keeps the tjenesteID and brukerNr it knows.
#[test]
fn an_epj_change_mid_year_continues_what_the_old_epj_reported() {
    on_both(|store| async move {
        let mut old = Snapshot {
            persons: (1..=4)
                .map(|n| person(&format!("a{n}"), n, "4601"))
                .collect(),
            services: vec![
                service("a-s1", "a1", "MATOMBR", "2025-06-01"),
                service("a-s2", "a2", "PRAKT", "2026-01-01"),
                service("a-s4", "a4", "MATOMBR", "2026-02-01"),
            ],
            ..Snapshot::default()
        };
        old.services[1].provider_orgnr = Some(ORGNR.into());
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
        let reported = notifications_after(&store, 0).await.len() as i64;

        let mut new = Snapshot {
            persons: (1..=3)
                .map(|n| person(&format!("b{n}"), n, "4601"))
                .collect(),
            services: vec![
                service("b-x1", "b1", "MATOMBR", "2026-06-01"),
                service("b-x2", "b2", "PRAKT", "2026-01-01"),
            ],
            ..Snapshot::default()
        };
        new.services[1].provider_orgnr = Some(OTHER_ORGNR.into());
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
        // x1 continues s1 unchanged; x2 continues s2 with a new provider; s4 was not taken
        // over, so it ends on the old EPJ's last day; s3 had ended before.
        let sent = notifications_after(&store, reported).await;
        assert_eq!(kinds(&sent), [(ProviderChanged, Original), (End, Original)]);
        assert_eq!(switched.summary.continued_services, 2);
        assert_eq!(switched.summary.ended_at_switch, 1);
        assert_eq!(
            sent[0].event.service_id, "a-s2",
            "the tjenesteID the register knows"
        );
        assert_eq!(
            sent[0].event.user.user_number, "a2",
            "the brukerNr the register knows"
        );
        assert_eq!(sent[1].event.service_id, "a-s4");
        assert_eq!(sent[1].event.day, day("2026-05-31"));
        let refs = baseline(&store).await.refs;
        assert_eq!(refs[&("new-epj".to_string(), "b-x1".to_string())], "a-s1");
        assert!(
            !refs.keys().any(|(source, _)| source == "old-epj"),
            "{refs:?}"
        );

        let next = capture_on(&store, &after, "2026-06-02", false)
            .await
            .unwrap();
        assert_eq!(next.summary.notifications, 0);
        assert_chain(&notifications_after(&store, 0).await);
    });
}

/// Three days of captures: the numbers run on without a gap across days, each previous GUID
/// is the notification before, the first the empty GUID.
#[test]
fn the_chain_runs_across_days() {
    on_both(|store| async move {
        let mut epj = one_person_one_service();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        for (n, date) in ["2026-03-02", "2026-03-03", "2026-03-04"]
            .iter()
            .enumerate()
        {
            let p = format!("n{n}");
            epj.persons.push(person(&p, 10 + n as u32, "4601"));
            epj.services
                .push(service(&format!("t{n}"), &p, "MATOMBR", date));
            epj.services[0].end = Some(day(date));
            capture_on(&store, &only(&epj), date, false).await.unwrap();
        }
        let all = notifications(&store).await;
        assert_eq!(all.len(), 1 + 3 * 2);
        assert_chain(
            &all.iter()
                .map(|s| s.notification.clone())
                .collect::<Vec<_>>(),
        );
        assert_eq!(all[6].reporting_date, day("2026-03-04"));
        assert_eq!(
            (all[5].source.as_str(), all[5].local_id.as_str()),
            ("epj", "s1")
        );
        assert_eq!(all[5].notification.status, Replaces);
    });
}

/// No identity number in any table of the store, in plain text, on either database —
/// though every notification carries one, sealed.
#[test]
fn the_store_holds_no_identity_number_in_plain_text() {
    on_both(|store| async move {
        let mut epj = Snapshot {
            persons: (1..=20)
                .map(|n| person(&format!("p{n}"), n, "4601"))
                .collect(),
            services: (1..=20)
                .map(|n| service(&format!("s{n}"), &format!("p{n}"), "MATOMBR", "2026-01-05"))
                .collect(),
            ..Snapshot::default()
        };
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        epj.services.truncate(10);
        capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(notifications(&store).await.len(), 30);
        let text = support::store_text(&store).await;
        for n in 1..=20 {
            let number = ident_number(n);
            assert!(
                !text.contains(&number),
                "identity number {n} found in the store"
            );
            // Nor its digits split by a separator a dump might add.
            assert!(!text.contains(&number[..6]) || !text.contains(&number[6..]));
        }
    });
}

/// Local ids as an EPJ may have them (a tab, a line break, capitals, letters outside ASCII)
/// and enough services that today's states are hashed on more than one thread: the
/// baseline reads back whichever way it has to be read, and only what changed gives
/// notifications.
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
            let mut practical = service(&b, &format!("p{p}"), "PRAKT", "2026-01-05");
            practical.provider_orgnr = Some(ORGNR.into());
            epj.services.push(practical);
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

        let index = |epj: &Snapshot, id: &str| {
            epj.services
                .iter()
                .position(|s| s.service_id == id)
                .unwrap()
        };
        let (line_break, regular) = (index(&epj, "s\t1\n2"), index(&epj, "r17b"));
        epj.services[line_break].end = Some(day("2026-03-31"));
        epj.services[regular].provider_orgnr = Some(OTHER_ORGNR.into());
        let tab = index(&epj, "tab\there");
        epj.services.remove(tab);
        let mut practical = service("new\tone", "q3", "PRAKT", "2026-03-01");
        practical.provider_orgnr = Some(ORGNR.into());
        epj.services.push(practical);
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
        assert_eq!(second.summary.notifications, 4);

        let third = capture_on(&store, &only(&epj), "2026-03-03", false)
            .await
            .unwrap();
        assert_eq!(third.summary.notifications, 0);
        assert_eq!(third.summary.changed_services, 0);
        assert_eq!(
            baseline(&store).await.services.len(),
            10_500 + awkward.len()
        );
    });
}
