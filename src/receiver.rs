//! The local KPR test receiver: plays KPR for dry runs and for the project's own tests.
//!
//! It treats each message the way NHN and KPR do: missing header properties are answered
//! with a transport error report (`errorCondition`); a message that cannot be decrypted
//! likewise; everything else gets a signed and encrypted AppRec — Avvist S01 for a bad
//! signature, S02 for an untrusted or expired certificate, T01/T02/T10 when the envelope or
//! payload is not XML, does not validate, or has no schema; the configured rules' answer
//! when a payload matches one; OK otherwise.
//!
//! Deciding the answer ([`Receiver::answer`], `judge`) knows nothing of the transport. On a
//! broker, the receiver consumes KPR's queue, posts error reports to the sender's `_error`
//! queue and receipts to its reply-to queue, and acknowledges a message only after its
//! answer is confirmed. On a spool ([`spool`]), it reads the municipality's outgoing pairs
//! and writes its answers as pairs into the municipality's receipts directory.

pub mod spool;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures_util::StreamExt;
use lapin::BasicProperties;
use lapin::options::BasicConsumeOptions;
use lapin::types::FieldTable;
use tokio::sync::watch;

use crate::config::receiver::{ReceiverConfig, ReceiverTransport, Rule};
use crate::crypto::{CertificateError, Keys, UnpackError};
use crate::message::apprec::{self, AppRec, PartyId, ReceiptError, Status, Version};
use crate::message::msghead;
use crate::message::schema::{SchemaError, Schemas};
use crate::transport::amqp::{self, Amqp, Published, Publisher, TransportError};
use crate::transport::backoff::Backoff;
use crate::transport::properties::{ErrorProperties, Properties};

/// Counts of what the receiver has seen, for logs and tests.
#[derive(Debug, Default)]
pub struct Stats {
    pub received: AtomicUsize,
    /// Messages whose MsgId had been received before (published twice by the sender).
    pub duplicates: AtomicUsize,
    pub answered: AtomicUsize,
    pub error_reports: AtomicUsize,
    seen: Mutex<HashSet<String>>,
}

impl Stats {
    fn note(&self, message_id: &str) {
        self.received.fetch_add(1, Ordering::Relaxed);
        let fresh = self
            .seen
            .lock()
            .map(|mut seen| seen.insert(message_id.to_string()))
            .unwrap_or(true);
        if !fresh {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            tracing::info!(msg_id = %message_id, "received again (the sender published it twice)");
        }
    }

    pub fn count(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::Relaxed)
    }
}

/// The receiver with its keys and schemas loaded.
#[derive(Clone)]
pub struct Receiver {
    pub config: Arc<ReceiverConfig>,
    pub keys: Arc<Keys>,
    pub schemas: Arc<Schemas>,
    pub stats: Arc<Stats>,
}

/// The receiver's answer to one message, whatever carried it.
#[derive(Debug)]
pub enum Answer {
    /// A transport error report, as NHN posts to the sender's error queue.
    ErrorReport(ErrorProperties),
    /// An AppRec with the properties it travels with (`to` is the sender's reply-to).
    Receipt {
        properties: Box<Properties>,
        receipt: Box<AppRec>,
    },
}

/// Why the receiver cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Certificates(#[from] CertificateError),
    #[error(transparent)]
    Schemas(#[from] SchemaError),
}

impl Receiver {
    /// Loads the configuration's keys (checked as at every start) and schemas; returns the
    /// receiver and the certificates' warnings.
    pub fn open(config: ReceiverConfig) -> Result<(Receiver, Vec<String>), OpenError> {
        let loaded = Keys::load(&config.certificates)?;
        let schemas = Schemas::load(&config.payload_schemas)?.with_alias(
            &config.daily_msg_type,
            crate::model::register::DEFAULT_MSG_TYPE,
        );
        let receiver = Receiver {
            config: Arc::new(config),
            keys: Arc::new(loaded.keys),
            schemas: Arc::new(schemas),
            stats: Arc::new(Stats::default()),
        };
        Ok((receiver, loaded.warnings))
    }

    /// Answers on the configured transport until `shutdown` turns true.
    pub async fn serve(&self, shutdown: watch::Receiver<bool>) {
        match &self.config.transport {
            ReceiverTransport::Amqp { .. } => self.run(shutdown).await,
            ReceiverTransport::Spool { incoming, answers } => {
                self.run_spool(incoming, answers, shutdown).await
            }
        }
    }

    /// Consumes the configured queue until `shutdown` turns true, reconnecting after failures.
    /// Returns at once when the receiver is configured for a spool.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let ReceiverTransport::Amqp { broker, .. } = &self.config.transport else {
            tracing::error!("receiver: no [amqp] is configured, so no queue is consumed");
            return;
        };
        let mut backoff = Backoff::default();
        while !*shutdown.borrow() {
            let failure = match Amqp::connect(broker, "kpr-bridge receiver").await {
                Ok(amqp) => {
                    let failure = self.consume(&amqp, &mut shutdown, &mut backoff).await;
                    amqp.close().await;
                    failure
                }
                Err(e) => Some(e),
            };
            if let Some(failure) = failure {
                backoff
                    .after(&format!("receiver: {failure}"), &mut shutdown)
                    .await;
            }
        }
    }

    async fn consume(
        &self,
        amqp: &Amqp,
        shutdown: &mut watch::Receiver<bool>,
        backoff: &mut Backoff,
    ) -> Option<TransportError> {
        let ReceiverTransport::Amqp { broker, queue } = &self.config.transport else {
            return None;
        };
        if let Err(e) = amqp.declare_queue(queue).await {
            return Some(e);
        }
        let publisher = match amqp.publisher(&broker.exchange).await {
            Ok(publisher) => publisher,
            Err(e) => return Some(e),
        };
        let channel = match amqp.channel().await {
            Ok(channel) => channel,
            Err(e) => return Some(e),
        };
        let mut consumer = match channel
            .basic_consume(
                queue,
                "kpr-bridge-receiver",
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
        {
            Ok(consumer) => consumer,
            Err(e) => return Some(amqp.broken(e)),
        };
        tracing::info!(
            "receiver: waiting for shipments on {queue} at {}",
            amqp.broker
        );
        loop {
            let next = tokio::select! {
                next = consumer.next() => next,
                _ = shutdown.changed() => return None,
            };
            let delivery = match next {
                Some(Ok(delivery)) => delivery,
                Some(Err(e)) => return Some(amqp.broken(e)),
                None => return Some(amqp.cancelled(queue)),
            };
            // Judged as NHN's receivers, AMQP 1.0 clients, see it.
            let properties =
                Properties::read_as_amqp10(&delivery.properties, delivery.routing_key.as_str());
            let answer = self
                .answer(&delivery.data, &delivery.properties, properties)
                .await;
            let reply_to = delivery.properties.reply_to().as_ref().map(|s| s.as_str());
            match self
                .deliver(amqp, &publisher, reply_to.unwrap_or_default(), answer)
                .await
            {
                Ok(()) => {
                    if let Err(e) = amqp::ack(&delivery.acker).await {
                        return Some(amqp.broken(e));
                    }
                    backoff.reset();
                }
                Err(e) => {
                    let _ = amqp::requeue(&delivery.acker).await;
                    return Some(e);
                }
            }
        }
    }

    /// Decides the answer to one message from its body and its properties as read.
    pub async fn answer(
        &self,
        body: &[u8],
        amqp_properties: &BasicProperties,
        properties: Result<Properties, Vec<String>>,
    ) -> Answer {
        let message_id = amqp_properties
            .message_id()
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default();
        self.stats.note(&message_id);
        let properties = match properties {
            Ok(properties) => properties,
            Err(problems) => {
                return Answer::ErrorReport(ErrorProperties {
                    condition: "transport:invalid-field-value".into(),
                    description: problems.join("; "),
                    original_message_id: message_id,
                });
            }
        };
        let keys = self.keys.clone();
        let body = body.to_vec();
        let unpacked = tokio::task::spawn_blocking(move || keys.unpack(&body))
            .await
            .unwrap_or_else(|e| {
                Err(UnpackError::Openssl(format!(
                    "the unpacking task failed: {e}"
                )))
            });
        let (status, errors) = match unpacked {
            Err(
                e @ (UnpackError::NotCms(_)
                | UnpackError::NotForUs(_)
                | UnpackError::Undecryptable(_)
                | UnpackError::Openssl(_)),
            ) => {
                let condition = match e {
                    UnpackError::NotForUs(_) => "transport:invalid-certificate",
                    _ => "transport:not-well-formed-xml",
                };
                return Answer::ErrorReport(ErrorProperties {
                    condition: condition.into(),
                    description: e.to_string(),
                    original_message_id: message_id,
                });
            }
            Err(e) => (
                Status::Rejected,
                vec![error(e.apprec_code(), &e.to_string())],
            ),
            Ok(unpacked) => self.judge(&properties.subject, &unpacked.content),
        };
        let receipt = receipt(
            &properties.message_id,
            &properties.subject,
            &properties.to_her_id,
            &properties.from_her_id,
            status,
            errors,
        );
        let own_queue = match &self.config.transport {
            ReceiverTransport::Amqp { queue, .. } => queue.clone(),
            ReceiverTransport::Spool { .. } => String::new(),
        };
        Answer::Receipt {
            properties: Box::new(Properties {
                message_id: uuid::Uuid::new_v4().to_string(),
                correlation_id: properties.message_id.clone(),
                subject: "AppRec".into(),
                to: properties.reply_to.clone(),
                reply_to: own_queue,
                from_her_id: properties.to_her_id.clone(),
                to_her_id: properties.from_her_id.clone(),
                application_timestamp: Utc::now(),
                cpa_id: None,
            }),
            receipt: Box::new(receipt),
        }
    }

    /// Signs and encrypts an AppRec to the municipality; `None` (logged) when it cannot.
    async fn pack_receipt(&self, receipt: &AppRec) -> Option<Vec<u8>> {
        let xml = apprec::write(receipt);
        let keys = self.keys.clone();
        match tokio::task::spawn_blocking(move || keys.pack(&xml)).await {
            Ok(Ok(body)) => {
                self.stats.answered.fetch_add(1, Ordering::Relaxed);
                Some(body)
            }
            Ok(Err(e)) => {
                tracing::error!(
                    "receiver: cannot pack the AppRec for {}: {e}",
                    receipt.original_msg_id
                );
                None
            }
            Err(e) => {
                tracing::error!("receiver: the packing task failed: {e}");
                None
            }
        }
    }

    /// The receipt's status and errors for a decrypted, verified MsgHead document.
    fn judge(&self, subject: &str, document: &[u8]) -> (Status, Vec<ReceiptError>) {
        let (envelope, payload) = match msghead::read(document) {
            Ok(read) => read,
            Err(e) => return (Status::Rejected, vec![error("T01", &e.to_string())]),
        };
        if envelope.msg_type != subject {
            let text = format!(
                "the subject property '{subject}' differs from MsgInfo/Type '{}'",
                envelope.msg_type
            );
            return (Status::Rejected, vec![error("T99", &text)]);
        }
        if let Err(invalid) = self.schemas.validate_message(&envelope.msg_type, document) {
            return (
                Status::Rejected,
                vec![error(invalid.apprec_code(), &invalid.to_string())],
            );
        }
        let payload = String::from_utf8_lossy(&payload);
        match self
            .config
            .rules
            .iter()
            .find(|rule| payload.contains(&rule.contains))
        {
            Some(Rule {
                status, code, text, ..
            }) => {
                let status = if *status == 2 {
                    Status::Rejected
                } else {
                    Status::OkWithErrors
                };
                (status, vec![error(code, text)])
            }
            None => (Status::Ok, Vec::new()),
        }
    }

    /// Sends an answer and waits for the broker's confirm: a receipt to the sender's reply-to
    /// queue, an error report to the error queue beside `reply_to`.
    async fn deliver(
        &self,
        amqp: &Amqp,
        publisher: &Publisher,
        reply_to: &str,
        answer: Answer,
    ) -> Result<(), TransportError> {
        let (queue, body, properties) = match answer {
            Answer::ErrorReport(report) => {
                let Some(queue) = error_queue_of(reply_to) else {
                    tracing::warn!(
                        "receiver: message {} has no reply-to, so its problems cannot be reported: {} {}",
                        report.original_message_id,
                        report.condition,
                        report.description
                    );
                    return Ok(());
                };
                tracing::info!(
                    "receiver: error report {} to {queue}: {}",
                    report.condition,
                    report.description
                );
                self.stats.error_reports.fetch_add(1, Ordering::Relaxed);
                let properties = report.to_amqp(&uuid::Uuid::new_v4().to_string());
                (queue, Vec::new(), properties)
            }
            Answer::Receipt {
                properties,
                receipt,
            } => {
                let Some(body) = self.pack_receipt(&receipt).await else {
                    return Ok(());
                };
                (properties.to.clone(), body, properties.to_amqp())
            }
        };
        if let Err(e) = amqp.declare_queue(&queue).await {
            tracing::warn!("receiver: cannot declare {queue}: {e}");
        }
        match publisher.publish(&queue, &body, properties).await {
            Ok(Published::Confirmed) => Ok(()),
            Ok(other) => {
                tracing::warn!("receiver: the answer to {queue} was not taken: {other:?}");
                Ok(())
            }
            Err(e) => Err(amqp.broken(e)),
        }
    }
}

/// NHN's error queue of a sender, from its reply-to queue (`…_async` → `…_error`).
fn error_queue_of(reply_to: &str) -> Option<String> {
    reply_to
        .strip_suffix("_async")
        .map(|base| format!("{base}_error"))
}

fn error(code: &str, text: &str) -> ReceiptError {
    ReceiptError {
        code: code.to_string(),
        text: text.to_string(),
        system: apprec::ERROR_SYSTEM.to_string(),
        part: String::new(),
    }
}

/// An AppRec 1.0 from KPR's unit `kpr_unit` (under FHI, HER 85217) to the sender's unit
/// `sender_unit`, answering message `original_msg_id` of type `original_type`.
pub fn receipt(
    original_msg_id: &str,
    original_type: &str,
    kpr_unit: &str,
    sender_unit: &str,
    status: Status,
    errors: Vec<ReceiptError>,
) -> AppRec {
    let now = Utc::now()
        .with_timezone(&chrono_tz::Europe::Oslo)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    let her = |id: &str| PartyId {
        id: id.to_string(),
        kind: "HER".into(),
    };
    AppRec {
        version: Version::V1_0,
        id: uuid::Uuid::new_v4().to_string(),
        generated: now.clone(),
        status,
        errors,
        original_msg_id: original_msg_id.to_string(),
        original_type: original_type.to_string(),
        original_issued: now,
        sender: vec![her(crate::message::msghead::FHI_HER_ID), her(kpr_unit)],
        receiver: vec![her(sender_unit)],
    }
}
