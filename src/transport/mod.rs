//! Transport: how packed messages leave and receipts arrive.
//!
//! - [`amqp`]: AMQP 0-9-1 with lapin (NHN's Tjenestebuss, or a local RabbitMQ).
//! - [`amqp10`]: the AMQP 1.0 view of a message on RabbitMQ 3.x, both ways.
//! - [`backoff`]: the growing pause between reconnection attempts.
//! - [`properties`]: the message and application properties NHN expects.
//! - [`sender`]: drains the outbox over AMQP, reconnecting and resending what was not confirmed.
//! - [`spool`]: writes packed messages to a directory instead.
//! - [`tls`]: TLS 1.2+ to the broker, failures named with the certificate shown.

pub mod amqp;
pub mod amqp10;
pub mod backoff;
pub mod link;
pub mod properties;
pub mod sender;
pub mod spool;
pub mod tls;
