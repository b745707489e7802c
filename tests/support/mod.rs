//! Real databases for tests: each test gets a database of its own on the loopback servers
//! (PostgreSQL and MariaDB, as `ops/test.sh` starts them) or an SQLite file, dropped at the end.
//! `KPR_TEST_POSTGRES` and `KPR_TEST_MYSQL` point elsewhere when needed.

#![allow(dead_code)] // Each test file uses part of it.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

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
