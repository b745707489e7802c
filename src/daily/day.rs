//! One daily run: read the sources that speak for the date, capture, ship — each step one
//! state-store transaction. A dry run does the same work in one transaction that it rolls
//! back, and writes each message's payload to a directory instead of the outbox.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use thiserror::Error;

use super::capture::{self, CaptureError, CaptureOptions, CaptureSummary};
use super::current::SourceInput;
use super::ship::{self, Parts, Sender, ShipError, Shipped};
use crate::check_run::{ReadSource, SourceRun, read_source};
use crate::checks::{CheckOptions, CheckReport, TestUsers};
use crate::config::{Config, Mode, SourceKind};
use crate::crypto::at_rest::IdentityKey;
use crate::message::schema::Schemas;
use crate::model::assessment::AssessmentVariables;
use crate::model::register::Target;
use crate::shipping::{Shipping, ShippingError};
use crate::source::LocalIds;
use crate::store::{Store, StoreError};

/// Where the day's messages go.
pub enum Destination<'a> {
    /// Packed into the outbox.
    Outbox(&'a Shipping),
    /// Validated and written to a directory; nothing is committed.
    DryRun { schemas: &'a Schemas, out: &'a Path },
    /// Nowhere yet: the capture commits, and its notifications wait for the date's run (the
    /// agent's captures between runs).
    CaptureOnly,
}

/// The sources that speak for a date, as read; `None` for one not in use on the date.
pub struct DayRead {
    read: Vec<Option<ReadSource>>,
}

impl DayRead {
    /// Reads every source in use on `date`. Blocking: the agent calls it off the runtime.
    pub fn read(config: &Config, date: NaiveDate) -> DayRead {
        // Only the sources that speak for the date are read: a retired EPJ may be gone.
        let read = config
            .sources
            .iter()
            .map(|source| {
                let in_use = source.from.is_none_or(|from| from <= date)
                    && source.to.is_none_or(|to| date <= to);
                in_use.then(|| read_source(&config.municipality, source))
            })
            .collect();
        DayRead { read }
    }

    /// The sources that were read (those in use on the date).
    pub fn sources(&self) -> impl Iterator<Item = &SourceRun> {
        self.read.iter().flatten().map(|(run, _)| run)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct DayOptions {
    pub date: NaiveDate,
    /// The initial load, from this start date.
    pub initial: Option<NaiveDate>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Error)]
pub enum DayError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Shipping(#[from] ShippingError),
    #[error(transparent)]
    Ship(#[from] ShipError),
    #[error(transparent)]
    Key(#[from] crate::crypto::at_rest::KeyError),
    /// The store is behind the chain mark, or the mark cannot be read or written.
    #[error(transparent)]
    Mark(#[from] super::mark::MarkError),
    #[error(
        "notification(s) {numbers} were captured but not yet sent, and cannot be: their identity numbers are sealed under an identity key that is no longer there ({file} holds another key), and today's EPJ no longer lists their persons, so they could not be sealed again; every later notification waits for them. Put the earlier key file back from its backup beside the key file as {file}.previous and run again (docs/runbook.md, \"A lost identity key\"); if it cannot be found, raise it with FHI before anything more is sent. Nothing was sent; the captured notifications are kept"
    )]
    SealedAway { numbers: String, file: PathBuf },
    #[error(
        "the daily message {label} packed is {size} bytes, more than delivery.max_message_bytes ({max} bytes) — nothing was sent; lower [daily] max_notifications (now {notifications}) so that each part is smaller"
    )]
    TooLarge {
        label: String,
        size: usize,
        max: u64,
        notifications: usize,
    },
    #[error("{file}: cannot be written: {source}")]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the daily {what} does not validate against its schema ({invalid}); this is a fault in kpr-bridge or in a [schemas] override — nothing was sent"
    )]
    Invalid { what: &'static str, invalid: String },
}

impl DayError {
    /// 2 for what the operator must fix before anything can run; 1 for failures that a
    /// later run overcomes.
    pub fn exit_code(&self) -> u8 {
        match self {
            DayError::Capture(CaptureError::Store(_))
            | DayError::Store(_)
            | DayError::Ship(ShipError::Store(_))
            | DayError::Mark(super::mark::MarkError::Store(_)) => 1,
            DayError::Shipping(e) => e.exit_code(),
            _ => 2,
        }
    }
}

/// What a day's run did.
pub struct DayOutcome {
    pub sources: Vec<SourceRun>,
    pub report: CheckReport,
    pub capture: CaptureSummary,
    /// `None` for a dry run.
    pub shipped: Option<Shipped>,
    /// A dry run's files: each message's payload.
    pub written: Vec<PathBuf>,
}

/// Reads, captures and ships one reporting date.
pub async fn run(
    config: &Config,
    store: &Store,
    destination: Destination<'_>,
    options: DayOptions,
) -> Result<DayOutcome, DayError> {
    run_read(
        config,
        store,
        destination,
        options,
        DayRead::read(config, options.date),
    )
    .await
}

/// [`run`] with the sources already read for `options.date`.
pub async fn run_read(
    config: &Config,
    store: &Store,
    destination: Destination<'_>,
    options: DayOptions,
    read: DayRead,
) -> Result<DayOutcome, DayError> {
    let DayRead { read } = read;
    let inputs: Vec<SourceInput> = config
        .sources
        .iter()
        .zip(&read)
        .map(|(source, read)| {
            let data = read.as_ref().and_then(|(_, data)| data.as_ref());
            SourceInput {
                name: &source.name,
                records: data.map(|(snapshot, _)| snapshot),
                mapping: data.map(|(_, mapping)| mapping),
                from: source.from,
                to: source.to,
                complete: read
                    .as_ref()
                    .is_some_and(|(run, _)| !run.is_unusable() && run.problems() == 0),
                ids: match source.kind {
                    SourceKind::Iplos { .. } => LocalIds::PerExtract,
                    _ => LocalIds::Lasting,
                },
            }
        })
        .collect();
    let test_users = TestUsers::new(&config.test_user_names);
    let variables = AssessmentVariables::extended(
        inputs
            .iter()
            .filter_map(|input| input.mapping)
            .flat_map(|mapping| mapping.variables().iter().cloned()),
    );
    let checks = CheckOptions {
        year: options.date.year(),
        production: config.mode == Mode::Production,
        test_users: &test_users,
        variables: &variables,
    };
    let sender = sender(config, store, options.date).await?;

    let mut tx = store.begin_daily().await?;
    // Nothing is numbered from a store behind the chain the register has (a restored copy).
    super::mark::guard(&mut tx, &config.daily).await?;
    let captured = capture::capture(
        &mut tx,
        &inputs,
        &checks,
        &config.daily,
        CaptureOptions {
            date: options.date,
            initial: options.initial,
            now: options.now,
        },
    )
    .await?;
    let mut written = Vec::new();
    let shipped = match destination {
        Destination::CaptureOnly => {
            tx.commit().await?;
            None
        }
        Destination::DryRun { schemas, out } => {
            let key = IdentityKey::open(&config.daily.identity_key_file, true)?;
            let numbers = tx.unshipped(options.date).await?;
            sealed_away(&mut tx, &numbers, config).await?;
            let parts = Parts::new(&sender, &numbers, options.date.to_string());
            let name = options.date.to_string();
            written = write_parts(&mut tx, &key, &parts, schemas, &name, out).await?;
            tx.rollback().await?;
            None
        }
        Destination::Outbox(shipping) => {
            // Captured notifications commit first: a fault in building or packing the
            // messages must not lose them (they ship with the next run).
            tx.commit().await?;
            let mut tx = store.begin_daily().await?;
            let key = IdentityKey::open(&config.daily.identity_key_file, false)?;
            let numbers = tx.unshipped(options.date).await?;
            sealed_away(&mut tx, &numbers, config).await?;
            let parts = Parts::new(&sender, &numbers, options.date.to_string());
            let target = match config.mode {
                Mode::Test => Target::Validation,
                Mode::Production => Target::Production,
            };
            let mut messages = Vec::new();
            for at in 0..parts.len() {
                let part = parts.build(&mut tx, &key, at).await?;
                let packed = pack_part(shipping, &sender, &part, target)?;
                ship::enqueue_part(
                    &mut tx,
                    &part,
                    &packed,
                    Some(options.date),
                    options.now,
                    false,
                )
                .await?;
                messages.push(packed.msg_id);
            }
            let shipped =
                ship::record(&mut tx, options.date, options.now, numbers.len(), messages).await?;
            tx.commit().await?;
            // The chain mark follows the ship before anything is handed to the transport.
            super::mark::advance(store, &config.daily).await?;
            Some(shipped)
        }
    };
    Ok(DayOutcome {
        sources: read.into_iter().flatten().map(|(run, _)| run).collect(),
        report: captured.current.report,
        capture: captured.summary,
        shipped,
        written,
    })
}

/// Refuses to ship when some of `numbers` cannot be written: sealed under an identity key
/// that is no longer there (`daily::sealed`).
async fn sealed_away(
    tx: &mut crate::store::daily::DailyTx,
    numbers: &[i64],
    config: &Config,
) -> Result<(), DayError> {
    let away = tx.sealed_away(numbers).await?;
    if away.is_empty() {
        return Ok(());
    }
    Err(DayError::SealedAway {
        numbers: super::sealed::ranges(&away),
        file: config.daily.identity_key_file.clone(),
    })
}

/// The sender of the day's messages: the EPJs in use on the date, the contacts, and how
/// messages are typed and cut. The contacts are those last saved on the administration page
/// (or with `kpr-bridge contacts`), else the configuration's.
pub async fn sender(config: &Config, store: &Store, date: NaiveDate) -> Result<Sender, StoreError> {
    let contacts = match store.saved_contacts().await? {
        Some(saved) => saved.contacts,
        None => config.contacts.clone(),
    };
    Ok(Sender {
        municipality: config.municipality.clone(),
        epj: config
            .sources
            .iter()
            .filter(|source| {
                source.from.is_none_or(|from| from <= date) && source.to.is_none_or(|to| date <= to)
            })
            .map(|source| {
                (
                    source
                        .product
                        .clone()
                        .unwrap_or_else(|| source.name.clone()),
                    source.version.clone().unwrap_or_default(),
                )
            })
            .collect(),
        contacts,
        msg_type: config.daily.msg_type.clone(),
        max_notifications: config.daily.max_notifications,
    })
}

/// Validates and packs one part; refuses one larger than the network takes.
pub fn pack_part(
    shipping: &Shipping,
    sender: &Sender,
    part: &ship::Part,
    target: Target,
) -> Result<crate::store::outbox::NewMessage, DayError> {
    let what = format!("the daily message {}", part.label);
    let packed = shipping.pack(&part.xml, &sender.msg_type, target, &what)?;
    let max = shipping.delivery.max_message_bytes;
    if packed.body.len() as u64 > max {
        return Err(DayError::TooLarge {
            label: part.label.clone(),
            size: packed.body.len(),
            max,
            notifications: sender.max_notifications,
        });
    }
    Ok(packed)
}

/// Writes every part to `out` as `<type>-<name>-part<k>of<n>.xml`, each validated first: what
/// a dry run leaves for a person to read, nothing committed.
pub async fn write_parts(
    tx: &mut crate::store::daily::DailyTx,
    key: &IdentityKey,
    parts: &Parts<'_>,
    schemas: &Schemas,
    name: &str,
    out: &Path,
) -> Result<Vec<PathBuf>, DayError> {
    let msg_type = parts.sender().msg_type.as_str();
    let mut written = Vec::new();
    for at in 0..parts.len() {
        let part = parts.build(tx, key, at).await?;
        schemas
            .validate_payload(msg_type, &part.xml)
            .map_err(|invalid| DayError::Invalid {
                what: "message",
                invalid: invalid.to_string(),
            })?;
        let file = out.join(format!(
            "{msg_type}-{name}-part{}of{}.xml",
            part.part, part.parts
        ));
        std::fs::create_dir_all(out)
            .and_then(|()| std::fs::write(&file, &part.xml))
            .map_err(|source| DayError::Write {
                file: file.clone(),
                source,
            })?;
        written.push(file);
    }
    Ok(written)
}
