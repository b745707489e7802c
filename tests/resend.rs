//! `kpr-bridge resend`, HIS 1135's seven ways to send notifications again: each selector
//! sends exactly the selected notifications, as first sent (same GUIDs, numbers, content),
//! read back from the messages it writes; a re-send waits for a pending receipt unless
//! forced, and is recorded with the notifications it holds.

mod support;

use std::path::Path;
use std::process::Output;

use kpr_bridge::crypto::at_rest::IdentityKey;
use kpr_bridge::message::ipl56::{self, Notification};
use support::spool::Municipality;

const S1: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;;;;;";
const S1_ENDED: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;2026-03-31;;;;";
const S2: &str = "s2;p2;PRAKT;innvilget;;2026-02-01;;2;974760673;;";
const S2_ENDED: &str = "s2;p2;PRAKT;innvilget;;2026-02-01;2026-04-30;2;974760673;;";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Three days: 1 March the initial load (1, 2), 2 March s1 ends (3), 3 March s2 ends (4),
/// each day in a message of its own.
fn three_days() -> Municipality {
    let m = Municipality::new();
    m.extract(&[S1, S2]);
    ok(&m.daily(&["--date", "2026-03-01", "--initial"], None));
    m.extract(&[S1_ENDED, S2]);
    ok(&m.daily(&["--date", "2026-03-02"], None));
    m.extract(&[S1_ENDED, S2_ENDED]);
    ok(&m.daily(&["--date", "2026-03-03"], None));
    m
}

/// The stored notifications and the daily messages (MsgId, resend, forced, numbers).
struct Stored {
    notifications: Vec<Notification>,
    messages: Vec<(String, i64, i64, Vec<i64>)>,
}

fn stored(m: &Municipality) -> Stored {
    let mut result = None;
    support::block_on(|| async {
        let store = kpr_bridge::store::Store::open(None, &m.path("state"))
            .await
            .unwrap();
        let key = IdentityKey::open(&m.path("state").join("identity.key"), false).unwrap();
        let notifications = support::daily::notifications_with(&store, &key)
            .await
            .into_iter()
            .map(|s| s.notification)
            .collect();
        let kpr_bridge::store::Store::Sqlite(pool) = &store else {
            unreachable!("the spool municipality keeps SQLite")
        };
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT msg_id, resend, forced FROM daily_messages ORDER BY at, part")
                .fetch_all(pool)
                .await
                .unwrap();
        let mut messages = Vec::new();
        for (msg_id, resend, forced) in rows {
            let numbers: Vec<i64> = sqlx::query_scalar(
                "SELECT number FROM daily_message_notifications WHERE msg_id = ? ORDER BY number",
            )
            .bind(&msg_id)
            .fetch_all(pool)
            .await
            .unwrap();
            messages.push((msg_id, resend, forced, numbers));
        }
        store.close().await;
        result = Some(Stored {
            notifications,
            messages,
        });
    });
    result.unwrap()
}

/// The notifications of every message a dry run wrote to `out`.
fn written(out: &Path) -> Vec<Notification> {
    let mut files: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|file| {
            ipl56::read(&std::fs::read(file).unwrap())
                .unwrap()
                .notifications
        })
        .collect()
}

#[test]
fn each_selector_sends_exactly_its_notifications_as_first_sent() {
    let m = three_days();
    let before = stored(&m);
    assert_eq!(before.notifications.len(), 4);
    let day2 = before.messages[1].0.clone();
    let second = before.notifications[1].guid.to_string();
    let cases: Vec<(Vec<&str>, Vec<i64>)> = vec![
        (vec!["--message", &day2], vec![3]),
        (vec!["--notification", &second], vec![2]),
        (vec!["--since-date", "2026-03-02"], vec![3, 4]),
        (vec!["--since-number", "2"], vec![2, 3, 4]),
        (
            vec!["--between-dates", "2026-03-01", "2026-03-02"],
            vec![1, 2, 3],
        ),
        (vec!["--between-numbers", "2", "3"], vec![2, 3]),
        (vec!["--patient", "p2"], vec![2, 4]),
    ];
    for (n, (selector, numbers)) in cases.iter().enumerate() {
        let out = m.path(&format!("out{n}"));
        let mut args = selector.clone();
        let out_text = out.to_str().unwrap().to_string();
        args.extend(["--dry-run", "--out", &out_text]);
        let dry = m.resend(&args);
        ok(&dry);
        let sent = written(&out);
        let expected: Vec<Notification> = before
            .notifications
            .iter()
            .filter(|s| numbers.contains(&s.number))
            .cloned()
            .collect();
        assert_eq!(sent, expected, "{selector:?}: exactly these, as first sent");
        assert!(
            text(&dry.stdout).contains(&format!("{} notification(s)", numbers.len())),
            "{}",
            text(&dry.stdout)
        );
    }
    let after = stored(&m);
    assert_eq!(
        after.messages.len(),
        before.messages.len(),
        "dry runs commit nothing"
    );
}

#[test]
fn a_resend_waits_for_a_pending_receipt_unless_forced_and_is_recorded() {
    let m = three_days();
    let before = stored(&m);
    let day1 = before.messages[0].0.clone();
    let spooled = m.spooled();

    let waiting = m.resend(&["--message", &day1, "--yes"]);
    assert_eq!(waiting.status.code(), Some(2), "{}", text(&waiting.stderr));
    assert!(
        text(&waiting.stderr).contains("await KPR's receipt"),
        "{}",
        text(&waiting.stderr)
    );
    assert_eq!(m.spooled(), spooled);

    let forced = m.resend(&["--message", &day1, "--yes", "--force"]);
    ok(&forced);
    assert!(
        text(&forced.stdout).contains("--force"),
        "{}",
        text(&forced.stdout)
    );
    assert_eq!(m.spooled(), spooled + 1);
    let after = stored(&m);
    assert_eq!(
        after.notifications, before.notifications,
        "the same notifications"
    );
    let (msg_id, resend, was_forced, numbers) = after.messages.last().unwrap();
    assert_ne!(msg_id, &day1, "a new MsgId");
    assert_eq!((*resend, *was_forced), (1, 1));
    assert_eq!(numbers, &[1, 2]);

    let unknown = m.resend(&["--message", "no-such-message", "--yes"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("nothing to re-send"));
    let none = m.resend(&["--yes"]);
    assert_eq!(none.status.code(), Some(2), "a selector is required");
    let two = m.resend(&["--since-number", "1", "--patient", "p1", "--yes"]);
    assert_eq!(two.status.code(), Some(2), "exactly one selector");
    for output in [&waiting, &forced, &unknown] {
        let all = text(&output.stdout) + &text(&output.stderr);
        assert!(!all.contains(&support::daily::ident_number(1)));
    }
}
