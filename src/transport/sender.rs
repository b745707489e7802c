//! Drains the outbox over AMQP: publish, wait for the broker's confirm, mark `sent`.
//!
//! The outbox is the only memory of what is in flight. A message is counted as published
//! before it goes out and marked `sent` only on its confirm, so when a connection drops
//! whatever was not confirmed is still `queued` and goes out again — with the same bytes and
//! MsgId — on the next connection. A message whose confirm was lost may so reach the receiver
//! twice; its publish count shows it, and the register recognises the MsgId.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, watch};

use super::amqp::{Amqp, Published, Publisher, TransportError, outcome};
use super::backoff::Backoff;
use super::link::Link;
use super::properties::Properties;
use crate::config::delivery::{Broker, Queues};
use crate::store::outbox::State;
use crate::store::{Store, StoreError};

/// How many messages are in flight (published, confirm awaited) at once.
const WINDOW: i64 = 64;

/// How long a confirm may take before the connection is taken for dead.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(60);

/// Who we are on the wire.
#[derive(Clone, Debug)]
pub struct Origin {
    /// Our service unit's HER-id (`fromHerId`).
    pub her_id: String,
    pub queues: Queues,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The broker returned or refused a message; it stays queued.
    #[error("{0}")]
    NotTaken(String),
}

/// Publishes every queued message; returns how many the broker confirmed.
pub async fn drain(
    store: &Store,
    amqp: &Amqp,
    publisher: &Publisher,
    origin: &Origin,
) -> Result<usize, SendError> {
    let mut confirmed = 0;
    loop {
        let batch = store.pending(WINDOW).await?;
        if batch.is_empty() {
            return Ok(confirmed);
        }
        let ids: Vec<&str> = batch.iter().map(|m| m.msg_id.as_str()).collect();
        store.note_publish(&ids, Utc::now()).await?;
        let mut in_flight = Vec::with_capacity(batch.len());
        for message in &batch {
            let queue = origin.queues.to(&message.target);
            let properties = Properties {
                message_id: message.msg_id.clone(),
                correlation_id: message.msg_id.clone(),
                subject: message.msg_type.clone(),
                to: queue.to_string(),
                reply_to: origin.queues.receipts.clone(),
                from_her_id: origin.her_id.clone(),
                to_her_id: message.to_her_id.clone(),
                application_timestamp: Utc::now(),
                cpa_id: None,
            };
            // One message's bytes at a time: a large one is read from its file only now.
            let body = message.bytes()?;
            let confirm = publisher
                .start(queue, &body, properties.to_amqp())
                .await
                .map_err(|e| amqp.broken(e))?;
            drop(body);
            in_flight.push((message, confirm));
        }
        let mut refused = None;
        for (message, confirm) in in_flight {
            let confirmation = match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
                Ok(confirmation) => confirmation.map_err(|e| amqp.broken(e))?,
                Err(_) => {
                    return Err(SendError::NotTaken(format!(
                        "the broker {} did not confirm message {} within {} s; it stays queued and is sent again",
                        amqp.broker,
                        message.msg_id,
                        CONFIRM_TIMEOUT.as_secs()
                    )));
                }
            };
            match outcome(confirmation) {
                Published::Confirmed => {
                    store
                        .transition(&message.msg_id, State::Sent, None, Utc::now())
                        .await?;
                    confirmed += 1;
                }
                Published::Returned { reply } => {
                    let problem = format!(
                        "the broker {} has no queue '{}' to take message {} ({reply}); check amqp.{} against the Adresseregister",
                        amqp.broker,
                        origin.queues.to(&message.target),
                        message.msg_id,
                        if origin.queues.to(&message.target) == origin.queues.kpr {
                            "kpr_queue"
                        } else {
                            "kpr_validation_queue"
                        }
                    );
                    store.note_problem(&message.msg_id, &problem).await?;
                    refused.get_or_insert(problem);
                }
                Published::Refused => {
                    let problem = format!(
                        "the broker {} refused message {} (nack); it stays queued and is sent again",
                        amqp.broker, message.msg_id
                    );
                    store.note_problem(&message.msg_id, &problem).await?;
                    refused.get_or_insert(problem);
                }
            }
        }
        if let Some(problem) = refused {
            return Err(SendError::NotTaken(problem));
        }
    }
}

/// Connects, drains the outbox once, and disconnects: `kpr-bridge send`.
pub async fn send_once(
    store: &Store,
    broker: &Broker,
    origin: &Origin,
) -> Result<usize, SendError> {
    let amqp = Amqp::connect(broker, "kpr-bridge send").await?;
    let publisher = amqp.publisher(&broker.exchange).await?;
    let result = drain(store, &amqp, &publisher, origin).await;
    publisher.close().await;
    amqp.close().await;
    result
}

/// Keeps the outbox drained until `shutdown` turns true: wakes on `wake` (something was
/// queued) or every `poll`, reconnects with growing pauses after any failure. `link` tells
/// whether the broker is reachable.
pub async fn run(
    store: Store,
    broker: Broker,
    origin: Origin,
    wake: Arc<Notify>,
    poll: Duration,
    link: Link,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    while !*shutdown.borrow() {
        let failure = match Amqp::connect(&broker, "kpr-bridge sender").await {
            Ok(amqp) => {
                link.up();
                let failure = keep_drained(
                    &store,
                    &amqp,
                    &broker,
                    &origin,
                    &wake,
                    poll,
                    &mut shutdown,
                    &mut backoff,
                )
                .await;
                amqp.close().await;
                failure
            }
            Err(e) => Some(SendError::from(e)),
        };
        if let Some(failure) = failure {
            link.down(&failure);
            backoff.after(&failure, &mut shutdown).await;
        }
    }
}

/// Drains on one connection until it fails (returns the failure) or shutdown (None).
#[allow(clippy::too_many_arguments)]
async fn keep_drained(
    store: &Store,
    amqp: &Amqp,
    broker: &Broker,
    origin: &Origin,
    wake: &Notify,
    poll: Duration,
    shutdown: &mut watch::Receiver<bool>,
    backoff: &mut Backoff,
) -> Option<SendError> {
    let publisher = match amqp.publisher(&broker.exchange).await {
        Ok(publisher) => publisher,
        Err(e) => return Some(e.into()),
    };
    while !*shutdown.borrow() {
        match drain(store, amqp, &publisher, origin).await {
            Ok(count) => {
                if count > 0 {
                    tracing::info!(confirmed = count, "sent to {}", origin.queues.kpr);
                }
                backoff.reset();
            }
            Err(e) => return Some(e),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => {}
            // Idle, the sender would only learn of a dead connection at its next publish.
            lost = amqp.lost() => return Some(lost.into()),
        }
    }
    publisher.close().await;
    None
}
