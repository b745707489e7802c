//! `kpr-bridge daily` as an operator runs it, on an extract, with the spool transport: the
//! initial load, a day without changes, a dry run validated by xmllint against the
//! register's XSD, a day in parts, and crashes injected before each commit (nothing lost,
//! nothing doubled, the chain without a gap).

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use kpr_bridge::crypto::at_rest::IdentityKey;
use kpr_bridge::message::ipl56::{self, Notification};
use support::daily::ident_number;
use support::spool::Municipality;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

const S1: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;;;;;";
const S2: &str = "s2;p2;PRAKT;innvilget;;2026-02-01;;2;974760673;;";

/// xmllint's verdict on a daily message against the register's own XSD (the project's copy
/// of the published file; `annual_official.rs` checks that it is the published one).
fn xmllint(document: &std::path::Path) {
    let schema =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/official/ipl-56.0.0/XPR(ipl).xsd");
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(document)
        .output()
        .expect("xmllint runs (Debian's libxml2-utils; ops/services.sh installs it)");
    assert!(
        output.status.success(),
        "xmllint refuses {}: {}",
        document.display(),
        text(&output.stderr)
    );
}

/// The stored notifications, in order, with their identity numbers unsealed.
fn stored(m: &Municipality) -> Vec<Notification> {
    let mut all = Vec::new();
    support::block_on(|| async {
        let store = kpr_bridge::store::Store::open(None, &m.path("state"))
            .await
            .unwrap();
        let key = IdentityKey::open(&m.path("state").join("identity.key"), false).unwrap();
        all = support::daily::notifications_with(&store, &key)
            .await
            .into_iter()
            .map(|s| s.notification)
            .collect();
        store.close().await;
    });
    all
}

#[test]
fn first_run_then_a_day_without_changes_then_a_change() {
    let m = Municipality::new();
    m.extract(&[S1]);
    let no_baseline = m.daily(&["--date", "2026-03-01"], None);
    assert_eq!(code(&no_baseline), Some(2), "{}", text(&no_baseline.stderr));
    assert!(text(&no_baseline.stderr).contains("--initial"));

    let first = m.daily(&["--date", "2026-03-01", "--initial"], None);
    assert_eq!(
        code(&first),
        Some(0),
        "{}{}",
        text(&first.stdout),
        text(&first.stderr)
    );
    assert!(
        text(&first.stdout).contains("1 notification(s) (numbers 1–1)"),
        "{}",
        text(&first.stdout)
    );
    assert_eq!(m.spooled(), 1, "one message: identity travels in it");

    let quiet = m.daily(&["--date", "2026-03-02"], None);
    assert_eq!(code(&quiet), Some(0), "{}", text(&quiet.stderr));
    assert!(
        text(&quiet.stdout).contains("no changes"),
        "{}",
        text(&quiet.stdout)
    );
    assert_eq!(m.spooled(), 1, "a day without changes sends nothing");

    m.extract(&[S1, S2]);
    let changed = m.daily(&["--date", "2026-03-03"], None);
    assert_eq!(code(&changed), Some(0), "{}", text(&changed.stderr));
    assert_eq!(m.spooled(), 2);
    // No identity number in the state store in plain text (the outbox holds only
    // encrypted bytes; notifications hold theirs sealed).
    for row in m.dump() {
        assert!(
            !row.contains(&ident_number(1)) && !row.contains(&ident_number(2)),
            "{row}"
        );
    }
    // Two shipments with notifications (the quiet day carried none), counted per kind.
    support::block_on(|| async {
        let store = kpr_bridge::store::Store::open(None, &m.path("state"))
            .await
            .unwrap();
        let days = store.shipped_days().await.unwrap();
        store.close().await;
        let dates: Vec<String> = days.iter().map(|d| d.reporting_date.to_string()).collect();
        assert_eq!(dates, ["2026-03-01", "2026-03-03"]);
        assert!(
            days[1]
                .kinds
                .contains(&("start".to_string(), "N".to_string(), 1)),
            "{days:?}"
        );
        assert!(days.iter().all(|d| d.messages.len() == 1));
    });
    // Nothing personal in what an operator sees.
    for output in [&first, &quiet, &changed] {
        let all = text(&output.stdout) + &text(&output.stderr);
        assert!(!all.contains(&ident_number(1)) && !all.contains(&ident_number(2)));
    }
}

#[test]
fn a_dry_run_writes_the_message_valid_for_xmllint_and_commits_nothing() {
    let m = Municipality::new();
    m.extract(&[S1]);
    assert_eq!(
        code(&m.daily(&["--date", "2026-03-01", "--initial"], None)),
        Some(0)
    );
    m.extract(&[S1, S2]);
    let before = m.dump();
    let out = m.path("out");
    let dry = m.daily(
        &[
            "--date",
            "2026-03-02",
            "--dry-run",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        code(&dry),
        Some(0),
        "{}{}",
        text(&dry.stdout),
        text(&dry.stderr)
    );
    assert_eq!(m.dump(), before, "a dry run commits nothing");
    assert_eq!(m.spooled(), 1);

    let file = out.join(format!(
        "{}-2026-03-02-part1of1.xml",
        kpr_bridge::model::register::DEFAULT_MSG_TYPE
    ));
    xmllint(&file);
    let message = ipl56::read(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(message.municipality, "4601");
    assert_eq!(message.contact_types, ["16", "17"]);
    assert_eq!(message.notifications.len(), 1);
    let n = &message.notifications[0];
    // The identity number travels in Bruker, with the EPJ's person id.
    assert_eq!(n.event.user.fid, ident_number(2));
    assert_eq!(n.event.user.user_number, "p2");
    assert_eq!(n.number, 2);
    assert_eq!(n.previous, stored(&m)[0].guid);
}

/// A day of more notifications than `[daily] max_notifications` goes in parts: each its
/// own message, each valid, the chain running through them.
#[test]
fn a_large_day_goes_in_parts_with_the_chain_running_through_them() {
    let m = Municipality::new();
    m.config_line("[daily]\nmax_notifications = 2\n");
    m.extract(&[S1]);
    assert_eq!(
        code(&m.daily(&["--date", "2026-03-01", "--initial"], None)),
        Some(0)
    );
    let more: Vec<String> = (2..=6)
        .map(|n| format!("t{n};p2;MATOMBR;innvilget;;2025-0{n}-01;2025-0{n}-15;;;;"))
        .collect();
    // One person cannot hold two services of a code at once: give each a day of its own.
    let mut rows: Vec<&str> = vec![S1];
    rows.extend(more.iter().map(String::as_str));
    m.extract(&rows);
    let out = m.path("out");
    let dry = m.daily(
        &[
            "--date",
            "2026-03-02",
            "--dry-run",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        code(&dry),
        Some(0),
        "{}{}",
        text(&dry.stdout),
        text(&dry.stderr)
    );
    let mut numbers = Vec::new();
    for part in 1..=5 {
        let file = out.join(format!(
            "{}-2026-03-02-part{part}of5.xml",
            kpr_bridge::model::register::DEFAULT_MSG_TYPE
        ));
        xmllint(&file);
        let message = ipl56::read(&std::fs::read(&file).unwrap()).unwrap();
        assert!(message.notifications.len() <= 2);
        assert_eq!(message.local_id, format!("2026-03-02 part {part} of 5"));
        numbers.extend(message.notifications.iter().map(|n| n.number));
    }
    assert_eq!(numbers, (2..=11).collect::<Vec<i64>>());

    let sent = m.daily(&["--date", "2026-03-02"], None);
    assert_eq!(code(&sent), Some(0), "{}", text(&sent.stderr));
    assert!(
        text(&sent.stdout).contains("2026-03-02 part 5 of 5"),
        "{}",
        text(&sent.stdout)
    );
    assert_eq!(m.spooled(), 1 + 5);
    support::daily::assert_chain(&stored(&m));
}

/// A failure after the diff and before the capture commits leaves the store exactly as
/// before; one between capture and ship leaves the captured notifications, which the next
/// run ships. Either way the next run sends each notification once, numbered without a gap.
#[test]
fn a_crash_before_either_commit_loses_and_doubles_nothing() {
    let m = Municipality::new();
    m.extract(&[S1]);
    assert_eq!(
        code(&m.daily(&["--date", "2026-03-01", "--initial"], None)),
        Some(0)
    );
    m.extract(&[S1, S2, "s3;p1;PRAKT;innvilget;;2026-02-01;;2;974760673;;"]);
    let before = m.dump();
    let crashed = m.daily(
        &["--date", "2026-03-02"],
        Some("daily.capture.before-commit"),
    );
    assert_eq!(
        code(&crashed),
        None,
        "killed by a signal; {}",
        text(&crashed.stderr)
    );
    assert_eq!(m.dump(), before, "the store is as before");
    assert_eq!(m.spooled(), 1);

    let crashed = m.daily(&["--date", "2026-03-02"], Some("daily.ship.before-commit"));
    assert_eq!(
        code(&crashed),
        None,
        "killed by a signal; {}",
        text(&crashed.stderr)
    );
    assert_eq!(m.spooled(), 1);
    let captured = stored(&m);
    assert_eq!(captured.len(), 3, "the capture committed before the ship");

    let recovered = m.daily(&["--date", "2026-03-02"], None);
    assert_eq!(code(&recovered), Some(0), "{}", text(&recovered.stderr));
    assert!(
        text(&recovered.stdout).contains("0 notification(s)"),
        "{}",
        text(&recovered.stdout)
    );
    assert!(
        text(&recovered.stdout).contains("2026-03-02 part 1 of 1"),
        "{}",
        text(&recovered.stdout)
    );
    assert_eq!(m.spooled(), 2);
    let again = m.daily(&["--date", "2026-03-02"], None);
    assert!(
        text(&again.stdout).contains("no changes"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(m.spooled(), 2);
    let all = stored(&m);
    assert_eq!(all.len(), 3);
    support::daily::assert_chain(&all);
}
