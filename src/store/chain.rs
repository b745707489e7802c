//! The chain as the store knows it, for the chain mark (`daily/mark.rs`): what it holds under
//! a number, the last notification it put in the outbox, and the continuations an operator
//! recorded after a restore (`daily_chain_continuations`, `kpr-bridge chain
//! --continue-after-mark`): "the register's chain goes on after this number and GUID", which
//! [`DailyTx::last_notification`] gives the numbering when it is later than the store's own
//! last notification.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::daily_tx::{DailyTx, on_tx};
use super::{Store, StoreError};

/// A notification the store has put in the outbox, with the message it first went in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub number: i64,
    pub guid: Uuid,
    pub msg_id: String,
    /// `None` for a re-send.
    pub reporting_date: Option<NaiveDate>,
    pub at: DateTime<Utc>,
}

/// "The register's chain goes on after `after_number`/`after_guid`", recorded when a store
/// restored from an older copy was found behind the chain mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Continuation {
    pub after_number: i64,
    pub after_guid: Uuid,
    /// What the mark said of that notification's message.
    pub mark_msg_id: String,
    pub mark_date: Option<NaiveDate>,
    pub mark_at: DateTime<Utc>,
    /// The store's own last notification then (number 0: none) and the last reporting date
    /// it had shipped: the notifications after it up to `after_number` were sent and are lost.
    pub store_number: i64,
    pub store_guid: Option<Uuid>,
    pub store_last_date: Option<NaiveDate>,
    pub at: DateTime<Utc>,
}

/// A notification numbered after a continuation: what the first shipment after a restore
/// sent again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    pub number: i64,
    pub reporting_date: NaiveDate,
    pub source: String,
    pub local_id: String,
    pub kind: String,
    pub status: String,
}

fn guid(text: &str, what: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("{what} '{text}'")))
}

impl Store {
    /// A transaction over the daily tables for reading only: it takes no lock, so that
    /// `status` and `chain` never wait for a capture.
    pub async fn begin_read(&self) -> Result<DailyTx, StoreError> {
        Ok(match self {
            Store::Sqlite(pool) => DailyTx::Sqlite(pool.begin().await?),
            Store::Postgres(pool) => DailyTx::Postgres(pool.begin().await?),
        })
    }
}

type ContinuationRow = (
    i64,
    String,
    String,
    Option<NaiveDate>,
    DateTime<Utc>,
    i64,
    Option<String>,
    Option<NaiveDate>,
    DateTime<Utc>,
);

impl DailyTx {
    /// The store's own last notification, a continuation left out.
    pub async fn last_stored(&mut self) -> Result<Option<(i64, Uuid)>, StoreError> {
        let row: Option<(i64, String)> = on_tx!(self, tx => {
            sqlx::query_as(
                "SELECT number, guid FROM daily_notifications ORDER BY number DESC LIMIT 1",
            )
            .fetch_optional(&mut **tx)
            .await?
        });
        row.map(|(number, text)| Ok((number, guid(&text, "notification GUID")?)))
            .transpose()
    }

    /// The GUID the store has under `number`: a notification's, or a continuation's.
    pub async fn guid_at(&mut self, number: i64) -> Result<Option<Uuid>, StoreError> {
        let text: Option<String> = on_tx!(self, tx => {
            match sqlx::query_scalar("SELECT guid FROM daily_notifications WHERE number = $1")
                .bind(number)
                .fetch_optional(&mut **tx)
                .await?
            {
                Some(text) => Some(text),
                None => sqlx::query_scalar(
                    "SELECT after_guid FROM daily_chain_continuations WHERE after_number = $1",
                )
                .bind(number)
                .fetch_optional(&mut **tx)
                .await?,
            }
        });
        text.map(|text| guid(&text, "notification GUID"))
            .transpose()
    }

    /// The last notification put in the outbox, with its first message.
    pub async fn last_sent(&mut self) -> Result<Option<Sent>, StoreError> {
        type Row = (i64, String, String, Option<NaiveDate>, DateTime<Utc>);
        let row: Option<Row> = on_tx!(self, tx => {
            sqlx::query_as(
                "SELECT n.number, n.guid, n.first_message, m.reporting_date, m.at
                 FROM daily_notifications n JOIN daily_messages m ON m.msg_id = n.first_message
                 ORDER BY n.number DESC LIMIT 1",
            )
            .fetch_optional(&mut **tx)
            .await?
        });
        row.map(|(number, text, msg_id, reporting_date, at)| {
            Ok(Sent {
                number,
                guid: guid(&text, "notification GUID")?,
                msg_id,
                reporting_date,
                at,
            })
        })
        .transpose()
    }

    /// The continuation recorded last: where numbering goes on when the store's own
    /// notifications end before it.
    pub async fn last_continuation(&mut self) -> Result<Option<Continuation>, StoreError> {
        Ok(self.continuations().await?.pop())
    }

    /// Every continuation recorded, oldest first.
    pub async fn continuations(&mut self) -> Result<Vec<Continuation>, StoreError> {
        let rows: Vec<ContinuationRow> = on_tx!(self, tx => {
            sqlx::query_as(
                "SELECT after_number, after_guid, mark_msg_id, mark_date, mark_at, store_number,
                 store_guid, store_last_date, at FROM daily_chain_continuations
                 ORDER BY after_number",
            )
            .fetch_all(&mut **tx)
            .await?
        });
        rows.into_iter()
            .map(
                |(
                    after_number,
                    after_guid,
                    mark_msg_id,
                    mark_date,
                    mark_at,
                    store_number,
                    store_guid,
                    store_last_date,
                    at,
                )| {
                    Ok(Continuation {
                        after_number,
                        after_guid: guid(&after_guid, "continuation GUID")?,
                        mark_msg_id,
                        mark_date,
                        mark_at,
                        store_number,
                        store_guid: store_guid
                            .map(|text| guid(&text, "continuation GUID"))
                            .transpose()?,
                        store_last_date,
                        at,
                    })
                },
            )
            .collect()
    }

    /// Records that the register's chain goes on after `continuation.after_number`.
    pub async fn record_continuation(
        &mut self,
        continuation: &Continuation,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_chain_continuations (after_number, after_guid, mark_msg_id,
                 mark_date, mark_at, store_number, store_guid, store_last_date, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(continuation.after_number)
            .bind(continuation.after_guid.to_string())
            .bind(&continuation.mark_msg_id)
            .bind(continuation.mark_date)
            .bind(continuation.mark_at)
            .bind(continuation.store_number)
            .bind(continuation.store_guid.map(|g| g.to_string()))
            .bind(continuation.store_last_date)
            .bind(continuation.at)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// The notifications of the first reporting date numbered after `after`: what the first
    /// shipment after a restore reported again (the store's baselines were the copy's, so it
    /// holds every change since, those the lost notifications told the register included).
    pub async fn first_reported_after(&mut self, after: i64) -> Result<Vec<Reported>, StoreError> {
        type Row = (i64, NaiveDate, String, String, String, String);
        let rows: Vec<Row> = on_tx!(self, tx => {
            sqlx::query_as(
                "SELECT number, reporting_date, source, local_id, kind, status
                 FROM daily_notifications WHERE number > $1 AND reporting_date =
                 (SELECT MIN(reporting_date) FROM daily_notifications WHERE number > $2)
                 ORDER BY number",
            )
            .bind(after)
            .bind(after)
            .fetch_all(&mut **tx)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(number, reporting_date, source, local_id, kind, status)| Reported {
                    number,
                    reporting_date,
                    source,
                    local_id,
                    kind,
                    status,
                },
            )
            .collect())
    }
}
