//! A source of kind `iplos`: the EPJ's own IPLOS 3.7 extract (fagmelding + identmelding)
//! written into a directory every night, turned into the register's daily notifications.
//!
//! Daily runs go through the built binary and the spool; every message sent is opened by
//! openssl's command line (decrypt, verify), its payload validated by xmllint against the
//! register's XPR(ipl) 56.0.0 XSD, and read back. The pairs are written by hand here
//! (`support::iplos`), not by kpr-bridge's annual writer.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kpr_bridge::message::ipl56::{self, EventKind, Notification, Status};
use kpr_bridge::message::msghead;
use kpr_bridge::source::iplos::{IplosOptions, read_iplos};
use kpr_bridge::source::{Problems, Snapshot};
use support::daily::{ORGNR, OTHER_ORGNR, ident_number};
use support::iplos::{Extract, Pasient, Tjeneste};
use support::spool::Municipality;

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// A municipality whose one source is an IPLOS directory, `inbox`, taken without settling.
fn municipality() -> Municipality {
    let m = Municipality::new();
    let file = m.path("kpr-bridge.toml");
    let config = std::fs::read_to_string(&file).unwrap();
    let config = config.replace(
        &format!(
            "kind = \"extract\"\npath = \"{}/extract\"",
            m.dir.path().display()
        ),
        &format!(
            "kind = \"iplos\"\npath = \"{}/inbox\"\nsettle_seconds = 0",
            m.dir.path().display()
        ),
    );
    assert!(config.contains("kind = \"iplos\""));
    std::fs::write(&file, config).unwrap();
    std::fs::create_dir_all(m.path("inbox")).unwrap();
    m
}

/// Runs `daily` for `date`; asserts it succeeded.
fn night(m: &Municipality, date: &str, initial: bool) -> String {
    let mut args = vec!["--date", date];
    if initial {
        args.push("--initial");
    }
    let output = m.daily(&args, None);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    for n in 1..=8 {
        assert!(
            !all.contains(&ident_number(n)),
            "identity in the output: {all}"
        );
    }
    all
}

fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    support::openssl::with_input(args, support::amqp::certs(), input)
}

/// Every message in the spool, oldest first, opened by openssl, validated by xmllint, read.
fn sent(m: &Municipality) -> Vec<Vec<Notification>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(m.path("spool"))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "p7m"))
                .collect()
        })
        .unwrap_or_default();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
    let schema =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/official/ipl-56.0.0/XPR(ipl).xsd");
    files
        .iter()
        .map(|file| {
            let packed = std::fs::read(file).unwrap();
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
                &packed,
            );
            let document = openssl(
                &[
                    "cms", "-verify", "-inform", "DER", "-CAfile", "ca.crt", "-purpose", "any",
                ],
                &signed,
            );
            let (_, payload) = msghead::read(&document).unwrap();
            let payload_file = m.path("payload.xml");
            std::fs::write(&payload_file, &payload).unwrap();
            let lint = Command::new("xmllint")
                .arg("--noout")
                .arg("--schema")
                .arg(&schema)
                .arg(&payload_file)
                .output()
                .expect("xmllint runs");
            assert!(lint.status.success(), "xmllint: {}", text(&lint));
            ipl56::read(&payload).unwrap().notifications
        })
        .collect()
}

/// (event, status, service type) of each notification, and whether each M/C points to an
/// N original sent before it.
fn events(notifications: &[Notification]) -> Vec<(EventKind, Status, u8)> {
    notifications
        .iter()
        .map(|n| (n.event.kind, n.status, n.event.service_type))
        .collect()
}

fn assert_corrections_point_to_originals(all: &[Notification]) {
    for (at, n) in all.iter().enumerate() {
        if n.status == Status::Original {
            assert!(n.corrects.is_none());
            continue;
        }
        let original = n.corrects.expect("M and C name their original");
        let found = all[..at]
            .iter()
            .find(|o| o.guid == original)
            .expect("the original was sent before");
        assert_eq!(found.status, Status::Original);
        assert_eq!(found.event.kind, n.event.kind, "{n:?}");
        assert_eq!(found.event.service_id, n.event.service_id);
    }
}

fn p(pid: u64, n: u32, services: Vec<Tjeneste>) -> Pasient {
    Pasient {
        pid,
        fid: ident_number(n),
        services,
    }
}

/// The municipality's five services on night 1, each of a person of its own.
fn night_one(decisions: bool, pid_offset: u64) -> Extract {
    let s = |id: u64, code, start, orgnr: Option<&'static str>| Tjeneste {
        decision: decisions.then_some((id, 1)),
        orgnr,
        ..Tjeneste::new(id, code, start)
    };
    Extract::new(vec![
        p(pid_offset + 1, 1, vec![s(501, 5, "20260110", None)]),
        p(pid_offset + 2, 2, vec![s(502, 9, "20260111", None)]),
        p(pid_offset + 3, 3, vec![s(503, 15, "20260112", Some(ORGNR))]),
        p(pid_offset + 4, 4, vec![s(504, 18, "20260201", Some(ORGNR))]),
    ])
}

/// Night 2: 501 ended, 502 gone, 503's provider changed, 504's start moved, and 505 new —
/// with the persons' pePeIDs other than the night before (they are local to one extract).
fn night_two(decisions: bool) -> Extract {
    let mut extract = night_one(decisions, 100);
    extract.persons[0].services[0].end = Some("20260305");
    extract.persons[1].services.clear();
    extract.persons[2].services[0].orgnr = Some(OTHER_ORGNR);
    extract.persons[3].services[0].start = "20260203";
    extract.persons.push(p(
        105,
        5,
        vec![Tjeneste {
            decision: decisions.then_some((505, 1)),
            orgnr: Some(ORGNR),
            ..Tjeneste::new(505, 21, "20260306")
        }],
    ));
    extract.running_number = 2;
    extract
}

#[test]
fn nights_of_iplos_extracts_become_the_registers_daily_notifications() {
    let m = municipality();
    night_one(true, 0).write(&m.path("inbox"), "night1");
    night(&m, "2026-03-06", true);
    let first = sent(&m);
    assert_eq!(first.len(), 1);
    assert_eq!(
        events(&first[0]),
        [
            (EventKind::Start, Status::Original, 5),
            (EventKind::Start, Status::Original, 9),
            (EventKind::Start, Status::Original, 15),
            (EventKind::Start, Status::Original, 18)
        ]
    );
    assert!(m.path("inbox/done").is_dir());
    assert!(
        std::fs::read_dir(m.path("inbox")).unwrap().all(|e| e
            .unwrap()
            .file_type()
            .unwrap()
            .is_dir())
    );

    night_two(true).write(&m.path("inbox"), "night2");
    night(&m, "2026-03-07", false);
    let second = sent(&m);
    assert_eq!(second.len(), 2);
    let mut got = events(&second[1]);
    got.sort_by_key(|(kind, status, code)| (*code, kind.as_str(), status.code()));
    assert_eq!(
        got,
        [
            (EventKind::End, Status::Original, 5),
            (EventKind::Start, Status::Cancels, 9),
            (EventKind::ProviderChanged, Status::Original, 15),
            (EventKind::Start, Status::Replaces, 18),
            (EventKind::Start, Status::Original, 21),
        ]
    );
    let all: Vec<Notification> = second.concat();
    assert_corrections_point_to_originals(&all);
    support::daily::assert_chain(&all);
    // The same persons across nights, though their pePeIDs changed: one brukerNr and
    // pasientGUID each, which names nobody.
    let of = |code: u8| {
        all.iter()
            .filter(|n| n.event.service_type == code)
            .map(|n| (n.event.user.user_number.clone(), n.event.user.patient_guid))
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(of(5).len(), 1);
    assert_eq!(of(18).len(), 1);
    assert!(all.iter().all(|n| n.event.user.user_number.len() == 32));
    assert!(all.iter().all(|n| n.event.user.fid.len() == 11));

    // An unchanged night (the same extract written again, other pePeIDs) sends nothing.
    let mut again = night_two(true);
    for (n, person) in again.persons.iter_mut().enumerate() {
        person.pid = 900 + n as u64;
    }
    again.write(&m.path("inbox"), "night3");
    let quiet = night(&m, "2026-03-08", false);
    assert!(quiet.contains("no changes"), "{quiet}");
    assert_eq!(sent(&m).len(), 2);
}

#[test]
fn without_decision_ids_a_moved_start_or_a_new_provider_is_a_new_service() {
    let m = municipality();
    night_one(false, 0).write(&m.path("inbox"), "night1");
    night(&m, "2026-03-06", true);
    night_two(false).write(&m.path("inbox"), "night2");
    night(&m, "2026-03-07", false);
    let messages = sent(&m);
    assert_eq!(messages.len(), 2);
    let mut got = events(&messages[1]);
    got.sort_by_key(|(kind, status, code)| (*code, kind.as_str(), status.code()));
    // The service's identity is person + type + start + provider: a change of the last two
    // annuls the service (C) and starts a new one (N).
    assert_eq!(
        got,
        [
            (EventKind::End, Status::Original, 5),
            (EventKind::Start, Status::Cancels, 9),
            (EventKind::Start, Status::Cancels, 15),
            (EventKind::Start, Status::Original, 15),
            (EventKind::Start, Status::Cancels, 18),
            (EventKind::Start, Status::Original, 18),
            (EventKind::Start, Status::Original, 21),
        ]
    );
    let all = messages.concat();
    assert_corrections_point_to_originals(&all);
    support::daily::assert_chain(&all);
    // The fallback id names no pePeID and no identity number.
    for n in &all {
        assert!(!n.event.service_id.contains('/'), "{}", n.event.service_id);
        assert_eq!(
            n.event.service_id.split(':').count(),
            4,
            "{}",
            n.event.service_id
        );
    }
}

fn options(municipality: &str) -> IplosOptions {
    IplosOptions {
        municipality: municipality.into(),
        settle: Duration::ZERO,
        keep_done: Duration::from_secs(3600),
        take: true,
    }
}

fn read(dir: &Path, options: &IplosOptions) -> (Snapshot, Problems) {
    let mut records = Snapshot::default();
    let summary = read_iplos(dir, options, &mut records).unwrap();
    (records, summary.problems)
}

#[test]
fn an_iso_8859_1_pair_and_one_in_the_2018_namespace_are_read_right() {
    let dir = tempfile::tempdir().unwrap();
    let mut extract = night_one(true, 0);
    extract.latin1 = true;
    extract.contact = "Åse Ærø Søvik";
    extract.vendor = "Leverandør Å/S";
    extract.write(dir.path(), "latin1");
    let raw = std::fs::read(dir.path().join("latin1-b.xml")).unwrap();
    assert!(
        raw.contains(&0xC5) && std::str::from_utf8(&raw).is_err(),
        "really ISO-8859-1"
    );
    let (records, problems) = read(dir.path(), &options("4601"));
    assert!(problems.is_empty(), "{:?}", problems.kept());
    assert_eq!(records.persons.len(), 4);
    assert_eq!(records.services.len(), 4);
    assert!(records.persons.iter().all(|p| p.ident.is_some()));
    assert_eq!(records.services[2].provider_orgnr.as_deref(), Some(ORGNR));
    // The heads are read in their encoding: æøå in the contact and the vendor.
    let folder = kpr_bridge::source::iplos::inbox::taken(dir.path())[0].clone();
    let mut heads: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| kpr_bridge::source::iplos::head::read_head(&e.unwrap().path()).unwrap())
        .collect();
    heads.sort_by_key(|h| h.system.clone());
    assert!(heads.iter().all(|h| h.encoding == "ISO-8859-1"));
    assert!(
        heads
            .iter()
            .all(|h| h.contacts.iter().any(|c| c == "Åse Ærø Søvik")),
        "{heads:?}"
    );

    let older = tempfile::tempdir().unwrap();
    let mut extract = night_one(true, 0);
    extract.namespace_year = 2018;
    extract.period = ("20180101", "20181231");
    extract.write(older.path(), "y2018");
    let (records, problems) = read(older.path(), &options("4601"));
    assert!(problems.is_empty(), "{:?}", problems.kept());
    assert_eq!(records.services.len(), 4);
    assert_eq!(records.persons[0].birth_year, Some(2018 - 84));
}

#[test]
fn the_registers_own_example_pair_is_read() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["iplos37-example-valid.xml", "ide-53.1.3-example-valid.xml"] {
        std::fs::copy(
            support::delivery::repo("tests/data/official").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    let (records, problems) = read(dir.path(), &options("1106"));
    assert!(problems.is_empty(), "{:?}", problems.kept());
    assert_eq!(records.persons.len(), 1);
    let person = &records.persons[0];
    assert_eq!(person.ident.as_ref().unwrap().expose(), "13816199926");
    assert_eq!(person.birth_year, Some(2019 - 58));
    assert_eq!(person.municipality.as_deref(), Some("1106"));
    let service = &records.services[0];
    assert_eq!(service.local_type, "18");
    assert_eq!(service.start, Some("2019-03-10".parse().unwrap()));
    assert_eq!(service.end, Some("2019-04-02".parse().unwrap()));
    assert_eq!(service.decided_on, Some("2019-03-05".parse().unwrap()));
    assert_eq!(service.provider_orgnr.as_deref(), Some("999000010"));
    assert_eq!(
        records.assessments.get(0).unwrap().variable,
        "personlig_hygiene"
    );
    assert_eq!(records.assessments.get(0).unwrap().score, 3);
}

#[test]
fn a_pair_is_taken_once_settled_the_newest_wins_and_the_rest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path();
    // Still being written: younger than the settle time, nothing is taken.
    night_one(true, 0).write(inbox, "fresh");
    let patient = IplosOptions {
        settle: Duration::from_secs(600),
        ..options("4601")
    };
    let mut records = Snapshot::default();
    let summary = read_iplos(inbox, &patient, &mut records).unwrap();
    assert!(summary.unusable());
    let error = &summary.problems.kept()[0];
    assert!(error.what.contains("no IPLOS extract yet"), "{error}");
    assert!(inbox.join("fresh-b.xml").exists());

    // Two pairs in one night: the newer wins, the older is quarantined and named.
    support::iplos::backdate(
        inbox,
        &["fresh-a.xml", "fresh-b.xml"],
        Duration::from_secs(3600),
    );
    night_two(true).write(inbox, "later");
    let (records, problems) = read(inbox, &options("4601"));
    assert_eq!(records.persons.len(), 5, "the newer pair");
    let named: Vec<String> = problems.kept().iter().map(ToString::to_string).collect();
    assert!(
        named
            .iter()
            .any(|p| p.starts_with("fresh-b.xml") && p.contains("a newer fagmelding, later-b.xml")),
        "{named:?}"
    );
    let note = std::fs::read_to_string(inbox.join("quarantine/fresh-b.xml.problem.txt")).unwrap();
    assert!(note.contains("a newer fagmelding"), "{note}");
    assert!(inbox.join("quarantine/fresh-a.xml").exists());

    // The next read finds the inbox empty and reads the pair taken last, without problems.
    let (again, problems) = read(inbox, &options("4601"));
    assert_eq!(again, records);
    assert!(problems.is_empty());
    assert_eq!(kpr_bridge::source::iplos::inbox::taken(inbox).len(), 1);
}

#[test]
fn inspect_reads_an_iplos_directory_where_it_lies() {
    let dir = tempfile::tempdir().unwrap();
    night_one(true, 0).write(dir.path(), "x");
    let output = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
        .args(["inspect", "--year", "2026"])
        .arg(dir.path())
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("IPLOS extract"), "{all}");
    assert!(all.contains("no MidlertidigStopp"), "{all}");
    assert!(all.contains("Helsetjenester i hjemmet"), "{all}");
    assert!(dir.path().join("x-b.xml").exists(), "inspect takes nothing");
    assert!(!dir.path().join("done").exists());
}
