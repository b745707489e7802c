//! Measures the daily capture at national scale: a baseline of N services (two per person)
//! is recorded once (`setup`), then a second process builds the same EPJ with 1 % of the
//! services changed and captures it (`measure`). Timed apart: today's states (checks,
//! mapping, person keys: `current::build`) and the diff + commit (`capture::diff_and_commit`
//! and the transaction's commit), each with the process's peak memory while it ran; and
//! the memory the EPJ records take before either starts. `benches/daily.sh` runs both on
//! SQLite and PostgreSQL.
//!
//! ```sh
//! cargo run --release --example daily_diff -- setup|measure N STORE
//! ```
//! STORE is a directory (SQLite) or a `postgres://` URL. With `DAILY_DIFF_PARTS=1` the
//! measure step first times the diff's parts on their own (and rolls them back).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use kpr_bridge::checks::{self, CheckOptions, SourceRecords, TestUsers};
use kpr_bridge::config::daily::{DEFAULT_MAX_NOTIFICATIONS, DEFAULT_SERVICE_TYPES, Daily};
use kpr_bridge::daily::capture::{self, CaptureOptions};
use kpr_bridge::daily::current::{self, Current, Pseudonyms, SourceInput};
use kpr_bridge::daily::state::{Stored, content_hash};
use kpr_bridge::mapping::Mapping;
use kpr_bridge::model::assessment::AssessmentVariables;
use kpr_bridge::model::{Decision, Gender, HoursPerWeek, Ident, Person, Service, ident};
use kpr_bridge::source::Snapshot;
use kpr_bridge::store::Store;

const MAPPING: &str = "[[rule]]\nlocal_type = \"MATOMBR\"\ncode = \"5\"\n[[rule]]\nlocal_type = \"PRAKT\"\ncode = \"1\"\n";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [step, n, store] = &args[..] else {
        eprintln!("usage: daily_diff setup|measure N STORE");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("daily_diff: N must be a whole number, not '{n}'");
        return ExitCode::from(2);
    };
    let changed = match step.as_str() {
        "setup" => false,
        "measure" => true,
        _ => {
            eprintln!("daily_diff: the step is setup or measure, not '{step}'");
            return ExitCode::from(2);
        }
    };
    let store = if store.starts_with("postgres") {
        Store::open(Some(store), Path::new(".")).await
    } else {
        Store::open(None, Path::new(store)).await
    }
    .expect("the store opens");
    let started = Instant::now();
    let epj = synthetic(n, changed);
    let made = started.elapsed().as_secs_f64();
    let mapping = Mapping::parse(MAPPING, Path::new("bench-mapping.toml")).expect("mapping");
    let epj_kib = Memory::now().rss_kib;
    let test_users = TestUsers::default();
    let checks = CheckOptions {
        year: 2026,
        production: false,
        test_users: &test_users,
        variables: AssessmentVariables::builtin(),
    };
    let inputs = [SourceInput {
        name: "epj",
        records: Some(&epj),
        mapping: Some(&mapping),
        from: None,
        to: None,
        complete: true,
        ids: kpr_bridge::source::LocalIds::Lasting,
    }];
    let date = if changed { "2026-03-02" } else { "2026-03-01" };
    let options = CaptureOptions {
        date: date.parse().expect("a date"),
        initial: (!changed).then(capture::default_since),
        now: Utc::now(),
    };
    // The identity key lives beside the benchmark's store, made by the setup step.
    let daily = Daily {
        service_types: DEFAULT_SERVICE_TYPES.to_vec(),
        max_notifications: DEFAULT_MAX_NOTIFICATIONS,
        msg_type: kpr_bridge::model::register::DEFAULT_MSG_TYPE.into(),
        identity_key_file: std::env::temp_dir().join("kpr-bridge-daily-diff.key"),
    };
    if changed && std::env::var_os("DAILY_DIFF_PARTS").is_some() {
        parts(&store, &epj, &mapping, &inputs, &checks, &daily, options).await;
    }

    let mut tx = store.begin_daily().await.expect("begin");
    Memory::reset_peak();
    let started = Instant::now();
    let (pseudonyms, key) = capture::open(&mut tx, &daily, options)
        .await
        .expect("the state opens");
    let current = current::build(&inputs, options.date, &checks, &daily, &pseudonyms);
    let states_seconds = started.elapsed().as_secs_f64();
    let states = Memory::now();

    Memory::reset_peak();
    let started = Instant::now();
    let captured = capture::diff_and_commit(&mut tx, &inputs, current, &key, options)
        .await
        .expect("the capture runs");
    tx.commit().await.expect("commit");
    let diff_seconds = started.elapsed().as_secs_f64();
    let diff = Memory::now();
    println!(
        "{step}: {n} services, {} notifications; EPJ records made in {made:.2} s, {} MiB; \
         today's states (checks, mapping, keys) {states_seconds:.2} s, peak {} MiB; \
         diff + commit {diff_seconds:.2} s, peak {} MiB (at its start {} MiB)",
        captured.summary.notifications,
        epj_kib / 1024,
        states.peak_kib / 1024,
        diff.peak_kib / 1024,
        states.rss_kib / 1024,
    );
    // Closing checkpoints SQLite's write-ahead log into the database file, as the daily
    // command's exit does, so that the next step starts from the file alone.
    store.close().await;
    ExitCode::SUCCESS
}

/// The diff's parts, each on its own, in a transaction rolled back afterwards.
async fn parts(
    store: &Store,
    epj: &Snapshot,
    mapping: &Mapping,
    inputs: &[SourceInput<'_>],
    checks: &CheckOptions<'_>,
    daily: &Daily,
    options: CaptureOptions,
) {
    let records = [SourceRecords {
        name: "epj",
        records: epj,
        mapping,
        from: None,
        to: None,
    }];
    let t = Instant::now();
    drop(checks::check(&records, checks));
    eprintln!("parts: checks {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let current: Current =
        current::build(inputs, options.date, checks, daily, &Pseudonyms::new("x"));
    eprintln!(
        "parts: today's states, checks included {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut sum = 0i64;
    for (_, state) in current.services.values().flatten() {
        sum ^= content_hash(&state.to_text());
    }
    eprintln!(
        "parts: service states hashed on one thread {:.2} s ({sum:x})",
        t.elapsed().as_secs_f64()
    );
    let mut tx = store.begin_daily().await.expect("begin");
    let t = Instant::now();
    let hashes = tx.service_hashes().await.expect("service hashes");
    eprintln!(
        "parts: baseline service hashes read {:.2} s ({} sources, {} services)",
        t.elapsed().as_secs_f64(),
        hashes.len(),
        hashes.values().map(|h| h.len()).sum::<usize>()
    );
    tx.rollback().await.expect("rollback");
}

/// `n` services of `n / 2` persons; with `changed`, every hundredth service has an end date.
fn synthetic(n: usize, changed: bool) -> Snapshot {
    let mut epj = Snapshot::default();
    let first = NaiveDate::from_ymd_opt(1930, 1, 1).expect("a date");
    // Identity numbers must be unique, or the checks hold back the duplicates' services:
    // one counter of individual numbers per birth date (about 415 of the 500 are valid).
    const BIRTH_DATES: usize = 25_000;
    let mut next_individual = vec![0u32; BIRTH_DATES];
    for p in 0..n.div_ceil(2) {
        let slot = p % BIRTH_DATES;
        let birth = first + chrono::Days::new(slot as u64);
        let number = loop {
            let individual = next_individual[slot];
            assert!(
                individual < 500,
                "more persons than synthetic identity numbers"
            );
            next_individual[slot] += 1;
            if let Some(number) = ident::synthetic(birth, individual) {
                break number;
            }
        };
        epj.persons.push(Person {
            person_id: format!("p{p}").into(),
            ident: Some(Ident::new(number)),
            name: None,
            birth_year: None,
            gender: Some(Gender::Female),
            municipality: Some("4601".into()),
            district: None,
            household: None,
        });
    }
    for s in 0..n {
        epj.services.push(Service {
            service_id: format!("s{s}").into(),
            person_id: format!("p{}", s / 2).into(),
            local_type: if s % 2 == 0 { "MATOMBR" } else { "PRAKT" }.into(),
            decision: Decision::Granted,
            decided_on: None,
            start: NaiveDate::from_ymd_opt(2025, 1 + (s % 12) as u32, 1),
            end: (changed && s % 100 == 0)
                .then(|| NaiveDate::from_ymd_opt(2026, 3, 31))
                .flatten(),
            hours_per_week: Some(HoursPerWeek::from_hundredths(500)),
            provider_orgnr: Some("974760673".into()),
            pauses: vec![],
        });
    }
    epj
}

/// The process's resident memory now (VmRSS) and at its highest (VmHWM), in KiB.
struct Memory {
    rss_kib: u64,
    peak_kib: u64,
}

impl Memory {
    fn now() -> Memory {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Memory {
            rss_kib: field("VmRSS:"),
            peak_kib: field("VmHWM:"),
        }
    }

    /// Starts the peak afresh from the memory in use now (Linux: `clear_refs` 5), so that
    /// the next peak is one step's.
    fn reset_peak() {
        if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
            eprintln!("daily_diff: cannot reset the peak memory ({e}); peaks are the process's");
        }
    }
}
