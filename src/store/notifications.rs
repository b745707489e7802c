//! The notifications (`daily_notifications`): numbered and chained, their identity numbers
//! sealed, each stamped with the identity key that sealed it; and the selections over them
//! that shipping, re-sending and the status make.

use chrono::NaiveDate;
use uuid::Uuid;

use super::StoreError;
use super::daily_tx::{ARRAY_BATCH, BATCH, DailyTx, column, marks, on_tx, value_rows};
use crate::message::ipl56::{EventKind, Status};

/// One notification as stored: its place in the chain, what the status and the
/// administration page select by, and its content without the identity number.
#[derive(Clone, Debug)]
pub struct StoredNotification {
    pub number: i64,
    pub guid: Uuid,
    pub previous: Uuid,
    pub reporting_date: NaiveDate,
    pub kind: EventKind,
    pub status: Status,
    pub corrects: Option<Uuid>,
    pub event_day: NaiveDate,
    pub user_number: String,
    /// Where in the EPJ it comes from: the source and the service's local id.
    pub source: String,
    pub local_id: String,
    /// The notification as JSON, its `fid` empty.
    pub body: String,
    /// The identity number, sealed (`crypto::at_rest`) for the notification's GUID.
    pub identity: String,
}

/// A parameter of a selection over the notifications.
#[derive(Clone, Debug)]
pub enum Param {
    Text(String),
    Number(i64),
    Date(NaiveDate),
}

impl DailyTx {
    /// The last notification's number and GUID: where the chain goes on. A continuation
    /// recorded after a restore (`store/chain.rs`) later than the store's own last
    /// notification is where it goes on instead: the register has the numbers up to it.
    pub async fn last_notification(&mut self) -> Result<Option<(i64, Uuid)>, StoreError> {
        let stored = self.last_stored().await?;
        let continued = self
            .last_continuation()
            .await?
            .map(|c| (c.after_number, c.after_guid));
        Ok(match (stored, continued) {
            (Some(stored), Some(continued)) if continued.0 > stored.0 => Some(continued),
            (None, continued) => continued,
            (stored, _) => stored,
        })
    }

    /// Appends notifications, numbered by the caller in this transaction.
    pub async fn insert_notifications(
        &mut self,
        rows: &[StoredNotification],
    ) -> Result<(), StoreError> {
        // Each row is stamped with the identity key current in the store (`identity_keys`),
        // which sealed it.
        use super::identity_keys::CURRENT_KEY;
        const INSERT: &str = "INSERT INTO daily_notifications (number, guid, previous,
            reporting_date, kind, status, corrects, event_day, user_number, source, local_id,
            body, identity, identity_key)";
        match self {
            DailyTx::Sqlite(tx) => {
                // Read once and bound: as a subquery in each row it cost SQLite a lookup per row.
                let key: Option<i64> = sqlx::query_scalar(&format!("SELECT {CURRENT_KEY}"))
                    .fetch_one(&mut **tx)
                    .await?;
                for chunk in rows.chunks(BATCH) {
                    let sql = format!("{INSERT} VALUES {}", value_rows(chunk.len(), 14));
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query
                            .bind(row.number)
                            .bind(row.guid.to_string())
                            .bind(row.previous.to_string())
                            .bind(row.reporting_date)
                            .bind(row.kind.as_str())
                            .bind(row.status.code())
                            .bind(row.corrects.map(|g| g.to_string()))
                            .bind(row.event_day)
                            .bind(&row.user_number)
                            .bind(&row.source)
                            .bind(&row.local_id)
                            .bind(&row.body)
                            .bind(&row.identity)
                            .bind(key);
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!(
                    "{INSERT} SELECT *, {CURRENT_KEY} FROM UNNEST($1::int8[], $2::text[],
                     $3::text[], $4::date[], $5::text[], $6::text[], $7::text[], $8::date[],
                     $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])"
                );
                for chunk in rows.chunks(ARRAY_BATCH) {
                    sqlx::query(&sql)
                        .bind(column(chunk, |r| r.number))
                        .bind(column(chunk, |r| r.guid.to_string()))
                        .bind(column(chunk, |r| r.previous.to_string()))
                        .bind(column(chunk, |r| r.reporting_date))
                        .bind(column(chunk, |r| r.kind.as_str()))
                        .bind(column(chunk, |r| r.status.code()))
                        .bind(column(chunk, |r| r.corrects.map(|g| g.to_string())))
                        .bind(column(chunk, |r| r.event_day))
                        .bind(column(chunk, |r| r.user_number.as_str()))
                        .bind(column(chunk, |r| r.source.as_str()))
                        .bind(column(chunk, |r| r.local_id.as_str()))
                        .bind(column(chunk, |r| r.body.as_str()))
                        .bind(column(chunk, |r| r.identity.as_str()))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The numbers of the notifications not yet shipped whose reporting date is `date` or
    /// earlier, ascending.
    pub async fn unshipped(&mut self, date: NaiveDate) -> Result<Vec<i64>, StoreError> {
        Ok(on_tx!(self, tx => {
            sqlx::query_scalar(
                "SELECT number FROM daily_notifications
                 WHERE first_message IS NULL AND reporting_date <= $1 ORDER BY number",
            )
            .bind(date)
            .fetch_all(&mut **tx)
            .await?
        }))
    }

    /// The numbers a query over `daily_notifications` selects (`WHERE …` given, with its
    /// parameters), ascending.
    pub(crate) async fn select_numbers(
        &mut self,
        condition: &str,
        params: &[Param],
    ) -> Result<Vec<i64>, StoreError> {
        let sql =
            format!("SELECT number FROM daily_notifications WHERE {condition} ORDER BY number");
        Ok(on_tx!(self, tx => {
            let mut query = sqlx::query_scalar(&sql);
            for param in params {
                query = match param {
                    Param::Text(text) => query.bind(text),
                    Param::Number(number) => query.bind(number),
                    Param::Date(date) => query.bind(date),
                };
            }
            query.fetch_all(&mut **tx).await?
        }))
    }

    /// These stored notifications, ascending: (number, body, sealed identity).
    pub async fn notifications(
        &mut self,
        numbers: &[i64],
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        const SELECT: &str = "SELECT number, body, identity FROM daily_notifications WHERE number";
        let mut rows: Vec<(i64, String, String)> = Vec::with_capacity(numbers.len());
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in numbers.chunks(BATCH) {
                    let sql = format!("{SELECT} IN ({})", marks(chunk.len()));
                    let mut query = sqlx::query_as(&sql);
                    for number in chunk {
                        query = query.bind(number);
                    }
                    rows.extend(query.fetch_all(&mut **tx).await?);
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!("{SELECT} = ANY($1)");
                for chunk in numbers.chunks(ARRAY_BATCH) {
                    rows.extend(
                        sqlx::query_as(&sql)
                            .bind(chunk)
                            .fetch_all(&mut **tx)
                            .await?,
                    );
                }
            }
        }
        rows.sort_by_key(|row| row.0);
        Ok(rows)
    }
}
