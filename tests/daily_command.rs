//! `kpr-bridge daily` as an operator runs it, on an extract, with the spool transport: the
//! first run, a day without changes, a dry run, and crashes injected before each commit
//! (the store stays exactly as it was; the next run produces the same events once).

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use kpr_bridge::message::ktt;
use support::daily::{MAPPING, ident_number};

struct Municipality {
    dir: tempfile::TempDir,
}

impl Municipality {
    fn new() -> Municipality {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("mapping.toml"), MAPPING).unwrap();
        let config = format!(
            r#"
mode = "test"
data_dir = "{root}/state"
mapping = "{root}/mapping.toml"
[municipality]
number = "4601"
name = "Bergen"
orgnr = "964338531"
[her_id]
municipality = "12345"
service_unit = "67890"
[[source]]
name = "epj"
kind = "extract"
path = "{root}/extract"
product = "Test-EPJ"
version = "1.0"
[delivery]
transport = "spool"
spool_dir = "{root}/spool"
{certificates}"#,
            root = root.display(),
            certificates = support::amqp::municipality_certificates(),
        );
        std::fs::write(root.join("kpr-bridge.toml"), config).unwrap();
        Municipality { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the extract: `services` as CSV rows after the header.
    fn extract(&self, services: &[&str]) {
        let dir = self.path("extract");
        std::fs::create_dir_all(&dir).unwrap();
        let persons = format!(
            "person_id;ident;name;birth_year;gender;municipality;district;household\np1;{};;1940;K;4601;;\np2;{};;1941;M;4601;;\n",
            ident_number(1),
            ident_number(2)
        );
        std::fs::write(dir.join("persons.csv"), persons).unwrap();
        let mut rows = String::from(
            "service_id;person_id;local_type;decision;decided_on;start_date;end_date;hours_per_week;provider_orgnr;pause_from;pause_to\n",
        );
        for row in services {
            rows.push_str(row);
            rows.push('\n');
        }
        std::fs::write(dir.join("services.csv"), rows).unwrap();
        std::fs::write(dir.join("READY"), "").unwrap();
    }

    fn daily(&self, args: &[&str], failpoint: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"));
        command
            .arg("daily")
            .arg("--config")
            .arg(self.path("kpr-bridge.toml"))
            .args(args);
        if let Some(name) = failpoint {
            command.env("KPR_BRIDGE_FAILPOINT", name);
        }
        command.output().unwrap()
    }

    /// Messages in the spool (each is a `.p7m` with its `.json` properties).
    fn spooled(&self) -> usize {
        std::fs::read_dir(self.path("spool")).map_or(0, |dir| {
            dir.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "p7m")
            })
            .count()
        })
    }

    fn dump(&self) -> Vec<String> {
        let file = self.path("state").join(kpr_bridge::store::SQLITE_FILE);
        let mut rows = Vec::new();
        support::block_on(|| async {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            rows = support::daily::dump(&pool).await;
            pool.close().await;
        });
        rows
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

const S1: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;;;;;";
const S2: &str = "s2;p2;TRYGGH;innvilget;;2026-02-01;;;;;";

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
        text(&first.stdout).contains("2 event(s)"),
        "{}",
        text(&first.stdout)
    );
    assert_eq!(m.spooled(), 2, "a fagmelding and an identity message");

    let quiet = m.daily(&["--date", "2026-03-02"], None);
    assert_eq!(code(&quiet), Some(0), "{}", text(&quiet.stderr));
    assert!(
        text(&quiet.stdout).contains("no changes"),
        "{}",
        text(&quiet.stdout)
    );
    assert_eq!(m.spooled(), 2, "a day without changes sends nothing");

    m.extract(&[S1, S2]);
    let changed = m.daily(&["--date", "2026-03-03"], None);
    assert_eq!(code(&changed), Some(0), "{}", text(&changed.stderr));
    assert_eq!(m.spooled(), 4);
    // Invariant 4: once shipped, no identity number is left in the state store (the
    // outbox holds only encrypted bytes).
    for row in m.dump() {
        assert!(
            !row.contains(&ident_number(1)) && !row.contains(&ident_number(2)),
            "{row}"
        );
    }
    // Two shipments with events (the quiet day carried none), counted per kind.
    support::block_on(|| async {
        let store = kpr_bridge::store::Store::open(None, &m.path("state"))
            .await
            .unwrap();
        let days = store.shipped_days().await.unwrap();
        store.close().await;
        let seen: Vec<(String, Vec<(String, i64)>)> = days
            .iter()
            .map(|d| (d.reporting_date.to_string(), d.kinds.clone()))
            .collect();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].0, "2026-03-01");
        assert_eq!(seen[1].0, "2026-03-03");
        assert!(seen[1].1.contains(&("start".to_string(), 1)), "{seen:?}");
        assert!(days.iter().all(|d| d.fagmelding.is_some()));
    });
    // Nothing personal in what an operator sees.
    for output in [&first, &quiet, &changed] {
        let all = text(&output.stdout) + &text(&output.stderr);
        assert!(!all.contains(&ident_number(1)) && !all.contains(&ident_number(2)));
    }
}

#[test]
fn a_dry_run_writes_both_messages_and_commits_nothing() {
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
    assert_eq!(m.spooled(), 2);

    let fagmelding =
        std::fs::read(out.join(format!("{}-2026-03-02.xml", ktt::FAGMELDING))).unwrap();
    let identities =
        std::fs::read(out.join(format!("{}-2026-03-02.xml", ktt::IDENTMELDING))).unwrap();
    // Invariant 4: the identity number is in the identity message and only there.
    assert!(!text(&fagmelding).contains(&ident_number(2)));
    assert!(text(&identities).contains(&ident_number(2)));
    let read = ktt::read_fagmelding(&fagmelding).unwrap();
    let (shipment, persons) = ktt::read_identmelding(&identities).unwrap();
    assert_eq!(
        read.header.shipment, shipment,
        "the pair shares its shipment id"
    );
    assert!(
        read.events
            .iter()
            .all(|e| persons.iter().any(|(key, _)| *key == e.person))
    );
    assert_eq!(
        read.header.epj,
        [("Test-EPJ".to_string(), "1.0".to_string())]
    );
}

/// A failure after the diff and before the commit — of the capture, then of the ship —
/// leaves the store exactly as before; the next run produces the same events, once.
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
    for failpoint in ["daily.capture.before-commit", "daily.ship.before-commit"] {
        let crashed = m.daily(&["--date", "2026-03-02"], Some(failpoint));
        assert_eq!(
            code(&crashed),
            None,
            "{failpoint}: killed by a signal; {}",
            text(&crashed.stderr)
        );
        assert_eq!(m.dump(), before, "{failpoint}: the store is as before");
        assert_eq!(m.spooled(), 2);
    }
    let recovered = m.daily(&["--date", "2026-03-02"], None);
    assert_eq!(code(&recovered), Some(0), "{}", text(&recovered.stderr));
    assert!(
        text(&recovered.stdout).contains("2 event(s)"),
        "{}",
        text(&recovered.stdout)
    );
    assert_eq!(m.spooled(), 4);
    let again = m.daily(&["--date", "2026-03-02"], None);
    assert!(
        text(&again.stdout).contains("0 event(s)"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(m.spooled(), 4);
}
