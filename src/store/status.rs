//! What `kpr-bridge status` reads: the recent daily runs, the messages that wait or went
//! wrong, counts, and the receipt latencies — read only, from whatever process asks, so the
//! status survives restarts and a second process can show it while the agent runs.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::daily::FindingCount;
use super::outbox::State;
use super::receipts::ReceiptErrorRow;
use super::{Store, StoreError, on_pool};

/// One capture, as `daily_captures` keeps it.
#[derive(Clone, Debug)]
pub struct CaptureRow {
    pub id: i64,
    pub reporting_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub events: i64,
    pub held: i64,
    /// `None` for captures recorded before findings were kept.
    pub findings: Option<Vec<FindingCount>>,
}

/// A message's MsgId and, when it is still in the outbox, its state.
type MessageState = (String, Option<State>);

/// One ship, with the states of its messages.
#[derive(Clone, Debug)]
pub struct ShipmentRow {
    pub reporting_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub notifications: i64,
    /// Each part, in order; none on a quiet day.
    pub messages: Vec<MessageState>,
}

/// An outbox message without its bytes, with what it belongs to.
#[derive(Clone, Debug)]
pub struct MessageRow {
    pub msg_id: String,
    pub msg_type: String,
    pub target: String,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub state_at: DateTime<Utc>,
    pub publish_count: i64,
    pub last_problem: Option<String>,
}

/// Why a message went wrong, as the store knows it.
#[derive(Clone, Debug, Default)]
pub struct Trouble {
    /// The latest receipt's status (1, 2, 3) and error codes.
    pub receipt_status: Option<i64>,
    pub receipt_errors: Vec<ReceiptErrorRow>,
    /// The latest transport error report: (errorCondition, errorDescription).
    pub error_report: Option<(String, String)>,
    /// The detail of the transition into the current state (expiry says how long it waited).
    pub detail: Option<String>,
    /// The daily reporting date, or the annual year, the message carries.
    pub reporting_date: Option<NaiveDate>,
    pub year: Option<i64>,
}

/// Anomalies kept: how many, how many since a moment, and the latest.
#[derive(Clone, Copy, Debug, Default)]
pub struct AnomalyCounts {
    pub total: i64,
    pub since: i64,
    pub last_at: Option<DateTime<Utc>>,
}

/// A receipt that contradicted the first one for its message.
#[derive(Clone, Debug)]
pub struct ConflictRow {
    pub msg_id: String,
    pub receipt_id: String,
    pub status: i64,
    pub received_at: DateTime<Utc>,
}

/// A [`MessageRow`] from a row of either dialect holding [`MESSAGE_COLUMNS`] (a macro: the
/// row types differ, the code does not); `?` inside returns a `StoreError`.
macro_rules! message_row {
    ($row:expr) => {
        $crate::store::status::MessageRow {
            msg_id: $row.try_get("msg_id")?,
            msg_type: $row.try_get("msg_type")?,
            target: $row.try_get("target")?,
            state: $row.try_get::<String, _>("state")?.parse()?,
            created_at: $row.try_get("created_at")?,
            state_at: $row.try_get("state_at")?,
            publish_count: $row.try_get("publish_count")?,
            last_problem: $row.try_get("last_problem")?,
        }
    };
}
pub(super) use message_row;

const MESSAGE_COLUMNS: &str =
    "msg_id, msg_type, target, state, created_at, state_at, publish_count, last_problem";

fn corrupt_json(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn state(text: Option<String>) -> Result<Option<State>, StoreError> {
    text.map(|s| s.parse()).transpose()
}

impl Store {
    /// The captures of the last `dates` reporting dates that had a capture or a ship, oldest
    /// first, and the ships of those dates.
    pub async fn recent_daily(
        &self,
        dates: i64,
    ) -> Result<(Vec<CaptureRow>, Vec<ShipmentRow>), StoreError> {
        let recent: Vec<NaiveDate> = on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT reporting_date FROM daily_captures UNION
                 SELECT reporting_date FROM daily_shipments
                 ORDER BY reporting_date DESC LIMIT $1",
            )
            .bind(dates)
            .fetch_all(pool)
            .await?
        });
        let Some(first) = recent.last().copied() else {
            return Ok((Vec::new(), Vec::new()));
        };
        let captures = on_pool!(self, pool => {
            sqlx::query(
                "SELECT id, reporting_date, at, events, held, findings FROM daily_captures
                 WHERE reporting_date >= $1 ORDER BY id",
            )
            .bind(first)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<CaptureRow, StoreError> {
                let findings: Option<String> = row.try_get("findings")?;
                Ok(CaptureRow {
                    id: row.try_get("id")?,
                    reporting_date: row.try_get("reporting_date")?,
                    at: row.try_get("at")?,
                    events: row.try_get("events")?,
                    held: row.try_get("held")?,
                    findings: findings
                        .map(|text| serde_json::from_str(&text))
                        .transpose()
                        .map_err(|e| corrupt_json("capture findings", e))?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
        });
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "SELECT d.reporting_date, d.at, d.notifications, m.msg_id, o.state
                 FROM daily_shipments d
                 LEFT JOIN daily_messages m ON m.reporting_date = d.reporting_date
                     AND m.resend = 0 AND d.messages > 0
                 LEFT JOIN outbox o ON o.msg_id = m.msg_id
                 WHERE d.reporting_date >= $1 ORDER BY d.at, d.shipment, m.part",
            )
            .bind(first)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<(ShipmentRow, Option<MessageState>), StoreError> {
                let msg_id: Option<String> = row.try_get("msg_id")?;
                let state = state(row.try_get("state")?)?;
                Ok((
                    ShipmentRow {
                        reporting_date: row.try_get("reporting_date")?,
                        at: row.try_get("at")?,
                        notifications: row.try_get("notifications")?,
                        messages: Vec::new(),
                    },
                    msg_id.map(|id| (id, state)),
                ))
            })
            .collect::<Result<Vec<_>, _>>()?
        });
        let mut shipments: Vec<ShipmentRow> = Vec::new();
        for (row, message) in rows {
            match shipments.last_mut() {
                Some(last) if last.reporting_date == row.reporting_date && last.at == row.at => {
                    last.messages.extend(message);
                }
                _ => shipments.push(ShipmentRow {
                    messages: message.into_iter().collect(),
                    ..row
                }),
            }
        }
        Ok((captures, shipments))
    }

    /// The latest capture, whatever its date.
    pub async fn last_capture(&self) -> Result<Option<CaptureRow>, StoreError> {
        let id: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(id) FROM daily_captures")
                .fetch_one(pool)
                .await?
        });
        let Some(id) = id else { return Ok(None) };
        let row = on_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT reporting_date, at, events, held, findings FROM daily_captures
                 WHERE id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await?;
            let findings: Option<String> = row.try_get("findings")?;
            CaptureRow {
                id,
                reporting_date: row.try_get("reporting_date")?,
                at: row.try_get("at")?,
                events: row.try_get("events")?,
                held: row.try_get("held")?,
                findings: findings
                    .map(|text| serde_json::from_str(&text))
                    .transpose()
                    .map_err(|e| corrupt_json("capture findings", e))?,
            }
        });
        Ok(Some(row))
    }

    /// When the latest daily ship went that needs nothing more: a day without changes, or
    /// every part delivered.
    pub async fn last_successful_shipment(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<DateTime<Utc>> = on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT d.at FROM daily_shipments d
                 WHERE d.messages = 0 OR NOT EXISTS (SELECT 1 FROM daily_messages m
                     LEFT JOIN outbox o ON o.msg_id = m.msg_id
                     WHERE m.reporting_date = d.reporting_date AND m.resend = 0
                       AND (o.state IS NULL OR o.state <> 'delivered'))
                 ORDER BY d.at DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?
        });
        Ok(at)
    }

    /// Messages in `states`, newest first, at most `limit`.
    pub async fn messages_in(
        &self,
        states: &[State],
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let list: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE state IN ({}) 
             ORDER BY state_at DESC, msg_id LIMIT $1",
            list.join(", ")
        );
        self.message_rows(&sql, limit).await
    }

    /// Delivered messages whose receipt said "OK, errors in parts" (status 3), newest first.
    pub async fn delivered_with_errors(&self, limit: i64) -> Result<Vec<MessageRow>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE state = 'delivered'
             AND msg_id IN (SELECT msg_id FROM receipts WHERE status = 3 AND NOT conflicting)
             ORDER BY state_at DESC, msg_id LIMIT $1"
        );
        self.message_rows(&sql, limit).await
    }

    async fn message_rows(&self, sql: &str, limit: i64) -> Result<Vec<MessageRow>, StoreError> {
        on_pool!(self, pool => {
            sqlx::query(sql)
                .bind(limit)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| -> Result<MessageRow, StoreError> { Ok(message_row!(row)) })
                .collect()
        })
    }

    /// What the store knows of why a message is where it is.
    pub async fn trouble(&self, msg_id: &str) -> Result<Trouble, StoreError> {
        let mut trouble = Trouble::default();
        // The receipt that decided: a conflicting one was never applied.
        let receipts = self.receipts(msg_id).await?;
        if let Some(receipt) = receipts.into_iter().rfind(|r| !r.conflicting) {
            trouble.receipt_status = Some(receipt.status);
            trouble.receipt_errors = receipt.errors;
        }
        trouble.detail = self.transitions(msg_id).await?.pop().and_then(|t| t.detail);
        on_pool!(self, pool => {
            trouble.error_report = sqlx::query_as(
                "SELECT condition, description FROM error_reports WHERE msg_id = $1
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(msg_id)
            .fetch_optional(pool)
            .await?;
            // A re-send has a row without a date.
            trouble.reporting_date = sqlx::query_scalar::<_, Option<NaiveDate>>(
                "SELECT reporting_date FROM daily_messages WHERE msg_id = $1",
            )
            .bind(msg_id)
            .fetch_optional(pool)
            .await?
            .flatten();
            trouble.year = sqlx::query_scalar(
                "SELECT CAST(year AS BIGINT) FROM annual_shipments WHERE msg_id = $1",
            )
            .bind(msg_id)
            .fetch_optional(pool)
            .await?;
        });
        Ok(trouble)
    }

    /// How many outbox messages are in each state (only states that have any).
    pub async fn messages_per_state(&self) -> Result<Vec<(State, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(state, count)| Ok((state.parse()?, count)))
            .collect()
    }

    /// How many daily notifications were made of each event kind, ever.
    pub async fn events_per_kind(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT kind, COUNT(*) FROM daily_notifications GROUP BY kind ORDER BY kind",
            )
                .fetch_all(pool)
                .await?
        }))
    }

    /// For every message that got its receipt after the broker's confirm: (confirmed,
    /// answered). A receipt that overtook the confirm has no latency to show.
    pub async fn receipt_times(&self) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT s.at, f.at FROM outbox_transitions s
                 JOIN outbox_transitions f ON f.msg_id = s.msg_id
                 WHERE s.to_state = 'sent' AND f.to_state IN ('delivered', 'rejected')",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    pub async fn anomaly_counts(&self, since: DateTime<Utc>) -> Result<AnomalyCounts, StoreError> {
        let (total, recent): (i64, i64) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN at >= $1 THEN 1 ELSE 0 END), 0)
                 FROM anomalies",
            )
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        let last_at: Option<DateTime<Utc>> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT at FROM anomalies ORDER BY id DESC LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(AnomalyCounts {
            total,
            since: recent,
            last_at,
        })
    }

    /// The conflicting receipts, newest first, at most `limit`.
    pub async fn conflicting_receipts(&self, limit: i64) -> Result<Vec<ConflictRow>, StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "SELECT msg_id, receipt_id, status, received_at FROM receipts
                 WHERE conflicting ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<ConflictRow, StoreError> {
                Ok(ConflictRow {
                    msg_id: row.try_get("msg_id")?,
                    receipt_id: row.try_get("receipt_id")?,
                    status: row.try_get("status")?,
                    received_at: row.try_get("received_at")?,
                })
            })
            .collect()
        })
    }
}
