//! A restored backup (issue 30, part 2): the chain mark beside the identity key, the guard that
//! refuses to number on from a store behind it, `chain` and its recovery, and `backup` /
//! `restore` — over SQLite and PostgreSQL, through the built binary and the spool, with every
//! message sent opened by the `openssl` tool and read as the register reads it.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kpr_bridge::daily::mark::{self, Mark};
use kpr_bridge::message::ipl56::{self, Notification};
use kpr_bridge::message::msghead;
use support::spool::Municipality;
use support::{Server, TestDatabase};

const S1: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;;;;;";
const S1_ENDED: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;2026-03-02;;;;";
const S2: &str = "s2;p2;PRAKT;innvilget;;2026-02-01;;2;974760673;;";
const S3: &str = "s3;p1;PRAKT;innvilget;;2026-03-03;;2;974760673;;";

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

fn expect(output: &Output, code: i32) -> String {
    let all = text(output);
    assert_eq!(output.status.code(), Some(code), "{all}");
    assert!(
        !all.contains(&support::daily::ident_number(1))
            && !all.contains(&support::daily::ident_number(2)),
        "no identity number in what an operator reads: {all}"
    );
    all
}

/// One test's municipality: SQLite in its data directory, or a PostgreSQL database of its
/// own (kept while the test runs).
struct Place {
    m: Municipality,
    database: Option<TestDatabase>,
}

impl Place {
    fn new(server: Option<Server>) -> Place {
        let m = Municipality::new();
        // `restore` refuses while something answers on [agent] listen.
        m.config_line("[agent]\nlisten = \"off\"\n");
        let database = server.map(TestDatabase::create);
        if let Some(database) = &database {
            m.config_line(&format!("[state]\nurl = \"{}\"\n", database.url));
        }
        Place { m, database }
    }

    fn config(&self) -> PathBuf {
        self.m.path("kpr-bridge.toml")
    }

    fn run(&self, command: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
            .arg(command)
            .arg("--config")
            .arg(self.config())
            .args(args)
            .output()
            .unwrap()
    }

    fn daily(&self, date: &str, extra: &[&str]) -> Output {
        let mut args = vec!["--date", date];
        args.extend(extra);
        self.m.daily(&args, None)
    }

    fn mark_file(&self) -> PathBuf {
        self.m.path("state").join("identity.key.mark")
    }

    fn mark(&self) -> Option<Mark> {
        mark::read(&self.mark_file()).unwrap()
    }

    fn backup(&self, name: &str) -> PathBuf {
        let dir = self.m.path(name);
        let out = self.run("backup", &["--out", dir.to_str().unwrap()]);
        expect(&out, 0);
        dir
    }

    /// `restore`, and for PostgreSQL the `pg_restore` line it prints, run as printed.
    fn restore(&self, from: &Path, force: bool, code: i32) -> String {
        let mut args = vec!["--from", from.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        let out = self.run("restore", &args);
        let all = expect(&out, code);
        if let Some(database) = &self.database
            && all.contains("pg_restore --clean")
        {
            let line = String::from_utf8_lossy(&out.stdout)
                .lines()
                .find(|l| l.trim_start().starts_with("pg_restore "))
                .expect("the pg_restore line")
                .trim()
                .to_string();
            assert!(line.contains(&database.url), "{line}");
            let restored = Command::new("sh").arg("-c").arg(&line).output().unwrap();
            assert!(restored.status.success(), "{line}: {}", text(&restored));
        }
        all
    }

    /// The state store lost: the SQLite files deleted, or every table of the database dropped.
    fn lose_store(&self) {
        match &self.database {
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(
                        self.m.path("state").join(format!("state.sqlite{suffix}")),
                    );
                }
            }
            Some(database) => database.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"),
        }
    }
}

fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    support::openssl::with_input(args, support::amqp::certs(), input)
}

/// Every message in the spool, opened by the openssl tool (decrypted with KPR's key, the
/// signature verified), each notification by its number; a number sent twice (a re-send) must
/// be the same notification both times.
fn sent(m: &Municipality) -> BTreeMap<i64, Notification> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(m.path("spool"))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "p7m"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut all: BTreeMap<i64, Notification> = BTreeMap::new();
    for file in files {
        let signed = openssl(
            &[
                "cms",
                "-decrypt",
                "-inform",
                "DER",
                "-recip",
                "kpr-enc.crt",
                "-inkey",
                "kpr-enc.key",
            ],
            &std::fs::read(&file).unwrap(),
        );
        let document = openssl(
            &[
                "cms", "-verify", "-inform", "DER", "-CAfile", "ca.crt", "-purpose", "any",
            ],
            &signed,
        );
        let (_, payload) = msghead::read(&document).unwrap();
        for n in ipl56::read(&payload).unwrap().notifications {
            if let Some(before) = all.get(&n.number) {
                assert_eq!(
                    before, &n,
                    "number {} sent twice as two notifications",
                    n.number
                );
            }
            all.insert(n.number, n);
        }
    }
    all
}

/// The chain as the register checks it: 1, 2, 3, … without a gap, each previous GUID the one
/// before's, the first the empty GUID.
fn assert_register_accepts(sent: &BTreeMap<i64, Notification>) {
    let mut previous = ipl56::FIRST_PREVIOUS;
    for (at, (number, n)) in sent.iter().enumerate() {
        assert_eq!(
            *number,
            at as i64 + 1,
            "numbers without a gap: {:?}",
            sent.keys()
        );
        assert_eq!(n.previous, previous, "notification {number} chains on");
        previous = n.guid;
    }
}

/// Three shipments — the initial load (1), a new service (2), an end (3) — with a backup after
/// the first; the store then put back from that backup, two shipments behind the register.
fn a_store_restored_two_shipments_back(server: Option<Server>) {
    let p = Place::new(server);
    p.m.extract(&[S1]);
    expect(&p.daily("2026-03-01", &["--initial"]), 0);
    let first = p.mark().expect("the first ship writes the mark");
    assert_eq!(first.number, 1);
    assert_eq!(
        first.reporting_date,
        Some(support::daily::day("2026-03-01"))
    );
    let old = p.backup("backup-1");

    p.m.extract(&[S1, S2]);
    expect(&p.daily("2026-03-02", &[]), 0);
    p.m.extract(&[S1_ENDED, S2]);
    expect(&p.daily("2026-03-03", &[]), 0);
    let mark = p.mark().unwrap();
    assert_eq!(mark.number, 3, "the mark follows every ship");
    let before = sent(&p.m);
    assert_eq!(before.len(), 3);
    assert_eq!(mark.guid, before[&3].guid);

    // A stale copy is refused, naming both numbers; forced, it is put back.
    let refused = p.restore(&old, false, 2);
    assert!(
        refused.contains("number 1") && refused.contains("number 3") && refused.contains("--force"),
        "{refused}"
    );
    let forced = p.restore(&old, true, 1);
    assert!(forced.contains("--force"), "{forced}");
    assert_eq!(
        p.mark(),
        Some(mark.clone()),
        "the live mark stays as it was"
    );

    // The guard: daily, resend and the agent's work refuse, saying what happened.
    p.m.extract(&[S1_ENDED, S2, S3]);
    let spooled = p.m.spooled();
    let refused = expect(&p.daily("2026-03-04", &[]), 2);
    for needed in [
        "behind",
        "number 1",
        "number 3",
        &mark.msg_id,
        "chain --continue-after-mark",
    ] {
        assert!(refused.contains(needed), "{needed}: {refused}");
    }
    let dry = p.m.path("dry");
    expect(
        &p.daily("2026-03-04", &["--dry-run", "--out", dry.to_str().unwrap()]),
        2,
    );
    let resend = expect(&p.m.resend(&["--since-number", "1", "--yes", "--force"]), 2);
    assert!(resend.contains("behind"), "{resend}");
    assert_eq!(p.m.spooled(), spooled, "nothing sent");
    let status = expect(&p.run("status", &[]), 1);
    assert!(status.contains("chain --continue-after-mark"), "{status}");

    // `chain` lists the gap: the numbers and the reporting dates the store lacks.
    let chain = expect(&p.run("chain", &[]), 1);
    for needed in [
        "BEHIND",
        "numbers 2–3 (2)",
        "2026-03-02 to 2026-03-03",
        &mark.msg_id,
        &mark.guid.to_string(),
    ] {
        assert!(chain.contains(needed), "{needed}: {chain}");
    }

    // The recovery: numbering goes on after the mark.
    let recovered = expect(&p.run("chain", &["--continue-after-mark"]), 0);
    assert!(
        recovered.contains("the next is number 4") && recovered.contains("numbers 2–3 (2)"),
        "{recovered}"
    );
    let whole = expect(&p.run("chain", &[]), 0);
    assert!(whole.contains("The chain is whole"), "{whole}");
    let again = expect(&p.run("chain", &["--continue-after-mark"]), 0);
    assert!(again.contains("nothing recorded"), "{again}");

    let after = expect(&p.daily("2026-03-04", &[]), 0);
    assert!(after.contains("(numbers 4–"), "{after}");
    let all = sent(&p.m);
    assert_register_accepts(&all);
    assert_eq!(all[&4].previous, mark.guid, "ForrigeGUID = the mark's GUID");
    for (number, n) in &before {
        assert_eq!(&all[number], n, "what the register had stays");
    }
    let last = *all.keys().last().unwrap();
    assert!(last > 4, "the changes since the copy are reported again");
    assert_eq!(p.mark().unwrap().number, last);

    // `chain` names the services the first shipment after the recovery reported again.
    let listed = expect(&p.run("chain", &[]), 0);
    for needed in ["epj/s1", "epj/s2", "epj/s3", "numbers 2–3 (2)"] {
        assert!(listed.contains(needed), "{needed}: {listed}");
    }
    let status = text(&p.run("status", &[]));
    assert!(!status.contains("continue-after-mark"), "{status}");
}

#[test]
fn sqlite_a_store_restored_two_shipments_back_is_refused_and_recovers_with_a_whole_chain() {
    a_store_restored_two_shipments_back(None);
}

#[test]
fn postgres_a_store_restored_two_shipments_back_is_refused_and_recovers_with_a_whole_chain() {
    a_store_restored_two_shipments_back(Some(Server::Postgres));
}

/// A backup of the latest state, the store (and the identity key) lost, the backup put back:
/// the chain is whole and the next day numbers on from it.
fn backup_then_restore(server: Option<Server>) {
    let p = Place::new(server);
    p.m.extract(&[S1]);
    expect(&p.daily("2026-03-01", &["--initial"]), 0);
    p.m.extract(&[S1, S2]);
    expect(&p.daily("2026-03-02", &[]), 0);
    let dir = p.backup("backup");
    for file in ["backup.json", "identity.key", "identity.key.mark"] {
        assert!(dir.join(file).exists(), "{file} in the backup");
    }
    let copy = if server.is_some() {
        "state.pgdump"
    } else {
        "state.sqlite"
    };
    assert!(dir.join(copy).exists());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("backup.json")).unwrap()).unwrap();
    assert_eq!(manifest["last_number"], 2);
    assert_eq!(manifest["mark"]["number"], 2);
    let exists = p.run("backup", &["--out", dir.to_str().unwrap()]);
    assert!(
        expect(&exists, 2).contains("not empty"),
        "never over another backup"
    );

    p.lose_store();
    std::fs::remove_file(p.m.path("state").join("identity.key")).unwrap();
    let restored = p.restore(&dir, false, 0);
    assert!(restored.contains("put back the identity key"), "{restored}");
    expect(&p.run("chain", &[]), 0);

    p.m.extract(&[S1_ENDED, S2]);
    let next = expect(&p.daily("2026-03-03", &[]), 0);
    assert!(next.contains("(numbers 3–3)"), "{next}");
    let all = sent(&p.m);
    assert_eq!(all.len(), 3);
    assert_register_accepts(&all);
    assert_eq!(p.mark().unwrap().number, 3);

    // A live key other than the backup's is never replaced: the backup's goes beside it, where
    // it opens what it sealed; a second restore finds it there and adds nothing.
    let live = p.m.path("state").join("identity.key");
    let other_key = "07".repeat(32);
    std::fs::write(&live, &other_key).unwrap();
    std::fs::set_permissions(&live, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let other = p.restore(&dir, true, 1);
    assert!(other.contains("beside the identity key"), "{other}");
    assert_eq!(std::fs::read_to_string(&live).unwrap(), other_key);
    let beside = |p: &Place| {
        std::fs::read_dir(p.m.path("state"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("identity.key.previous"))
            .collect::<Vec<_>>()
    };
    assert_eq!(beside(&p).len(), 1, "{other}");
    let again = p.restore(&dir, true, 1);
    assert!(!again.contains("beside the identity key"), "{again}");
    assert_eq!(beside(&p).len(), 1);

    // The next backup carries the earlier key along (and says the store is behind its mark).
    let second = p.m.path("second");
    expect(&p.run("backup", &["--out", second.to_str().unwrap()]), 1);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(second.join("backup.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["previous_key_files"].as_array().unwrap().len(), 1);
}

#[test]
fn sqlite_backup_then_restore_round_trip() {
    backup_then_restore(None);
}

#[test]
fn postgres_backup_then_restore_round_trip() {
    backup_then_restore(Some(Server::Postgres));
}

/// An installation from before the mark: no mark file, the guard passes, the next ship writes
/// it; a mark that is not one stops the daily flow with what to do.
#[test]
fn without_a_mark_the_guard_passes_and_the_next_ship_writes_it() {
    let p = Place::new(None);
    p.m.extract(&[S1]);
    expect(&p.daily("2026-03-01", &["--initial"]), 0);
    std::fs::remove_file(p.mark_file()).unwrap();
    let chain = expect(&p.run("chain", &[]), 0);
    assert!(chain.contains("none yet"), "{chain}");
    p.m.extract(&[S1, S2]);
    expect(&p.daily("2026-03-02", &[]), 0);
    assert_eq!(p.mark().unwrap().number, 2);

    std::fs::write(p.mark_file(), "garbage").unwrap();
    p.m.extract(&[S1_ENDED, S2]);
    let refused = expect(&p.daily("2026-03-03", &[]), 2);
    assert!(refused.contains("move it aside"), "{refused}");
    let status = expect(&p.run("status", &[]), 1);
    assert!(status.contains("identity.key.mark"), "{status}");
}
