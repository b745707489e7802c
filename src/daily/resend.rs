//! Re-sending notifications (HIS 1135's administration requirements): the selected
//! notifications exactly as first sent — the same GUIDs, numbers and content — in new
//! messages with new MsgIds, recorded with which notifications went in which message.
//! Refused while the latest message of a selected notification still awaits its receipt,
//! unless forced (said in the log and recorded on the message). `kpr-bridge resend` and the
//! administration page both call [`preview`] and [`resend`].

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;
use uuid::Uuid;

use super::day::{self, DayError};
use super::ship::{self, Parts, ShipError};
use crate::config::{Config, Mode};
use crate::crypto::at_rest::IdentityKey;
use crate::message::msghead::Target;
use crate::message::schema::Schemas;
use crate::shipping::Shipping;
use crate::store::daily::DailyTx;
use crate::store::{Store, StoreError};

/// Which notifications to send again: exactly one of HIS 1135's seven ways to choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// The notifications of one message (a failed or rejected one).
    Message(String),
    Notification(Uuid),
    /// Those reported on this date or later.
    SinceDate(NaiveDate),
    SinceNumber(i64),
    BetweenDates(NaiveDate, NaiveDate),
    BetweenNumbers(i64, i64),
    /// Those of one person, by `brukerNr`.
    Patient(String),
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Message(id) => write!(f, "message {id}"),
            Selector::Notification(guid) => write!(f, "notification {guid}"),
            Selector::SinceDate(d) => write!(f, "reported on or after {d}"),
            Selector::SinceNumber(n) => write!(f, "numbers from {n}"),
            Selector::BetweenDates(a, b) => write!(f, "reported {a} to {b}"),
            Selector::BetweenNumbers(a, b) => write!(f, "numbers {a} to {b}"),
            Selector::Patient(_) => write!(f, "one patient's notifications"),
        }
    }
}

#[derive(Debug, Error)]
pub enum ResendError {
    #[error("nothing to re-send: no notification that has been sent matches {0}")]
    NothingSelected(String),
    #[error(
        "{count} selected notification(s) are in message(s) that still await KPR's receipt ({messages}); wait for the receipt (kpr-bridge status), or give --force to send them again anyway"
    )]
    Waiting { count: usize, messages: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ship(#[from] ShipError),
    #[error(transparent)]
    Day(#[from] DayError),
    #[error(transparent)]
    Key(#[from] crate::crypto::at_rest::KeyError),
}

impl ResendError {
    /// 2 for a selection or state the operator must change; 1 for a failure to retry.
    pub fn exit_code(&self) -> u8 {
        match self {
            ResendError::Store(_) | ResendError::Ship(ShipError::Store(_)) => 1,
            ResendError::Day(e) => e.exit_code(),
            _ => 2,
        }
    }
}

/// What a selection holds, before anything is sent.
#[derive(Clone, Debug, Default)]
pub struct Preview {
    /// Ascending.
    pub numbers: Vec<i64>,
    /// The messages they were in before, with how many of them each held.
    pub messages: Vec<(String, i64)>,
    /// Those whose latest message awaits its receipt: (number, MsgId).
    pub waiting: Vec<(i64, String)>,
}

/// The selected numbers: only notifications that were sent (the rest go with the next
/// daily run anyway).
async fn select(tx: &mut DailyTx, selector: &Selector) -> Result<Vec<i64>, StoreError> {
    use crate::store::daily::Param::{Date, Number, Text};
    const SENT: &str = "first_message IS NOT NULL AND ";
    let (condition, params) = match selector {
        Selector::Message(id) => (
            "number IN (SELECT number FROM daily_message_notifications WHERE msg_id = $1)",
            vec![Text(id.clone())],
        ),
        Selector::Notification(guid) => ("guid = $1", vec![Text(guid.to_string())]),
        Selector::SinceDate(d) => ("reporting_date >= $1", vec![Date(*d)]),
        Selector::SinceNumber(n) => ("number >= $1", vec![Number(*n)]),
        Selector::BetweenDates(a, b) => (
            "reporting_date >= $1 AND reporting_date <= $2",
            vec![Date(*a), Date(*b)],
        ),
        Selector::BetweenNumbers(a, b) => (
            "number >= $1 AND number <= $2",
            vec![Number(*a), Number(*b)],
        ),
        Selector::Patient(user) => ("user_number = $1", vec![Text(user.clone())]),
    };
    tx.select_numbers(&format!("{SENT}{condition}"), &params)
        .await
}

/// What `selector` would send again.
pub async fn preview(store: &Store, selector: &Selector) -> Result<Preview, ResendError> {
    let mut tx = store.begin_daily().await?;
    let preview = preview_in(&mut tx, selector).await;
    tx.rollback().await?;
    preview
}

async fn preview_in(tx: &mut DailyTx, selector: &Selector) -> Result<Preview, ResendError> {
    let numbers = select(tx, selector).await?;
    let messages = tx.messages_of(&numbers).await?;
    let waiting = tx.awaiting_receipt(&numbers).await?;
    Ok(Preview {
        numbers,
        messages,
        waiting,
    })
}

/// What a re-send put in the outbox.
#[derive(Clone, Debug)]
pub struct Resent {
    pub numbers: Vec<i64>,
    pub messages: Vec<String>,
    pub forced: bool,
}

/// Sends the selected notifications again, in new messages, in one transaction.
pub async fn resend(
    config: &Config,
    shipping: &Shipping,
    selector: &Selector,
    force: bool,
    now: DateTime<Utc>,
) -> Result<Resent, ResendError> {
    let mut tx = shipping.store.begin_daily().await?;
    let preview = preview_in(&mut tx, selector).await?;
    check(&preview, selector, force)?;
    let forced = !preview.waiting.is_empty();
    if forced {
        tracing::warn!(
            notifications = preview.waiting.len(),
            "re-sending notifications whose message still awaits its receipt (--force)"
        );
    }
    let key = IdentityKey::open(&config.daily.identity_key_file, false)?;
    let sender = day::sender(config, &shipping.store, now.date_naive()).await?;
    let parts = Parts::new(&sender, &preview.numbers, "re-send".into());
    let target = match config.mode {
        Mode::Test => Target::Validation,
        Mode::Production => Target::Production,
    };
    let mut messages = Vec::new();
    for at in 0..parts.len() {
        let part = parts.build(&mut tx, &key, at).await?;
        let packed = day::pack_part(shipping, &sender, &part, target)?;
        ship::enqueue_part(&mut tx, &part, &packed, None, now, forced).await?;
        messages.push(packed.msg_id);
    }
    tx.commit().await?;
    Ok(Resent {
        numbers: preview.numbers,
        messages,
        forced,
    })
}

fn check(preview: &Preview, selector: &Selector, force: bool) -> Result<(), ResendError> {
    if preview.numbers.is_empty() {
        return Err(ResendError::NothingSelected(selector.to_string()));
    }
    if !preview.waiting.is_empty() && !force {
        let mut messages: Vec<&str> = preview.waiting.iter().map(|(_, m)| m.as_str()).collect();
        messages.sort();
        messages.dedup();
        return Err(ResendError::Waiting {
            count: preview.waiting.len(),
            messages: messages.join(", "),
        });
    }
    Ok(())
}

/// Writes the messages a re-send would send to `out`, validated; commits nothing.
pub async fn dry_run(
    config: &Config,
    store: &Store,
    schemas: &Schemas,
    selector: &Selector,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<Vec<PathBuf>, ResendError> {
    let mut tx = store.begin_daily().await?;
    let preview = preview_in(&mut tx, selector).await?;
    check(&preview, selector, true)?;
    let key = IdentityKey::open(&config.daily.identity_key_file, false)?;
    let sender = day::sender(config, store, now.date_naive()).await?;
    let parts = Parts::new(&sender, &preview.numbers, "re-send".into());
    let written = day::write_parts(&mut tx, &key, &parts, schemas, "resend", out).await?;
    tx.rollback().await?;
    Ok(written)
}
