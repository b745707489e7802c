//! The crash harness: `kpr-bridge run` as a child process against RabbitMQ and the local test
//! receiver while a new daily extract arrives each simulated day; killed with SIGKILL at
//! random moments (seeded) and started again, with the broker stopped for a stretch of it;
//! then let run until everything is delivered. At the end it counts the events the diffs
//! produced, those delivered, those lost (must be 0) and duplicates by MsgId. A second test
//! puts the state store on a small, nearly full filesystem.
//!
//! Quick by default (30 kills, as in CI); `KPR_FAULTS_KILLS=150 KPR_FAULTS_SEED=…` for a full
//! run (docs/reliability.md).

mod support;

use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use kpr_bridge::receiver::Stats;
use rand::{RngExt, SeedableRng};
use support::agent::{Agent, KprReceiver, Municipality, daily_shipments, initial, integrity};
use support::daily::ident_number;

/// The tests here stop the broker or mount filesystems: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Days::new(n)
}

/// The extract of day `n`: persons 1 to n + 1, each with one service starting on its day.
fn extract(municipality: &Municipality, n: u64) {
    let dir = municipality.path("extract");
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join("READY"));
    let mut persons =
        String::from("person_id;ident;name;birth_year;gender;municipality;district;household\n");
    let mut services = String::from(
        "service_id;person_id;local_type;decision;decided_on;start_date;end_date;hours_per_week;provider_orgnr;pause_from;pause_to\n",
    );
    for i in 0..=n {
        let ident = ident_number(i as u32 + 1);
        persons.push_str(&format!("p{i};{ident};;1940;K;4601;;\n"));
        services.push_str(&format!("s{i};p{i};MATOMBR;innvilget;;{};;;;;\n", day(i)));
    }
    std::fs::write(dir.join("persons.csv"), persons).unwrap();
    std::fs::write(dir.join("services.csv"), services).unwrap();
    std::fs::write(dir.join("READY"), "").unwrap();
}

/// Stops or starts the local RabbitMQ application.
fn rabbitmqctl(action: &str) {
    let status = Command::new("rabbitmqctl")
        .arg(action)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("rabbitmqctl (ops/services.sh installs RabbitMQ)");
    assert!(status.success(), "rabbitmqctl {action}");
}

/// Starts the broker again however the test ends.
struct BrokerBack;

impl Drop for BrokerBack {
    fn drop(&mut self) {
        rabbitmqctl("start_app");
    }
}

/// What the store says at the end.
#[derive(Debug, PartialEq, Eq)]
struct Count {
    produced: i64,
    delivered: i64,
    starts: i64,
    /// Numbers 1, 2, … without a gap, each notification chained to the one before.
    chained: bool,
}

async fn count(store: &sqlx::SqlitePool) -> Count {
    let scalar = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(store)
            .await
            .unwrap()
    };
    let chain: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT number, guid, previous FROM daily_notifications ORDER BY number")
            .fetch_all(store)
            .await
            .unwrap();
    let mut previous = uuid::Uuid::nil().to_string();
    let mut chained = true;
    for (at, (number, guid, before)) in chain.into_iter().enumerate() {
        chained &= number == at as i64 + 1 && before == previous;
        previous = guid;
    }
    Count {
        produced: scalar("SELECT COUNT(*) FROM daily_notifications").await,
        delivered: scalar(
            "SELECT COUNT(*) FROM daily_notifications n
             JOIN outbox o ON o.msg_id = n.first_message WHERE o.state = 'delivered'",
        )
        .await,
        starts: scalar("SELECT COUNT(*) FROM daily_notifications WHERE kind = 'start'").await,
        chained,
    }
}

#[test]
fn killed_at_random_moments_and_through_a_broker_outage_nothing_is_lost() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let stop_broker = std::env::var_os("KPR_TEST_AMQP").is_none();
    let kills = setting("KPR_FAULTS_KILLS", 30);
    let seed = setting("KPR_FAULTS_SEED", 8);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let municipality = Municipality::new("faults-kill");
    extract(&municipality, 0);

    support::block_on(|| async {
        let receiver = KprReceiver::start(&municipality).await;
        let stats = receiver.stats.clone();
        let (code, text) = initial(&municipality).await;
        assert_eq!(code, Some(0), "{text}");

        // The broker is down for a fifth of the kills, from a third of the way.
        let outage = (kills / 3, kills / 3 + kills / 5);
        let mut broker_back = None;
        for n in 1..=kills {
            if stop_broker && n == outage.0 {
                rabbitmqctl("stop_app");
                broker_back = Some(BrokerBack);
            }
            if n == outage.1 {
                broker_back = None;
            }
            // Day n: its extract, and the clock past 04:00 the morning after, so that the
            // agent captures and runs the day (or catches up on earlier ones).
            extract(&municipality, n);
            municipality.set_clock(day(n + 1), "04:00:30");
            let agent = Agent::start(&municipality);
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..1500))).await;
            agent.kill();
        }
        drop(broker_back);

        // Left to run, it delivers everything.
        let agent = Agent::start(&municipality);
        let store = municipality.store().await;
        let last = day(kills).to_string();
        let started = std::time::Instant::now();
        loop {
            let shipments = daily_shipments(&store).await;
            // A date whose changes went out with an earlier one (captured before its run
            // was caught up) has a shipment without messages.
            if shipments.last().is_some_and(|(date, _)| *date == last)
                && shipments
                    .iter()
                    .all(|(_, state)| state.as_deref().is_none_or(|s| s == "delivered"))
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(180) {
                let log = agent.log();
                panic!(
                    "not every date shipped and delivered within 180 s: {shipments:?}\n{}",
                    log[log.len().saturating_sub(40)..].join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let count = count(&store).await;
        let lost = count.produced - count.delivered;
        let duplicates = Stats::count(&stats.duplicates);
        eprintln!(
            "crash harness (seed {seed}): {kills} kills, broker stopped for kills {}..{}; notifications produced {}, delivered {}, lost {lost}, chain unbroken {}; messages received twice (same MsgId) {duplicates}",
            outage.0, outage.1, count.produced, count.delivered, count.chained
        );
        assert_eq!(lost, 0, "{count:?}");
        assert!(
            count.chained,
            "the chain has a gap or a wrong link: {count:?}"
        );
        // Every service added was reported started exactly once: nothing lost, nothing doubled.
        assert_eq!(count.starts, kills as i64 + 1, "{count:?}");
        let dates = daily_shipments(&store).await;
        assert_eq!(
            dates.len() as u64,
            kills + 1,
            "each date shipped once: {dates:?}"
        );
        assert_eq!(integrity(&store).await, "ok");
        store.close().await;

        let (exit, _, lines) = tokio::task::spawn_blocking(move || agent.terminate())
            .await
            .unwrap();
        assert_eq!(exit.code(), Some(0), "{}", lines.join("\n"));
        receiver.stop().await;
    });
}

/// A small filesystem mounted for a test, unmounted when dropped.
struct Mounted(std::path::PathBuf);

impl Mounted {
    /// A tmpfs of `size` at `dir`; `None` where mounting is not allowed (not root).
    fn tmpfs(dir: &std::path::Path, size: &str) -> Option<Mounted> {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| Mounted(dir.to_path_buf()))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Fills the filesystem under `dir` to the last byte; returns the file that does it.
fn fill(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 4096];
    while file.write_all(&block).is_ok() {}
    let _ = file.write_all(&block[..1]);
    let _ = file.sync_all();
    filler
}

#[test]
fn a_full_disk_under_the_state_store_is_a_clear_error_and_recovers_once_space_returns() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let municipality = Municipality::new("faults-disk");
    let Some(_mounted) = Mounted::tmpfs(&municipality.path("state"), "4m") else {
        eprintln!("skipped: mounting a small filesystem needs root");
        return;
    };
    extract(&municipality, 0);

    support::block_on(|| async {
        let receiver = KprReceiver::start(&municipality).await;
        let (code, text) = initial(&municipality).await;
        assert_eq!(code, Some(0), "{text}");
        municipality.set_clock(day(1), "12:00:00");
        let mut agent = Agent::start(&municipality);
        let store = municipality.store().await;

        // The disk fills up; a day with changes is due.
        let filler = fill(&municipality.path("state"));
        extract(&municipality, 5);
        municipality.set_clock(day(2), "04:00:30");
        let line = agent.wait_for_log("cannot go yet", Duration::from_secs(30));
        assert!(
            line.contains("the disk under the state store is full"),
            "{line}"
        );
        let shipments = daily_shipments(&store).await;
        assert_eq!(shipments.len(), 1, "nothing half-written: {shipments:?}");

        // Space returns; the next try runs the day.
        std::fs::remove_file(filler).unwrap();
        municipality.set_clock(day(2), "04:05:00");
        let started = std::time::Instant::now();
        while daily_shipments(&store).await
            != [
                (day(0).to_string(), Some("delivered".to_string())),
                (day(1).to_string(), Some("delivered".to_string())),
            ]
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "not delivered after space returned:\n{}",
                agent.log().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let count = count(&store).await;
        assert_eq!(count.produced, count.delivered, "{count:?}");
        assert_eq!(count.starts, 6, "{count:?}");
        assert_eq!(integrity(&store).await, "ok");
        store.close().await;
        let (exit, _, lines) = tokio::task::spawn_blocking(move || agent.terminate())
            .await
            .unwrap();
        assert_eq!(exit.code(), Some(0), "{}", lines.join("\n"));
        receiver.stop().await;
    });
}
