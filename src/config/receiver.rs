//! The local KPR test receiver's configuration (`kpr-bridge receiver --config FILE`).
//!
//! The receiver plays KPR on a broker of the municipality's choosing: it has KPR's
//! certificates, consumes KPR's queue, and answers every shipment with an AppRec. Its rules
//! let a dry run provoke the answers the register gives to real data — "OK, errors in parts"
//! or "rejected" — without waiting for real data to be wrong. `ops/examples/receiver.toml`
//! describes every option.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::delivery::{self, Broker, RawAmqp, RawCertificates, Role};
use super::{ConfigError, read_raw, read_text};
use crate::crypto::CertificateFiles;

pub const EXAMPLE: &str = "ops/examples/receiver.toml";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverConfig {
    pub file: PathBuf,
    pub broker: Broker,
    /// The queue the receiver consumes: the one municipalities name as `amqp.kpr_queue`.
    pub queue: String,
    pub certificates: CertificateFiles,
    /// Payload XSDs by message type; a payload that does not validate is rejected with T02.
    pub payload_schemas: Vec<(String, PathBuf)>,
    pub rules: Vec<Rule>,
}

/// "When a payload contains this text, answer with this status and error."
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Text to look for in the decrypted payload.
    pub contains: String,
    /// 2 (Avvist) or 3 (OK, feil i delmelding).
    pub status: u8,
    /// An error code of code system 8221, such as `E35`.
    pub code: String,
    pub text: String,
}

#[derive(Deserialize, Default)]
struct Raw {
    amqp: Option<RawAmqp>,
    certificates: Option<RawCertificates>,
    schemas: Option<BTreeMap<String, PathBuf>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Rule>,
}

impl ReceiverConfig {
    pub fn load(file: &Path) -> Result<ReceiverConfig, ConfigError> {
        let with_example = |mut e: ConfigError| {
            e.example = EXAMPLE;
            e
        };
        let text = read_text(file).map_err(with_example)?;
        ReceiverConfig::parse(&text, file).map_err(with_example)
    }

    pub fn parse(text: &str, file: &Path) -> Result<ReceiverConfig, ConfigError> {
        let (raw, mut problems) = read_raw::<Raw>(text, file)?;
        let base = file.parent().unwrap_or(Path::new("."));
        let amqp = raw.amqp.unwrap_or_default();
        let broker = delivery::broker(&amqp, base, &mut problems);
        let queue = amqp.queue.clone().unwrap_or_else(|| {
            problems.push(
                "missing required key 'amqp.queue': the queue KPR's shipments arrive on".into(),
            );
            String::new()
        });
        let certificates =
            delivery::certificates(raw.certificates, Role::Receiver, base, &mut problems);
        for (i, rule) in raw.rules.iter().enumerate() {
            if !matches!(rule.status, 2 | 3) {
                problems.push(format!(
                    "rule[{}].status: {} is not an answer a rule can give; use 2 (Avvist) or 3 (OK, feil i delmelding)",
                    i + 1,
                    rule.status
                ));
            }
            if rule.contains.is_empty() {
                problems.push(format!(
                    "rule[{}].contains is empty: it would match every payload",
                    i + 1
                ));
            }
        }
        let config = ReceiverConfig {
            file: file.to_path_buf(),
            broker,
            queue,
            certificates,
            payload_schemas: raw
                .schemas
                .unwrap_or_default()
                .into_iter()
                .map(|(msg_type, path)| (msg_type, base.join(path)))
                .collect(),
            rules: raw.rules,
        };
        ConfigError::unless_any(file, problems, config).map_err(|mut e| {
            e.example = EXAMPLE;
            e
        })
    }
}
