//! Ship: the notifications not yet sent, up to the reporting date, in messages of at most
//! `[daily] max_notifications` each — every part its own MsgId, validated and packed, put in
//! the outbox with a record of which notifications it holds, all in one state-store
//! transaction (invariant 1). A day without changes sends nothing and records that it did so.
//!
//! A message is rebuilt from the store the same way for a first send and for a re-send
//! ([`super::resend`]): the stored notification with its identity number unsealed while the
//! message is written.

use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;
use uuid::Uuid;

use crate::crypto::at_rest::{IdentityKey, KeyError};
use crate::message::ipl56::{self, Header, Notification};
use crate::model::register::Contact;
use crate::store::StoreError;
use crate::store::daily::{DailyTx, MessageRecord, ShipmentRecord};
use crate::store::outbox::NewMessage;

/// Who sends, from which EPJ, and how the messages are cut, for every daily message.
#[derive(Clone, Debug)]
pub struct Sender {
    pub municipality: String,
    /// Product and version of each EPJ in use on the date; the last names the message.
    pub epj: Vec<(String, String)>,
    pub contacts: Vec<Contact>,
    pub msg_type: String,
    pub max_notifications: usize,
}

impl Sender {
    fn header(&self, local_id: String) -> Header {
        let (product, version) = self.epj.last().cloned().unwrap_or_default();
        Header {
            // The vendor is not configured: the product names it best.
            supplier: product.clone(),
            epj_name: product,
            epj_version: version,
            local_id,
            contacts: self.contacts.clone(),
            municipality: self.municipality.clone(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ShipError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// One message, written and not yet packed.
pub struct Part {
    /// 1-based, of `parts`.
    pub part: usize,
    pub parts: usize,
    pub numbers: Vec<i64>,
    pub xml: Vec<u8>,
    /// "2026-03-02 part 1 of 3", or "re-send part 1 of 1".
    pub label: String,
}

/// Cuts `numbers` into the parts of at most `max_notifications`; each is built when asked
/// for, so that one part at a time is in memory.
pub struct Parts<'a> {
    sender: &'a Sender,
    chunks: Vec<&'a [i64]>,
    title: String,
}

impl<'a> Parts<'a> {
    pub fn new(sender: &'a Sender, numbers: &'a [i64], title: String) -> Parts<'a> {
        Parts {
            sender,
            chunks: numbers.chunks(sender.max_notifications.max(1)).collect(),
            title,
        }
    }

    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn sender(&self) -> &Sender {
        self.sender
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Part `at` (0-based), written from the store.
    pub async fn build(
        &self,
        tx: &mut DailyTx,
        key: &IdentityKey,
        at: usize,
    ) -> Result<Part, ShipError> {
        let numbers = self.chunks[at];
        let label = format!("{} part {} of {}", self.title, at + 1, self.len());
        let header = self.sender.header(label.clone());
        let mut xml = Vec::new();
        ipl56::write_head(&mut xml, &header).expect("writing to a Vec does not fail");
        for (number, body, sealed) in tx.notifications(numbers).await? {
            let mut notification: Notification = serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("daily notification {number}: {e}")))?;
            notification.event.user.fid =
                key.open_sealed(&sealed, &notification.guid.to_string())?;
            ipl56::write_notification(&mut xml, &notification)
                .expect("writing to a Vec does not fail");
        }
        ipl56::write_tail(&mut xml, &header).expect("writing to a Vec does not fail");
        Ok(Part {
            part: at + 1,
            parts: self.len(),
            numbers: numbers.to_vec(),
            xml,
            label,
        })
    }
}

/// What a ship put in the outbox.
#[derive(Clone, Debug)]
pub struct Shipped {
    pub shipment: String,
    pub notifications: usize,
    /// MsgIds of the parts, in order; empty on a day without changes.
    pub messages: Vec<String>,
}

/// Puts one packed part in the outbox and records what it holds, inside `tx`.
pub async fn enqueue_part(
    tx: &mut DailyTx,
    part: &Part,
    packed: &NewMessage,
    reporting_date: Option<NaiveDate>,
    now: DateTime<Utc>,
    forced: bool,
) -> Result<(), StoreError> {
    tx.enqueue(packed, now).await?;
    tx.record_message(
        &MessageRecord {
            msg_id: packed.msg_id.clone(),
            reporting_date,
            at: now,
            part: part.part as i64,
            parts: part.parts as i64,
            resend: reporting_date.is_none(),
            forced,
        },
        &part.numbers,
    )
    .await?;
    tracing::info!(
        msg_id = %packed.msg_id,
        notifications = part.numbers.len(),
        "daily message {}", part.label
    );
    Ok(())
}

/// Records the ship of `date`: `messages` are the parts already enqueued.
pub async fn record(
    tx: &mut DailyTx,
    date: NaiveDate,
    now: DateTime<Utc>,
    notifications: usize,
    messages: Vec<String>,
) -> Result<Shipped, StoreError> {
    let shipment = Uuid::new_v4().to_string();
    tx.record_shipment(&ShipmentRecord {
        shipment: shipment.clone(),
        reporting_date: date,
        at: now,
        notifications: notifications as i64,
        messages: messages.len() as i64,
    })
    .await?;
    crate::failpoint::hit("daily.ship.before-commit");
    Ok(Shipped {
        shipment,
        notifications,
        messages,
    })
}
