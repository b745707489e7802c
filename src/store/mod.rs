//! The state store: the one place every stage may write, each through its own narrow functions.
//!
//! SQLite in the data directory by default (one file, nothing to run); PostgreSQL when the
//! configuration gives a `postgres://` URL (a municipality that wants its state in its own
//! backed-up database server). Both get the same tables from `migrations/`, applied at open.
//! The SQL is written once, in the dialect both understand (`$1` parameters); only how a
//! read-then-write transaction starts differs: SQLite takes the write lock up front with
//! `BEGIN IMMEDIATE` (or two writers deadlock into "database is locked"), PostgreSQL locks
//! the row it reads with `FOR UPDATE`.

pub mod admin;
pub mod alerts;
pub mod annual;
pub mod backup;
pub mod baseline;
pub mod chain;
pub mod daily;
pub mod daily_tx;
pub mod fence;
pub mod identity_keys;
pub mod leases;
pub(crate) mod migrations;
pub mod notifications;
pub mod outbox;
pub mod persons;
pub mod receipts;
pub mod status;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use thiserror::Error;

use crate::config::{Config, url};
use leases::Lease;

/// Creates a schema when it is missing. Several replicas may race to; the loser's error
/// (the name already taken) is harmless and taken for success.
async fn create_schema(options: PgConnectOptions, schema: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&options).await?;
    let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    match created {
        Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("23505") => {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// The state file's name inside the data directory.
pub const SQLITE_FILE: &str = "state.sqlite";

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "cannot open the state store {place}: {source}; check that it exists and that kpr-bridge may write to it"
    )]
    Open { place: String, source: sqlx::Error },
    #[error(
        "cannot bring the state store {place} up to date: {source}; it was changed by hand or by a newer kpr-bridge"
    )]
    Migrate {
        place: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("the state store failed: {0}{hint}", hint = full_disk_hint(.0))]
    Query(#[from] sqlx::Error),
    #[error("the state store holds a value it cannot read: {0}")]
    Corrupt(String),
    /// The packed message of an outbox row kept as a file (`body_file`).
    #[error("the packed message file {}: {reason}", file.display())]
    PackedFile { file: PathBuf, reason: String },
}

/// Runs the same statements on whichever database the store is.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` in a read-then-write transaction: `$lock` is the suffix that makes a SELECT
/// lock what it reads (empty on SQLite, whose `BEGIN IMMEDIATE` already holds the write lock).
macro_rules! in_transaction {
    ($store:expr, |$tx:ident, $lock:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let $lock = "";
                let result = $body;
                $tx.commit().await?;
                result
            }
            $crate::store::Store::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let $lock = " FOR UPDATE";
                let result = $body;
                $tx.commit().await?;
                result
            }
        }
    };
}
pub(crate) use {in_transaction, on_pool};

/// What to do when the disk under the state store is full (SQLite's SQLITE_FULL, PostgreSQL's
/// disk_full): nothing was committed, and the step runs again once there is room.
fn full_disk_hint(error: &sqlx::Error) -> &'static str {
    let full = error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "13" || code == "53100");
    if full {
        " — the disk under the state store is full: nothing was written; free space there, and the step runs again"
    } else {
        ""
    }
}

/// Whether a pooled connection may be handed out again. When the disk is full, SQLite rolls
/// a transaction back by itself; sqlx does not notice and keeps counting it as open, so the
/// connection would refuse every later `BEGIN`. Such a connection is closed, not reused.
fn usable(conn: &impl sqlx::Connection) -> bool {
    !conn.is_in_transaction()
}

impl Store {
    /// Opens the store a configuration names: `url` when given (PostgreSQL), else SQLite in
    /// `data_dir`. Creates the SQLite file and applies pending migrations.
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        match url {
            Some(url) => Store::open_postgres(url).await,
            None => Store::open_sqlite(&data_dir.join(SQLITE_FILE)).await,
        }
    }

    /// Opens the store a configuration names, in its `[state] schema` when it gives one.
    pub async fn open_for(config: &Config) -> Result<Store, StoreError> {
        match (&config.state_url, &config.state_schema) {
            (Some(url), Some(schema)) => Store::open_postgres_in(url, schema, None).await,
            _ => Store::open(config.state_url.as_deref(), &config.data_dir).await,
        }
    }

    pub async fn open_sqlite(file: &Path) -> Result<Store, StoreError> {
        let place = file.display().to_string();
        if let Some(dir) = file.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                place: place.clone(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .before_acquire(|conn, _| Box::pin(async move { Ok(usable(conn)) }))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                place: place.clone(),
                source,
            })?;
        let store = Store::Sqlite(pool);
        store.migrate(&place).await?;
        Ok(store)
    }

    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let place = url::redacted(url);
        let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::Open {
            place: place.clone(),
            source,
        })?;
        Store::connect_postgres(PgPoolOptions::new().max_connections(4), options, place).await
    }

    /// Opens the store in `schema` of the database at `url` (created when missing). With a
    /// `lease`, every connection carries the lease's token, and every write is fenced by it
    /// (`fence.rs`): once another replica has taken the lease, this store writes
    /// nothing more.
    pub async fn open_postgres_in(
        url: &str,
        schema: &str,
        lease: Option<&Lease>,
    ) -> Result<Store, StoreError> {
        let place = format!("{} (schema {schema})", url::redacted(url));
        let open = |source| StoreError::Open {
            place: place.clone(),
            source,
        };
        let server = PgConnectOptions::from_str(url).map_err(open)?;
        create_schema(server.clone(), schema).await.map_err(open)?;
        let mut options = server.options([("search_path", schema)]);
        if let Some(lease) = lease {
            let token = lease.token.to_string();
            options = options.options([
                ("kpr.lease_token", token.as_str()),
                ("kpr.replica", lease.replica.as_str()),
                // A replica stopped inside a transaction keeps its lock on the lease row;
                // the server ends such a session, so that another replica can take over
                // (within the minute). No step pauses that long between statements.
                ("idle_in_transaction_session_timeout", "40s"),
            ]);
        }
        // One of many schemas in a shared server: fewer connections each, and none kept idle.
        let pool = PgPoolOptions::new()
            .max_connections(3)
            .idle_timeout(Duration::from_secs(30));
        let store = Store::connect_postgres(pool, options, place.clone()).await?;
        if lease.is_some() {
            fence::install(&store, schema)
                .await
                .map_err(|source| StoreError::Open { place, source })?;
        }
        Ok(store)
    }

    async fn connect_postgres(
        pool: PgPoolOptions,
        options: PgConnectOptions,
        place: String,
    ) -> Result<Store, StoreError> {
        let pool = pool
            .before_acquire(|conn, _| Box::pin(async move { Ok(usable(conn)) }))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                place: place.clone(),
                source,
            })?;
        let store = Store::Postgres(pool);
        store.migrate(&place).await?;
        Ok(store)
    }

    async fn migrate(&self, place: &str) -> Result<(), StoreError> {
        let fail = |source| StoreError::Migrate {
            place: place.to_string(),
            source,
        };
        match self {
            Store::Sqlite(pool) => migrations::sqlite().await.map_err(fail)?.run(pool).await,
            Store::Postgres(pool) => migrations::postgres().await.map_err(fail)?.run(pool).await,
        }
        .map_err(fail)
    }

    /// Fails when this store's writes are fenced and its lease is lost: a cheap check before
    /// something leaves the process that the store cannot take back (a publish). A statement
    /// that touches no row still fires the fence.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        if let Store::Postgres(pool) = self {
            sqlx::query("DELETE FROM outbox WHERE false")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Whether the store answers, for `/health`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}
