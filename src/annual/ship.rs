//! The assembled year written as KPR_IPL and KPR_IDE, and shipped: each message validated,
//! enveloped, signed and encrypted on its own, both put in the outbox in one transaction (the
//! identity message first), or, in a dry run, validated and left in a directory.
//!
//! Everything streams through files, so that memory does not grow with the number of
//! persons. The unencrypted files live only in the data directory's `staging/` (a dry run's
//! in the directory the operator names) and are removed once packed.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use thiserror::Error;
use uuid::Uuid;

use super::year::Year;
use crate::assembly::checker::check_year;
use crate::assembly::controls::ControlFinding;
use crate::checks::Severity;
use crate::config::Config;
use crate::message::ident::IdeWriter;
use crate::message::iplos37::{FAGMELDING, Header, IDENTMELDING, IplWriter};
use crate::message::schema::{Invalid, Schemas};
use crate::model::Ident;
use crate::model::annual::AnnualPerson;
use crate::model::assessment::AssessmentVariables;
use crate::model::register::Target;
use crate::progress::Progress;
use crate::shipping::{Shipping, ShippingError};
use crate::store::StoreError;
use crate::store::annual::{AnnualRecord, AnnualSent};

/// Where the year's two messages go.
pub enum Destination<'a> {
    Outbox {
        shipping: &'a Shipping,
        target: Target,
        /// What `--force` overrides, in words; `None` without it.
        forced: Option<&'a str>,
    },
    DryRun {
        schemas: &'a Schemas,
        out: &'a Path,
    },
}

#[derive(Debug)]
pub enum Shipped {
    /// Both messages are in the outbox.
    Queued {
        shipment: Uuid,
        identmelding: String,
        fagmelding: String,
        /// What the register's arrival checks found that does not discard the message.
        controls: Vec<ControlFinding>,
    },
    /// Earlier messages of the same year and target await their receipts; nothing was queued.
    Refused(Vec<AnnualSent>),
    /// A dry run's files, both valid.
    Written {
        fagmelding: PathBuf,
        identmelding: PathBuf,
        controls: Vec<ControlFinding>,
    },
}

#[derive(Debug, Error)]
pub enum ShipError {
    #[error("{}: cannot be written: {source} — check free space and permissions", file.display())]
    Write { file: PathBuf, source: io::Error },
    #[error(
        "{} does not validate ({invalid}); this is a fault in kpr-bridge or in the schema given for {msg_type} — nothing was sent",
        file.display()
    )]
    Invalid {
        msg_type: &'static str,
        file: PathBuf,
        invalid: Invalid,
    },
    #[error(
        "{msg_type} packed is {size} bytes, more than delivery.max_message_bytes ({max} bytes), the largest message the network is configured to take — nothing was sent. Ask NHN and KPR (FHI) whether a message of this size may be sent and raise max_message_bytes accordingly"
    )]
    TooLarge {
        msg_type: &'static str,
        size: u64,
        max: u64,
    },
    #[error(
        "the register's own arrival checks would discard the whole message: {}; nothing was sent — correct these in the patient record system, or the configuration, and send again",
        discarding(.0)
    )]
    RegisterWouldDiscard(Vec<ControlFinding>),
    #[error(transparent)]
    Shipping(#[from] ShippingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ShipError {
    /// 1 for a state store or transport that may work on the next try, 2 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            ShipError::Store(_) => 1,
            ShipError::Shipping(e) => e.exit_code(),
            _ => 2,
        }
    }
}

/// The header both messages carry: `running_number` is this message's number in the year
/// (taken from the state store), `namespace` the KPR_IPL schema's.
pub fn header(
    config: &Config,
    year: &Year,
    now: DateTime<Utc>,
    running_number: u32,
    namespace: String,
) -> Header {
    Header {
        shipment: Uuid::new_v4(),
        municipality: config.municipality.clone(),
        district: config
            .municipality_district
            .clone()
            .unwrap_or_else(|| "00".into()),
        institution: config
            .municipality_orgnr
            .clone()
            .unwrap_or_else(|| config.municipality.clone()),
        year: year.year,
        generated: now,
        running_number,
        epj: year.epj.clone(),
        contacts: config.contacts.clone(),
        namespace,
    }
}

/// The series of the annual messages' running numbers in the state store.
pub fn running_numbers(year: i32) -> String {
    format!("annual:{year}")
}

/// Writes, checks and ships (or, in a dry run, writes and checks) the year's two messages.
pub async fn ship(
    year: &Year,
    header: &Header,
    destination: Destination<'_>,
    now: DateTime<Utc>,
) -> Result<Shipped, ShipError> {
    match destination {
        Destination::DryRun { schemas, out } => {
            let name = |msg_type: &str| {
                out.join(format!(
                    "{msg_type}-{}-{}.xml",
                    header.year, header.shipment
                ))
            };
            let (fagmelding, identmelding) = (name(FAGMELDING), name(IDENTMELDING));
            std::fs::create_dir_all(out).map_err(|source| ShipError::Write {
                file: out.to_path_buf(),
                source,
            })?;
            let controls = refuse_if_discarded(write(year, header, &fagmelding, &identmelding)?)?;
            for (msg_type, file) in [(FAGMELDING, &fagmelding), (IDENTMELDING, &identmelding)] {
                let progress = Progress::step(&format!("validating {msg_type}"));
                schemas
                    .validate_payload_file(msg_type, file)
                    .map_err(|invalid| ShipError::Invalid {
                        msg_type,
                        file: file.clone(),
                        invalid,
                    })?;
                progress.finish();
            }
            Ok(Shipped::Written {
                fagmelding,
                identmelding,
                controls,
            })
        }
        Destination::Outbox {
            shipping,
            target,
            forced,
        } => {
            // Removed when dropped, on every path.
            let (fagmelding, identmelding) = (
                shipping.staging_file(&format!("{FAGMELDING}-"))?,
                shipping.staging_file(&format!("{IDENTMELDING}-"))?,
            );
            let written = write(year, header, fagmelding.path(), identmelding.path())?;
            let controls = refuse_if_discarded(written)?;
            let mut messages = Vec::new();
            for (msg_type, file, what) in [
                (IDENTMELDING, &identmelding, "the identity message KPR_IDE"),
                (FAGMELDING, &fagmelding, "the fagmelding KPR_IPL"),
            ] {
                let progress = Progress::step(&format!("checking and packing {msg_type}"));
                match shipping.pack_file(file.path(), msg_type, target, what) {
                    Ok(message) => messages.push(message),
                    Err(e) => {
                        // The identity message is packed already; it must not outlive this.
                        discard(&messages);
                        return Err(e.into());
                    }
                }
                let max = shipping.delivery.max_message_bytes;
                let size = messages.last().map_or(0, packed_size);
                if size > max {
                    discard(&messages);
                    return Err(ShipError::TooLarge {
                        msg_type,
                        size,
                        max,
                    });
                }
                progress.finish();
            }
            drop((fagmelding, identmelding));
            let shipment = header.shipment.to_string();
            let record = AnnualRecord {
                shipment: &shipment,
                year: year.year,
                target: target.as_str(),
                persons: year.assembled.persons.len() as u64,
                forced,
            };
            let waiting = shipping.store.enqueue_annual(&record, &messages, now).await;
            let waiting = match waiting {
                Ok(waiting) => waiting,
                Err(e) => {
                    discard(&messages);
                    return Err(e.into());
                }
            };
            if !waiting.is_empty() {
                discard(&messages);
                return Ok(Shipped::Refused(waiting));
            }
            Ok(Shipped::Queued {
                shipment: header.shipment,
                identmelding: messages[0].msg_id.clone(),
                fagmelding: messages[1].msg_id.clone(),
                controls,
            })
        }
    }
}

/// The register's arrival checks, as the fagmelding was written; refuses when one would
/// discard the whole message.
fn refuse_if_discarded(findings: Vec<ControlFinding>) -> Result<Vec<ControlFinding>, ShipError> {
    if findings
        .iter()
        .any(|f| f.severity() == Some(Severity::Error))
    {
        return Err(ShipError::RegisterWouldDiscard(findings));
    }
    Ok(findings)
}

/// The findings that discard the whole message, in words.
fn discarding(findings: &[ControlFinding]) -> String {
    findings
        .iter()
        .filter(|f| f.severity() == Some(Severity::Error))
        .map(|f| {
            format!(
                "{} {} ({} check, {}: expected {})",
                f.record,
                f.field,
                f.kind.as_str(),
                f.example,
                f.expected.text(crate::i18n::Language::En)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn write(
    year: &Year,
    header: &Header,
    fagmelding: &Path,
    identmelding: &Path,
) -> Result<Vec<ControlFinding>, ShipError> {
    write_messages(
        &year.assembled.persons,
        header,
        year.variables.clone(),
        fagmelding,
        identmelding,
    )
}

/// A packed message's size in bytes, in its file or in memory.
fn packed_size(message: &crate::store::outbox::NewMessage) -> u64 {
    match &message.body_file {
        Some(file) => std::fs::metadata(file).map_or(0, |m| m.len()),
        None => message.body.len() as u64,
    }
}

/// Removes the packed files of messages that did not enter the outbox.
fn discard(messages: &[crate::store::outbox::NewMessage]) {
    for file in messages.iter().filter_map(|m| m.body_file.as_ref()) {
        let _ = std::fs::remove_file(file);
    }
}

/// Writes both messages in one pass over the persons, each with the identity for the
/// identity message (its `pid` the person's `pePeID`), while the register's arrival checks
/// run over the same persons' records beside it ([`check_year`]); gives their findings.
/// Streams: a person is written as it comes, nothing of the text is kept. `variables` gives
/// each assessment variable its 9111 code.
pub fn write_messages(
    persons: &[(Ident, AnnualPerson)],
    header: &Header,
    variables: AssessmentVariables,
    fagmelding: &Path,
    identmelding: &Path,
) -> Result<Vec<ControlFinding>, ShipError> {
    let failed = |file: &Path| {
        let file = file.to_path_buf();
        move |source| ShipError::Write { file, source }
    };
    let create = |file: &Path| {
        File::create(file)
            .map(|f| BufWriter::with_capacity(1 << 16, f))
            .map_err(failed(file))
    };
    std::thread::scope(|scope| {
        let checked = scope.spawn(|| check_year(persons, header, &variables));
        let mut ipl = IplWriter::start(create(fagmelding)?, header, variables.clone())
            .map_err(failed(fagmelding))?;
        let mut ide =
            IdeWriter::start(create(identmelding)?, header).map_err(failed(identmelding))?;
        let mut progress = Progress::counted("writing KPR_IPL and KPR_IDE", persons.len() as u64);
        for (ident, person) in persons {
            ipl.person(person, header.year)
                .map_err(failed(fagmelding))?;
            ide.person(person.serial, ident)
                .map_err(failed(identmelding))?;
            progress.inc(1);
        }
        progress.finish();
        let close = |writer: io::Result<BufWriter<File>>, file: &Path| {
            writer
                .and_then(|w| w.into_inner().map_err(io::IntoInnerError::into_error))
                .and_then(|f| f.sync_all())
                .map_err(failed(file))
        };
        close(ipl.finish(), fagmelding)?;
        close(ide.finish(), identmelding)?;
        Ok(checked.join().expect("a check of records does not panic"))
    })
}
