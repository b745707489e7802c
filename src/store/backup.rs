//! Copies of the state store that are consistent while the agent runs, and an SQLite copy put
//! back: for `kpr-bridge backup` and `restore` (`commands/backup.rs`).
//!
//! - SQLite: `VACUUM INTO` a new file (SQLite's online copy: one read transaction, so the copy
//!   is the store as of one moment, whatever commits meanwhile); read back, its integrity
//!   checked.
//! - PostgreSQL: `pg_dump --format=custom` (with `--schema` of `[state] schema`), run in a
//!   snapshot that a transaction of ours exported, so that what we read of the chain and the
//!   outbox files is what the dump holds.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use thiserror::Error;
use uuid::Uuid;

use super::daily_tx::DailyTx;
use super::{Store, StoreError};

/// What a copy holds of the chain, and the outbox files its rows name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    /// The last notification, a continuation counted (where its numbering goes on).
    pub last: Option<(i64, Uuid)>,
    pub last_shipped: Option<NaiveDate>,
    /// Packed messages kept as files (`outbox.body_file`), by the paths the rows name.
    pub outbox_files: Vec<PathBuf>,
}

#[derive(Debug, Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", file.display())]
    File {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the copy {} is damaged: PRAGMA integrity_check says {answer}; use another copy",
        file.display()
    )]
    Damaged { file: PathBuf, answer: String },
    #[error(
        "pg_dump cannot be run: {0}; install PostgreSQL's client programs (Debian: postgresql-client) of the server's version"
    )]
    NoPgDump(std::io::Error),
    #[error("pg_dump failed ({status}): {stderr}")]
    PgDump { status: String, stderr: String },
}

/// What the chain and the outbox are in the transaction `tx`.
async fn copied_in(tx: &mut DailyTx) -> Result<Copied, StoreError> {
    let last = tx.last_notification().await?;
    let (last_shipped, files): (Option<NaiveDate>, Vec<String>) = match tx {
        DailyTx::Sqlite(tx) => (
            sqlx::query_scalar("SELECT MAX(reporting_date) FROM daily_shipments")
                .fetch_one(&mut **tx)
                .await?,
            sqlx::query_scalar(
                "SELECT body_file FROM outbox WHERE body_file IS NOT NULL ORDER BY msg_id",
            )
            .fetch_all(&mut **tx)
            .await?,
        ),
        DailyTx::Postgres(tx) => (
            sqlx::query_scalar("SELECT MAX(reporting_date) FROM daily_shipments")
                .fetch_one(&mut **tx)
                .await?,
            sqlx::query_scalar(
                "SELECT body_file FROM outbox WHERE body_file IS NOT NULL ORDER BY msg_id",
            )
            .fetch_all(&mut **tx)
            .await?,
        ),
    };
    Ok(Copied {
        last,
        last_shipped,
        outbox_files: files.into_iter().map(PathBuf::from).collect(),
    })
}

impl Store {
    /// SQLite: the store as of one moment into `file`, which must not exist.
    pub async fn vacuum_into(&self, file: &Path) -> Result<(), StoreError> {
        if let Store::Sqlite(pool) = self {
            sqlx::query("VACUUM INTO $1")
                .bind(file.to_string_lossy().into_owned())
                .execute(pool)
                .await?;
        }
        Ok(())
    }
}

/// Opens an SQLite copy read-only (no migration touches it) and checks its integrity.
pub async fn open_sqlite_copy(file: &Path) -> Result<Store, BackupError> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(StoreError::from)?;
    let answer: Result<String, _> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await;
    match answer {
        Ok(answer) if answer == "ok" => Ok(Store::Sqlite(pool)),
        Ok(answer) => {
            pool.close().await;
            Err(BackupError::Damaged {
                file: file.to_path_buf(),
                answer,
            })
        }
        Err(e) => {
            pool.close().await;
            Err(StoreError::from(e).into())
        }
    }
}

/// What a store holds of the chain and the outbox, read in one transaction.
pub async fn copied(store: &Store) -> Result<Copied, StoreError> {
    let mut tx = store.begin_read().await?;
    let copied = copied_in(&mut tx).await;
    tx.rollback().await?;
    copied
}

/// The password of a `postgres://user:password@…` URL, percent-decoded, and the URL without it.
fn split_password(url: &str) -> (String, Option<String>) {
    let redacted = crate::config::url::redacted(url);
    let Some((_, rest)) = url.split_once("://") else {
        return (redacted, None);
    };
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let password = authority
        .rfind('@')
        .and_then(|at| authority[..at].split_once(':'))
        .map(|(_, password)| percent_decode(password));
    (redacted, password)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok();
        match (bytes[i], hex().and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The pg_dump (or pg_restore, psql) command line for `url`: the URL without its password
/// (a password goes in `PGPASSWORD`, never on the command line, where `ps` would show it).
pub fn pg_command(program: &str, url: &str) -> Command {
    let (without, password) = split_password(url);
    let mut command = Command::new(program);
    command.arg(format!("--dbname={without}"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command
}

/// PostgreSQL: `pg_dump --format=custom` of the store (its `schema` only, when given) into
/// `file`, in a snapshot exported by a transaction that reads the chain and the outbox files
/// from the same moment.
pub async fn pg_dump(
    store: &Store,
    url: &str,
    schema: Option<&str>,
    file: &Path,
) -> Result<Copied, BackupError> {
    let Store::Postgres(pool) = store else {
        unreachable!("pg_dump is for a PostgreSQL store")
    };
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let mut tx = DailyTx::Postgres(tx);
    let copied = copied_in(&mut tx).await?;
    let mut command = pg_command("pg_dump", url);
    command
        .arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg(format!("--file={}", file.display()));
    if let Some(schema) = schema {
        command.arg(format!("--schema={schema}"));
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| BackupError::NoPgDump(std::io::Error::other(e.to_string())))?
        .map_err(BackupError::NoPgDump)?;
    tx.rollback().await?;
    if !output.status.success() {
        return Err(BackupError::PgDump {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(copied)
}

/// Puts an SQLite copy back as `live`: copied beside it first (synced), then the live file
/// and its `-wal` and `-shm` moved into `aside` (so that no journal of the old store is
/// applied to the new one), then the copy renamed into place and the directory synced.
pub fn put_back_sqlite(copy: &Path, live: &Path, aside: &Path) -> Result<(), BackupError> {
    let fail = |file: &Path| {
        let file = file.to_path_buf();
        move |source| BackupError::File { file, source }
    };
    let dir = live
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail(dir))?;
    let mut restoring = live.as_os_str().to_owned();
    restoring.push(".restoring");
    let restoring = PathBuf::from(restoring);
    copy_synced(copy, &restoring)?;
    std::fs::create_dir_all(aside).map_err(fail(aside))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = live.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        if file.exists() {
            let to = aside.join(file.file_name().expect("a file name"));
            std::fs::rename(&file, &to).map_err(fail(&file))?;
        }
    }
    std::fs::rename(&restoring, live).map_err(fail(live))?;
    sync_dir(dir)?;
    sync_dir(aside)
}

/// Copies `from` to `to` (mode 0600), synced.
pub fn copy_synced(from: &Path, to: &Path) -> Result<(), BackupError> {
    let copied = (|| {
        let mut input = std::fs::File::open(from)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut output = options.open(to)?;
        std::io::copy(&mut input, &mut output)?;
        output.sync_all()
    })();
    copied.map_err(|source| BackupError::File {
        file: to.to_path_buf(),
        source,
    })
}

pub fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| BackupError::File {
            file: dir.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_leaves_the_url_for_the_environment() {
        assert_eq!(
            split_password("postgres://kpr:p%40ss%20w@db:5432/kpr"),
            (
                "postgres://kpr@db:5432/kpr".to_string(),
                Some("p@ss w".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1:5432/x"),
            ("postgres://postgres@127.0.0.1:5432/x".to_string(), None)
        );
    }
}
