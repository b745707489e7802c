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
use crate::crypto::at_rest::{IdentityKey, KeyError};
use crate::message::schema::Schemas;
use crate::model::register::Target;
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
    #[error(
        "{count} of the {selected} selected notification(s) cannot be sent again: number(s) {numbers} are sealed under an identity key that is no longer there ({why}). Restore the key file from its backup — as {file} itself if kpr-bridge has not made a new one since, otherwise beside it as {file}.previous (docs/runbook.md, \"A lost identity key\") — and try again; if it cannot be restored, those notifications cannot be sent again: raise it with FHI. Nothing was sent{others}"
    )]
    SealedAway {
        count: usize,
        selected: usize,
        /// As ranges: `1–4, 9`.
        numbers: String,
        /// "… is missing" or "… holds another key".
        why: String,
        file: PathBuf,
        /// What of the selection could go on its own, in words (or nothing).
        others: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ship(#[from] ShipError),
    #[error(transparent)]
    Day(#[from] DayError),
    #[error(transparent)]
    Key(#[from] crate::crypto::at_rest::KeyError),
    /// The store is behind the chain mark, or the mark cannot be read or written.
    #[error(transparent)]
    Mark(#[from] super::mark::MarkError),
}

impl ResendError {
    /// 2 for a selection or state the operator must change; 1 for a failure to retry.
    pub fn exit_code(&self) -> u8 {
        match self {
            ResendError::Store(_)
            | ResendError::Ship(ShipError::Store(_))
            | ResendError::Mark(super::mark::MarkError::Store(_)) => 1,
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
    /// Those sealed under an identity key that is no longer there, as the store last
    /// recorded the keys: they cannot be sent again (`daily::sealed`). Ascending.
    pub sealed_away: Vec<i64>,
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
    let sealed_away = tx.sealed_away(&numbers).await?;
    Ok(Preview {
        numbers,
        messages,
        waiting,
        sealed_away,
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
    super::mark::guard(&mut tx, &config.daily).await?;
    // The keys there now are recorded first, so that the selection is judged by them.
    let key = open_key(&mut tx, config, now).await?;
    let preview = preview_in(&mut tx, selector).await?;
    check_sealed(&preview, key.as_ref(), config)?;
    check(&preview, selector, force)?;
    let forced = !preview.waiting.is_empty();
    if forced {
        tracing::warn!(
            notifications = preview.waiting.len(),
            "re-sending notifications whose message still awaits its receipt (--force)"
        );
    }
    let key = key.ok_or_else(|| KeyError::Missing {
        file: config.daily.identity_key_file.clone(),
    })?;
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
    super::mark::advance(&shipping.store, &config.daily).await?;
    Ok(Resent {
        numbers: preview.numbers,
        messages,
        forced,
    })
}

/// The identity key, never made here (`None`: the file is missing), with the keys found
/// recorded in `tx`.
async fn open_key(
    tx: &mut DailyTx,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Option<IdentityKey>, ResendError> {
    match super::sealed::open_for_resend(tx, &config.daily, now).await {
        Ok(key) => Ok(key),
        Err(super::sealed::KeyOrStore::Key(e)) => Err(e.into()),
        Err(super::sealed::KeyOrStore::Store(e)) => Err(e.into()),
    }
}

/// Refuses a selection of which some notifications are sealed under an identity key that
/// is no longer there, naming them and what could go on its own.
fn check_sealed(
    preview: &Preview,
    key: Option<&IdentityKey>,
    config: &Config,
) -> Result<(), ResendError> {
    if preview.sealed_away.is_empty() {
        return Ok(());
    }
    let file = config.daily.identity_key_file.clone();
    let why = match key {
        None => format!("{} is missing", file.display()),
        Some(_) => format!("{} holds another key", file.display()),
    };
    let others: Vec<i64> = preview
        .numbers
        .iter()
        .copied()
        .filter(|n| preview.sealed_away.binary_search(n).is_err())
        .collect();
    Err(ResendError::SealedAway {
        count: preview.sealed_away.len(),
        selected: preview.numbers.len(),
        numbers: super::sealed::ranges(&preview.sealed_away),
        why,
        file,
        others: if others.is_empty() {
            String::new()
        } else {
            format!(
                "; the others (number(s) {}) can be sent again on their own, e.g. with --between-numbers",
                super::sealed::ranges(&others)
            )
        },
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
    super::mark::guard(&mut tx, &config.daily).await?;
    let key = open_key(&mut tx, config, now).await?;
    let preview = preview_in(&mut tx, selector).await?;
    check_sealed(&preview, key.as_ref(), config)?;
    check(&preview, selector, true)?;
    let key = key.ok_or_else(|| KeyError::Missing {
        file: config.daily.identity_key_file.clone(),
    })?;
    let sender = day::sender(config, store, now.date_naive()).await?;
    let parts = Parts::new(&sender, &preview.numbers, "re-send".into());
    let written = day::write_parts(&mut tx, &key, &parts, schemas, "resend", out).await?;
    tx.rollback().await?;
    Ok(written)
}
