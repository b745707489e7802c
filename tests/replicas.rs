//! Many municipalities on one deployment: three `kpr-bridge run --tenants` processes share
//! twenty municipalities (generated extracts of a few hundred persons each) over the real
//! PostgreSQL and RabbitMQ, with the test receiver answering, through five simulated days.
//! One replica is SIGKILLed while a day ships; another is SIGSTOPped for longer than its
//! leases while the next one ships, then continued; a fourth joins at the end. Afterwards:
//! every municipality's every date shipped once, every notification in a delivered message,
//! each chain of notifications complete, and the write log shows that no two replicas ever
//! wrote for the same municipality (tokens never go down along it).

mod support;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use kpr_bridge::config::delivery::Queues;
use kpr_bridge::generate::{self, OutputEncoding};
use kpr_bridge::mapping::Mapping;
use sqlx::PgPool;
use support::agent::{Agent, eventually};
use support::{Server, TestDatabase, amqp};

const MUNICIPALITIES: usize = 20;
const PERSONS: u64 = 300;

/// Municipality numbers valid in 2026; the first twenty are used.
const NUMBERS: [&str; 24] = [
    "0301", "1103", "4601", "5001", "3201", "1108", "4204", "3301", "5501", "3107", "3105", "4003",
    "1804", "1506", "1106", "4203", "3905", "3907", "3909", "3403", "3405", "3407", "3101", "3103",
];

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
}

/// The deployment's files: a configuration per municipality in `tenants/`, each with its
/// extract and data directory, the clock file every replica reads.
struct Deployment {
    root: tempfile::TempDir,
    database: TestDatabase,
    kpr_queue: Queues,
    numbers: Vec<&'static str>,
    tenant_queues: Vec<Queues>,
}

impl Deployment {
    fn new() -> Deployment {
        let root = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(Server::Postgres);
        let kpr_queue = amqp::queues("replicas");
        let numbers: Vec<&'static str> = NUMBERS
            .iter()
            .copied()
            .filter(|n| {
                kpr_bridge::model::municipalities::municipalities().is_valid_in_year(n, 2026)
            })
            .take(MUNICIPALITIES)
            .collect();
        assert_eq!(
            numbers.len(),
            MUNICIPALITIES,
            "twenty municipality numbers valid in 2026"
        );
        std::fs::create_dir_all(root.path().join("tenants")).unwrap();
        let mut tenant_queues = Vec::new();
        for (i, number) in numbers.iter().enumerate() {
            let home = root.path().join(number);
            let queues = Queues {
                kpr: kpr_queue.kpr.clone(),
                validation: None,
                receipts: format!("{}_{number}_async", kpr_queue.receipts),
                errors: format!("{}_{number}_error", kpr_queue.receipts),
            };
            generate::generate(
                &home.join("extract"),
                &generate::Options {
                    persons: PERSONS,
                    seed: 100 + i as u64,
                    year: 2025,
                    municipality: number.to_string(),
                    encoding: OutputEncoding::Utf8,
                },
            )
            .unwrap();
            let delivery = format!(
                "[delivery]\ntransport = \"amqp\"\n[amqp]\nurl = \"{}\"\nexchange = \"\"\n\
                 kpr_queue = \"{}\"\nreceipt_queue = \"{}\"\nerror_queue = \"{}\"",
                amqp::broker_url(),
                queues.kpr,
                queues.receipts,
                queues.errors
            );
            let config = support::tenants::config(&home, &database.url, number, i, &delivery);
            std::fs::write(root.path().join(format!("tenants/{number}.toml")), config).unwrap();
            tenant_queues.push(queues);
        }
        Deployment {
            root,
            database,
            kpr_queue,
            numbers,
            tenant_queues,
        }
    }

    fn tenants(&self) -> PathBuf {
        self.root.path().join("tenants")
    }

    fn config(&self, number: &str) -> PathBuf {
        self.tenants().join(format!("{number}.toml"))
    }

    fn clock(&self) -> PathBuf {
        self.root.path().join("clock")
    }

    fn set_clock(&self, date: NaiveDate, time: &str) {
        use chrono::TimeZone;
        let local = date.and_time(time.parse().unwrap());
        let at = chrono_tz::Europe::Oslo
            .from_local_datetime(&local)
            .earliest()
            .unwrap();
        let partial = self.root.path().join("clock.partial");
        std::fs::write(&partial, at.to_rfc3339()).unwrap();
        std::fs::rename(partial, self.clock()).unwrap();
    }

    fn replica(&self, name: &str) -> Agent {
        let tenants = self.tenants();
        let arguments: [&OsStr; 7] = [
            "run".as_ref(),
            "--tenants".as_ref(),
            tenants.as_os_str(),
            "--replica".as_ref(),
            name.as_ref(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
        ];
        Agent::spawn(&arguments, &self.clock(), &[("RUST_LOG", "info")])
    }

    /// The EPJ's change for `date` in every municipality's extract.
    fn change_extracts(&self, date: NaiveDate) {
        let mapping = Mapping::load(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("mappings/sample-epj.toml")
                .as_path(),
        )
        .unwrap();
        for number in &self.numbers {
            let extract = self.root.path().join(number).join("extract");
            let config = kpr_bridge::config::Config::load(&self.config(number)).unwrap();
            kpr_bridge::demo::change::apply(&extract, date, &mapping, &config.daily)
                .unwrap_or_else(|e| panic!("{number}: {e}"));
        }
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Who holds each municipality's lease now (live leases only).
async fn holders(pool: &PgPool) -> BTreeMap<String, String> {
    sqlx::query_as(
        "SELECT municipality, holder FROM kpr_cluster.leases
         WHERE holder IS NOT NULL AND expires > clock_timestamp()",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// How many municipalities have `date` shipped with every message delivered.
async fn delivered(pool: &PgPool, numbers: &[&str], date: NaiveDate) -> usize {
    let mut done = 0;
    for number in numbers {
        let sql = format!(
            "SELECT (SELECT count(*) FROM kpr_{number}.daily_shipments WHERE reporting_date = '{date}') = 1
                AND NOT EXISTS (SELECT 1 FROM kpr_{number}.daily_messages m
                                JOIN kpr_{number}.outbox o ON o.msg_id = m.msg_id
                                WHERE m.reporting_date = '{date}' AND o.state <> 'delivered')"
        );
        let ok: Option<bool> = sqlx::query_scalar(&sql)
            .fetch_one(pool)
            .await
            .unwrap_or(Some(false));
        done += usize::from(ok == Some(true));
    }
    done
}

/// How many municipalities have captured for `date`.
async fn captured(pool: &PgPool, numbers: &[&str], date: NaiveDate) -> usize {
    let mut done = 0;
    for number in numbers {
        let sql = format!(
            "SELECT count(*) FROM kpr_{number}.daily_captures WHERE reporting_date = '{date}'"
        );
        done += usize::from(
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(pool)
                .await
                .unwrap_or(0)
                > 0,
        );
    }
    done
}

async fn wait_day(deployment: &Deployment, pool: &PgPool, date: NaiveDate, within: Duration) {
    let numbers = &deployment.numbers;
    eventually(
        &format!("every municipality's {date} delivered"),
        within,
        || async { delivered(pool, numbers, date).await == numbers.len() },
    )
    .await;
}

async fn wait_captured(deployment: &Deployment, pool: &PgPool, date: NaiveDate) {
    let numbers = &deployment.numbers;
    eventually(
        &format!("every municipality captured for {date}"),
        Duration::from_secs(120),
        || async { captured(pool, numbers, date).await == numbers.len() },
    )
    .await;
}

/// Waits until every lease is held by one of `live`; returns how long that took.
async fn wait_held_by(pool: &PgPool, live: &[&str], within: Duration) -> Duration {
    let started = Instant::now();
    eventually(&format!("every lease held by {live:?}"), within, || async {
        let held = holders(pool).await;
        held.len() == MUNICIPALITIES && held.values().all(|h| live.contains(&h.as_str()))
    })
    .await;
    started.elapsed()
}

#[test]
fn three_replicas_share_twenty_municipalities_and_survive_a_kill_and_a_stop() {
    let deployment = Deployment::new();
    let first = day(5);

    support::block_on(|| async {
        let mut all = deployment.tenant_queues.clone();
        all.push(deployment.kpr_queue.clone());
        for queues in &all {
            amqp::declare(queues).await;
        }
        let receiver_dir = deployment.root.path().join("receiver");
        std::fs::create_dir_all(&receiver_dir).unwrap();
        let receiver = support::delivery::receiver(&receiver_dir, &deployment.kpr_queue, "", "");
        let (stop_receiver, receiver_shutdown) = tokio::sync::watch::channel(false);
        let receiving = tokio::spawn(async move { receiver.run(receiver_shutdown).await });

        // The operator's first step per municipality: the initial daily run, by command
        // (written without a lease: an operator's command is not a replica).
        for number in &deployment.numbers {
            let config = deployment.config(number);
            let output = tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
                    .args([
                        "daily",
                        "--initial",
                        "--date",
                        &first.to_string(),
                        "--config",
                    ])
                    .arg(config)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            assert!(
                output.status.code().is_some_and(|c| c <= 1),
                "{number}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let pool = PgPool::connect(&deployment.database.url).await.unwrap();

        deployment.set_clock(day(6), "09:00:00");
        let mut replicas: BTreeMap<&str, Agent> = BTreeMap::new();
        for name in ["r1", "r2", "r3"] {
            replicas.insert(name, deployment.replica(name));
        }
        wait_held_by(&pool, &["r1", "r2", "r3"], Duration::from_secs(60)).await;
        // The replicas take the receipts of what the commands sent.
        wait_day(&deployment, &pool, first, Duration::from_secs(120)).await;
        eventually(
            "the leases spread evenly",
            Duration::from_secs(60),
            || async {
                let held = holders(&pool).await;
                let mut per: BTreeMap<&str, usize> = BTreeMap::new();
                for holder in held.values() {
                    *per.entry(holder.as_str()).or_default() += 1;
                }
                held.len() == MUNICIPALITIES
                    && per.len() == 3
                    && per.values().all(|n| (6..=7).contains(n))
            },
        )
        .await;

        // Day 6: every replica up.
        deployment.change_extracts(day(6));
        wait_captured(&deployment, &pool, day(6)).await;
        deployment.set_clock(day(7), "04:00:30");
        wait_day(&deployment, &pool, day(6), Duration::from_secs(180)).await;

        // Day 7: r1 is killed while the day ships.
        deployment.change_extracts(day(7));
        wait_captured(&deployment, &pool, day(7)).await;
        deployment.set_clock(day(8), "04:00:30");
        tokio::time::sleep(Duration::from_millis(300)).await;
        replicas.remove("r1").unwrap().kill();
        let took = wait_held_by(&pool, &["r2", "r3"], Duration::from_secs(60)).await;
        eprintln!("r1's municipalities taken over in {took:?}");
        wait_day(&deployment, &pool, day(7), Duration::from_secs(180)).await;

        // Day 8: r2 stops (SIGSTOP) for longer than its leases while the day ships; r3 takes
        // everything; r2 continues, finds its leases gone, and writes nothing more under them.
        deployment.change_extracts(day(8));
        wait_captured(&deployment, &pool, day(8)).await;
        deployment.set_clock(day(9), "04:00:30");
        tokio::time::sleep(Duration::from_millis(300)).await;
        replicas["r2"].signal("STOP");
        let took = wait_held_by(&pool, &["r3"], Duration::from_secs(60)).await;
        eprintln!("r2's municipalities taken over in {took:?}");
        tokio::time::sleep(Duration::from_secs(5)).await;
        replicas["r2"].signal("CONT");
        replicas.get_mut("r2").unwrap().wait_for_log(
            "the lease was taken over by another replica",
            Duration::from_secs(30),
        );
        wait_day(&deployment, &pool, day(8), Duration::from_secs(180)).await;

        // Day 9: r4 joins and takes its share.
        replicas.insert("r4", deployment.replica("r4"));
        eventually("r4 serves its share", Duration::from_secs(60), || async {
            let held = holders(&pool).await;
            held.values().filter(|h| *h == "r4").count() >= 6
        })
        .await;
        deployment.change_extracts(day(9));
        wait_captured(&deployment, &pool, day(9)).await;
        deployment.set_clock(day(10), "04:00:30");
        wait_day(&deployment, &pool, day(9), Duration::from_secs(180)).await;

        // The operator's view: every municipality at a glance, one in full, the metrics.
        let tenants = deployment.tenants();
        let overview = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
                .args(["status", "--tenants"])
                .arg(tenants)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&overview.stdout).to_string();
        assert!(
            overview.status.code().is_some_and(|c| c <= 1),
            "{text}{}",
            String::from_utf8_lossy(&overview.stderr)
        );
        for number in &deployment.numbers {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(number) && l.contains("betjenes av r")),
                "{number} in the overview:\n{text}"
            );
        }
        let tenants = deployment.tenants();
        let one = deployment.numbers[0];
        let single = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
                .args(["status", "--municipality", one, "--tenants"])
                .arg(tenants)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&single.stdout).to_string();
        // In bokmål, the configurations' default.
        assert!(text.starts_with("betjenes av r"), "{text}");
        assert!(
            text.contains(&format!("kpr-bridge-status for Kommune {one} ({one})")),
            "{text}"
        );
        let (status, body) = replicas["r3"].get("/status");
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            json["leases"].as_array().unwrap().len(),
            MUNICIPALITIES,
            "{body}"
        );
        let (status, metrics) = replicas["r3"].get("/metrics");
        assert_eq!(status, 200, "{metrics}");
        assert!(
            metrics.contains("kpr_bridge_messages{municipality=\""),
            "{metrics}"
        );
        let (status, health) = replicas["r3"].get("/health");
        assert_eq!(status, 200, "{health}");

        // Every date shipped once, every notification in a delivered message, each chain
        // complete.
        for number in &deployment.numbers {
            let dates: Vec<(NaiveDate, i64)> = sqlx::query_as(&format!(
                "SELECT reporting_date, count(*) FROM kpr_{number}.daily_shipments GROUP BY reporting_date ORDER BY 1"
            ))
            .fetch_all(&pool)
            .await
            .unwrap();
            assert_eq!(
                dates,
                (5..=9).map(|d| (day(d), 1)).collect::<Vec<_>>(),
                "{number}: each date shipped once"
            );
            let undelivered = count(
                &pool,
                &format!(
                    "SELECT count(*) FROM kpr_{number}.daily_notifications n
                     WHERE NOT EXISTS (SELECT 1 FROM kpr_{number}.daily_message_notifications mn
                                       JOIN kpr_{number}.outbox o ON o.msg_id = mn.msg_id
                                       WHERE mn.number = n.number AND o.state = 'delivered')"
                ),
            )
            .await;
            assert_eq!(
                undelivered, 0,
                "{number}: every notification in a delivered message"
            );
            let chain: Vec<(i64, String, String)> = sqlx::query_as(&format!(
                "SELECT number, guid, previous FROM kpr_{number}.daily_notifications ORDER BY number"
            ))
            .fetch_all(&pool)
            .await
            .unwrap();
            assert!(chain.len() > 10, "{number}: {} notifications", chain.len());
            for (i, pair) in chain.windows(2).enumerate() {
                assert_eq!(pair[0].0, i as i64 + 1, "{number}: numbers without a gap");
                assert_eq!(
                    pair[1].2, pair[0].1,
                    "{number}: {} follows {}",
                    pair[1].0, pair[0].0
                );
            }
        }

        // The write log: along the order the fence let writes through, a municipality's
        // lease tokens never go down, and each token wrote for one replica only — the
        // replica the lease was given to.
        let writes: Vec<(String, i64, String, String)> = sqlx::query_as(
            "SELECT w.tenant, w.token, w.holder, h.holder FROM kpr_cluster.writes w
             JOIN kpr_cluster.lease_history h ON h.token = w.token
             WHERE w.token IS NOT NULL ORDER BY w.tenant, w.id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(writes.len() > 100, "{} writes under leases", writes.len());
        let mut last: BTreeMap<&str, i64> = BTreeMap::new();
        for (tenant, token, holder, given_to) in &writes {
            assert_eq!(
                holder, given_to,
                "{tenant}: token {token} wrote for its holder only"
            );
            let before = last.insert(tenant.as_str(), *token).unwrap_or(0);
            assert!(
                *token >= before,
                "{tenant}: a write under lease {token} after one under {before}: two replicas wrote"
            );
        }
        let tenants_with_takeovers = count(
            &pool,
            "SELECT count(DISTINCT tenant) FROM kpr_cluster.lease_history WHERE how = 'expired, taken over'",
        )
        .await;
        assert!(
            tenants_with_takeovers >= 6,
            "the killed and the stopped replicas' leases were taken over"
        );

        pool.close().await;
        for (name, replica) in replicas {
            let (exit, took, lines) = tokio::task::spawn_blocking(move || replica.terminate())
                .await
                .unwrap();
            assert_eq!(exit.code(), Some(0), "{name}:\n{}", lines.join("\n"));
            assert!(
                took < Duration::from_secs(15),
                "{name} stopped after {took:?}"
            );
            let leaks = support::agent::identities_in(&lines, &[]);
            assert!(
                leaks.is_empty(),
                "identity in {name}'s log:\n{}",
                leaks.join("\n")
            );
        }
        let _ = stop_receiver.send(true);
        let _ = receiving.await;
        for queues in &all {
            amqp::delete(queues).await;
        }
    });
}

/// The fence itself: a store opened under a lease writes while the lease is its own; once
/// another replica took the expired lease, the same store's next write is refused (and the
/// new holder's goes through); a takeover waits for a write in progress under the old token.
#[test]
fn a_store_whose_lease_was_taken_over_cannot_write() {
    use kpr_bridge::store::fence::is_lease_lost;
    use kpr_bridge::store::leases::Leases;
    use kpr_bridge::store::{Store, StoreError};

    let database = TestDatabase::create(Server::Postgres);
    support::block_on(|| async {
        let url = &database.url;
        let a = Leases::open(url, "a").await.unwrap();
        let b = Leases::open(url, "b").await.unwrap();
        a.enrol(&[("kpr_0301".into(), "0301".into())])
            .await
            .unwrap();
        let lease_a = a.take("kpr_0301").await.unwrap().expect("a free lease");
        assert!(b.take("kpr_0301").await.unwrap().is_none(), "held by a");
        let store_a = Store::open_postgres_in(url, "kpr_0301", Some(&lease_a))
            .await
            .unwrap();
        store_a.check_writable().await.unwrap();

        // A write in progress under a's token holds the takeover off.
        let pool = PgPool::connect(url).await.unwrap();
        sqlx::query(
            "UPDATE kpr_cluster.leases SET expires = clock_timestamp() - interval '1 second'",
        )
        .execute(&pool)
        .await
        .unwrap();
        let Store::Postgres(pool_a) = &store_a else {
            unreachable!()
        };
        let mut in_progress = pool_a.begin().await.unwrap();
        sqlx::query("DELETE FROM alerts WHERE false")
            .execute(&mut *in_progress)
            .await
            .unwrap();
        assert!(
            b.take("kpr_0301").await.unwrap().is_none(),
            "waits for a's write, then gives up for now"
        );
        in_progress.commit().await.unwrap();

        let lease_b = b
            .take("kpr_0301")
            .await
            .unwrap()
            .expect("the expired lease");
        assert!(
            lease_b.token > lease_a.token,
            "a later lease has a larger token"
        );
        assert!(!a.renew(&lease_a).await.unwrap(), "a's lease is gone");
        match store_a.check_writable().await {
            Err(StoreError::Query(e)) => assert!(is_lease_lost(&e), "{e}"),
            other => panic!("a wrote after losing its lease: {other:?}"),
        }
        let Store::Postgres(pool_a) = &store_a else {
            unreachable!()
        };
        let refused = sqlx::query(
            "INSERT INTO alerts (key, kind, raised_at, message) VALUES ('k', 'x', now(), 'm')",
        )
        .execute(pool_a)
        .await
        .unwrap_err();
        assert!(is_lease_lost(&refused), "{refused}");
        let store_b = Store::open_postgres_in(url, "kpr_0301", Some(&lease_b))
            .await
            .unwrap();
        store_b.check_writable().await.unwrap();

        // An operator's command (no lease) still writes, recorded without a token.
        let command = Store::open_postgres_in(url, "kpr_0301", None)
            .await
            .unwrap();
        command.check_writable().await.unwrap();
        let tokens: Vec<Option<i64>> =
            sqlx::query_scalar("SELECT token FROM kpr_cluster.writes ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(
            tokens,
            vec![
                Some(lease_a.token),
                Some(lease_a.token),
                Some(lease_b.token),
                None
            ]
        );
        for store in [store_a, store_b, command] {
            store.close().await;
        }
        pool.close().await;
        a.close().await;
        b.close().await;
    });
}
