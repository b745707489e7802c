//! One day's round of a multi-municipality deployment, timed: M municipalities of P persons
//! (generated extracts) in one PostgreSQL database, served by R `kpr-bridge run --tenants`
//! replicas, sending over RabbitMQ to the test receiver in this process. After each
//! municipality's initial load (`daily --initial`, by command) the EPJs change their extracts
//! (the demo's change), and the round is timed: every replica reads and captures (read +
//! capture), then the clock passes 04:00 and every date is shipped, sent and answered (ship +
//! send + receipt). `benches/replicas.sh` runs it for 1 and 2 replicas.
//!
//! ```sh
//! cargo run --release --example replicas_round -- BINARY WORK_DIR MUNICIPALITIES PERSONS REPLICAS
//! ```
//! `KPR_BENCH_POSTGRES` (default postgres://postgres@127.0.0.1:5432/postgres) names the
//! server, `KPR_BENCH_AMQP` the broker; a database and queues of its own are made and removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone};
use kpr_bridge::config::Config;
use kpr_bridge::config::delivery::{Broker, Queues};
use kpr_bridge::config::receiver::ReceiverConfig;
use kpr_bridge::generate::{self, OutputEncoding};
use kpr_bridge::mapping::Mapping;
use kpr_bridge::receiver::Receiver;
use kpr_bridge::transport::amqp::Amqp;
use sqlx::{Connection, PgPool};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).expect("a date")
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [binary, work, municipalities, persons, replicas] = &args[..] else {
        eprintln!("usage: replicas_round BINARY WORK_DIR MUNICIPALITIES PERSONS REPLICAS");
        return ExitCode::from(2);
    };
    let (Ok(municipalities), Ok(persons), Ok(replicas)) = (
        municipalities.parse::<usize>(),
        persons.parse::<u64>(),
        replicas.parse::<usize>(),
    ) else {
        eprintln!("MUNICIPALITIES, PERSONS and REPLICAS are whole numbers");
        return ExitCode::from(2);
    };
    let round = Round {
        binary: PathBuf::from(binary),
        work: PathBuf::from(work),
        municipalities,
        persons,
        replicas,
    };
    round.run().await;
    ExitCode::SUCCESS
}

struct Round {
    binary: PathBuf,
    work: PathBuf,
    municipalities: usize,
    persons: u64,
    replicas: usize,
}

impl Round {
    async fn run(&self) {
        let admin = std::env::var("KPR_BENCH_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let broker_url = std::env::var("KPR_BENCH_AMQP")
            .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL");
        let allowed: String = sqlx::query_scalar("SHOW max_connections")
            .fetch_one(&mut conn)
            .await
            .expect("max_connections");
        let _ = conn.close().await;
        let needed = self.municipalities * 3 + 20 * self.replicas + 20;
        if allowed.parse::<usize>().unwrap_or(0) < needed {
            eprintln!(
                "PostgreSQL allows {allowed} connections; {} municipalities on {} replica(s) may use {needed}: ALTER SYSTEM SET max_connections = {needed}; and restart it (docs/runbook.md, Sizing)",
                self.municipalities, self.replicas
            );
            std::process::exit(2);
        }
        let database = format!("kpr_bench_{}", std::process::id());
        let (base, _) = admin.rsplit_once('/').expect("a database URL");
        let url = format!("{base}/{database}");
        admin_sql(&admin, &format!("CREATE DATABASE {database}")).await;

        let certs = self.work.join("certs");
        kpr_bridge::crypto::test_certificates::make(&certs, 30).expect("test certificates");
        let numbers = numbers(self.municipalities);
        let prefix = format!("kprbench_{}", std::process::id());
        let kpr = Queues {
            kpr: format!("{prefix}_kpr_async"),
            validation: None,
            receipts: format!("{prefix}_kpr_receipts"),
            errors: format!("{prefix}_kpr_error"),
        };
        let broker = broker(&broker_url);
        let amqp = Amqp::connect(&broker, "replicas bench")
            .await
            .expect("RabbitMQ");
        let mut queues = vec![kpr.kpr.clone(), kpr.receipts.clone(), kpr.errors.clone()];

        let started = Instant::now();
        let tenants = self.work.join("tenants");
        std::fs::create_dir_all(&tenants).expect("tenants directory");
        let mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/sample-epj.toml");
        for (i, number) in numbers.iter().enumerate() {
            let home = self.work.join(number);
            generate::generate(
                &home.join("extract"),
                &generate::Options {
                    persons: self.persons,
                    seed: 1000 + i as u64,
                    year: 2025,
                    municipality: number.clone(),
                    encoding: OutputEncoding::Utf8,
                },
            )
            .expect("an extract");
            let receipts = format!("{prefix}_{number}_async");
            let errors = format!("{prefix}_{number}_error");
            queues.push(receipts.clone());
            queues.push(errors.clone());
            let config = format!(
                r#"mode = "test"
data_dir = "{home}/state"
mapping = "{mapping}"
[state]
url = "{url}"
schema = "kpr_{number}"
[municipality]
number = "{number}"
name = "Kommune {number}"
[her_id]
municipality = "{her}"
service_unit = "{unit}"
[[contact]]
type = 16
name = "Ida IPLOS"
email = "iplos@example.invalid"
[[contact]]
type = 17
name = "Ida IPLOS"
email = "iplos@example.invalid"
[[source]]
name = "epj"
kind = "extract"
path = "{home}/extract"
product = "Bench-EPJ"
version = "1.0"
[delivery]
transport = "amqp"
[amqp]
url = "{broker_url}"
exchange = ""
kpr_queue = "{kpr_queue}"
receipt_queue = "{receipts}"
error_queue = "{errors}"
[certificates]
signing_certificate = "{certs}/kommune-sign.crt"
signing_key = "{certs}/kommune-sign.key"
encryption_certificate = "{certs}/kommune-enc.crt"
encryption_key = "{certs}/kommune-enc.key"
kpr_encryption_certificate = "{certs}/kpr-enc.crt"
trust = ["{certs}/ca.crt"]
kpr_signing_certificates = ["{certs}/kpr-sign.crt"]
"#,
                home = home.display(),
                mapping = mapping.display(),
                her = 100_000 + i,
                unit = 200_000 + i,
                kpr_queue = kpr.kpr,
                certs = certs.display(),
            );
            std::fs::write(tenants.join(format!("{number}.toml")), config)
                .expect("a configuration");
        }
        for queue in &queues {
            amqp.declare_queue(queue).await.expect("a queue");
        }
        eprintln!(
            "{} extracts of {} persons written in {:.1} s",
            numbers.len(),
            self.persons,
            started.elapsed().as_secs_f64()
        );

        let receiver = receiver(&self.work, &certs, &broker_url, &kpr.kpr);
        let (stop_receiver, receiver_shutdown) = tokio::sync::watch::channel(false);
        let receiving = tokio::spawn(async move { receiver.run(receiver_shutdown).await });

        let started = Instant::now();
        for number in &numbers {
            let status = Command::new(&self.binary)
                .args([
                    "daily",
                    "--initial",
                    "--date",
                    &day(5).to_string(),
                    "--config",
                ])
                .arg(tenants.join(format!("{number}.toml")))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("kpr-bridge daily");
            assert!(
                status.code().is_some_and(|c| c <= 1),
                "{number}: daily --initial {status}"
            );
        }
        let initial = started.elapsed();
        eprintln!("initial loads by command: {:.1} s", initial.as_secs_f64());

        let clock = self.work.join("clock");
        set_clock(&clock, day(6), "09:00:00");
        let mut children: Vec<Child> = (0..self.replicas)
            .map(|r| {
                Command::new(&self.binary)
                    .args(["run", "--tenants"])
                    .arg(&tenants)
                    .args(["--replica", &format!("bench-{r}"), "--listen", "off"])
                    .env("KPR_BRIDGE_CLOCK_FILE", &clock)
                    .env("RUST_LOG", "error")
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("kpr-bridge run --tenants")
            })
            .collect();
        let pool = PgPool::connect(&url).await.expect("the bench database");
        // Every replica holds its share before the round starts.
        let floor = i64::try_from(numbers.len() / self.replicas).unwrap_or(0);
        loop {
            let shares: Vec<i64> = sqlx::query_scalar(
                "SELECT count(*) FROM kpr_cluster.leases WHERE expires > clock_timestamp() GROUP BY holder",
            )
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
            if shares.len() == self.replicas && shares.iter().all(|&n| n >= floor) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let started = Instant::now();
        wait(
            &pool,
            &numbers,
            Wanted::Delivered(day(5)),
            Duration::from_secs(3600),
        )
        .await;
        eprintln!(
            "initial loads delivered {:.1} s after the replicas started",
            started.elapsed().as_secs_f64()
        );

        // The round: each EPJ's change for day 6, read and captured by the replicas; then
        // 04:00 passes, and day 6 is shipped, sent and answered everywhere.
        let mapping = Mapping::load(&mapping).expect("the mapping");
        let mut before = BTreeMap::new();
        for number in &numbers {
            let sql = format!("SELECT coalesce(max(id), 0) FROM kpr_{number}.daily_captures");
            let last: i64 = sqlx::query_scalar(&sql)
                .fetch_one(&pool)
                .await
                .expect("captures");
            before.insert(number.clone(), last);
        }
        for number in &numbers {
            let config = Config::load(&tenants.join(format!("{number}.toml"))).expect("config");
            kpr_bridge::demo::change::apply(
                &self.work.join(number).join("extract"),
                day(6),
                &mapping,
                &config.daily,
            )
            .expect("the day's change");
        }
        let started = Instant::now();
        wait(
            &pool,
            &numbers,
            Wanted::CaptureAfter(&before),
            Duration::from_secs(3600),
        )
        .await;
        let captured = started.elapsed();
        set_clock(&clock, day(7), "04:00:30");
        let shipping = Instant::now();
        wait(
            &pool,
            &numbers,
            Wanted::Delivered(day(6)),
            Duration::from_secs(3600),
        )
        .await;
        let shipped = shipping.elapsed();
        let total = captured + shipped;
        println!(
            "{} municipalities × {} persons, {} replica(s): read + capture {:.1} s, ship + send + receipt {:.1} s, round {:.1} s, {:.2} s per municipality (initial loads by command {:.1} s)",
            numbers.len(),
            self.persons,
            self.replicas,
            captured.as_secs_f64(),
            shipped.as_secs_f64(),
            total.as_secs_f64(),
            total.as_secs_f64() / numbers.len() as f64,
            initial.as_secs_f64(),
        );

        for child in &mut children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        for child in &mut children {
            let _ = child.wait();
        }
        let _ = stop_receiver.send(true);
        let _ = receiving.await;
        pool.close().await;
        for queue in &queues {
            let _ = amqp.delete_queue(queue).await;
        }
        amqp.close().await;
        admin_sql(&admin, &format!("DROP DATABASE {database} WITH (FORCE)")).await;
    }
}

/// Municipality numbers valid in 2026, as many as asked for.
fn numbers(count: usize) -> Vec<String> {
    let known = kpr_bridge::model::municipalities::municipalities();
    let found: Vec<String> = (100..=5700)
        .map(|n| format!("{n:04}"))
        .filter(|n| known.is_valid_in_year(n, 2026))
        .take(count)
        .collect();
    assert_eq!(found.len(), count, "not that many municipalities exist");
    found
}

/// What [`wait`] waits for in every municipality.
enum Wanted<'a> {
    /// The date shipped, each of its messages delivered.
    Delivered(NaiveDate),
    /// A capture later than the one numbered here (the extract's change read).
    CaptureAfter(&'a BTreeMap<String, i64>),
}

async fn wait(pool: &PgPool, numbers: &[String], wanted: Wanted<'_>, within: Duration) {
    let started = Instant::now();
    let mut pending: Vec<&String> = numbers.iter().collect();
    while !pending.is_empty() {
        assert!(
            started.elapsed() < within,
            "still waiting for {} municipalities",
            pending.len()
        );
        let mut still = Vec::new();
        for number in pending {
            let sql = match &wanted {
                Wanted::Delivered(date) => format!(
                    "SELECT (SELECT count(*) FROM kpr_{number}.daily_shipments WHERE reporting_date = '{date}') = 1
                        AND NOT EXISTS (SELECT 1 FROM kpr_{number}.daily_messages m
                                        JOIN kpr_{number}.outbox o ON o.msg_id = m.msg_id
                                        WHERE m.reporting_date = '{date}' AND o.state <> 'delivered')"
                ),
                Wanted::CaptureAfter(before) => format!(
                    "SELECT EXISTS (SELECT 1 FROM kpr_{number}.daily_captures WHERE id > {})",
                    before[number.as_str()]
                ),
            };
            let done: Option<bool> = sqlx::query_scalar(&sql)
                .fetch_one(pool)
                .await
                .unwrap_or(Some(false));
            if done != Some(true) {
                still.push(number);
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn set_clock(file: &Path, date: NaiveDate, time: &str) {
    let local = date.and_time(time.parse().expect("a time"));
    let at = chrono_tz::Europe::Oslo
        .from_local_datetime(&local)
        .earliest()
        .expect("a time in Oslo");
    let partial = file.with_extension("partial");
    std::fs::write(&partial, at.to_rfc3339()).expect("the clock file");
    std::fs::rename(partial, file).expect("the clock file");
}

fn broker(url: &str) -> Broker {
    Broker {
        url: url.to_string(),
        exchange: String::new(),
        ca_file: None,
        client_identity: None,
        client_identity_password: None,
        interop: Default::default(),
    }
}

fn receiver(work: &Path, certs: &Path, url: &str, queue: &str) -> Receiver {
    let text = format!(
        r#"[amqp]
url = "{url}"
queue = "{queue}"
[certificates]
signing_certificate = "{certs}/kpr-sign.crt"
signing_key = "{certs}/kpr-sign.key"
encryption_certificate = "{certs}/kpr-enc.crt"
encryption_key = "{certs}/kpr-enc.key"
municipality_encryption_certificate = "{certs}/kommune-enc.crt"
trust = ["{certs}/ca.crt"]
"#,
        certs = certs.display()
    );
    let config =
        ReceiverConfig::parse(&text, &work.join("receiver.toml")).expect("receiver configuration");
    Receiver::open(config).expect("the test receiver").0
}

async fn admin_sql(admin: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("PostgreSQL");
    sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
    let _ = conn.close().await;
}
