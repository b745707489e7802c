//! The annual messages in the outbox, by year and target.
//!
//! The register's letters say: do not send again before the receipt of the earlier shipment
//! is checked. So a new annual shipment is refused while one of the same year and target has
//! no receipt yet, and the refusal is decided in the same transaction that would enqueue, so
//! that two runs at once cannot both pass it.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::outbox::{NewMessage, State, insert_queued};
use super::{Store, StoreError, in_transaction, on_pool};

/// One annual message as sent earlier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnualSent {
    pub msg_id: String,
    pub shipment: String,
    pub msg_type: String,
    pub state: State,
    pub created_at: DateTime<Utc>,
}

impl AnnualSent {
    /// Whether the message still waits for the register's word: queued, sent, or sent and
    /// past the receipt timeout without one. A rejected or failed message may be replaced;
    /// a delivered one may be corrected by sending the year again.
    pub fn awaits_receipt(&self) -> bool {
        matches!(self.state, State::Queued | State::Sent | State::Expired)
    }
}

/// What an annual shipment is.
pub struct AnnualRecord<'a> {
    pub shipment: &'a str,
    pub year: i32,
    pub target: &'a str,
    pub persons: u64,
    /// What `--force` overrode, in words; `None` when nothing was.
    pub forced: Option<&'a str>,
}

/// The annual messages of a year and target, oldest first, as an iterator of results; on a
/// pool or inside a transaction.
macro_rules! annual_sent {
    ($executor:expr, $year:expr, $target:expr) => {
        sqlx::query(
            "SELECT a.msg_id, a.shipment, a.msg_type, o.state, a.created_at
             FROM annual_shipments a JOIN outbox o ON o.msg_id = a.msg_id
             WHERE a.year = $1 AND a.target = $2 ORDER BY a.created_at, a.msg_id",
        )
        .bind($year)
        .bind($target)
        .fetch_all($executor)
        .await?
        .into_iter()
        .map(|row| -> Result<AnnualSent, StoreError> {
            Ok(AnnualSent {
                msg_id: row.try_get("msg_id")?,
                shipment: row.try_get("shipment")?,
                msg_type: row.try_get("msg_type")?,
                state: row.try_get::<String, _>("state")?.parse()?,
                created_at: row.try_get("created_at")?,
            })
        })
    };
}

impl Store {
    /// The next number of `series` (such as `annual:2025`), taken for good: the register
    /// asks for numbers that grow by one per message and are never reused.
    pub async fn take_running_number(&self, series: &str) -> Result<u32, StoreError> {
        let last: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO running_numbers (series, last) VALUES ($1, 1)
                 ON CONFLICT (series) DO UPDATE SET last = running_numbers.last + 1
                 RETURNING last",
            )
            .bind(series)
            .fetch_one(pool)
            .await?
        });
        u32::try_from(last).map_err(|_| StoreError::Corrupt(format!("running number {last}")))
    }

    /// The number [`Store::take_running_number`] would give next, without taking it (a dry
    /// run).
    pub async fn next_running_number(&self, series: &str) -> Result<u32, StoreError> {
        let last: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT last FROM running_numbers WHERE series = $1")
                .bind(series)
                .fetch_optional(pool)
                .await?
        });
        u32::try_from(last.unwrap_or(0) + 1)
            .map_err(|_| StoreError::Corrupt(format!("running number {last:?}")))
    }

    /// Every annual message of `year` to `target`, oldest first.
    pub async fn annual_sent(
        &self,
        year: i32,
        target: &str,
    ) -> Result<Vec<AnnualSent>, StoreError> {
        on_pool!(self, pool => {
            annual_sent!(pool, year, target).collect()
        })
    }

    /// Puts the messages of one annual shipment in the outbox, in the order given, unless
    /// an earlier message of the same year and target awaits its receipt and `record.forced`
    /// is `None`. Returns the messages that wait (and nothing was enqueued), or none.
    pub async fn enqueue_annual(
        &self,
        record: &AnnualRecord<'_>,
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> Result<Vec<AnnualSent>, StoreError> {
        let waiting = in_transaction!(self, |tx, lock| {
            if !lock.is_empty() {
                // PostgreSQL: no row to lock yet; annual sends take turns on a named lock.
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' kpr-bridge annual'))")
                    .execute(&mut *tx)
                    .await?;
            }
            let waiting: Vec<AnnualSent> = annual_sent!(&mut *tx, record.year, record.target)
                .filter(|sent| sent.as_ref().map_or(true, AnnualSent::awaits_receipt))
                .collect::<Result<_, _>>()?;
            if waiting.is_empty() || record.forced.is_some() {
                // A millisecond apart: the outbox sends in order of creation.
                for (i, message) in messages.iter().enumerate() {
                    let at = now + chrono::Duration::milliseconds(i as i64);
                    insert_queued!(tx, message, at);
                    sqlx::query(
                        "INSERT INTO annual_shipments
                         (msg_id, shipment, year, target, msg_type, persons, forced, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&message.msg_id)
                    .bind(record.shipment)
                    .bind(record.year)
                    .bind(record.target)
                    .bind(&message.msg_type)
                    .bind(i64::try_from(record.persons).unwrap_or(i64::MAX))
                    .bind(record.forced)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                Vec::new()
            } else {
                waiting
            }
        });
        Ok(waiting)
    }
}
