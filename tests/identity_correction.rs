//! A corrected identity number (HIS 1135, "Triggers"): a person's D-number replaced by a
//! fødselsnummer in the EPJ is the same person at the register — the same pasientGUID and
//! brukerNr — and what the register holds of them is sent again as M with the new number.
//! Numbers mixed up between two EPJ persons are never merged: both are held back, named by
//! their EPJ person ids. Over SQLite and PostgreSQL; the messages are checked by xmllint
//! against the register's XPR(ipl) 56.0.0.

mod support;

use std::path::PathBuf;
use std::process::Command;

use chrono::NaiveDate;
use kpr_bridge::message::ipl56::{self, EventKind, Header, Notification, Status};
use kpr_bridge::model::register::Contact;
use kpr_bridge::model::{Ident, Pause};
use kpr_bridge::source::Snapshot;
use kpr_bridge::store::Store;
use support::daily::{
    ORGNR, assert_chain, capture_on, ident_number, notifications_after, only, person, service,
};
use support::on_both;

/// A synthetic D-number (day + 40, month + 80) for the `n`th test person: the kind of number
/// a person has before they get a fødselsnummer.
fn d_number(n: u32) -> String {
    const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let check = |digits: &[u32], weights: &[u32]| {
        let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k),
        }
    };
    (0..1000)
        .find_map(|individual| {
            let head = format!("{:02}{:02}{:02}{individual:03}", 40 + 1 + n % 28, 81, 50);
            let mut digits: Vec<u32> = head.bytes().map(|b| u32::from(b - b'0')).collect();
            let k1 = check(&digits, &W1)?;
            digits.push(k1);
            let k2 = check(&digits, &W2)?;
            Some(format!("{head}{k1}{k2}"))
        })
        .unwrap()
}

/// p1 (a D-number) with a service that has a stop and an end, and one without; p2 apart.
fn epj() -> Snapshot {
    let mut p1 = person("p1", 1, "4601");
    p1.ident = Some(Ident::new(d_number(1)));
    let mut with_all = service("s1", "p1", "MATOMBR", "2026-01-10");
    with_all.end = Some(day("2026-06-30"));
    with_all.provider_orgnr = Some(ORGNR.into());
    with_all.pauses = vec![Pause {
        from: day("2026-02-20"),
        to: Some(day("2026-03-10")),
    }];
    let provided = |id: &str, person: &str| {
        let mut s = service(id, person, "PRAKT", "2026-02-01");
        s.provider_orgnr = Some(ORGNR.into());
        s
    };
    Snapshot {
        persons: vec![p1, person("p2", 2, "4601")],
        services: vec![with_all, provided("s2", "p1"), provided("s3", "p2")],
        ..Snapshot::default()
    }
}

fn day(text: &str) -> NaiveDate {
    support::daily::day(text)
}

/// The payload these notifications make, validated by xmllint against 56.0.0.
fn assert_valid(notifications: &[Notification]) {
    let header = Header {
        supplier: "Gerica".into(),
        epj_name: "Gerica".into(),
        epj_version: "6.2".into(),
        local_id: "2026-03-02 part 1 of 1".into(),
        contacts: vec![Contact {
            kind: 16,
            name: "Kari".into(),
            phone: None,
            email: "kari@example.invalid".into(),
        }],
        municipality: "4601".into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.xml");
    std::fs::write(&file, ipl56::write(&header, notifications)).unwrap();
    let schema =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/official/ipl-56.0.0/XPR(ipl).xsd");
    let lint = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("xmllint (ops/services.sh installs libxml2-utils)");
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn a_d_number_replaced_by_a_fodselsnummer_sends_every_live_original_again_as_m() {
    on_both(|store: Store| async move {
        let mut epj = epj();
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let first = notifications_after(&store, 0).await;
        let of_p1: Vec<&Notification> = first
            .iter()
            .filter(|n| n.event.user.user_number == "p1")
            .collect();
        // s1: start, stop from, stop until, end; s2: start.
        assert_eq!(of_p1.len(), 5, "{of_p1:#?}");
        let patient = of_p1[0].event.user.patient_guid;
        assert!(
            of_p1.iter().all(|n| n.event.user.id_type == 2),
            "a D-number"
        );

        // The EPJ gives p1 a fødselsnummer; nothing else changes.
        let fnr = ident_number(11);
        epj.persons[0].ident = Some(Ident::new(fnr.clone()));
        let captured = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(captured.summary.identity_corrected, 1);
        assert!(captured.summary.identity_conflicts.is_empty());
        let second = notifications_after(&store, first.len() as i64).await;
        assert_eq!(
            second.len(),
            of_p1.len(),
            "one M per live original: {second:#?}"
        );
        for n in &second {
            assert_eq!(n.status, Status::Replaces);
            let original = of_p1
                .iter()
                .find(|o| Some(o.guid) == n.corrects)
                .expect("each M corrects one of p1's originals");
            assert_eq!(n.event.kind, original.event.kind);
            assert_eq!(n.event.day, original.event.day);
            assert_eq!(n.event.service_id, original.event.service_id);
            assert_eq!(n.event.stop_id, original.event.stop_id);
            assert_eq!(n.event.user.patient_guid, patient, "the same person");
            assert_eq!(n.event.user.user_number, "p1");
            assert_eq!(n.event.user.fid, fnr, "the new number");
            assert_eq!(n.event.user.id_type, 1, "a fødselsnummer");
        }
        let mut corrected: Vec<_> = second.iter().map(|n| n.corrects).collect();
        corrected.sort();
        corrected.dedup();
        assert_eq!(corrected.len(), second.len(), "each original once");
        let all = notifications_after(&store, 0).await;
        assert_chain(&all);
        assert_valid(&second);

        // The same day again sends nothing; the next change goes under the new number.
        let again = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        assert_eq!(again.summary.notifications, 0);
        epj.services[1].end = Some(day("2026-03-03"));
        capture_on(&store, &only(&epj), "2026-03-03", false)
            .await
            .unwrap();
        let third = notifications_after(&store, all.len() as i64).await;
        assert_eq!(
            third
                .iter()
                .map(|n| (n.event.kind, n.status, n.event.user.patient_guid))
                .collect::<Vec<_>>(),
            [(EventKind::End, Status::Original, patient)]
        );
        assert_eq!(third[0].event.user.fid, fnr);
        assert_chain(&notifications_after(&store, 0).await);
    });
}

#[test]
fn two_persons_swapping_numbers_are_held_back_naming_both() {
    on_both(|store: Store| async move {
        let mut epj = epj();
        epj.persons[0].ident = Some(Ident::new(ident_number(1)));
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        let first = notifications_after(&store, 0).await;

        // The EPJ swaps p1's and p2's numbers.
        let (one, two) = (epj.persons[0].ident.clone(), epj.persons[1].ident.clone());
        epj.persons[0].ident = two;
        epj.persons[1].ident = one;
        let captured = capture_on(&store, &only(&epj), "2026-03-02", false)
            .await
            .unwrap();
        let conflicts: Vec<(String, String)> = captured
            .summary
            .identity_conflicts
            .iter()
            .map(|c| (c.person.clone(), c.other.clone()))
            .collect();
        assert!(
            conflicts.contains(&("p1".into(), "p2".into()))
                && conflicts.contains(&("p2".into(), "p1".into())),
            "{conflicts:?}"
        );
        assert_eq!(captured.summary.identity_corrected, 0);
        assert_eq!(captured.summary.held_services, 3, "all three services wait");
        assert!(
            notifications_after(&store, first.len() as i64)
                .await
                .is_empty(),
            "nothing sent for either"
        );

        // Put right in the EPJ: nothing was changed meanwhile, so nothing goes.
        let (one, two) = (epj.persons[0].ident.clone(), epj.persons[1].ident.clone());
        epj.persons[0].ident = two;
        epj.persons[1].ident = one;
        let captured = capture_on(&store, &only(&epj), "2026-03-03", false)
            .await
            .unwrap();
        assert!(captured.summary.identity_conflicts.is_empty());
        assert_eq!(captured.summary.notifications, 0);
    });
}
