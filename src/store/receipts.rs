//! What comes back: application receipts, transport error reports, and anomalies.
//!
//! A receipt and the outbox move it causes commit in one transaction, and only then is the
//! broker told it may forget the message: a crash in between makes the broker deliver it
//! again, never lose it. Whatever cannot be matched or read becomes an anomaly, kept with its
//! bytes and the reason, so acknowledging it never loses it silently.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::outbox::{Moved, State, move_state};
use super::{Store, StoreError, in_transaction, on_pool};
use crate::message::apprec::{AppRec, Status};

/// A transport error report from our error queue: NHN's (or the test receiver's) way of
/// saying a message could not even be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReport {
    pub original_msg_id: String,
    /// `errorCondition`, such as `transport:invalid-field-value`.
    pub condition: String,
    /// `errorDescription`.
    pub description: String,
}

/// Something that arrived and could not be taken as what its queue carries.
#[derive(Clone, Debug)]
pub struct Anomaly {
    pub queue: String,
    /// A short, stable kind: `not-cms`, `bad-signature`, `not-apprec`, `unknown-msg-id`, …
    pub kind: String,
    /// What was wrong and what to do, for the operator.
    pub detail: String,
    pub msg_id: Option<String>,
    pub size: usize,
    /// The bytes as they came, so nothing is lost by acknowledging them.
    pub body: Option<Vec<u8>>,
}

/// What a receipt did to its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored; the message moved, stayed (a second receipt with the same answer), or is
    /// not ours ([`Moved::Unknown`], nothing stored).
    Moved(Moved),
    /// This very receipt (its AppRec Id) was taken before: nothing stored.
    Again(State),
    /// It answers otherwise than the first final receipt did: stored as conflicting, the
    /// message left in `state`.
    Conflicting { state: State, first: FirstReceipt },
}

/// The receipt that decided a message's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstReceipt {
    pub receipt_id: String,
    /// 1 OK, 2 Avvist, 3 OK with errors in parts.
    pub status: i64,
    pub received_at: DateTime<Utc>,
}

/// An anomaly as listed back.
#[derive(Clone, Debug)]
pub struct StoredAnomaly {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub queue: String,
    pub kind: String,
    pub detail: String,
    pub msg_id: Option<String>,
    pub size: i64,
}

/// A stored receipt, as `kpr-bridge receipts` shows it.
#[derive(Clone, Debug)]
pub struct StoredReceipt {
    pub msg_id: String,
    pub receipt_id: String,
    pub status: i64,
    pub errors: Vec<ReceiptErrorRow>,
    pub received_at: DateTime<Utc>,
    pub duplicate: bool,
    /// It contradicted the first final receipt and was not applied.
    pub conflicting: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReceiptErrorRow {
    pub code: String,
    pub text: String,
    pub part: String,
}

/// A status as stored: 1 OK, 2 Avvist, 3 OK with errors in parts (code system 8258).
pub fn status_code(status: Status) -> i64 {
    match status {
        Status::Ok => 1,
        Status::Rejected => 2,
        Status::OkWithErrors => 3,
    }
}

/// A stored status in words: `1 OK`.
pub fn status_words(code: i64) -> &'static str {
    match code {
        1 => "1 OK",
        2 => "2 Avvist",
        3 => "3 OK, feil i delmelding",
        _ => "an unknown status",
    }
}

impl Store {
    /// Stores a receipt and moves the message it names: status 1 or 3 to `delivered`, 2 to
    /// `rejected`. Only the first final receipt decides (Architecture Invariant: KPR's answer
    /// never flips silently): the same receipt again (its AppRec Id) is not stored twice, one
    /// with the same status is kept as a duplicate, and one with another status is kept as
    /// conflicting, the state unchanged.
    pub async fn record_receipt(
        &self,
        receipt: &AppRec,
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let to = if receipt.status.is_delivered() {
            State::Delivered
        } else {
            State::Rejected
        };
        let status = status_code(receipt.status);
        let errors: Vec<ReceiptErrorRow> = receipt
            .errors
            .iter()
            .map(|e| ReceiptErrorRow {
                code: e.code.clone(),
                text: e.text.clone(),
                part: e.part.clone(),
            })
            .collect();
        let errors = serde_json::to_string(&errors).expect("plain strings serialise");
        let detail = receipt_detail(receipt);
        let recorded = in_transaction!(self, |tx, lock| {
            let current: Option<String> =
                sqlx::query_scalar(&format!("SELECT state FROM outbox WHERE msg_id = $1{lock}"))
                    .bind(&receipt.original_msg_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let earlier = sqlx::query(
                "SELECT receipt_id, status, received_at, conflicting FROM receipts
                 WHERE msg_id = $1 ORDER BY id",
            )
            .bind(&receipt.original_msg_id)
            .fetch_all(&mut *tx)
            .await?;
            let mut first: Option<FirstReceipt> = None;
            let mut again = false;
            for row in &earlier {
                let id: String = row.try_get("receipt_id")?;
                again |= id == receipt.id;
                let conflicting: bool = row.try_get("conflicting")?;
                if first.is_none() && !conflicting {
                    first = Some(FirstReceipt {
                        receipt_id: id,
                        status: row.try_get("status")?,
                        received_at: row.try_get("received_at")?,
                    });
                }
            }
            match current.map(|state| state.parse::<State>()).transpose()? {
                None => Recorded::Moved(Moved::Unknown),
                Some(state) if again => Recorded::Again(state),
                Some(state) => {
                    let conflict = first.filter(|first| first.status != status);
                    let moved = if conflict.is_some() {
                        Moved::Stayed(state)
                    } else {
                        move_state!(tx, lock, &receipt.original_msg_id, to, Some(&detail), now)
                    };
                    sqlx::query(
                        "INSERT INTO receipts
                             (msg_id, receipt_id, status, errors, received_at, duplicate, conflicting)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&receipt.original_msg_id)
                    .bind(&receipt.id)
                    .bind(status)
                    .bind(&errors)
                    .bind(now)
                    .bind(matches!(moved, Moved::Stayed(_)))
                    .bind(conflict.is_some())
                    .execute(&mut *tx)
                    .await?;
                    match conflict {
                        Some(first) => Recorded::Conflicting { state, first },
                        None => Recorded::Moved(moved),
                    }
                }
            }
        });
        Ok(recorded)
    }

    /// Where a message went: its target (`production` or `validation`) and the HER-id of
    /// KPR's unit it was addressed to; `None` when the MsgId is not ours.
    pub async fn addressee(&self, msg_id: &str) -> Result<Option<(String, String)>, StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT target, to_her_id FROM outbox WHERE msg_id = $1")
                .bind(msg_id)
                .fetch_optional(pool)
                .await?
                .map(|row| -> Result<_, StoreError> {
                    Ok((row.try_get("target")?, row.try_get("to_her_id")?))
                })
                .transpose()
        })
    }

    /// Stores an error report and moves the message it names to `error`.
    pub async fn record_error_report(
        &self,
        report: &ErrorReport,
        now: DateTime<Utc>,
    ) -> Result<Moved, StoreError> {
        let detail = format!("{}: {}", report.condition, report.description);
        let moved = in_transaction!(self, |tx, lock| {
            let moved = move_state!(
                tx,
                lock,
                &report.original_msg_id,
                State::Error,
                Some(&detail),
                now
            );
            if moved != Moved::Unknown {
                sqlx::query(
                    "INSERT INTO error_reports (msg_id, condition, description, received_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&report.original_msg_id)
                .bind(&report.condition)
                .bind(&report.description)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            moved
        });
        Ok(moved)
    }

    pub async fn record_anomaly(
        &self,
        anomaly: &Anomaly,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO anomalies (at, queue, kind, detail, msg_id, size, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(now)
            .bind(&anomaly.queue)
            .bind(&anomaly.kind)
            .bind(&anomaly.detail)
            .bind(&anomaly.msg_id)
            .bind(i64::try_from(anomaly.size).unwrap_or(i64::MAX))
            .bind(&anomaly.body)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Every anomaly, oldest first (without the bodies).
    pub async fn anomalies(&self) -> Result<Vec<StoredAnomaly>, StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "SELECT id, at, queue, kind, detail, msg_id, size FROM anomalies ORDER BY id",
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<StoredAnomaly, StoreError> {
                Ok(StoredAnomaly {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    queue: row.try_get("queue")?,
                    kind: row.try_get("kind")?,
                    detail: row.try_get("detail")?,
                    msg_id: row.try_get("msg_id")?,
                    size: row.try_get("size")?,
                })
            })
            .collect()
        })
    }

    /// The receipts stored for a message, oldest first.
    pub async fn receipts(&self, msg_id: &str) -> Result<Vec<StoredReceipt>, StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "SELECT msg_id, receipt_id, status, errors, received_at, duplicate, conflicting
                 FROM receipts WHERE msg_id = $1 ORDER BY id",
            )
            .bind(msg_id)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<StoredReceipt, StoreError> {
                let errors: String = row.try_get("errors")?;
                Ok(StoredReceipt {
                    msg_id: row.try_get("msg_id")?,
                    receipt_id: row.try_get("receipt_id")?,
                    status: row.try_get("status")?,
                    errors: serde_json::from_str(&errors)
                        .map_err(|e| StoreError::Corrupt(format!("receipt errors: {e}")))?,
                    received_at: row.try_get("received_at")?,
                    duplicate: row.try_get("duplicate")?,
                    conflicting: row.try_get("conflicting")?,
                })
            })
            .collect()
        })
    }
}

/// The transition's detail: the status and the error codes, for the history.
fn receipt_detail(receipt: &AppRec) -> String {
    let status = match receipt.status {
        Status::Ok => "AppRec 1 OK",
        Status::Rejected => "AppRec 2 Avvist",
        Status::OkWithErrors => "AppRec 3 OK, feil i delmelding",
    };
    let codes: Vec<&str> = receipt.errors.iter().map(|e| e.code.as_str()).collect();
    if codes.is_empty() {
        format!("{status} ({})", receipt.id)
    } else {
        format!("{status} ({}): {}", receipt.id, codes.join(", "))
    }
}
