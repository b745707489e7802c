//! Shipping: a payload becomes a message in the outbox, and the outbox is emptied.
//!
//! payload ─► schema check ─► MsgHead envelope ─► schema check of the whole ─► sign + encrypt
//! ─► outbox (`queued`) ─► transport (AMQP or spool) ─► `sent`. Nothing enters the outbox
//! that did not validate (invariant 6), and the outbox row is written before anything goes
//! on the wire, so a crash in between loses nothing.
//!
//! [`Shipping::pack`] holds the message in memory at each step; [`Shipping::pack_file`] goes
//! from file to file, for messages too large to hold (the annual message), and the outbox row
//! then names the packed file in `outbox/` of the data directory.

use std::io::{BufWriter, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use tempfile::NamedTempFile;
use thiserror::Error;

use crate::config::Config;
use crate::config::delivery::{Delivery, Transport};
use crate::crypto::{CertificateError, Keys, PackError};
use crate::inbox::{self, CollectError, Inbox, Taken};
use crate::message::msghead::{self, Envelope, Party, Unit};
use crate::message::schema::{Invalid, SchemaError, Schemas};
use crate::model::register::Target;
use crate::store::outbox::NewMessage;
use crate::store::{Store, StoreError};
use crate::transport::amqp::{Amqp, TransportError};
use crate::transport::sender::{self, Origin, SendError};
use crate::transport::spool::{self, SpoolError};

#[derive(Debug, Error)]
pub enum ShippingError {
    #[error(
        "{0}: delivery is not configured; add [delivery], [amqp] and [certificates] (see ops/examples/kpr-bridge.toml)"
    )]
    NotConfigured(String),
    #[error(transparent)]
    Certificates(#[from] CertificateError),
    #[error(transparent)]
    Schemas(#[from] SchemaError),
    #[error("{file}: cannot be read: {source}")]
    Payload {
        file: String,
        source: std::io::Error,
    },
    #[error("{what} is not fit to send ({code}): {invalid}")]
    Invalid {
        what: String,
        code: &'static str,
        invalid: Invalid,
    },
    #[error("cannot put the payload into an envelope: {0}")]
    Envelope(#[from] msghead::MsgHeadError),
    #[error(
        "cannot {action} {}: {reason} — check that kpr-bridge may write in its data directory \
         and that the disk has room",
        file.display()
    )]
    DataDir {
        file: PathBuf,
        action: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Collect(#[from] CollectError),
}

impl ShippingError {
    /// 2 when the input or configuration is unusable; 1 when delivery failed for now (the
    /// message stays in the outbox and goes out later).
    pub fn exit_code(&self) -> u8 {
        match self {
            ShippingError::Send(_)
            | ShippingError::Spool(_)
            | ShippingError::Transport(_)
            | ShippingError::Collect(_)
            | ShippingError::Store(_) => 1,
            _ => 2,
        }
    }
}

/// Everything a municipality needs to ship: configuration, keys, schemas and the store.
pub struct Shipping {
    pub config: Config,
    pub delivery: Delivery,
    pub keys: Arc<Keys>,
    pub schemas: Arc<Schemas>,
    pub store: Store,
    /// Certificate warnings found at load (such as one expiring soon).
    pub warnings: Vec<String>,
}

impl Shipping {
    /// Loads and checks keys and schemas and opens the state store.
    pub async fn open(config: Config) -> Result<Shipping, ShippingError> {
        let named = config.clone();
        let store = async move { Store::open_for(&named).await };
        Shipping::open_with(config, store).await
    }

    /// The same with the store `store` opens, awaited once keys and schemas have loaded (a
    /// replica's store, fenced by its lease).
    pub async fn open_with(
        config: Config,
        store: impl std::future::Future<Output = Result<Store, StoreError>>,
    ) -> Result<Shipping, ShippingError> {
        let delivery = config
            .delivery
            .clone()
            .ok_or_else(|| ShippingError::NotConfigured(config.file.display().to_string()))?;
        let loaded = Keys::load(&delivery.certificates)?;
        let schemas = Schemas::load(&config.payload_schemas)?.with_alias(
            &config.daily.msg_type,
            crate::model::register::DEFAULT_MSG_TYPE,
        );
        let store = store.await?;
        Ok(Shipping {
            config,
            delivery,
            keys: Arc::new(loaded.keys),
            schemas: Arc::new(schemas),
            store,
            warnings: loaded.warnings,
        })
    }

    /// The municipality as sender: its HER-id and orgnr, with the reporting service unit.
    pub fn sender(&self) -> Party {
        Party {
            name: self.config.municipality_name.clone(),
            her_id: self.config.her_id.clone(),
            orgnr: self.config.municipality_orgnr.clone(),
            unit: Some(Unit {
                name: format!("{} – KPR-rapportering", self.config.municipality_name),
                her_id: self.config.her_id_service_unit.clone(),
            }),
        }
    }

    /// Wraps, validates and packs a payload; the message is not stored yet. The whole
    /// message is validated with the payload in it (the wrapper's wildcard is strict), once;
    /// only when something is wrong is the payload validated alone, so that a fault in it is
    /// named by its own lines.
    pub fn pack(
        &self,
        payload: &[u8],
        msg_type: &str,
        target: Target,
        what: &str,
    ) -> Result<NewMessage, ShippingError> {
        let payload_fault = || {
            self.schemas
                .validate_payload(msg_type, payload)
                .map_err(not_fit(what))
        };
        let envelope = self.envelope(msg_type, target);
        let document = match msghead::wrap(&envelope, payload) {
            Ok(document) => document,
            Err(e) => {
                payload_fault()?;
                return Err(e.into());
            }
        };
        if let Err(invalid) = self.schemas.validate_message(msg_type, &document) {
            payload_fault()?;
            return Err(not_fit(&format!("the envelope around {what}"))(invalid));
        }
        let body = self.keys.pack(&document)?;
        Ok(message(envelope, target, body, None))
    }

    /// [`Shipping::pack`] for a payload in a file, streamed at every step so that memory does
    /// not grow with its size. The envelope is written, unencrypted, to a private temporary
    /// file in `staging/` of the data directory; the packed message to
    /// `outbox/<MsgId>.p7m`, under a temporary name until it is complete and synced, so that
    /// a crash never leaves half a message under that name. The message is not stored yet;
    /// it names its file, and its `body` is empty.
    pub fn pack_file(
        &self,
        payload: &Path,
        msg_type: &str,
        target: Target,
        what: &str,
    ) -> Result<NewMessage, ShippingError> {
        // As in `pack`: the whole message validated once, the payload alone on a fault.
        let payload_fault = || {
            self.schemas
                .validate_payload_file(msg_type, payload)
                .map_err(not_fit(what))
        };
        let envelope = self.envelope(msg_type, target);
        let document = self.staging_file(".msghead-")?;
        let mut out = BufWriter::new(document.as_file());
        let wrapped = msghead::wrap_file(&envelope, payload, &mut out).map_err(|e| match e {
            msghead::MsgHeadError::Output(reason) => ShippingError::DataDir {
                file: document.path().to_path_buf(),
                action: "write",
                reason,
            },
            e => ShippingError::Envelope(e),
        });
        if let Err(e) = wrapped {
            payload_fault()?;
            return Err(e);
        }
        out.flush()
            .map_err(|e| data_dir(document.path(), "write", e))?;
        drop(out);
        let outbox = self.private_dir("outbox")?;
        let partial = tempfile::Builder::new()
            .prefix(&format!(".{}-", envelope.msg_id))
            .suffix(".partial")
            .tempfile_in(&outbox)
            .map_err(|e| data_dir(&outbox, "write in", e))?;
        // Validated and packed at once, each reading the document: the packed copy stays a
        // temporary file, removed when dropped, unless the document is valid.
        let (validated, packed) = std::thread::scope(|scope| {
            let validated = scope.spawn(|| {
                self.schemas
                    .validate_message_file(msg_type, document.path())
            });
            let packed = self.keys.pack_file(document.path(), partial.path());
            let validated = validated.join().expect("validation does not panic");
            (validated, packed)
        });
        if let Err(invalid) = validated {
            payload_fault()?;
            return Err(not_fit(&format!("the envelope around {what}"))(invalid));
        }
        packed?;
        let staged = document.path().to_path_buf();
        document
            .close()
            .map_err(|e| data_dir(&staged, "remove", e))?;
        partial
            .as_file()
            .sync_all()
            .map_err(|e| data_dir(partial.path(), "write", e))?;
        let file = outbox.join(format!("{}.p7m", envelope.msg_id));
        partial
            .persist(&file)
            .map_err(|e| data_dir(&file, "write", e.error))?;
        std::fs::File::open(&outbox)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| data_dir(&outbox, "write in", e))?;
        Ok(message(envelope, target, Vec::new(), Some(file)))
    }

    /// The envelope of a new message from us to KPR's unit for `target`.
    fn envelope(&self, msg_type: &str, target: Target) -> Envelope {
        Envelope::new(
            msg_type,
            type_text(msg_type),
            self.sender(),
            Party::kpr(target),
        )
    }

    /// A private temporary file in `staging/` of the data directory (mode 0600, removed when
    /// dropped): where unencrypted XML waits to be packed, never outside the data directory.
    pub fn staging_file(&self, prefix: &str) -> Result<NamedTempFile, ShippingError> {
        let staging = self.private_dir("staging")?;
        tempfile::Builder::new()
            .prefix(prefix)
            .suffix(".xml")
            .tempfile_in(&staging)
            .map_err(|e| data_dir(&staging, "write in", e))
    }

    /// `name` in the data directory, made if missing (readable by kpr-bridge's user only);
    /// absolute, since outbox rows keep the paths of files in it.
    fn private_dir(&self, name: &str) -> Result<PathBuf, ShippingError> {
        let dir = self.config.data_dir.join(name);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| data_dir(&dir, "create", e))?;
        std::path::absolute(&dir).map_err(|e| data_dir(&dir, "find", e))
    }

    /// Reads a payload file and puts it in the outbox; returns its MsgId.
    pub async fn enqueue_file(
        &self,
        file: &Path,
        msg_type: &str,
        target: Target,
    ) -> Result<String, ShippingError> {
        let payload = std::fs::read(file).map_err(|source| ShippingError::Payload {
            file: file.display().to_string(),
            source,
        })?;
        let message = self.pack(&payload, msg_type, target, &file.display().to_string())?;
        self.store.enqueue(&message, Utc::now()).await?;
        Ok(message.msg_id)
    }

    pub fn origin(&self) -> Origin {
        let queues = match &self.delivery.transport {
            Transport::Amqp { queues, .. } => queues.clone(),
            Transport::Spool { .. } => crate::config::delivery::Queues {
                kpr: String::new(),
                validation: None,
                receipts: String::new(),
                errors: String::new(),
            },
        };
        Origin {
            her_id: self.config.her_id_service_unit.clone(),
            queues,
        }
    }

    /// Hands every queued message to the transport once; returns how many went.
    pub async fn flush(&self) -> Result<usize, ShippingError> {
        Ok(match &self.delivery.transport {
            Transport::Amqp { broker, .. } => {
                sender::send_once(&self.store, broker, &self.origin()).await?
            }
            Transport::Spool { dir, .. } => spool::drain(&self.store, dir, &self.origin()).await?,
        })
    }

    /// Takes the receipts and error reports waiting on our queues, or in the spool's receipts
    /// directory, and expires what waited too long. A spool without a receipts directory
    /// gets its receipts some other way: only expiry happens.
    pub async fn collect(&self) -> Result<Collected, ShippingError> {
        let taken = match &self.delivery.transport {
            Transport::Amqp { broker, queues } => {
                let amqp = Amqp::connect(broker, "kpr-bridge receipts").await?;
                let inbox = self.inbox();
                let result = inbox::collect(&inbox, &amqp, queues).await;
                amqp.close().await;
                result?
            }
            Transport::Spool {
                receipts: Some(dir),
                ..
            } => inbox::spool::collect(&self.inbox(), dir).await?,
            Transport::Spool { receipts: None, .. } => Vec::new(),
        };
        let timeout = chrono::Duration::hours(i64::from(self.delivery.receipt_timeout_hours));
        let expired = self.store.expire(timeout, Utc::now()).await?;
        Ok(Collected { taken, expired })
    }

    pub fn inbox(&self) -> Inbox {
        Inbox {
            store: self.store.clone(),
            keys: self.keys.clone(),
            schemas: self.schemas.clone(),
        }
    }
}

/// What [`Shipping::collect`] found.
#[derive(Debug, Default)]
pub struct Collected {
    pub taken: Vec<Taken>,
    /// MsgIds that expired now.
    pub expired: Vec<String>,
}

/// The message an envelope starts, with its packed bytes or the file that holds them.
fn message(
    envelope: Envelope,
    target: Target,
    body: Vec<u8>,
    body_file: Option<PathBuf>,
) -> NewMessage {
    NewMessage {
        msg_id: envelope.msg_id,
        msg_type: envelope.msg_type,
        target: target.as_str().to_string(),
        to_her_id: target.her_id().to_string(),
        body,
        body_file,
    }
}

/// A payload or envelope that does not validate, as the error that says which.
fn not_fit(what: &str) -> impl FnOnce(Invalid) -> ShippingError {
    let what = what.to_string();
    move |invalid| ShippingError::Invalid {
        what,
        code: invalid.apprec_code(),
        invalid,
    }
}

fn data_dir(file: &Path, action: &'static str, e: std::io::Error) -> ShippingError {
    ShippingError::DataDir {
        file: file.to_path_buf(),
        action,
        reason: e.to_string(),
    }
}

/// MsgInfo/Type's words (DN) for a message type.
pub fn type_text(msg_type: &str) -> &str {
    match msg_type {
        "KPR_IPL" => "IPLOS-fagmelding til KPR",
        "KPR_IDE" => "IPLOS-identmelding til KPR",
        crate::model::register::DEFAULT_MSG_TYPE => "IPLOS i KPR, løpende rapportering",
        other => other,
    }
}
