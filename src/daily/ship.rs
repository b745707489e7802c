//! Ship: every captured, unshipped event up to the reporting date → one fagmelding and one
//! identity message (two shipments, like IPL and IDE) → packed into the outbox, the events
//! marked shipped, all in one state-store transaction (invariant 1). A day without changes
//! sends nothing and records that it did so.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::event::Event;
use super::state::PersonKey;
use crate::message::ktt::{self, Header};
use crate::store::StoreError;
use crate::store::daily::{DailyTx, ShipmentRecord};
use crate::store::outbox::NewMessage;

/// Who sends, and from which EPJs, for the message header.
#[derive(Clone, Debug)]
pub struct Sender {
    pub municipality: String,
    pub municipality_name: String,
    /// Product and version of each EPJ in use on the date.
    pub epj: Vec<(String, String)>,
}

/// The day's two messages, built and not yet packed.
pub struct Built {
    pub shipment: Uuid,
    pub events: Vec<Event>,
    pub fagmelding: Vec<u8>,
    pub identmelding: Vec<u8>,
}

/// Builds the two messages from every unshipped event of `date` or before; `None` when
/// there are none.
pub async fn build(
    tx: &mut DailyTx,
    sender: &Sender,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<Built>, StoreError> {
    let events = tx.unshipped_events(date).await?;
    if events.is_empty() {
        return Ok(None);
    }
    let mut keys: Vec<PersonKey> = events.iter().map(|e| e.person).collect();
    keys.sort();
    keys.dedup();
    let identities: Vec<(PersonKey, crate::model::Ident)> = tx
        .identities(&keys)
        .await?
        .into_iter()
        .map(|(key, ident)| (key, crate::model::Ident::new(ident)))
        .collect();
    let header = Header {
        shipment: Uuid::new_v4(),
        municipality: sender.municipality.clone(),
        municipality_name: sender.municipality_name.clone(),
        reporting_date: date,
        generated: now,
        epj: sender.epj.clone(),
    };
    Ok(Some(Built {
        shipment: header.shipment,
        fagmelding: ktt::fagmelding(&header, &events),
        identmelding: ktt::identmelding(&header, &identities),
        events,
    }))
}

/// What a ship put in the outbox.
#[derive(Clone, Debug)]
pub struct Shipped {
    pub shipment: String,
    pub events: usize,
    /// MsgIds of the fagmelding and the identity message; `None` on a day without changes.
    pub messages: Option<(String, String)>,
}

/// Puts the packed messages in the outbox and marks their events shipped, inside `tx`.
/// `packed` is the fagmelding and the identity message, packed; `None` when nothing changed.
pub async fn record(
    tx: &mut DailyTx,
    date: NaiveDate,
    now: DateTime<Utc>,
    built: Option<&Built>,
    packed: Option<(NewMessage, NewMessage)>,
) -> Result<Shipped, StoreError> {
    let shipment = built.map_or_else(Uuid::new_v4, |b| b.shipment).to_string();
    let events = built.map_or(0, |b| b.events.len());
    let messages = match packed {
        Some((fagmelding, identmelding)) => {
            tx.enqueue(&fagmelding, now).await?;
            tx.enqueue(&identmelding, now).await?;
            tx.mark_shipped(date, &shipment).await?;
            tx.forget_shipped_identities().await?;
            Some((fagmelding.msg_id, identmelding.msg_id))
        }
        None => None,
    };
    tx.record_shipment(&ShipmentRecord {
        shipment: shipment.clone(),
        reporting_date: date,
        at: now,
        events: events as i64,
        fagmelding: messages.as_ref().map(|m| m.0.clone()),
        identmelding: messages.as_ref().map(|m| m.1.clone()),
    })
    .await?;
    crate::failpoint::hit("daily.ship.before-commit");
    Ok(Shipped {
        shipment,
        events,
        messages,
    })
}
