//! The outbox: packed messages and the states they go through.
//!
//! ```text
//! queued ──confirm──► sent ──AppRec 1 or 3──► delivered
//!    │                  ├──AppRec 2─────────► rejected
//!    │                  ├──error queue──────► error
//!    └──────────────────┴──no receipt in time► expired
//! ```
//!
//! A message enters already packed, under the MsgId its envelope carries, and keeps both for
//! ever: a resend publishes the same bytes, so the register can recognise a duplicate. A
//! receipt may overtake the confirm (the confirm was lost with a dropped connection) or come
//! after expiry; it still tells the truth, so it moves `queued`, `sent`, `error` and `expired`
//! on. `delivered` and `rejected` are final. Every transition is a row in
//! `outbox_transitions`, and nothing is deleted.
//!
//! The packed bytes are in the row (`body`), or, for a message too large to hold in memory,
//! in a file of the data directory that the row names (`body_file`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, in_transaction, on_pool};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Queued,
    Sent,
    Delivered,
    Rejected,
    Error,
    Expired,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Queued,
        State::Sent,
        State::Delivered,
        State::Rejected,
        State::Error,
        State::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sent => "sent",
            State::Delivered => "delivered",
            State::Rejected => "rejected",
            State::Error => "error",
            State::Expired => "expired",
        }
    }

    /// The states a message may be in for a transition to `self`.
    pub(crate) fn reachable_from(self) -> &'static [State] {
        match self {
            State::Queued => &[],
            State::Sent => &[State::Queued],
            State::Delivered | State::Rejected => {
                &[State::Queued, State::Sent, State::Error, State::Expired]
            }
            State::Error => &[State::Queued, State::Sent, State::Expired],
            State::Expired => &[State::Sent],
        }
    }

    /// Whether nothing more is expected for the message.
    pub fn is_final(self) -> bool {
        matches!(self, State::Delivered | State::Rejected)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<State, StoreError> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox state '{s}'")))
    }
}

/// A packed message for the outbox.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub msg_id: String,
    pub msg_type: String,
    /// `production` or `validation`.
    pub target: String,
    /// The receiving service unit's HER-id (`toHerId`).
    pub to_her_id: String,
    /// The signed and encrypted bytes, exactly as they go on the wire; empty when they are in
    /// `body_file`.
    pub body: Vec<u8>,
    /// The file holding the packed bytes instead, an absolute path in the data directory:
    /// for messages too large to hold in memory.
    pub body_file: Option<PathBuf>,
}

impl NewMessage {
    /// The packed size, and the file's path as text for the row.
    pub(crate) fn stored(&self) -> Result<(i64, Option<&str>), StoreError> {
        let Some(file) = &self.body_file else {
            return Ok((i64::try_from(self.body.len()).unwrap_or(i64::MAX), None));
        };
        let path = file.to_str().ok_or_else(|| StoreError::PackedFile {
            file: file.clone(),
            reason: "its path is not UTF-8 and cannot be stored; use a data directory whose \
                     path is"
                .into(),
        })?;
        let size = std::fs::metadata(file)
            .map_err(|e| missing(file, &e))?
            .len();
        Ok((i64::try_from(size).unwrap_or(i64::MAX), Some(path)))
    }
}

fn missing(file: &Path, e: &std::io::Error) -> StoreError {
    StoreError::PackedFile {
        file: file.to_path_buf(),
        reason: format!(
            "is missing from the data directory or cannot be read ({e}); the message cannot be \
             sent without it — restore the file from the data directory's backup"
        ),
    }
}

/// A message waiting for its broker confirm.
#[derive(Clone, Debug)]
pub struct Pending {
    pub msg_id: String,
    pub msg_type: String,
    pub target: String,
    pub to_her_id: String,
    /// The packed bytes when the row holds them; empty when `body_file` does.
    body: Vec<u8>,
    /// The file holding the packed bytes of a message too large to hold in memory: read
    /// only when it is sent ([`Pending::bytes`]), or copied as it is to a spool.
    pub body_file: Option<PathBuf>,
    pub publish_count: i64,
}

impl Pending {
    /// The packed bytes, from the row or read from their file.
    pub fn bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>, StoreError> {
        match &self.body_file {
            Some(file) => std::fs::read(file)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| missing(file, &e)),
            None => Ok(std::borrow::Cow::Borrowed(&self.body)),
        }
    }
}

/// One outbox row as `kpr-bridge receipts` shows it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub msg_id: String,
    pub msg_type: String,
    pub target: String,
    pub state: State,
    pub size: i64,
    pub created_at: DateTime<Utc>,
    pub state_at: DateTime<Utc>,
    pub publish_count: i64,
    pub last_problem: Option<String>,
}

/// One row of a message's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: Option<State>,
    pub to: State,
    pub at: DateTime<Utc>,
    pub detail: Option<String>,
}

/// What a transition request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moved {
    /// The message went from the given state to the new one.
    From(State),
    /// The message was already in a state the transition does not apply to (it stays there).
    Stayed(State),
    /// No message has this MsgId.
    Unknown,
}

/// The transition itself, inside a caller's read-then-write transaction (`in_transaction!`),
/// so that a receipt and the move it causes commit together. Evaluates to a [`Moved`].
macro_rules! move_state {
    ($tx:ident, $lock:ident, $msg_id:expr, $to:expr, $detail:expr, $now:expr) => {{
        use $crate::store::outbox::{Moved, State};
        let (msg_id, to, detail, now): (&str, State, Option<&str>, chrono::DateTime<chrono::Utc>) =
            ($msg_id, $to, $detail, $now);
        let current: Option<String> =
            sqlx::query_scalar(&format!("SELECT state FROM outbox WHERE msg_id = $1{}", $lock))
                .bind(msg_id)
                .fetch_optional(&mut *$tx)
                .await?;
        match current {
            None => Moved::Unknown,
            Some(current) => {
                let from: State = current.parse()?;
                if to.reachable_from().contains(&from) {
                    sqlx::query(
                        "UPDATE outbox SET state = $2, state_at = $3,
                         last_problem = CASE WHEN $2 IN ('sent', 'delivered') THEN NULL ELSE last_problem END
                         WHERE msg_id = $1",
                    )
                    .bind(msg_id)
                    .bind(to.as_str())
                    .bind(now)
                    .execute(&mut *$tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO outbox_transitions (msg_id, from_state, to_state, at, detail)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(msg_id)
                    .bind(from.as_str())
                    .bind(to.as_str())
                    .bind(now)
                    .bind(detail)
                    .execute(&mut *$tx)
                    .await?;
                    Moved::From(from)
                } else {
                    Moved::Stayed(from)
                }
            }
        }
    }};
}
pub(crate) use move_state;

/// A packed message written as `queued`, with its first transition, inside a caller's
/// transaction: `enqueue` alone, or a daily ship together with the events it marks shipped.
macro_rules! insert_queued {
    ($tx:ident, $message:expr, $now:expr) => {{
        let (message, now): (&$crate::store::outbox::NewMessage, chrono::DateTime<chrono::Utc>) =
            ($message, $now);
        let (body_size, body_file) = message.stored()?;
        sqlx::query(
            "INSERT INTO outbox (msg_id, msg_type, target, to_her_id, state, body, created_at, state_at,
                                 body_file, body_size)
             VALUES ($1, $2, $3, $6, 'queued', $4, $5, $5, $7, $8)",
        )
        .bind(&message.msg_id)
        .bind(&message.msg_type)
        .bind(&message.target)
        .bind(&message.body)
        .bind(now)
        .bind(&message.to_her_id)
        .bind(body_file)
        .bind(body_size)
        .execute(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO outbox_transitions (msg_id, from_state, to_state, at)
             VALUES ($1, NULL, 'queued', $2)",
        )
        .bind(&message.msg_id)
        .bind(now)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use insert_queued;

impl Store {
    /// Puts a packed message in the outbox as `queued`.
    pub async fn enqueue(
        &self,
        message: &NewMessage,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |tx, _lock| insert_queued!(tx, message, now));
        Ok(())
    }

    /// Messages not yet confirmed by the broker, oldest first, with their packed bytes or the
    /// file that holds them (which must be there).
    pub async fn pending(&self, limit: i64) -> Result<Vec<Pending>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "SELECT msg_id, msg_type, target, to_her_id, body, body_file, publish_count
                 FROM outbox WHERE state = 'queued' ORDER BY created_at, msg_id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<Pending, StoreError> {
                let body_file: Option<PathBuf> =
                    row.try_get::<Option<String>, _>("body_file")?.map(PathBuf::from);
                let body = match &body_file {
                    Some(file) => {
                        std::fs::metadata(file).map_err(|e| missing(file, &e))?;
                        Vec::new()
                    }
                    None => row.try_get("body")?,
                };
                Ok(Pending {
                    msg_id: row.try_get("msg_id")?,
                    msg_type: row.try_get("msg_type")?,
                    target: row.try_get("target")?,
                    to_her_id: row.try_get("to_her_id")?,
                    body,
                    body_file,
                    publish_count: row.try_get("publish_count")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Counts a publish attempt, before the broker answers: a message published more than
    /// once may reach the register more than once, and the count shows it.
    pub async fn note_publish(
        &self,
        msg_ids: &[&str],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |tx, _lock| {
            for msg_id in msg_ids {
                sqlx::query(
                    "UPDATE outbox SET publish_count = publish_count + 1, last_publish_at = $2
                     WHERE msg_id = $1",
                )
                .bind(msg_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        });
        Ok(())
    }

    /// Keeps the latest problem with a message that stays where it is (the broker refused
    /// it, its queue is missing), for `kpr-bridge receipts` to show.
    pub async fn note_problem(&self, msg_id: &str, problem: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE outbox SET last_problem = $2 WHERE msg_id = $1")
                .bind(msg_id)
                .bind(problem)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Moves a message to `to` if its current state allows it, recording the transition.
    pub async fn transition(
        &self,
        msg_id: &str,
        to: State,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Moved, StoreError> {
        let moved = in_transaction!(self, |tx, lock| {
            move_state!(tx, lock, msg_id, to, detail, now)
        });
        Ok(moved)
    }

    /// Moves every `sent` message that has waited longer than `timeout` for its receipt to
    /// `expired`; returns their MsgIds.
    pub async fn expire(
        &self,
        timeout: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let cutoff = now - timeout;
        let overdue: Vec<String> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT msg_id FROM outbox WHERE state = 'sent' AND state_at < $1")
                .bind(cutoff)
                .fetch_all(pool)
                .await?
        });
        let detail = format!(
            "no receipt within {} hours of the broker's confirm",
            timeout.num_hours()
        );
        let mut expired = Vec::new();
        for msg_id in overdue {
            if let Moved::From(_) = self
                .transition(&msg_id, State::Expired, Some(&detail), now)
                .await?
            {
                expired.push(msg_id);
            }
        }
        Ok(expired)
    }

    /// Every outbox entry, newest first (without the bodies).
    pub async fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "SELECT msg_id, msg_type, target, state,
                        COALESCE(body_size, CAST(length(body) AS BIGINT)) AS size, created_at,
                        state_at, publish_count, last_problem
                 FROM outbox ORDER BY created_at DESC, msg_id",
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<Entry, StoreError> {
                Ok(Entry {
                    msg_id: row.try_get("msg_id")?,
                    msg_type: row.try_get("msg_type")?,
                    target: row.try_get("target")?,
                    state: row.try_get::<String, _>("state")?.parse()?,
                    size: row.try_get("size")?,
                    created_at: row.try_get("created_at")?,
                    state_at: row.try_get("state_at")?,
                    publish_count: row.try_get("publish_count")?,
                    last_problem: row.try_get("last_problem")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// One message's state, or None when the MsgId is not ours.
    pub async fn state(&self, msg_id: &str) -> Result<Option<State>, StoreError> {
        let state: Option<String> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT state FROM outbox WHERE msg_id = $1")
                .bind(msg_id)
                .fetch_optional(pool)
                .await?
        });
        state.map(|s| s.parse()).transpose()
    }

    /// A message's history, oldest first.
    pub async fn transitions(&self, msg_id: &str) -> Result<Vec<Transition>, StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "SELECT from_state, to_state, at, detail FROM outbox_transitions
                 WHERE msg_id = $1 ORDER BY id",
            )
            .bind(msg_id)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<Transition, StoreError> {
                Ok(Transition {
                    from: row
                        .try_get::<Option<String>, _>("from_state")?
                        .map(|s| s.parse())
                        .transpose()?,
                    to: row.try_get::<String, _>("to_state")?.parse()?,
                    at: row.try_get("at")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
        })
    }
}
