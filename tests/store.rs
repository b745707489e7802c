//! The state store on both of its databases: SQLite in a data directory and PostgreSQL.
//! Every scenario runs on each, through the same public functions.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use kpr_bridge::message::apprec::{AppRec, ReceiptError, Status, Version};
use kpr_bridge::store::Store;
use kpr_bridge::store::daily::ShippedDay;
use kpr_bridge::store::outbox::{Moved, NewMessage, State};
use kpr_bridge::store::receipts::{Anomaly, ErrorReport, FirstReceipt, Recorded};
use support::on_both;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, hour, 0, 0).unwrap()
}

fn message(n: u32) -> NewMessage {
    NewMessage {
        msg_id: format!("00000000-0000-4000-8000-{n:012}"),
        msg_type: "KPR_IPL".into(),
        target: "validation".into(),
        to_her_id: "171479".into(),
        body: vec![n as u8; 100],
        body_file: None,
    }
}

fn receipt(msg_id: &str, status: Status, codes: &[&str]) -> AppRec {
    AppRec {
        version: Version::V1_0,
        id: format!("receipt-for-{msg_id}"),
        generated: "2026-01-05T12:00:00".into(),
        status,
        errors: codes
            .iter()
            .map(|code| ReceiptError {
                code: code.to_string(),
                text: format!("text of {code}"),
                system: "2.16.578.1.12.4.1.1.8221".into(),
                part: String::new(),
            })
            .collect(),
        original_msg_id: msg_id.into(),
        original_type: "KPR_IPL".into(),
        original_issued: "2026-01-05T11:00:00".into(),
        sender: Vec::new(),
        receiver: Vec::new(),
    }
}

#[test]
fn a_message_goes_from_queued_to_delivered_and_keeps_its_history() {
    on_both(|store| async move {
        let m = message(1);
        store.enqueue(&m, at(1)).await.unwrap();
        let pending = store.pending(10).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(*pending[0].bytes().unwrap(), m.body[..]);
        store.note_publish(&[&m.msg_id], at(2)).await.unwrap();
        assert_eq!(
            store
                .transition(&m.msg_id, State::Sent, None, at(2))
                .await
                .unwrap(),
            Moved::From(State::Queued)
        );
        assert!(store.pending(10).await.unwrap().is_empty());
        let ok = receipt(&m.msg_id, Status::Ok, &[]);
        assert_eq!(
            store.record_receipt(&ok, at(3)).await.unwrap(),
            Recorded::Moved(Moved::From(State::Sent))
        );
        // The same receipt again (redelivered, or replayed): taken once, not stored again.
        assert_eq!(
            store.record_receipt(&ok, at(4)).await.unwrap(),
            Recorded::Again(State::Delivered)
        );
        // Another receipt with the same answer (KPR answered twice): kept as a duplicate.
        let mut again = ok.clone();
        again.id = "another-receipt".into();
        assert_eq!(
            store.record_receipt(&again, at(4)).await.unwrap(),
            Recorded::Moved(Moved::Stayed(State::Delivered))
        );
        let history = store.transitions(&m.msg_id).await.unwrap();
        let steps: Vec<_> = history.iter().map(|t| (t.from, t.to, t.at)).collect();
        assert_eq!(
            steps,
            [
                (None, State::Queued, at(1)),
                (Some(State::Queued), State::Sent, at(2)),
                (Some(State::Sent), State::Delivered, at(3)),
            ]
        );
        let receipts = store.receipts(&m.msg_id).await.unwrap();
        assert_eq!(receipts.len(), 2);
        assert!(!receipts[0].duplicate && receipts[1].duplicate);
        assert!(!receipts[1].conflicting);
        let entries = store.entries().await.unwrap();
        assert_eq!(entries[0].state, State::Delivered);
        assert_eq!(entries[0].size, 100);
        assert_eq!(entries[0].publish_count, 1);
    });
}

#[test]
fn a_rejection_and_a_partial_acceptance_keep_every_error() {
    on_both(|store| async move {
        let (a, b) = (message(1), message(2));
        for m in [&a, &b] {
            store.enqueue(m, at(1)).await.unwrap();
            store
                .transition(&m.msg_id, State::Sent, None, at(2))
                .await
                .unwrap();
        }
        let rejected = receipt(&a.msg_id, Status::Rejected, &["T02", "E21"]);
        store.record_receipt(&rejected, at(3)).await.unwrap();
        let partly = receipt(&b.msg_id, Status::OkWithErrors, &["E35"]);
        store.record_receipt(&partly, at(3)).await.unwrap();
        assert_eq!(store.state(&a.msg_id).await.unwrap(), Some(State::Rejected));
        assert_eq!(
            store.state(&b.msg_id).await.unwrap(),
            Some(State::Delivered)
        );
        let codes: Vec<String> = store.receipts(&a.msg_id).await.unwrap()[0]
            .errors
            .iter()
            .map(|e| e.code.clone())
            .collect();
        assert_eq!(codes, ["T02", "E21"]);
        let partial = &store.receipts(&b.msg_id).await.unwrap()[0];
        assert_eq!(partial.status, 3);
        assert_eq!(partial.errors[0].text, "text of E35");
        let last = store.transitions(&a.msg_id).await.unwrap().pop().unwrap();
        assert_eq!(
            last.detail.as_deref(),
            Some("AppRec 2 Avvist (receipt-for-00000000-0000-4000-8000-000000000001): T02, E21")
        );
    });
}

#[test]
fn a_receipt_for_an_unknown_message_changes_nothing() {
    on_both(|store| async move {
        let stranger = receipt("not-ours", Status::Ok, &[]);
        assert_eq!(
            store.record_receipt(&stranger, at(1)).await.unwrap(),
            Recorded::Moved(Moved::Unknown)
        );
        assert!(store.receipts("not-ours").await.unwrap().is_empty());
        let report = ErrorReport {
            original_msg_id: "not-ours".into(),
            condition: "transport:internal-error".into(),
            description: "x".into(),
        };
        assert_eq!(
            store.record_error_report(&report, at(1)).await.unwrap(),
            Moved::Unknown
        );
    });
}

#[test]
fn silence_expires_and_a_late_receipt_still_tells_the_truth() {
    on_both(|store| async move {
        let (late, fresh) = (message(1), message(2));
        store.enqueue(&late, at(0)).await.unwrap();
        store
            .transition(&late.msg_id, State::Sent, None, at(0))
            .await
            .unwrap();
        store.enqueue(&fresh, at(0)).await.unwrap();
        store
            .transition(&fresh.msg_id, State::Sent, None, at(0) + Duration::hours(2))
            .await
            .unwrap();
        let now = at(0) + Duration::hours(73);
        let expired = store.expire(Duration::hours(72), now).await.unwrap();
        assert_eq!(expired, std::slice::from_ref(&late.msg_id));
        assert_eq!(store.state(&fresh.msg_id).await.unwrap(), Some(State::Sent));
        let ok = receipt(&late.msg_id, Status::Ok, &[]);
        assert_eq!(
            store.record_receipt(&ok, now).await.unwrap(),
            Recorded::Moved(Moved::From(State::Expired))
        );
    });
}

#[test]
fn the_first_final_receipt_decides_and_a_contradicting_one_is_kept_as_a_conflict() {
    on_both(|store| async move {
        let m = message(1);
        store.enqueue(&m, at(1)).await.unwrap();
        store
            .transition(&m.msg_id, State::Sent, None, at(2))
            .await
            .unwrap();
        let ok = receipt(&m.msg_id, Status::Ok, &[]);
        store.record_receipt(&ok, at(3)).await.unwrap();
        // OK, Avvist, OK, Avvist: the state never flips.
        for (n, status) in [Status::Rejected, Status::Ok, Status::Rejected]
            .into_iter()
            .enumerate()
        {
            let mut later = receipt(&m.msg_id, status, &["X99"]);
            later.id = format!("later-{n}");
            let recorded = store
                .record_receipt(&later, at(4 + n as u32))
                .await
                .unwrap();
            if status == Status::Rejected {
                assert_eq!(
                    recorded,
                    Recorded::Conflicting {
                        state: State::Delivered,
                        first: FirstReceipt {
                            receipt_id: ok.id.clone(),
                            status: 1,
                            received_at: at(3),
                        },
                    }
                );
            } else {
                assert_eq!(recorded, Recorded::Moved(Moved::Stayed(State::Delivered)));
            }
            assert_eq!(
                store.state(&m.msg_id).await.unwrap(),
                Some(State::Delivered)
            );
        }
        let receipts = store.receipts(&m.msg_id).await.unwrap();
        let conflicting: Vec<bool> = receipts.iter().map(|r| r.conflicting).collect();
        assert_eq!(conflicting, [false, true, false, true]);
        let conflicts = store.conflicting_receipts(10).await.unwrap();
        assert_eq!(conflicts.len(), 2);
        assert_eq!(conflicts[0].receipt_id, "later-2");
        // The history has one move to delivered and nothing after it.
        let last = store.transitions(&m.msg_id).await.unwrap().pop().unwrap();
        assert_eq!((last.to, last.at), (State::Delivered, at(3)));
    });
}

#[test]
fn an_error_report_moves_the_message_to_error_and_keeps_the_condition() {
    on_both(|store| async move {
        let m = message(1);
        store.enqueue(&m, at(1)).await.unwrap();
        store
            .transition(&m.msg_id, State::Sent, None, at(2))
            .await
            .unwrap();
        let report = ErrorReport {
            original_msg_id: m.msg_id.clone(),
            condition: "transport:invalid-field-value".into(),
            description: "toHerId is missing".into(),
        };
        assert_eq!(
            store.record_error_report(&report, at(3)).await.unwrap(),
            Moved::From(State::Sent)
        );
        let last = store.transitions(&m.msg_id).await.unwrap().pop().unwrap();
        assert_eq!(
            last.detail.as_deref(),
            Some("transport:invalid-field-value: toHerId is missing")
        );
    });
}

#[test]
fn a_msg_id_enters_the_outbox_once_and_nothing_is_overwritten() {
    on_both(|store| async move {
        let m = message(1);
        store.enqueue(&m, at(1)).await.unwrap();
        let again = NewMessage {
            body: vec![9; 5],
            ..m.clone()
        };
        assert!(store.enqueue(&again, at(2)).await.is_err());
        assert_eq!(
            *store.pending(10).await.unwrap()[0].bytes().unwrap(),
            m.body[..]
        );
        assert_eq!(store.transitions(&m.msg_id).await.unwrap().len(), 1);
    });
}

#[test]
fn anomalies_keep_their_bytes_and_reason() {
    on_both(|store| async move {
        let anomaly = Anomaly {
            queue: "12345_async".into(),
            kind: "not-cms".into(),
            detail: "not a CMS message".into(),
            msg_id: Some("abc".into()),
            size: 3,
            body: Some(b"\x00\x01\x02".to_vec()),
        };
        store.record_anomaly(&anomaly, at(1)).await.unwrap();
        let stored = store.anomalies().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!((stored[0].kind.as_str(), stored[0].size), ("not-cms", 3));
        assert_eq!(stored[0].at, at(1));
    });
}

#[test]
fn concurrent_transitions_never_see_a_locked_database() {
    on_both(|store| async move {
        for n in 0..40 {
            store.enqueue(&message(n), at(1)).await.unwrap();
        }
        let mut tasks = Vec::new();
        for n in 0..40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let id = message(n).msg_id;
                store.note_publish(&[&id], at(2)).await.unwrap();
                store
                    .transition(&id, State::Sent, None, at(2))
                    .await
                    .unwrap();
                store
                    .record_receipt(&receipt(&id, Status::Ok, &[]), at(3))
                    .await
                    .unwrap()
            }));
        }
        for task in tasks {
            assert_eq!(
                task.await.unwrap(),
                Recorded::Moved(Moved::From(State::Sent))
            );
        }
        let entries = store.entries().await.unwrap();
        assert!(entries.iter().all(|e| e.state == State::Delivered));
    });
}

#[test]
fn reopening_applies_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    support::block_on(|| async {
        let store = Store::open(None, dir.path()).await.unwrap();
        store.enqueue(&message(1), at(1)).await.unwrap();
        store.close().await;
        let again = Store::open(None, dir.path()).await.unwrap();
        assert_eq!(again.entries().await.unwrap().len(), 1);
    });
    assert!(dir.path().join("state.sqlite").exists());
}

#[test]
fn a_message_kept_in_a_file_is_pending_with_the_files_bytes_and_listed_with_its_size() {
    on_both(|store| async move {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("packed.p7m");
        let packed: Vec<u8> = (0..1000u32).map(|n| n as u8).collect();
        std::fs::write(&file, &packed).unwrap();
        let in_file = NewMessage {
            body: Vec::new(),
            body_file: Some(file.clone()),
            ..message(2)
        };
        store.enqueue(&message(1), at(1)).await.unwrap();
        store.enqueue(&in_file, at(2)).await.unwrap();

        let pending = store.pending(10).await.unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(*pending[0].bytes().unwrap(), message(1).body[..]);
        assert_eq!(pending[1].msg_id, in_file.msg_id);
        // Named, not read, until it is sent.
        assert_eq!(pending[1].body_file.as_deref(), Some(file.as_path()));
        assert_eq!(*pending[1].bytes().unwrap(), packed[..]);

        let sizes = |entries: Vec<kpr_bridge::store::outbox::Entry>| {
            let mut sizes: Vec<(String, i64)> =
                entries.into_iter().map(|e| (e.msg_id, e.size)).collect();
            sizes.sort();
            sizes
        };
        let expected = vec![(message(1).msg_id, 100), (in_file.msg_id.clone(), 1000)];
        assert_eq!(sizes(store.entries().await.unwrap()), expected);
        // A row from before the size was kept: its size is its body's length.
        on_pool(
            &store,
            "UPDATE outbox SET body_size = NULL WHERE body_file IS NULL",
        )
        .await;
        assert_eq!(sizes(store.entries().await.unwrap()), expected);

        // The file gone: sending cannot go on, and the error says which file and why.
        std::fs::remove_file(&file).unwrap();
        let error = store.pending(10).await.unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("the packed message file {}", file.display())),
            "{error}"
        );
        assert!(error.contains("missing from the data directory"), "{error}");
        // And a message whose file is not there never enters the outbox.
        let without = NewMessage {
            msg_id: message(3).msg_id,
            ..in_file.clone()
        };
        assert!(store.enqueue(&without, at(3)).await.is_err());
        assert_eq!(store.state(&without.msg_id).await.unwrap(), None);
    });
}

/// Runs `sql` on the store's database, as an older kpr-bridge or an operator might.
async fn on_pool(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
}

#[test]
fn an_annual_shipment_waits_for_the_receipts_of_the_one_before() {
    use kpr_bridge::store::annual::AnnualRecord;
    on_both(|store| async move {
        let record = |shipment: &'static str, forced: Option<&'static str>| AnnualRecord {
            shipment,
            year: 2025,
            target: "validation",
            persons: 3,
            forced,
        };
        let first = [message(1), message(2)];
        let waiting = store
            .enqueue_annual(&record("a", None), &first, at(8))
            .await
            .unwrap();
        assert!(waiting.is_empty());
        let sent = store.annual_sent(2025, "validation").await.unwrap();
        let ids: Vec<&str> = sent.iter().map(|s| s.msg_id.as_str()).collect();
        assert_eq!(ids, [first[0].msg_id.as_str(), first[1].msg_id.as_str()]);
        // Another year or target is another matter.
        assert!(
            store
                .annual_sent(2025, "production")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .annual_sent(2024, "validation")
                .await
                .unwrap()
                .is_empty()
        );

        // Queued, then sent: both wait, and nothing of the second shipment is stored.
        let second = [message(3), message(4)];
        let waiting = store
            .enqueue_annual(&record("b", None), &second, at(9))
            .await
            .unwrap();
        assert_eq!(waiting.len(), 2);
        assert_eq!(store.state(&second[0].msg_id).await.unwrap(), None);
        store
            .transition(&first[0].msg_id, State::Sent, None, at(9))
            .await
            .unwrap();
        store
            .transition(&first[0].msg_id, State::Delivered, None, at(10))
            .await
            .unwrap();
        let waiting = store
            .enqueue_annual(&record("b", None), &second, at(10))
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1, "the fagmelding still waits: {waiting:?}");
        assert_eq!(waiting[0].msg_id, first[1].msg_id);

        // Forced, it goes, and the store remembers what was overridden.
        let waiting = store
            .enqueue_annual(&record("b", Some("1 message waits")), &second, at(11))
            .await
            .unwrap();
        assert!(waiting.is_empty());
        assert_eq!(
            store.state(&second[1].msg_id).await.unwrap(),
            Some(State::Queued)
        );
        assert_eq!(
            store.annual_sent(2025, "validation").await.unwrap().len(),
            4
        );

        // A rejected message no longer waits.
        for message in first[1..].iter().chain(&second) {
            store
                .transition(&message.msg_id, State::Rejected, None, at(12))
                .await
                .unwrap();
        }
        let waiting = store
            .enqueue_annual(&record("c", None), &[message(5)], at(13))
            .await
            .unwrap();
        assert!(waiting.is_empty());
        store.close().await;
    });
}

#[test]
fn shipped_days_count_each_shipments_notifications_per_kind_and_status() {
    on_both(|store| async move {
        on_pool(
            &store,
            "INSERT INTO daily_shipments (shipment, reporting_date, at, notifications, messages)
             VALUES
             ('s1', '2026-01-05', '2026-01-06T02:00:00Z', 3, 2),
             ('s0', '2026-01-06', '2026-01-07T02:00:00Z', 0, 0),
             ('s2', '2026-01-07', '2026-01-08T02:00:00Z', 1, 1)",
        )
        .await;
        on_pool(
            &store,
            "INSERT INTO daily_messages (msg_id, reporting_date, at, part, parts, notifications,
             first_number, last_number, resend, forced) VALUES
             ('m1', '2026-01-05', '2026-01-06T02:00:00Z', 1, 2, 2, 1, 2, 0, 0),
             ('m2', '2026-01-05', '2026-01-06T02:00:01Z', 2, 2, 1, 3, 3, 0, 0),
             ('m3', '2026-01-07', '2026-01-08T02:00:00Z', 1, 1, 1, 4, 4, 0, 0),
             ('r1', NULL, '2026-01-09T02:00:00Z', 1, 1, 1, 1, 1, 1, 0)",
        )
        .await;
        on_pool(
            &store,
            "INSERT INTO daily_notifications (number, guid, previous, reporting_date, kind,
             status, corrects, event_day, user_number, source, local_id, body, identity,
             first_message) VALUES
             (1, 'g1', 'g0', '2026-01-05', 'start', 'N', NULL, '2026-01-05', 'u', 'e', 'a', '{}', '', 'm1'),
             (2, 'g2', 'g1', '2026-01-05', 'start', 'N', NULL, '2026-01-05', 'u', 'e', 'b', '{}', '', 'm1'),
             (3, 'g3', 'g2', '2026-01-05', 'end', 'C', 'g0', '2026-01-05', 'u', 'e', 'c', '{}', '', 'm2'),
             (4, 'g4', 'g3', '2026-01-07', 'end', 'N', NULL, '2026-01-07', 'u', 'e', 'a', '{}', '', 'm3'),
             (5, 'g5', 'g4', '2026-01-08', 'end', 'N', NULL, '2026-01-08', 'u', 'e', 'd', '{}', '', NULL)",
        )
        .await;
        let days = store.shipped_days().await.unwrap();
        let kinds = |list: &[(&str, &str, i64)]| -> Vec<(String, String, i64)> {
            list.iter()
                .map(|(k, s, n)| (k.to_string(), s.to_string(), *n))
                .collect()
        };
        assert_eq!(
            days,
            [
                ShippedDay {
                    reporting_date: "2026-01-05".parse().unwrap(),
                    shipment: "s1".into(),
                    messages: vec!["m1".into(), "m2".into()],
                    kinds: kinds(&[("end", "C", 1), ("start", "N", 2)]),
                },
                ShippedDay {
                    reporting_date: "2026-01-07".parse().unwrap(),
                    shipment: "s2".into(),
                    messages: vec!["m3".into()],
                    kinds: kinds(&[("end", "N", 1)]),
                },
            ],
            "the day without notifications, the re-send and the unshipped one are not listed"
        );
    });
}
