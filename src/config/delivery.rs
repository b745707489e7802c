//! The delivery part of a configuration: state store, certificates, broker and spool.
//!
//! Shared by the municipality's configuration and the test receiver's, which differ only in
//! whose certificate they encrypt to and which queues they use. Queue names, HER-ids and
//! exchange names are text; secrets may be left out of the file and given in the
//! environment (`KPR_BRIDGE_AMQP_PASSWORD`), so the file can be readable by operators.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::crypto::CertificateFiles;

/// How what we publish carries its AMQP 1.0 properties (`[amqp] interop`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Interop {
    /// Plain headers and 0-9-1 properties, and both `x-amqp-1.0-*` headers: what an AMQP 1.0
    /// receiver on RabbitMQ 3.x needs (NHN's own 0-9-1 sample does the same).
    #[default]
    Amqp10Headers,
    /// Plain headers and 0-9-1 properties only, for a broker that maps them itself
    /// (RabbitMQ 4's native AMQP 1.0 maps 0-9-1 headers to application properties).
    Plain,
}

impl Interop {
    pub fn parse(text: &str) -> Option<Interop> {
        match text {
            "amqp10-headers" => Some(Interop::Amqp10Headers),
            "plain" => Some(Interop::Plain),
            _ => None,
        }
    }
}

/// How long a sent message may wait for its receipt before it counts as expired.
pub const DEFAULT_RECEIPT_TIMEOUT_HOURS: u32 = 72;

/// The largest packed message sent, unless `[delivery] max_message_bytes` says otherwise:
/// Helsenorge's AMQP profile allows at most 30 MB (and asks for an agreement above 1 MB);
/// NHN's EDI takes about 35 MB of payload; NHN asks that messages be as small as possible.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 30_000_000;

/// The environment variable that supplies the broker password when the URL has none.
pub const AMQP_PASSWORD_ENV: &str = "KPR_BRIDGE_AMQP_PASSWORD";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub transport: Transport,
    pub certificates: CertificateFiles,
    pub receipt_timeout_hours: u32,
    /// A packed message larger than this is refused before it enters the outbox.
    pub max_message_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// AMQP 0-9-1 to NHN's Tjenestebuss (or a local RabbitMQ for dry runs).
    Amqp { broker: Broker, queues: Queues },
    /// Packed messages are written to a directory, for EDI pickup or inspection; receipts
    /// come back into `receipts`, when the EDI system delivers them as files.
    Spool {
        dir: PathBuf,
        receipts: Option<PathBuf>,
    },
}

/// Where and how to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broker {
    /// `amqp://` or `amqps://user[:password]@host[:port]/vhost`.
    pub url: String,
    /// The exchange messages are published to, with the receiver's queue as routing key
    /// ("" is the broker's default exchange, which routes by queue name).
    pub exchange: String,
    /// For `amqps://`: the CA certificates (PEM) that issue the broker's certificate.
    pub ca_file: Option<PathBuf>,
    /// For `amqps://` with client certificates: a PKCS#12 file and its password.
    pub client_identity: Option<PathBuf>,
    pub client_identity_password: Option<String>,
    /// How published messages carry their AMQP 1.0 properties (`amqp.interop`).
    pub interop: Interop,
}

/// The municipality's queues: KPR's, and its own two in NHN's naming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queues {
    /// KPR's queue for the mode's own target, from the Adresseregister: KPR Validering's in
    /// test mode, the register's in production mode.
    pub kpr: String,
    /// KPR Validering's queue in production mode, for what a production municipality sends
    /// to validation first (the annual message); `None` in test mode, where `kpr` is it.
    pub validation: Option<String>,
    /// Our `<her-id>_async` queue: where receipts arrive (also the reply-to we give).
    pub receipts: String,
    /// Our `<her-id>_error` queue: where transport error reports arrive.
    pub errors: String,
}

impl Queues {
    /// The queue of KPR's unit a message is addressed to (`validation` or `production`).
    pub fn to(&self, target: &str) -> &str {
        match (&self.validation, target) {
            (Some(validation), "validation") => validation,
            _ => &self.kpr,
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct RawDelivery {
    transport: Option<String>,
    receipt_timeout_hours: Option<u32>,
    max_message_bytes: Option<u64>,
    spool_dir: Option<PathBuf>,
    spool_receipts_dir: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawAmqp {
    url: Option<String>,
    exchange: Option<String>,
    ca_file: Option<PathBuf>,
    client_identity: Option<PathBuf>,
    client_identity_password: Option<String>,
    interop: Option<String>,
    kpr_queue: Option<String>,
    kpr_validation_queue: Option<String>,
    receipt_queue: Option<String>,
    error_queue: Option<String>,
    /// The test receiver's own queue (where shipments arrive).
    pub(super) queue: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawCertificates {
    signing_certificate: Option<PathBuf>,
    signing_key: Option<PathBuf>,
    encryption_certificate: Option<PathBuf>,
    encryption_key: Option<PathBuf>,
    previous_encryption_certificate: Option<PathBuf>,
    previous_encryption_key: Option<PathBuf>,
    /// The municipality encrypts to KPR's certificate …
    kpr_encryption_certificate: Option<PathBuf>,
    /// … and the test receiver to the municipality's.
    municipality_encryption_certificate: Option<PathBuf>,
    trust: Option<Vec<PathBuf>>,
    /// KPR's signing certificates: the only signers whose receipts count.
    kpr_signing_certificates: Option<Vec<PathBuf>>,
}

/// Whose configuration is read: it decides whose certificate is the peer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Municipality,
    Receiver,
}

pub(super) fn certificates(
    raw: Option<RawCertificates>,
    role: Role,
    base: &Path,
    problems: &mut Vec<String>,
) -> CertificateFiles {
    let raw = raw.unwrap_or_default();
    let mut required = |value: Option<PathBuf>, key: &str| -> PathBuf {
        match value {
            Some(path) => base.join(path),
            None => {
                problems.push(format!("missing required key 'certificates.{key}'"));
                PathBuf::new()
            }
        }
    };
    let signing_certificate = required(raw.signing_certificate, "signing_certificate");
    let signing_key = required(raw.signing_key, "signing_key");
    let encryption_certificate = required(raw.encryption_certificate, "encryption_certificate");
    let encryption_key = required(raw.encryption_key, "encryption_key");
    let (peer_key, peer, other_key, other) = match role {
        Role::Municipality => (
            "kpr_encryption_certificate",
            raw.kpr_encryption_certificate,
            "municipality_encryption_certificate",
            raw.municipality_encryption_certificate,
        ),
        Role::Receiver => (
            "municipality_encryption_certificate",
            raw.municipality_encryption_certificate,
            "kpr_encryption_certificate",
            raw.kpr_encryption_certificate,
        ),
    };
    let peer_encryption_certificate = required(peer, peer_key);
    if other.is_some() {
        problems.push(format!(
            "certificates.{other_key} is not used here; give certificates.{peer_key}"
        ));
    }
    let previous_encryption = match (
        raw.previous_encryption_certificate,
        raw.previous_encryption_key,
    ) {
        (Some(certificate), Some(key)) => Some((base.join(certificate), base.join(key))),
        (None, None) => None,
        _ => {
            problems.push(
                "certificates.previous_encryption_certificate and previous_encryption_key go \
                 together: give both (during a certificate change) or neither"
                    .into(),
            );
            None
        }
    };
    let trust: Vec<PathBuf> = raw
        .trust
        .unwrap_or_default()
        .into_iter()
        .map(|p| base.join(p))
        .collect();
    if trust.is_empty() {
        problems.push(
            "missing required key 'certificates.trust': the CA certificate files (PEM) that \
             issue the certificates of those who sign to us"
                .into(),
        );
    }
    let pinned = raw.kpr_signing_certificates.unwrap_or_default();
    let pinned_signers: Vec<PathBuf> = match role {
        Role::Municipality => {
            if pinned.is_empty() {
                problems.push(
                    "missing required key 'certificates.kpr_signing_certificates': KPR's signing \
                     certificate(s) (PEM) from NHN's Adresseregister; a receipt counts only when \
                     KPR signed it with one of them"
                        .into(),
                );
            }
            pinned.into_iter().map(|p| base.join(p)).collect()
        }
        Role::Receiver => {
            if !pinned.is_empty() {
                problems.push(
                    "certificates.kpr_signing_certificates is the municipality's key; the test \
                     receiver signs with its own signing_certificate"
                        .into(),
                );
            }
            Vec::new()
        }
    };
    CertificateFiles {
        signing_certificate,
        signing_key,
        encryption_certificate,
        encryption_key,
        previous_encryption,
        peer_encryption_certificate,
        trust,
        pinned_signers,
    }
}

pub(super) fn broker(raw: &RawAmqp, base: &Path, problems: &mut Vec<String>) -> Broker {
    let url = raw.url.clone().unwrap_or_else(|| {
        problems.push("missing required key 'amqp.url' (amqp:// or amqps://)".into());
        String::new()
    });
    if !(url.is_empty() || url.starts_with("amqp://") || url.starts_with("amqps://")) {
        problems.push(format!(
            "amqp.url: '{}' is neither an amqp:// nor an amqps:// URL",
            super::url::redacted(&url)
        ));
    }
    if raw.client_identity.is_some() && !url.starts_with("amqps://") {
        problems.push(
            "amqp.client_identity is only used with amqps:// URLs; use amqps:// or remove it"
                .into(),
        );
    }
    let interop = match raw.interop.as_deref() {
        None => Interop::default(),
        Some(text) => Interop::parse(text).unwrap_or_else(|| {
            problems.push(format!(
                "amqp.interop: '{text}' is neither \"amqp10-headers\" (NHN's Tjenestebuss on RabbitMQ 3.x) nor \"plain\""
            ));
            Interop::default()
        }),
    };
    Broker {
        url,
        exchange: raw.exchange.clone().unwrap_or_default(),
        ca_file: raw.ca_file.as_ref().map(|p| base.join(p)),
        client_identity: raw.client_identity.as_ref().map(|p| base.join(p)),
        client_identity_password: raw.client_identity_password.clone(),
        interop,
    }
}

/// The municipality's delivery settings; `service_unit` names the default queues.
pub(super) fn delivery(
    mut raw: RawDelivery,
    amqp: Option<RawAmqp>,
    certificates: Option<RawCertificates>,
    service_unit: &str,
    production: bool,
    base: &Path,
    problems: &mut Vec<String>,
) -> Delivery {
    let transport = match raw.transport.as_deref() {
        Some("amqp") | None => {
            let amqp = amqp.unwrap_or_default();
            let broker = broker(&amqp, base, problems);
            let kpr = amqp.kpr_queue.clone().unwrap_or_else(|| {
                problems.push(
                    "missing required key 'amqp.kpr_queue': KPR's queue name, from the \
                     Adresseregister"
                        .into(),
                );
                String::new()
            });
            if amqp.queue.is_some() {
                problems.push(
                    "amqp.queue is the test receiver's key; the municipality names kpr_queue, \
                     receipt_queue and error_queue"
                        .into(),
                );
            }
            if !production && amqp.kpr_validation_queue.is_some() {
                problems.push(
                    "amqp.kpr_validation_queue: in test mode amqp.kpr_queue already is KPR \
                     Validering's queue; remove kpr_validation_queue"
                        .into(),
                );
            }
            let queues = Queues {
                kpr,
                validation: amqp.kpr_validation_queue.clone().filter(|_| production),
                receipts: amqp
                    .receipt_queue
                    .unwrap_or_else(|| format!("{service_unit}_async")),
                errors: amqp
                    .error_queue
                    .unwrap_or_else(|| format!("{service_unit}_error")),
            };
            Transport::Amqp { broker, queues }
        }
        Some("spool") => {
            let dir = raw.spool_dir.map(|dir| base.join(dir)).unwrap_or_else(|| {
                problems.push(
                    "missing required key 'delivery.spool_dir' (transport = \"spool\")".into(),
                );
                PathBuf::new()
            });
            let receipts = raw.spool_receipts_dir.take().map(|r| base.join(r));
            if receipts.as_ref().is_some_and(|r| *r == dir) {
                problems.push(
                    "delivery.spool_receipts_dir is spool_dir: receipts need a directory of their own, or our own messages would be read back as receipts".into(),
                );
            }
            Transport::Spool { dir, receipts }
        }
        Some(other) => {
            problems.push(format!(
                "delivery.transport: '{other}' is neither \"amqp\" nor \"spool\""
            ));
            Transport::Spool {
                dir: PathBuf::new(),
                receipts: None,
            }
        }
    };
    if raw.spool_receipts_dir.is_some() {
        problems.push(
            "delivery.spool_receipts_dir is only used with transport = \"spool\"; receipts come from amqp.receipt_queue here".into(),
        );
    }
    let receipt_timeout_hours = raw
        .receipt_timeout_hours
        .unwrap_or(DEFAULT_RECEIPT_TIMEOUT_HOURS);
    if receipt_timeout_hours == 0 {
        problems.push("delivery.receipt_timeout_hours must be at least 1".into());
    }
    let max_message_bytes = raw.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
    if max_message_bytes < 1024 {
        problems.push(format!(
            "delivery.max_message_bytes: {max_message_bytes} is smaller than any message; the default is {DEFAULT_MAX_MESSAGE_BYTES}"
        ));
    }
    Delivery {
        transport,
        certificates: self::certificates(certificates, Role::Municipality, base, problems),
        receipt_timeout_hours,
        max_message_bytes,
    }
}

/// The URL with the password from the environment when the file leaves it out.
pub fn url_with_password(url: &str) -> String {
    match std::env::var(AMQP_PASSWORD_ENV) {
        Ok(password) => super::url::with_password(url, &password),
        Err(_) => url.to_string(),
    }
}
