//! Measures the daily capture at national scale: a baseline of N services (two per person)
//! is recorded once (`setup`), then a second process builds the same EPJ with 1 % of the
//! services changed and captures it (`measure`): checks, diff and commit, timed, with the
//! process's peak memory. `benches/daily.sh` runs both on SQLite and PostgreSQL.
//!
//! ```sh
//! cargo run --release --example daily_diff -- setup|measure N STORE
//! ```
//! STORE is a directory (SQLite) or a `postgres://` URL.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use kpr_bridge::checks::{CheckOptions, TestUsers};
use kpr_bridge::daily::capture::{self, CaptureOptions};
use kpr_bridge::daily::current::SourceInput;
use kpr_bridge::mapping::Mapping;
use kpr_bridge::model::assessment::AssessmentVariables;
use kpr_bridge::model::{Decision, Gender, HoursPerWeek, Ident, Person, Service, ident};
use kpr_bridge::source::Snapshot;
use kpr_bridge::store::Store;

const MAPPING: &str = "[[rule]]\nlocal_type = \"MATOMBR\"\ncode = \"5\"\n[[rule]]\nlocal_type = \"TRYGGH\"\ncode = \"6\"\n";

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
    let changed = step == "measure";
    let store = if store.starts_with("postgres") {
        Store::open(Some(store), Path::new(".")).await
    } else {
        Store::open(None, Path::new(store)).await
    }
    .expect("the store opens");
    let epj = synthetic(n, changed);
    let mapping = Mapping::parse(MAPPING, Path::new("bench-mapping.toml")).expect("mapping");
    let before = peak_kib();
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
    }];
    if std::env::var_os("DAILY_DIFF_PARTS").is_some() {
        let t = Instant::now();
        let report = kpr_bridge::checks::check(
            &[kpr_bridge::checks::SourceRecords {
                name: "epj",
                records: &epj,
                mapping: &mapping,
                from: None,
                to: None,
            }],
            &checks,
        );
        eprintln!("checks {:.2}", t.elapsed().as_secs_f64());
        drop(report);
        let t = Instant::now();
        let current = kpr_bridge::daily::current::build(
            &inputs,
            "2026-03-02".parse().unwrap(),
            &checks,
            &kpr_bridge::daily::current::Pseudonyms::new("x"),
        );
        eprintln!("build (incl checks) {:.2}", t.elapsed().as_secs_f64());
        let t = Instant::now();
        use kpr_bridge::daily::state::Stored;
        let mut x = 0i64;
        for s in current.services.values().flatten().map(|(_, s)| s) {
            x ^= kpr_bridge::daily::state::content_hash(&s.to_text());
        }
        eprintln!("hash {:.2} {x}", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut tx = store.begin_daily().await.unwrap();
        let h = tx.service_hashes().await.unwrap();
        eprintln!("load hashes {:.2} {}", t.elapsed().as_secs_f64(), h.len());
        let t = Instant::now();
        let h = tx.person_hashes().await.unwrap();
        eprintln!(
            "load person hashes {:.2} {}",
            t.elapsed().as_secs_f64(),
            h.len()
        );
        tx.rollback().await.unwrap();
    }
    let started = Instant::now();
    let mut tx = store.begin_daily().await.expect("begin");
    let date = if changed { "2026-03-02" } else { "2026-03-01" };
    let captured = capture::capture(
        &mut tx,
        &inputs,
        &checks,
        CaptureOptions {
            date: date.parse().expect("a date"),
            initial: !changed,
            now: Utc::now(),
        },
    )
    .await
    .expect("the capture runs");
    tx.commit().await.expect("commit");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{step}: {n} services, {} events, capture (checks + diff + commit) {seconds:.2} s, peak memory {} MiB (EPJ records alone {} MiB)",
        captured.events.len(),
        peak_kib() / 1024,
        before / 1024,
    );
    ExitCode::SUCCESS
}

/// `n` services of `n / 2` persons; with `changed`, every hundredth service has new hours.
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
            person_id: format!("p{p}"),
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
        let hours = if changed && s % 100 == 0 { 700 } else { 500 };
        epj.services.push(Service {
            service_id: format!("s{s}"),
            person_id: format!("p{}", s / 2),
            local_type: if s % 2 == 0 { "MATOMBR" } else { "TRYGGH" }.into(),
            decision: Decision::Granted,
            decided_on: None,
            start: NaiveDate::from_ymd_opt(2025, 1 + (s % 12) as u32, 1),
            end: None,
            hours_per_week: Some(HoursPerWeek::from_hundredths(hours)),
            provider_orgnr: None,
            pauses: vec![],
        });
    }
    epj
}

/// The process's peak resident memory so far (VmHWM), in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
