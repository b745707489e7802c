//! The local KPR test receiver's configuration (`kpr-bridge receiver --config FILE`).
//!
//! The receiver plays KPR on a broker of the municipality's choosing — or on a spool: it has
//! KPR's certificates, consumes KPR's queue (or reads the municipality's spool directory),
//! and answers every shipment with an AppRec. Its rules
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
    pub transport: ReceiverTransport,
    pub certificates: CertificateFiles,
    /// Payload XSDs by message type; a payload that does not validate is rejected with T02.
    pub payload_schemas: Vec<(String, PathBuf)>,
    /// The daily message's MsgHead type, as the municipalities send it (`[daily] msg_type`).
    pub daily_msg_type: String,
    pub rules: Vec<Rule>,
}

/// Where shipments arrive and answers go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiverTransport {
    /// `queue` is the one municipalities name as `amqp.kpr_queue`; answers go to the
    /// sender's reply-to and error queues.
    Amqp { broker: Broker, queue: String },
    /// `incoming` is the municipality's `delivery.spool_dir`, `answers` its
    /// `delivery.spool_receipts_dir`.
    Spool { incoming: PathBuf, answers: PathBuf },
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
struct RawSpool {
    #[serde(rename = "in")]
    incoming: Option<PathBuf>,
    out: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDaily {
    msg_type: Option<String>,
}

#[derive(Deserialize, Default)]
struct Raw {
    amqp: Option<RawAmqp>,
    spool: Option<RawSpool>,
    certificates: Option<RawCertificates>,
    schemas: Option<BTreeMap<String, PathBuf>>,
    daily: Option<RawDaily>,
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
        let transport = match (raw.amqp, raw.spool) {
            (Some(_), Some(_)) => {
                problems.push(
                    "[amqp] and [spool] are both given: the receiver answers on one of them; remove the other".into(),
                );
                None
            }
            (None, None) => {
                problems.push(
                    "missing [amqp] (a broker and KPR's queue) or [spool] (the municipality's spool directories)".into(),
                );
                None
            }
            (Some(amqp), None) => {
                let broker = delivery::broker(&amqp, base, &mut problems);
                let queue = amqp.queue.clone().unwrap_or_else(|| {
                    problems.push(
                        "missing required key 'amqp.queue': the queue KPR's shipments arrive on"
                            .into(),
                    );
                    String::new()
                });
                Some(ReceiverTransport::Amqp { broker, queue })
            }
            (None, Some(spool)) => {
                let mut required = |value: Option<PathBuf>, key: &str, what: &str| {
                    value.map(|dir| base.join(dir)).unwrap_or_else(|| {
                        problems.push(format!("missing required key 'spool.{key}': {what}"));
                        PathBuf::new()
                    })
                };
                let incoming = required(
                    spool.incoming,
                    "in",
                    "the municipality's spool_dir, where its messages are written",
                );
                let answers = required(
                    spool.out,
                    "out",
                    "the municipality's spool_receipts_dir, where the answers go",
                );
                if incoming == answers && !incoming.as_os_str().is_empty() {
                    problems.push(
                        "spool.in and spool.out are one directory: the answers would be read back as shipments; give two".into(),
                    );
                }
                Some(ReceiverTransport::Spool { incoming, answers })
            }
        };
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
            transport: transport.unwrap_or(ReceiverTransport::Spool {
                incoming: PathBuf::new(),
                answers: PathBuf::new(),
            }),
            certificates,
            payload_schemas: raw
                .schemas
                .unwrap_or_default()
                .into_iter()
                .map(|(msg_type, path)| (msg_type, base.join(path)))
                .collect(),
            daily_msg_type: raw
                .daily
                .and_then(|d| d.msg_type)
                .unwrap_or_else(|| crate::model::register::DEFAULT_MSG_TYPE.to_string()),
            rules: raw.rules,
        };
        ConfigError::unless_any(file, problems, config).map_err(|mut e| {
            e.example = EXAMPLE;
            e
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> (PathBuf, String) {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE);
        let text = std::fs::read_to_string(&file).unwrap();
        (file, text)
    }

    #[test]
    fn the_shipped_example_loads() {
        let (file, text) = example();
        let config = ReceiverConfig::parse(&text, &file).unwrap();
        let ReceiverTransport::Amqp { queue, .. } = config.transport else {
            panic!("the example answers on a broker: {:?}", config.transport);
        };
        assert_eq!(queue, "171479_async");
        assert_eq!(config.certificates.trust.len(), 1);
    }

    #[test]
    fn the_shipped_example_with_its_spool_instead_of_its_broker_loads() {
        let (file, text) = example();
        let amqp = text.find("\n[amqp]").unwrap();
        let alternative = text.find("# Or answer a municipality").unwrap();
        let spool: String = text
            .replace(&text[amqp..alternative], "\n")
            .lines()
            .map(|line| {
                ["# [spool]", "# in = ", "# out = "]
                    .iter()
                    .find(|commented| line.starts_with(*commented))
                    .map_or(line.to_string(), |_| line[2..].to_string())
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config = ReceiverConfig::parse(&spool, &file).unwrap();
        let base = file.parent().unwrap();
        assert_eq!(
            config.transport,
            ReceiverTransport::Spool {
                incoming: base.join("spool/out"),
                answers: base.join("spool/in"),
            }
        );

        let both = format!("{text}\n[spool]\nin = \"a\"\nout = \"b\"\n");
        let joined = ReceiverConfig::parse(&both, &file)
            .unwrap_err()
            .problems
            .join("\n");
        assert!(joined.contains("both given"), "{joined}");
        let same = spool.replace("spool/in", "spool/out");
        let joined = ReceiverConfig::parse(&same, &file)
            .unwrap_err()
            .problems
            .join("\n");
        assert!(joined.contains("one directory"), "{joined}");
    }
}
