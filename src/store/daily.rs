//! The daily flow's tables: baselines (what the register was last told per service), the
//! persons it knows, the notifications (numbered, chained, their identity numbers sealed),
//! the messages they went in, and the record of each capture and each ship.
//!
//! Everything goes through [`DailyTx`], one transaction: a capture numbers and writes its
//! notifications and the new baseline together, a ship writes its messages to the outbox and
//! records which notifications they hold together (invariant 1). Captures and ships never overlap: SQLite's `BEGIN IMMEDIATE`
//! holds the write lock, PostgreSQL takes a transaction-scoped advisory lock.
//!
//! The tables are split by what they hold: the transaction itself (`daily_tx.rs`), the
//! baseline (`baseline.rs`), the persons (`persons.rs`), the notifications
//! (`notifications.rs`); here the flow's settings and the record of messages, captures and
//! ships. Everything is named from here too, as the daily flow has always used it.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::daily_tx::{ARRAY_BATCH, BATCH, marks, on_tx, value_rows};
use super::outbox::NewMessage;
use super::{Store, StoreError, on_pool};

pub use super::baseline::{BaselineService, ServiceHashes, SourceHashes};
pub use super::daily_tx::DailyTx;
pub use super::notifications::{Param, StoredNotification};
pub use super::persons::StoredPerson;

/// The daily flow's settings, made by the first (`--initial`) capture.
#[derive(Clone, Debug)]
pub struct DailyState {
    pub pseudonym_secret: String,
    pub initial_date: NaiveDate,
    /// The initial load's start date.
    pub since: NaiveDate,
}

/// One daily message: a part of a date's shipment or of a re-send.
#[derive(Clone, Debug)]
pub struct MessageRecord {
    pub msg_id: String,
    /// `None` for a re-send.
    pub reporting_date: Option<NaiveDate>,
    pub at: DateTime<Utc>,
    pub part: i64,
    pub parts: i64,
    pub resend: bool,
    /// A re-send of notifications whose message still awaited its receipt (`--force`).
    pub forced: bool,
}

/// What one capture did, as kept in `daily_captures`.
#[derive(Clone, Debug)]
pub struct CaptureRecord {
    pub reporting_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub events: i64,
    pub held: i64,
    /// JSON: the counts an operator is shown.
    pub summary: String,
    /// The checks' findings, counted per rule (no examples: nothing that locates a person).
    pub findings: Vec<FindingCount>,
}

/// One rule's findings in a capture, as kept in `daily_captures.findings` (JSON) for
/// `kpr-bridge status` and the alerts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FindingCount {
    pub rule: String,
    pub severity: crate::checks::Severity,
    pub count: u64,
}

/// One ship, as kept in `daily_shipments`.
#[derive(Clone, Debug)]
pub struct ShipmentRecord {
    pub shipment: String,
    pub reporting_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub notifications: i64,
    pub messages: i64,
}

impl Store {
    /// The latest reporting date shipped (the initial run's date included); `None` before
    /// daily reporting began. The agent ships the next date once the schedule closes it.
    pub async fn last_shipped_date(&self) -> Result<Option<NaiveDate>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(reporting_date) FROM daily_shipments")
                .fetch_one(pool)
                .await?
        }))
    }
}

impl DailyTx {
    pub async fn state(&mut self) -> Result<Option<DailyState>, StoreError> {
        let row: Option<(String, NaiveDate, NaiveDate)> = on_tx!(self, tx => {
            sqlx::query_as("SELECT pseudonym_secret, initial_date, since FROM daily_state WHERE id = 1")
                .fetch_optional(&mut **tx)
                .await?
        });
        Ok(
            row.map(|(pseudonym_secret, initial_date, since)| DailyState {
                pseudonym_secret,
                initial_date,
                since,
            }),
        )
    }

    pub async fn create_state(
        &mut self,
        state: &DailyState,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_state (id, pseudonym_secret, initial_date, since, created_at)
                 VALUES (1, $1, $2, $3, $4)",
            )
            .bind(&state.pseudonym_secret)
            .bind(state.initial_date)
            .bind(state.since)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// The messages these notifications went in, with how many of them each held.
    pub async fn messages_of(&mut self, numbers: &[i64]) -> Result<Vec<(String, i64)>, StoreError> {
        const SELECT: &str = "SELECT msg_id FROM daily_message_notifications WHERE number";
        let mut ids: Vec<String> = Vec::new();
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in numbers.chunks(BATCH) {
                    let sql = format!("{SELECT} IN ({})", marks(chunk.len()));
                    let mut query = sqlx::query_scalar(&sql);
                    for number in chunk {
                        query = query.bind(number);
                    }
                    ids.extend(query.fetch_all(&mut **tx).await?);
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!("{SELECT} = ANY($1)");
                for chunk in numbers.chunks(ARRAY_BATCH) {
                    ids.extend(
                        sqlx::query_scalar(&sql)
                            .bind(chunk)
                            .fetch_all(&mut **tx)
                            .await?,
                    );
                }
            }
        }
        let mut counted: Vec<(String, i64)> = Vec::new();
        ids.sort();
        for id in ids {
            match counted.last_mut() {
                Some((last, n)) if *last == id => *n += 1,
                _ => counted.push((id, 1)),
            }
        }
        Ok(counted)
    }

    /// Of these notifications, those whose latest message still awaits its receipt
    /// (`queued` or `sent`): (number, MsgId).
    pub async fn awaiting_receipt(
        &mut self,
        numbers: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        const SELECT: &str = "SELECT n.number, n.msg_id, m.at, o.state
            FROM daily_message_notifications n
            JOIN daily_messages m ON m.msg_id = n.msg_id
            JOIN outbox o ON o.msg_id = n.msg_id WHERE n.number";
        let mut rows: Vec<(i64, String, DateTime<Utc>, String)> = Vec::new();
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
        let mut latest: HashMap<i64, (DateTime<Utc>, String, String)> = HashMap::new();
        for (number, msg_id, at, state) in rows {
            let entry = latest
                .entry(number)
                .or_insert((at, msg_id.clone(), state.clone()));
            if at > entry.0 {
                *entry = (at, msg_id, state);
            }
        }
        let mut waiting: Vec<(i64, String)> = latest
            .into_iter()
            .filter(|(_, (_, _, state))| state == "queued" || state == "sent")
            .map(|(number, (_, msg_id, _))| (number, msg_id))
            .collect();
        waiting.sort();
        Ok(waiting)
    }

    /// Records a daily message and which notifications it holds; the first message of each
    /// is remembered on the notification.
    pub async fn record_message(
        &mut self,
        message: &MessageRecord,
        numbers: &[i64],
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_messages (msg_id, reporting_date, at, part, parts,
                 notifications, first_number, last_number, resend, forced)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&message.msg_id)
            .bind(message.reporting_date)
            .bind(message.at)
            .bind(message.part)
            .bind(message.parts)
            .bind(numbers.len() as i64)
            .bind(numbers.first().copied().unwrap_or(0))
            .bind(numbers.last().copied().unwrap_or(0))
            .bind(i64::from(message.resend))
            .bind(i64::from(message.forced))
            .execute(&mut **tx)
            .await?;
        });
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in numbers.chunks(BATCH) {
                    let sql = format!(
                        "INSERT INTO daily_message_notifications (msg_id, number) VALUES {}",
                        value_rows(chunk.len(), 2)
                    );
                    let mut query = sqlx::query(&sql);
                    for number in chunk {
                        query = query.bind(&message.msg_id).bind(number);
                    }
                    query.execute(&mut **tx).await?;
                    let sql = format!(
                        "UPDATE daily_notifications SET first_message = ? WHERE first_message IS NULL
                         AND number IN ({})",
                        marks(chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(&message.msg_id);
                    for number in chunk {
                        query = query.bind(number);
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                for chunk in numbers.chunks(ARRAY_BATCH) {
                    sqlx::query(
                        "INSERT INTO daily_message_notifications (msg_id, number)
                         SELECT $1, * FROM UNNEST($2::int8[])",
                    )
                    .bind(&message.msg_id)
                    .bind(chunk)
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query(
                        "UPDATE daily_notifications SET first_message = $1
                         WHERE first_message IS NULL AND number = ANY($2)",
                    )
                    .bind(&message.msg_id)
                    .bind(chunk)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }

    pub async fn record_capture(&mut self, record: &CaptureRecord) -> Result<(), StoreError> {
        let findings =
            serde_json::to_string(&record.findings).expect("rule ids and counts serialize");
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_captures (reporting_date, at, events, held, summary, findings)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(record.reporting_date)
            .bind(record.at)
            .bind(record.events)
            .bind(record.held)
            .bind(&record.summary)
            .bind(&findings)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    pub async fn record_shipment(&mut self, record: &ShipmentRecord) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_shipments (shipment, reporting_date, at, notifications,
                 messages) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&record.shipment)
            .bind(record.reporting_date)
            .bind(record.at)
            .bind(record.notifications)
            .bind(record.messages)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// Puts a packed message in the outbox, inside this transaction.
    pub async fn enqueue(
        &mut self,
        message: &NewMessage,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            let tx = &mut **tx;
            super::outbox::insert_queued!(tx, message, now)
        });
        Ok(())
    }
}

/// A daily shipment that carried notifications: its messages, and its notifications counted
/// per event kind and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippedDay {
    pub reporting_date: NaiveDate,
    pub shipment: String,
    /// MsgIds of its parts, in order.
    pub messages: Vec<String>,
    /// (event kind, status, count), e.g. ("start", "N", 12).
    pub kinds: Vec<(String, String, i64)>,
}

impl Store {
    /// Every daily shipment that carried notifications, in the order they were made.
    pub async fn shipped_days(&self) -> Result<Vec<ShippedDay>, StoreError> {
        let shipments: Vec<(NaiveDate, String)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT reporting_date, shipment FROM daily_shipments WHERE messages > 0
                 ORDER BY at, shipment",
            )
            .fetch_all(pool)
            .await?
        });
        let mut days = Vec::new();
        for (reporting_date, shipment) in shipments {
            let (messages, kinds) = on_pool!(self, pool => {
                let messages: Vec<String> = sqlx::query_scalar(
                    "SELECT msg_id FROM daily_messages WHERE resend = 0 AND reporting_date = $1
                     ORDER BY at, part",
                )
                .bind(reporting_date)
                .fetch_all(pool)
                .await?;
                let kinds: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT n.kind, n.status, COUNT(*) FROM daily_notifications n
                     JOIN daily_messages m ON m.msg_id = n.first_message
                     WHERE m.resend = 0 AND m.reporting_date = $1
                     GROUP BY n.kind, n.status ORDER BY n.kind, n.status",
                )
                .bind(reporting_date)
                .fetch_all(pool)
                .await?;
                (messages, kinds)
            });
            days.push(ShippedDay {
                reporting_date,
                shipment,
                messages,
                kinds,
            });
        }
        Ok(days)
    }
}
