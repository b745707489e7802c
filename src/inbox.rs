//! What arrives on our own queues: receipts on `_async`, transport error reports on `_error`.
//!
//! Each message is taken in — decrypted, verified, validated, parsed, matched to the outbox —
//! or kept as an anomaly with its bytes and the reason, and only then acknowledged to the
//! broker. Nothing that arrives is ever dropped unrecorded, and no input crashes the loop: a
//! receipt that fails verification is not believed, but kept for an operator to look at.
//!
//! [`spool`] takes receipts the same way from a directory, for the spool transport.

pub mod spool;

use std::sync::Arc;

use chrono::Utc;
use lapin::BasicProperties;
use tokio::sync::watch;

use crate::config::delivery::{Broker, Queues};
use crate::crypto::Keys;
use crate::message::apprec;
use crate::message::msghead::FHI_HER_ID;
use crate::message::schema::Schemas;
use crate::store::outbox::{Moved, State};
use crate::store::receipts::{Anomaly, ErrorReport, Recorded, status_code, status_words};
use crate::store::{Store, StoreError};
use crate::transport::amqp::{self, Amqp};
use crate::transport::backoff::Backoff;
use crate::transport::link::Link;
use crate::transport::properties::{ErrorProperties, header};

/// A packed receipt is a few KiB; anything much larger is not one, and is not decrypted.
pub const MAX_RECEIPT_BYTES: usize = 4 << 20;

/// What became of one incoming message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// A receipt for one of our messages, and what it did to the message's state.
    Receipt { msg_id: String, moved: Moved },
    /// A transport error report for one of our messages.
    ErrorReport { msg_id: String, moved: Moved },
    /// A receipt taken before (the same AppRec Id): ignored.
    Repeated { msg_id: String },
    /// Kept as an anomaly of this kind.
    Anomaly { kind: String },
}

/// Takes in what arrives: the state store, our keys, and the schemas receipts must match.
#[derive(Clone)]
pub struct Inbox {
    pub store: Store,
    pub keys: Arc<Keys>,
    pub schemas: Arc<Schemas>,
}

impl Inbox {
    /// Takes a message from our receipt queue.
    pub async fn take_receipt(
        &self,
        queue: &str,
        body: &[u8],
        properties: &BasicProperties,
    ) -> Result<Taken, StoreError> {
        let message_id = properties.message_id().as_ref().map(|s| s.to_string());
        let anomaly = |kind: &str, detail: String, keep: bool| Anomaly {
            queue: queue.to_string(),
            kind: kind.to_string(),
            detail,
            msg_id: message_id.clone(),
            size: body.len(),
            body: keep.then(|| body.to_vec()),
        };
        if body.len() > MAX_RECEIPT_BYTES {
            let detail = format!(
                "a message of {} bytes on {queue}, larger than any receipt ({} bytes at most); not decrypted, kept as it came",
                body.len(),
                MAX_RECEIPT_BYTES
            );
            return self.keep(anomaly("too-large", detail, true)).await;
        }
        let unpacked = match self.keys.unpack(body) {
            Ok(unpacked) => unpacked,
            Err(e) => {
                let detail = format!("a message on {queue} that is not taken as a receipt: {e}");
                return self.keep(anomaly(e.kind(), detail, true)).await;
            }
        };
        if let Err(invalid) = self.schemas.validate_apprec(&unpacked.content) {
            let detail = format!(
                "a message on {queue} signed by {} is not a valid AppRec: {invalid}",
                unpacked.signer_subject
            );
            return self.keep(anomaly("not-apprec", detail, true)).await;
        }
        let receipt = match apprec::parse(&unpacked.content) {
            Ok(receipt) => receipt,
            Err(e) => {
                let detail = format!("a message on {queue} is not a readable AppRec: {e}");
                return self.keep(anomaly("not-apprec", detail, true)).await;
            }
        };
        let msg_id = receipt.original_msg_id.clone();
        let about = |kind: &str, detail: String| {
            let mut kept = anomaly(kind, detail, true);
            kept.msg_id = Some(msg_id.clone());
            kept
        };
        let Some((target, kpr_unit)) = self.store.addressee(&msg_id).await? else {
            let detail = format!(
                "a receipt on {queue} for MsgId {msg_id}, which is not in the outbox; kept, nothing changed"
            );
            return self.keep(about("unknown-msg-id", detail)).await;
        };
        if let Err(why) = from_kpr(&receipt, properties, &kpr_unit) {
            let detail = format!(
                "a receipt on {queue} for MsgId {msg_id} (sent to KPR's {target} unit, HER-id {kpr_unit}) {why}; not taken, the message's state is unchanged. NHN calls this abuse:spoofing-attack: find out who put it there"
            );
            return self.keep(about("sender-mismatch", detail)).await;
        }
        match self.store.record_receipt(&receipt, Utc::now()).await? {
            Recorded::Moved(Moved::Unknown) => {
                let detail = format!(
                    "a receipt on {queue} for MsgId {msg_id}, which is not in the outbox; kept, nothing changed"
                );
                self.keep(about("unknown-msg-id", detail)).await
            }
            Recorded::Moved(moved) => {
                log_receipt(&receipt, moved);
                Ok(Taken::Receipt { msg_id, moved })
            }
            Recorded::Again(state) => {
                tracing::info!(
                    msg_id = %msg_id,
                    receipt = %receipt.id,
                    "the same receipt again (the message is {state}): taken once already, ignored"
                );
                Ok(Taken::Repeated { msg_id })
            }
            Recorded::Conflicting { state, first } => {
                let detail = format!(
                    "a receipt on {queue} for MsgId {msg_id} says {} (AppRec {}, received {}), but the first receipt said {} (AppRec {}, received {}); the message stays {state}. Ask KPR (FHI) which answer holds before acting on it",
                    status_words(status_code(receipt.status)),
                    receipt.id,
                    Utc::now().format("%Y-%m-%d %H:%M:%S UTC"),
                    status_words(first.status),
                    first.receipt_id,
                    first.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
                );
                self.keep(about("conflicting-receipt", detail)).await
            }
        }
    }

    /// Takes a message from our error queue.
    pub async fn take_error_report(
        &self,
        queue: &str,
        body: &[u8],
        properties: &BasicProperties,
    ) -> Result<Taken, StoreError> {
        let Some(error) = ErrorProperties::read(properties) else {
            let detail = format!(
                "a message on {queue} without errorCondition and originalMessageId (fromHerId {}); kept as it came",
                header(properties, "fromHerId").unwrap_or_else(|| "missing".into())
            );
            return self
                .keep(Anomaly {
                    queue: queue.to_string(),
                    kind: "not-error-report".into(),
                    detail,
                    msg_id: None,
                    size: body.len(),
                    body: Some(body.to_vec()),
                })
                .await;
        };
        let report = ErrorReport {
            original_msg_id: error.original_message_id.clone(),
            condition: error.condition,
            description: error.description,
        };
        let moved = self.store.record_error_report(&report, Utc::now()).await?;
        if moved == Moved::Unknown {
            let detail = format!(
                "an error report on {queue} ({}: {}) for MsgId {}, which is not in the outbox",
                report.condition, report.description, report.original_msg_id
            );
            return self
                .keep(Anomaly {
                    queue: queue.to_string(),
                    kind: "unknown-msg-id".into(),
                    detail,
                    msg_id: Some(report.original_msg_id),
                    size: body.len(),
                    body: Some(body.to_vec()),
                })
                .await;
        }
        tracing::error!(
            msg_id = %report.original_msg_id,
            "the receiver reported {}: {}; the message is in state error, see kpr-bridge receipts",
            report.condition,
            report.description
        );
        Ok(Taken::ErrorReport {
            msg_id: report.original_msg_id,
            moved,
        })
    }

    pub(crate) async fn keep(&self, anomaly: Anomaly) -> Result<Taken, StoreError> {
        tracing::warn!(queue = %anomaly.queue, kind = %anomaly.kind, "{}", anomaly.detail);
        self.store.record_anomaly(&anomaly, Utc::now()).await?;
        Ok(Taken::Anomaly { kind: anomaly.kind })
    }
}

/// Whether a receipt for a message sent to KPR's unit `kpr_unit` comes from KPR: its
/// `fromHerId` must be that unit, and the AppRec's own Sender must name FHI or that unit.
/// (The signature says who signed; this says the signer answers for the right address.)
fn from_kpr(
    receipt: &apprec::AppRec,
    properties: &BasicProperties,
    kpr_unit: &str,
) -> Result<(), String> {
    match header(properties, "fromHerId") {
        Some(from) if from.trim() == kpr_unit => {}
        Some(from) => return Err(format!("comes from HER-id {}", from.trim())),
        None => return Err("has no fromHerId".into()),
    }
    let named = receipt
        .sender
        .iter()
        .any(|party| [FHI_HER_ID, kpr_unit].contains(&party.id.trim()));
    if named {
        Ok(())
    } else {
        let ids: Vec<&str> = receipt.sender.iter().map(|p| p.id.trim()).collect();
        Err(format!(
            "names as its AppRec Sender HER-id {} instead of FHI ({FHI_HER_ID}) or KPR's unit",
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(" / ")
            }
        ))
    }
}

fn log_receipt(receipt: &apprec::AppRec, moved: Moved) {
    let codes: Vec<String> = receipt
        .errors
        .iter()
        .map(|e| format!("{} {}", e.code, e.text))
        .collect();
    match moved {
        Moved::From(_) if receipt.status.is_delivered() && codes.is_empty() => {
            tracing::info!(msg_id = %receipt.original_msg_id, "delivered: KPR answered OK");
        }
        Moved::From(_) if receipt.status.is_delivered() => tracing::warn!(
            msg_id = %receipt.original_msg_id,
            "delivered with errors in parts: {}",
            codes.join("; ")
        ),
        Moved::From(_) => tracing::error!(
            msg_id = %receipt.original_msg_id,
            "rejected by KPR: {}",
            codes.join("; ")
        ),
        _ => tracing::info!(
            msg_id = %receipt.original_msg_id,
            "another receipt for a message already {}; kept as a duplicate",
            match moved {
                Moved::Stayed(state) => state,
                _ => State::Delivered,
            }
        ),
    }
}

/// Which of our queues a message came from.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Receipts,
    Errors,
}

/// Takes every message waiting on our two queues, then returns (`kpr-bridge receipts`).
pub async fn collect(
    inbox: &Inbox,
    amqp: &Amqp,
    queues: &Queues,
) -> Result<Vec<Taken>, CollectError> {
    let channel = amqp.channel().await?;
    let mut taken = Vec::new();
    for (queue, kind) in [
        (&queues.receipts, Kind::Receipts),
        (&queues.errors, Kind::Errors),
    ] {
        while let Some(message) = amqp.get(&channel, queue).await? {
            let delivery = message.delivery;
            taken.push(
                take(
                    inbox,
                    queue,
                    kind,
                    &delivery.data,
                    &delivery.properties,
                    &delivery.acker,
                )
                .await?,
            );
        }
    }
    let _ = channel.close(200, "collected").await;
    Ok(taken)
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Transport(#[from] amqp::TransportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot acknowledge a message on {queue}: {source}; it is delivered again and taken again"
    )]
    Ack { queue: String, source: lapin::Error },
    /// A spool directory or one of its files (`delivery.spool_receipts_dir`).
    #[error(transparent)]
    Spool(#[from] crate::transport::spool::pair::PairError),
}

/// Takes one message and acknowledges it once stored; gives it back if storing failed.
async fn take(
    inbox: &Inbox,
    queue: &str,
    kind: Kind,
    body: &[u8],
    properties: &BasicProperties,
    acker: &lapin::acker::Acker,
) -> Result<Taken, CollectError> {
    let result = match kind {
        Kind::Receipts => inbox.take_receipt(queue, body, properties).await,
        Kind::Errors => inbox.take_error_report(queue, body, properties).await,
    };
    match result {
        Ok(taken) => {
            amqp::ack(acker).await.map_err(|source| CollectError::Ack {
                queue: queue.to_string(),
                source,
            })?;
            Ok(taken)
        }
        Err(e) => {
            let _ = amqp::requeue(acker).await;
            Err(e.into())
        }
    }
}

/// Consumes our two queues until `shutdown` turns true, reconnecting after failures; `link`
/// tells whether the broker is reachable.
pub async fn run(
    inbox: Inbox,
    broker: Broker,
    queues: Queues,
    link: Link,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    while !*shutdown.borrow() {
        let failure = match Amqp::connect(&broker, "kpr-bridge receipts").await {
            Ok(amqp) => {
                let failure =
                    consume(&inbox, &amqp, &queues, &link, &mut shutdown, &mut backoff).await;
                amqp.close().await;
                failure
            }
            Err(e) => Some(CollectError::from(e)),
        };
        if let Some(failure) = failure {
            link.down(&failure);
            backoff.after(&failure, &mut shutdown).await;
        }
    }
}

async fn consume(
    inbox: &Inbox,
    amqp: &Amqp,
    queues: &Queues,
    link: &Link,
    shutdown: &mut watch::Receiver<bool>,
    backoff: &mut Backoff,
) -> Option<CollectError> {
    use futures_util::StreamExt;
    use lapin::options::BasicConsumeOptions;
    use lapin::types::FieldTable;

    let mut streams = Vec::new();
    for (queue, kind) in [
        (&queues.receipts, Kind::Receipts),
        (&queues.errors, Kind::Errors),
    ] {
        let channel = match amqp.channel().await {
            Ok(channel) => channel,
            Err(e) => return Some(e.into()),
        };
        let consumer = match channel
            .basic_consume(
                queue,
                "",
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
        {
            Ok(consumer) => consumer,
            Err(e) => return Some(amqp.broken(e).into()),
        };
        streams.push(
            consumer
                .map(move |delivery| (queue.clone(), kind, delivery))
                .boxed(),
        );
    }
    let mut deliveries = futures_util::stream::select_all(streams);
    link.up();
    loop {
        let next = tokio::select! {
            next = deliveries.next() => next,
            _ = shutdown.changed() => return None,
        };
        match next {
            Some((queue, kind, Ok(delivery))) => {
                match take(
                    inbox,
                    &queue,
                    kind,
                    &delivery.data,
                    &delivery.properties,
                    &delivery.acker,
                )
                .await
                {
                    Ok(_) => backoff.reset(),
                    Err(e) => return Some(e),
                }
            }
            Some((_, _, Err(e))) => return Some(amqp.broken(e).into()),
            None => {
                return Some(
                    amqp.cancelled(&format!("{} or {}", queues.receipts, queues.errors))
                        .into(),
                );
            }
        }
    }
}
