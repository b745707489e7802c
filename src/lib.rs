//! kpr-bridge: reads what a municipality's EPJ knows, maps it to the national codes, checks it
//! the way the register KPR will, and delivers it.
//!
//! Module map, in the order data flows:
//!
//! - [`config`]: the TOML configuration, typed and validated at load (all problems at once).
//! - [`model`]: canonical records (persons, services, assessments, diagnoses, attributes) and
//!   the national code lists: service types (9151), municipalities per year, city districts,
//!   assessment variables, and validators for identity and organisation numbers.
//! - [`source`]: readers that yield canonical records: the EPJ extract directory, the EPJ's
//!   database (PostgreSQL, MariaDB, SQLite) through read-only queries, or the EPJ's own
//!   IPLOS 3.7 extract written into a directory every night.
//! - [`mapping`]: local service types to national codes, from `mappings/*.toml`.
//! - [`checks`]: the register's rules as findings with stable ids, over all sources at once.
//! - [`date`], [`redact`]: dates as written here, and values shown with identity numbers
//!   masked (leaves).
//! - [`assembly`]: the year as KPR receives it, per person, and the register's arrival controls.
//! - [`check_run`]: every source read, mapped and checked for a year (`kpr-bridge check`).
//! - [`report`]: what `check` shows: a summary table, JSON, and a self-contained HTML report.
//! - [`message`]: message formats: the MsgHead envelope, the application receipt (AppRec) KPR
//!   answers with, and their XSD validation through libxml2.
//! - [`crypto`]: packing a message for KPR (CMS: signed, then encrypted) and unpacking what
//!   comes back; the certificates and keys, checked at start-up.
//! - [`store`]: the state store (SQLite or PostgreSQL): outbox, transitions, receipts, anomalies.
//! - [`shipping`]: a payload to the outbox (schema check, envelope, packing) and out again;
//!   from file to file, streaming, for large payloads.
//! - [`transport`]: AMQP with confirms (NHN's properties, reconnect, resend), and the spool.
//! - [`inbox`]: receipts and error reports from our queues, matched to the outbox or kept as
//!   anomalies.
//! - [`receiver`]: the local KPR test receiver (`kpr-bridge receiver`).
//! - [`daily`]: the daily flow — today's states, the diff against the baseline, the events
//!   and their shipment (`kpr-bridge daily`).
//! - [`annual`]: the final annual message — the year assembled per person, written as
//!   KPR_IPL and KPR_IDE, shipped as two shipments (`kpr-bridge annual`).
//! - [`agent`]: the unattended agent (`kpr-bridge run`): schedule, watcher, captures, the
//!   outbox sender and the receipt consumer, HTTP, alerts, graceful shutdown.
//! - [`status`]: what needs action and what is under way, from the state store and the
//!   configuration: as text (`kpr-bridge status`), JSON, and Prometheus metrics.
//! - [`alerts`]: what needs action, told once per key: a command, a webhook, or the log.
//! - [`progress`]: a progress bar on a terminal, log lines otherwise, for long steps.
//! - [`commands`]: the body of every subcommand; nothing but `main.rs` and `demo` uses them.
//! - [`inspect`]: read + map an extract and count what it holds (`kpr-bridge inspect`).
//! - [`generate`]: realistic synthetic extracts for tests, demos and benchmarks.
//! - [`demo`]: the whole pipeline on synthetic data in one process (`kpr-bridge demo`).
//! - [`admin`]: the administration page for the IPLOS submitter.
//! - [`cluster`]: many municipalities on replicas (`run --tenants`).
//! - [`i18n`]: what people read, in bokmål or English: the Fluent catalogs, numbers and dates.

// Every unsafe block says why it holds (the FFI in crypto/stream.rs and message/schema/ffi.rs).
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod admin;
pub mod agent;
pub mod alerts;
pub mod annual;
pub mod assembly;
pub mod check_run;
pub mod checks;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod crypto;
pub mod daily;
pub mod date;
pub mod demo;
pub mod failpoint;
pub mod generate;
pub mod i18n;
pub mod inbox;
pub mod inspect;
pub mod mapping;
pub mod message;
pub mod model;
pub mod progress;
pub mod receiver;
pub mod redact;
pub mod report;
pub mod shipping;
pub mod source;
pub mod status;
pub mod store;
pub mod transport;
