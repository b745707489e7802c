//! XSD validation with libxml2: the KITH envelope and receipt schemas built in, and a schema
//! per payload type: the project's own ones built in ([`BUILT_IN_PAYLOADS`]), others from the
//! configuration, which may also replace a built-in one.
//!
//! No Rust crate validates XSD 1.0 with imports and strict wildcards; libxml2 does and is on
//! every Debian machine. The FFI is small and written here by hand: the few functions used,
//! each pointer owned by one Rust value that frees it.
//!
//! - **Input.** A document first passes the guard (UTF-8, no DOCTYPE); libxml2 then reads it
//!   without network access, entity substitution, DTD loading or its HUGE mode, and schema
//!   imports go through libxml2's no-network entity loader.
//! - **Files.** A document in memory is parsed into a tree and validated; one in a file (the
//!   `_file` functions: the annual message runs to hundreds of MB) is validated as libxml2's
//!   SAX parser reads it, so memory does not grow with its size. The guard reads such a file
//!   piece by piece before libxml2 does. Both give the same problems on the same lines, but
//!   for one: an element's missing children or wrong content is reported in a stream on the
//!   line of its end tag, in a tree on the line of its start tag.
//! - **Schema files.** The built-in XSDs are compiled in. At load they are written to a private
//!   temporary directory, so that their imports resolve by relative path, compiled, and the
//!   directory is removed again: a compiled schema keeps nothing on disk.
//! - **Threads.** libxml2 is initialised once (`xmlSchemaParse` initialises its type tables
//!   lazily and not thread-safely otherwise), schemas are compiled one at a time, and each
//!   compiled schema is used under its own lock with a validation context made per call.
//! - **Identity numbers.** libxml2 quotes invalid values in its messages; each message is
//!   masked with [`hide_identity_numbers`](crate::redact::hide_identity_numbers) before it is kept.
//!
//! The parts: `built_in.rs` the XSDs compiled in, `wrapper.rs` the schema that joins MsgHead
//! and a payload's, `document.rs` a document guarded, parsed and its root read, `compiled.rs`
//! compiling and validating, `collector.rs` what libxml2 reports, `invalid.rs` the faults and
//! their AppRec codes, `ffi.rs` the C interface.

mod built_in;
mod collector;
mod compiled;
mod document;
mod ffi;
mod invalid;
mod wrapper;

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use thiserror::Error;

use super::{apprec, guard};
use built_in::{BUILT_IN, PAYLOAD_FILES, built_in_payload_file};
use compiled::{Compiled, compile, validate, validate_file};
use document::{guard_file, line_in_file, read, root_of};
use ffi::init;
use invalid::unreadable;
use wrapper::{file_uri, target_namespace, wrapper_xsd};

pub use built_in::BUILT_IN_PAYLOADS;
pub use invalid::{Invalid, Problem};

/// The compiled schemas: the built-in KITH ones and one per payload type.
pub struct Schemas {
    apprec_v1_0: Compiled,
    apprec_v1_1: Compiled,
    payloads: Vec<Payload>,
    /// Another message type for a payload type's schema: `[daily] msg_type` → the daily one.
    aliases: Vec<(String, String)>,
}

/// Where a payload type's schema comes from.
enum Source<'a> {
    /// A file of [`BUILT_IN_PAYLOADS`], by name.
    BuiltIn(&'static str),
    /// A file the configuration names.
    Configured(&'a Path),
}

struct Payload {
    msg_type: String,
    /// The schema's target namespace: what documents of the type are written in.
    namespace: Option<String>,
    /// The payload's own schema.
    alone: Compiled,
    /// MsgHead 1.2 and the payload's schema together, for the strict wildcard in `Content`.
    message: Compiled,
}

impl fmt::Debug for Schemas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schemas")
            .field("payload_types", &self.payload_types())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Error)]
pub enum SchemaError {
    #[error("cannot write the built-in schemas to a temporary directory: {0} — check TMPDIR")]
    TempDir(String),
    #[error(
        "payload schema {} of {msg_type}: {reason} — check the path in the configuration",
        file.display()
    )]
    Unreadable {
        msg_type: String,
        file: PathBuf,
        reason: String,
    },
    #[error("{}: {reason} — a payload schema is an XML Schema (xs:schema) document", file.display())]
    NotXsd { file: PathBuf, reason: String },
    #[error("{what} does not compile: {} — fix the schema", problems.join("; "))]
    DoesNotCompile { what: String, problems: Vec<String> },
    #[error("message type {0} is given two payload schemas — keep one")]
    DuplicateType(String),
}

impl Schemas {
    /// KITH MsgHead + AppRec 1.0/1.1 and [`BUILT_IN_PAYLOADS`] built in; `payloads` maps a
    /// message type (e.g. "KPR_IPL") to the XSD file of its payload, and replaces the built-in
    /// schema of a type it names. Built-in types come first in [`Schemas::payload_types`].
    pub fn load(payloads: &[(String, PathBuf)]) -> Result<Schemas, SchemaError> {
        init();
        // xmlSchemaParse shares state between calls; one compilation at a time.
        static COMPILING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = COMPILING.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = tempfile::Builder::new()
            .prefix("kpr-bridge-xsd-")
            .tempdir()
            .map_err(|e| SchemaError::TempDir(e.to_string()))?;
        for (name, bytes) in BUILT_IN {
            std::fs::write(dir.path().join(name), bytes)
                .map_err(|e| SchemaError::TempDir(e.to_string()))?;
        }
        for (name, bytes) in PAYLOAD_FILES {
            let file = dir.path().join(name);
            file.parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&file, built_in_payload_file(name, bytes)))
                .map_err(|e| SchemaError::TempDir(e.to_string()))?;
        }
        let built_in = |name: &str| {
            compile(&dir.path().join(name), dir.path(), || {
                format!("built-in schema {name}")
            })
        };
        let apprec_v1_0 = built_in("apprec-v1.0.xsd")?;
        let apprec_v1_1 = built_in("apprec-v1.1.xsd")?;
        // Each type with its schema: the built-in ones unless configured, then the configured.
        let mut sources: Vec<(&str, Source)> = BUILT_IN_PAYLOADS
            .iter()
            .map(|(msg_type, name)| (*msg_type, Source::BuiltIn(name)))
            .collect();
        for (i, (msg_type, file)) in payloads.iter().enumerate() {
            if payloads[..i].iter().any(|(earlier, _)| earlier == msg_type) {
                return Err(SchemaError::DuplicateType(msg_type.clone()));
            }
            let source = (msg_type.as_str(), Source::Configured(file));
            match sources.iter_mut().find(|(known, _)| known == msg_type) {
                Some(built_in) => *built_in = source,
                None => sources.push(source),
            }
        }
        let mut compiled = Vec::new();
        for (i, (msg_type, source)) in sources.into_iter().enumerate() {
            let unreadable = |file: &Path, reason: String| SchemaError::Unreadable {
                msg_type: msg_type.to_string(),
                file: file.to_path_buf(),
                reason,
            };
            let (absolute, what) = match source {
                Source::BuiltIn(name) => (
                    dir.path().join(name),
                    format!("built-in payload schema {name} of {msg_type}"),
                ),
                Source::Configured(file) => (
                    std::fs::canonicalize(file).map_err(|e| unreadable(file, e.to_string()))?,
                    format!("payload schema {} of {msg_type}", file.display()),
                ),
            };
            let namespace = target_namespace(&absolute)?;
            let alone = compile(&absolute, dir.path(), || what.clone())?;
            let location = file_uri(&absolute)
                .ok_or_else(|| unreadable(&absolute, "its path is not UTF-8".to_string()))?;
            let wrapper = dir.path().join(format!("message-{i}.xsd"));
            std::fs::write(&wrapper, wrapper_xsd(namespace.as_deref(), &location))
                .map_err(|e| SchemaError::TempDir(e.to_string()))?;
            let message = compile(&wrapper, dir.path(), || {
                format!("{what}, together with MsgHead 1.2,")
            })?;
            compiled.push(Payload {
                msg_type: msg_type.to_string(),
                namespace,
                alone,
                message,
            });
        }
        Ok(Schemas {
            apprec_v1_0,
            apprec_v1_1,
            payloads: compiled,
            aliases: Vec::new(),
        })
    }

    /// Validates messages of type `alias` with the schema of `of`: the daily message's type
    /// is configured (no public name exists), its format is not.
    pub fn with_alias(mut self, alias: &str, of: &str) -> Schemas {
        if alias != of {
            self.aliases.push((alias.to_string(), of.to_string()));
        }
        self
    }

    /// The target namespace of a payload type's schema, as compiled: the namespace its
    /// documents must be written in (a configured official schema decides IPLOS's year).
    pub fn payload_namespace(&self, msg_type: &str) -> Option<&str> {
        self.payload(msg_type).ok()?.namespace.as_deref()
    }

    pub fn payload_types(&self) -> Vec<&str> {
        self.payloads.iter().map(|p| p.msg_type.as_str()).collect()
    }

    /// The payload alone against its type's schema.
    pub fn validate_payload(&self, msg_type: &str, xml: &[u8]) -> Result<(), Invalid> {
        let payload = self.payload(msg_type)?;
        let (doc, _) = read(xml)?;
        validate(&payload.alone, &doc)
    }

    /// A whole MsgHead document, together with the schema of the payload type named in
    /// MsgInfo/Type (passed in, read by the caller).
    pub fn validate_message(&self, msg_type: &str, xml: &[u8]) -> Result<(), Invalid> {
        let payload = self.payload(msg_type)?;
        let (doc, text) = read(xml)?;
        root_of(text.as_bytes(), |at| guard::line_at(text.as_bytes(), at))?.must_be_msghead()?;
        validate(&payload.message, &doc)
    }

    /// [`Schemas::validate_payload`] for a payload in a file, read as a stream.
    pub fn validate_payload_file(&self, msg_type: &str, file: &Path) -> Result<(), Invalid> {
        let payload = self.payload(msg_type)?;
        guard_file(file)?;
        validate_file(&payload.alone, file)
    }

    /// [`Schemas::validate_message`] for a message in a file, read as a stream. The root is
    /// looked at after libxml2 has read the file, so that a document that is both not
    /// well-formed and not a MsgHead fails as it does in memory: as not XML.
    pub fn validate_message_file(&self, msg_type: &str, file: &Path) -> Result<(), Invalid> {
        let payload = self.payload(msg_type)?;
        guard_file(file)?;
        let validated = validate_file(&payload.message, file);
        if let Err(Invalid::NotXml { .. }) = validated {
            return validated;
        }
        let input = File::open(file).map_err(|e| unreadable(file, &e))?;
        root_of(BufReader::new(input), |at| line_in_file(file, at))?.must_be_msghead()?;
        validated
    }

    /// An application receipt: 1.0 or 1.1 by its namespace.
    pub fn validate_apprec(&self, xml: &[u8]) -> Result<(), Invalid> {
        let (doc, text) = read(xml)?;
        let root = root_of(text.as_bytes(), |at| guard::line_at(text.as_bytes(), at))?;
        let schema = match (root.namespace.as_deref(), root.local.as_str()) {
            (Some(apprec::NAMESPACE_V1_0), "AppRec") => &self.apprec_v1_0,
            (Some(apprec::NAMESPACE_V1_1), "AppRec") => &self.apprec_v1_1,
            _ => {
                return Err(root.unexpected(&format!(
                    "AppRec in {} (1.0) or {} (1.1)",
                    apprec::NAMESPACE_V1_0,
                    apprec::NAMESPACE_V1_1
                )));
            }
        };
        validate(schema, &doc)
    }

    fn payload(&self, msg_type: &str) -> Result<&Payload, Invalid> {
        let msg_type = self
            .aliases
            .iter()
            .find(|(alias, _)| alias == msg_type)
            .map_or(msg_type, |(_, of)| of.as_str());
        self.payloads
            .iter()
            .find(|p| p.msg_type == msg_type)
            .ok_or_else(|| Invalid::UnknownType {
                msg_type: msg_type.to_string(),
                known: self.payloads.iter().map(|p| p.msg_type.clone()).collect(),
            })
    }
}
