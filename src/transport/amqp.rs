//! AMQP 0-9-1 with lapin: one long-lived connection, publisher confirms, and queues read
//! with explicit acknowledgement.
//!
//! Publishes are persistent and mandatory, and count as done only on the broker's confirm:
//! a message the broker cannot route (its queue does not exist) comes back instead of
//! vanishing. lapin does not resend a publish that was in flight when a connection dropped;
//! the outbox does (see [`super::sender`]).

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::publisher_confirm::{Confirmation, PublisherConfirm};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Event};
use thiserror::Error;
use tokio::sync::Mutex;

use super::amqp10;
use super::tls;
use crate::config::delivery::Interop;
use crate::config::delivery::{Broker, url_with_password};
use lapin::uri::AMQPUri;

/// How long a connection attempt may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Error)]
pub enum TransportError {
    #[error("cannot connect to the broker {broker}: {reason}; {hint}")]
    Connect {
        broker: String,
        reason: String,
        hint: &'static str,
    },
    #[error(
        "the connection to the broker {broker} failed: {source}; it is reopened, and what was not confirmed is sent again"
    )]
    Broken {
        broker: String,
        source: lapin::Error,
    },
    #[error(
        "the broker {broker} ended the consumer of {queue}; check that the queue exists (ops/broker.md)"
    )]
    Cancelled { broker: String, queue: String },
    #[error("no TLS connection to the broker {broker}: {reason}")]
    Tls { broker: String, reason: String },
}

/// What the broker said to a publish.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    /// Confirmed: the broker has the message.
    Confirmed,
    /// The broker could not route it (no such queue) and returned it.
    Returned { reply: String },
    /// The broker refused to take responsibility for it (nack).
    Refused,
}

/// An open connection to the broker.
pub struct Amqp {
    connection: Connection,
    /// What happens to the connection, taken from its start, so that a loop that is only
    /// waiting still notices when it fails.
    events: Mutex<Pin<Box<dyn Stream<Item = Event> + Send>>>,
    /// The broker's URL without its password, for messages.
    pub broker: String,
    /// How what is published here carries its AMQP 1.0 properties.
    interop: Interop,
}

impl Amqp {
    /// Connects; `name` shows in the broker's connection list (`rabbitmqctl list_connections`).
    pub async fn connect(broker: &Broker, name: &str) -> Result<Amqp, TransportError> {
        let shown = crate::config::url::redacted(&broker.url);
        let (open, rejection) =
            tls::opener(broker, CONNECT_TIMEOUT).map_err(|reason| TransportError::Connect {
                broker: shown.clone(),
                reason,
                hint: "correct amqp.ca_file or amqp.client_identity",
            })?;
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        let uri: AMQPUri = url_with_password(&broker.url)
            .parse()
            .map_err(|reason: String| TransportError::Connect {
                broker: shown.clone(),
                reason,
                hint: "amqp.url must be amqp:// or amqps://user[:password]@host[:port]/vhost",
            })?;
        let connecting = Connection::connector(uri, Box::new(open), properties);
        let connection = match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => {
                let reason = e.to_string();
                let rejected = rejection.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(tls) = tls::explain(&reason, rejected) {
                    return Err(TransportError::Tls {
                        broker: shown,
                        reason: format!("{reason}: {tls}"),
                    });
                }
                let hint = if reason.contains("ACCESS_REFUSED") || reason.contains("auth") {
                    "check the user and password (the password may come from KPR_BRIDGE_AMQP_PASSWORD)"
                } else if reason.contains("vhost") || reason.contains("NOT_ALLOWED") {
                    "check the virtual host in the URL's path (%2f is the default vhost '/')"
                } else if reason.to_lowercase().contains("certificate")
                    || reason.to_lowercase().contains("tls")
                    || reason.to_lowercase().contains("ssl")
                {
                    "check amqp.ca_file and amqp.client_identity"
                } else {
                    "check that the broker runs and that host and port in amqp.url are right"
                };
                return Err(TransportError::Connect {
                    broker: shown,
                    reason,
                    hint,
                });
            }
            Err(_) => {
                return Err(TransportError::Connect {
                    broker: shown,
                    reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
                    hint: "check the host, the port and any firewall between",
                });
            }
        };
        let events = Mutex::new(Box::pin(connection.events_listener()) as Pin<Box<_>>);
        Ok(Amqp {
            connection,
            events,
            broker: shown,
            interop: broker.interop,
        })
    }

    /// Returns once the connection has failed (a broker that stopped, a network cut), with
    /// the failure.
    pub async fn lost(&self) -> TransportError {
        let mut events = self.events.lock().await;
        while let Some(event) = events.next().await {
            if let Event::Error(e) = event {
                return self.broken(e);
            }
        }
        self.broken(lapin::ErrorKind::InvalidConnectionState(lapin::ConnectionState::Closed).into())
    }

    pub fn is_connected(&self) -> bool {
        self.connection.status().connected()
    }

    pub fn cancelled(&self, queue: &str) -> TransportError {
        TransportError::Cancelled {
            broker: self.broker.clone(),
            queue: queue.to_string(),
        }
    }

    pub fn broken(&self, source: lapin::Error) -> TransportError {
        TransportError::Broken {
            broker: self.broker.clone(),
            source,
        }
    }

    /// A channel with publisher confirms on.
    pub async fn publisher(&self, exchange: &str) -> Result<Publisher, TransportError> {
        let channel = self.channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| self.broken(e))?;
        Ok(Publisher {
            channel,
            exchange: exchange.to_string(),
            interop: self.interop,
        })
    }

    /// A plain channel, taking at most `prefetch` unacknowledged messages at a time.
    pub async fn channel(&self) -> Result<Channel, TransportError> {
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(|e| self.broken(e))?;
        channel
            .basic_qos(16, BasicQosOptions::default())
            .await
            .map_err(|e| self.broken(e))?;
        Ok(channel)
    }

    /// Declares a durable queue (idempotent): what a local broker needs for dry runs.
    pub async fn declare_queue(&self, queue: &str) -> Result<(), TransportError> {
        let channel = self.channel().await?;
        channel
            .queue_declare(
                queue,
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| self.broken(e))?;
        let _ = channel.close(200, "declared").await;
        Ok(())
    }

    pub async fn delete_queue(&self, queue: &str) -> Result<(), TransportError> {
        let channel = self.channel().await?;
        channel
            .queue_delete(queue, QueueDeleteOptions::default())
            .await
            .map_err(|e| self.broken(e))?;
        let _ = channel.close(200, "deleted").await;
        Ok(())
    }

    /// Takes the next message of a queue, if any; it stays the broker's until acknowledged.
    pub async fn get(
        &self,
        channel: &Channel,
        queue: &str,
    ) -> Result<Option<lapin::message::BasicGetMessage>, TransportError> {
        channel
            .basic_get(queue, BasicGetOptions::default())
            .await
            .map_err(|e| self.broken(e))
    }

    pub async fn close(&self) {
        let _ = self.connection.close(200, "kpr-bridge done").await;
    }
}

/// A channel in confirm mode and the exchange it publishes to.
pub struct Publisher {
    channel: Channel,
    exchange: String,
    interop: Interop,
}

impl Publisher {
    /// Hands a message to the broker; await the returned confirm to learn its fate. Every
    /// message goes with its AMQP 1.0 sections unless `interop` is plain, so that AMQP 1.0
    /// receivers (NHN's) see its properties (`amqp10.rs`).
    pub async fn start(
        &self,
        queue: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<PublisherConfirm, lapin::Error> {
        let properties = match self.interop {
            Interop::Amqp10Headers => amqp10::with_sections(properties, queue),
            Interop::Plain => properties,
        };
        self.channel
            .basic_publish(
                &self.exchange,
                queue,
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                body,
                properties,
            )
            .await
    }

    /// Publishes and waits for the broker's confirm.
    pub async fn publish(
        &self,
        queue: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<Published, lapin::Error> {
        let confirm = self.start(queue, body, properties).await?;
        Ok(outcome(confirm.await?))
    }

    pub async fn close(&self) {
        let _ = self.channel.close(200, "done").await;
    }
}

/// What a broker confirm means for the message.
pub fn outcome(confirmation: Confirmation) -> Published {
    match confirmation {
        Confirmation::Ack(None) | Confirmation::NotRequested => Published::Confirmed,
        Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)) => {
            Published::Returned {
                reply: format!("{} {}", returned.reply_code, returned.reply_text.as_str()),
            }
        }
        Confirmation::Nack(None) => Published::Refused,
    }
}

/// Acknowledges a message: it has been stored and the broker may forget it.
pub async fn ack(acker: &lapin::acker::Acker) -> Result<(), lapin::Error> {
    acker.ack(BasicAckOptions::default()).await.map(|_| ())
}

/// Gives a message back to the broker, to be delivered again later.
pub async fn requeue(acker: &lapin::acker::Acker) -> Result<(), lapin::Error> {
    acker
        .nack(BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        })
        .await
        .map(|_| ())
}
