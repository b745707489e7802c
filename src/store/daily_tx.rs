//! One transaction on the daily flow's tables, [`DailyTx`]: what every daily file of the store
//! writes through (`daily.rs`, `baseline.rs`, `persons.rs`, `notifications.rs`,
//! `identity_keys.rs`, `chain.rs`), and the helpers their many-row statements share.
//!
//! A capture numbers and writes its notifications and the new baseline in one, a ship writes
//! its messages to the outbox and records which notifications they hold in one (invariant 1).
//! Captures and ships never overlap: SQLite's `BEGIN IMMEDIATE` holds the write lock,
//! PostgreSQL takes a transaction-scoped advisory lock.

use super::{Store, StoreError};

/// Rows per statement. SQLite binds each value, and 500 rows stay well under its limit on
/// parameters; PostgreSQL binds each column as one array (`UNNEST`, `= ANY`), with one
/// statement to parse and plan for thousands of rows instead of one per 500.
pub(super) const BATCH: usize = 500;
pub(super) const ARRAY_BATCH: usize = 10_000;

/// One open transaction on the daily tables.
pub enum DailyTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same statements on whichever database the transaction is on.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::store::daily_tx::DailyTx::Sqlite($c) => $body,
            $crate::store::daily_tx::DailyTx::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_tx;

impl Store {
    /// Begins a daily transaction, waiting for any other capture or ship to finish.
    pub async fn begin_daily(&self) -> Result<DailyTx, StoreError> {
        Ok(match self {
            Store::Sqlite(pool) => DailyTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' kpr-bridge daily'))")
                    .execute(&mut *tx)
                    .await?;
                DailyTx::Postgres(tx)
            }
        })
    }
}

/// `?, ?, …` for `count` parameters. SQLite takes `$1` too, but binding looks each numbered
/// parameter's name up in a list as long as the statement's: at 500 rows of 8 columns that
/// took three quarters of an initial capture. (sqlx numbers a `?` after the `?`s before it,
/// not after a `$1`, so a statement uses one kind of mark throughout.)
pub(super) fn marks(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// `(?, …, ?), (?, …)`: `rows` rows of `width` parameters.
pub(super) fn value_rows(rows: usize, width: usize) -> String {
    vec![format!("({})", marks(width)); rows].join(", ")
}

/// Each column's values as one PostgreSQL array.
pub(super) fn column<'r, R, T>(rows: &'r [R], value: impl Fn(&'r R) -> T) -> Vec<T> {
    rows.iter().map(value).collect()
}

impl DailyTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        on_tx!(self, tx => tx.commit().await?);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        on_tx!(self, tx => tx.rollback().await?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_row_statements_for_sqlite_mark_parameters_with_question_marks() {
        assert_eq!(value_rows(2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(marks(1), "?");
    }
}
