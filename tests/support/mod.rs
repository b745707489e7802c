//! Real databases for tests: each test gets a database of its own on the loopback servers
//! (PostgreSQL and MariaDB, as `ops/test.sh` starts them) or an SQLite file, dropped at the end.
//! `KPR_TEST_POSTGRES` and `KPR_TEST_MYSQL` point elsewhere when needed.

#![allow(dead_code)] // Each test file uses part of it.

pub mod admin;
pub mod agent;
pub mod amqp;
pub mod browser;
pub mod checks;
pub mod daily;
pub mod delivery;
pub mod forged;
pub mod iplos;
pub mod municipality;
pub mod openssl;
pub mod spool;
pub mod tenants;
pub mod tls;

use std::sync::atomic::{AtomicU32, Ordering};

use kpr_bridge::model::{Decision, DiagnosisSystem, Gender, Household};
use kpr_bridge::source::Snapshot;
use sqlx::Connection;

/// The example EPJ schema the example configuration's queries read.
pub const SCHEMA: &str = include_str!("../../ops/examples/epj-postgres.sql");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Postgres,
    MariaDb,
}

impl Server {
    fn admin_url(self) -> String {
        match self {
            Server::Postgres => std::env::var("KPR_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            Server::MariaDb => std::env::var("KPR_TEST_MYSQL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into()),
        }
    }
}

/// A database of one test's own; dropped when this is dropped.
pub struct TestDatabase {
    server: Server,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub fn create(server: Server) -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "kpr_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let admin = server.admin_url();
        let (base, _) = admin.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        if let Err(e) = admin_sql(server, &format!("CREATE DATABASE {name}")) {
            panic!(
                "{server:?}: cannot create a test database: {e} — ops/test.sh starts the servers"
            );
        }
        TestDatabase { server, name, url }
    }

    /// Runs `script` (several statements) in the database.
    pub fn execute(&self, script: &str) {
        let url = self.url.clone();
        let script = script.to_string();
        let server = self.server;
        block_on(|| async move {
            match server {
                Server::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                    sqlx::raw_sql(&script).execute(&mut c).await.unwrap();
                }
                Server::MariaDb => {
                    let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
                    sqlx::raw_sql(&script).execute(&mut c).await.unwrap();
                }
            }
        });
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = match self.server {
            Server::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            Server::MariaDb => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        // Never panic here: this may run while a failed test unwinds.
        if let Err(e) = admin_sql(self.server, &sql) {
            eprintln!("{:?}: {sql}: {e}", self.server);
        }
    }
}

fn admin_sql(server: Server, sql: &str) -> Result<(), String> {
    let url = server.admin_url();
    let mut outcome = Ok(());
    block_on(|| async {
        let result = match server {
            Server::Postgres => match sqlx::PgConnection::connect(&url).await {
                Ok(mut c) => sqlx::raw_sql(sql).execute(&mut c).await.map(|_| ()),
                Err(e) => Err(e),
            },
            Server::MariaDb => match sqlx::MySqlConnection::connect(&url).await {
                Ok(mut c) => sqlx::raw_sql(sql).execute(&mut c).await.map(|_| ()),
                Err(e) => Err(e),
            },
        };
        outcome = result.map_err(|e| format!("{url}: {e}"));
    });
    outcome
}

/// Runs the future `make` makes to its end on a runtime of its own thread, so that it may be
/// called from anywhere, a `Drop` included.
pub fn block_on<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send,
    Fut: std::future::Future<Output = ()>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(make())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
}

/// The records as SQL for the example schema: what an EPJ's database would hold.
pub fn insert_script(records: &Snapshot) -> String {
    let text = |value: Option<&str>| match value {
        Some(v) => {
            assert!(
                !v.contains('\\'),
                "MariaDB would read a backslash as an escape"
            );
            format!("'{}'", v.replace('\'', "''"))
        }
        None => "NULL".into(),
    };
    let date = |d: Option<chrono::NaiveDate>| text(d.map(|d| d.to_string()).as_deref());
    // One transaction: row by row in autocommit takes seconds.
    let mut sql = String::from("BEGIN;\n");
    for p in &records.persons {
        let name = p.name.as_ref().map(|n| n.expose().to_string());
        let (first, last) = match name.as_deref().and_then(|n| n.rsplit_once(' ')) {
            Some((first, last)) => (Some(first.to_string()), Some(last.to_string())),
            None => (name.clone(), None),
        };
        sql += &format!(
            "INSERT INTO pasient VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {});\n",
            text(Some(&p.person_id)),
            text(p.ident.as_ref().map(|i| i.expose())),
            text(first.as_deref()),
            text(last.as_deref()),
            p.birth_year.map_or("NULL".into(), |y| y.to_string()),
            text(p.gender.map(|g| if g == Gender::Male { "M" } else { "K" })),
            text(p.municipality.as_deref()),
            text(p.district.as_deref()),
            match p.household {
                Some(Household::Alone) => "1",
                Some(Household::WithOthers) => "0",
                None => "NULL",
            },
        );
    }
    let mut types: Vec<&str> = records
        .services
        .iter()
        .map(|s| s.local_type.as_str())
        .collect();
    types.sort_unstable();
    types.dedup();
    for t in types {
        sql += &format!(
            "INSERT INTO tjenestetype VALUES ({}, 'lokal');\n",
            text(Some(t))
        );
    }
    for s in &records.services {
        sql += &format!(
            "INSERT INTO vedtak VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {});\n",
            text(Some(&s.service_id)),
            text(Some(&s.person_id)),
            text(Some(&s.local_type)),
            u8::from(s.decision == Decision::Granted),
            date(s.decided_on),
            date(s.start),
            date(s.end),
            s.hours_per_week.map_or("NULL".into(), |h| h.to_string()),
            text(s.provider_orgnr.as_deref()),
        );
        for pause in &s.pauses {
            sql += &format!(
                "INSERT INTO opphold VALUES ({}, {}, {});\n",
                text(Some(&s.service_id)),
                date(Some(pause.from)),
                date(pause.to)
            );
        }
    }
    for a in &records.assessments {
        sql += &format!(
            "INSERT INTO funksjonsvurdering VALUES ({}, {}, {}, {});\n",
            text(Some(a.person_id)),
            date(a.assessed_on),
            text(Some(a.variable)),
            a.score
        );
    }
    for d in &records.diagnoses {
        sql += &format!(
            "INSERT INTO diagnose VALUES ({}, {}, {}, {});\n",
            text(Some(&d.person_id)),
            text(Some(match d.system {
                DiagnosisSystem::Icpc2 => "ICPC2",
                DiagnosisSystem::Icd10 => "ICD10",
            })),
            text(Some(&d.code)),
            date(d.registered_on)
        );
    }
    for a in &records.attributes {
        sql += &format!(
            "INSERT INTO pasientforhold VALUES ({}, {}, {}, {});\n",
            text(Some(&a.person_id)),
            text(Some(a.kind.as_str())),
            date(a.from),
            date(a.to)
        );
    }
    sql + "COMMIT;\n"
}

/// Runs `scenario` on a fresh SQLite state store and a fresh PostgreSQL one.
pub fn on_both<F, Fut>(scenario: F)
where
    F: Fn(kpr_bridge::store::Store) -> Fut + Send + Sync,
    Fut: std::future::Future<Output = ()>,
{
    use kpr_bridge::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    block_on(|| async { scenario(Store::open(None, &data_dir).await.unwrap()).await });
    let database = TestDatabase::create(Server::Postgres);
    let url = database.url.clone();
    block_on(|| async {
        let store = Store::open(Some(&url), &data_dir).await.unwrap();
        scenario(store.clone()).await;
        store.close().await;
    });
}

/// Like [`on_both`], but the scenario is also told where its store is — the data directory
/// (SQLite) or the PostgreSQL URL — so that it can write a configuration for a command.
pub fn on_both_at<F, Fut>(scenario: F)
where
    F: Fn(kpr_bridge::store::Store, std::path::PathBuf, Option<String>) -> Fut + Send + Sync,
    Fut: std::future::Future<Output = ()>,
{
    use kpr_bridge::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("state");
    block_on(|| async {
        let store = Store::open(None, &data_dir).await.unwrap();
        scenario(store.clone(), data_dir.clone(), None).await;
        store.close().await;
    });
    let database = TestDatabase::create(Server::Postgres);
    let url = database.url.clone();
    let data_dir = dir.path().join("state-pg");
    block_on(|| async {
        let store = Store::open(Some(&url), &data_dir).await.unwrap();
        scenario(store.clone(), data_dir.clone(), Some(url.clone())).await;
        store.close().await;
    });
}

/// Every row of every table of a state store as one text, to scan for what must not be
/// there (an identity number, a name).
pub async fn store_text(store: &kpr_bridge::store::Store) -> String {
    use kpr_bridge::store::Store;
    use sqlx::Row;
    let mut text = String::new();
    match store {
        Store::Sqlite(pool) => {
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(pool)
                    .await
                    .unwrap();
            for table in tables {
                for row in sqlx::query(&format!("SELECT * FROM \"{table}\""))
                    .fetch_all(pool)
                    .await
                    .unwrap()
                {
                    for i in 0..row.len() {
                        let cell = row
                            .try_get::<Option<String>, _>(i)
                            .ok()
                            .flatten()
                            .or_else(|| {
                                row.try_get::<Option<Vec<u8>>, _>(i)
                                    .ok()
                                    .flatten()
                                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                            })
                            .or_else(|| {
                                row.try_get::<Option<i64>, _>(i)
                                    .ok()
                                    .flatten()
                                    .map(|n| n.to_string())
                            })
                            .unwrap_or_default();
                        text.push_str(&cell);
                        text.push('|');
                    }
                    text.push('\n');
                }
            }
        }
        Store::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t"))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                for row in rows {
                    text.push_str(&row);
                    text.push('\n');
                }
            }
        }
    }
    text
}
