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
//!   masked with [`hide_identity_numbers`] before it is kept.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};
use std::sync::{Mutex, Once, PoisonError};

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use thiserror::Error;

use super::{apprec, guard, ipl56, iplos37, msghead};
use crate::source::problem::{hide_identity_numbers, shown_value};

const XSD_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema";

/// The KITH schemas, written next to each other so that imports find each other.
const BUILT_IN: [(&str, &[u8]); 6] = [
    (
        "MsgHead-v1_2.xsd",
        include_bytes!("../../schemas/MsgHead-v1_2.xsd"),
    ),
    (
        "xmldsig-core-schema.xsd",
        include_bytes!("../../schemas/xmldsig-core-schema.xsd"),
    ),
    (
        "kith-base64.xsd",
        include_bytes!("../../schemas/kith-base64.xsd"),
    ),
    (
        "apprec-v1.0.xsd",
        include_bytes!("../../schemas/apprec-v1.0.xsd"),
    ),
    (
        "apprec-v1.1.xsd",
        include_bytes!("../../schemas/apprec-v1.1.xsd"),
    ),
    ("kith.xsd", include_bytes!("../../schemas/kith.xsd")),
];

/// The payload schemas the project writes, by message type: the file of its schema among
/// [`PAYLOAD_FILES`]. A configured schema for the same type replaces one.
pub const BUILT_IN_PAYLOADS: [(&str, &str); 3] = [
    (ipl56::DEFAULT_MSG_TYPE, "ipl-56.0.0/XPR(ipl).xsd"),
    (iplos37::FAGMELDING, "iplos37/iplos_2019.xsd"),
    (iplos37::IDENTMELDING, "ide-53.1.3/XPR(ide).xsd"),
];

/// Every file of the built-in payload schemas, with what they include and import, as
/// published, each in its folder under `schemas/official/` (two publications have an `NPR.xsd`).
const PAYLOAD_FILES: [(&str, &[u8]); 7] = [
    (
        "ipl-56.0.0/XPR(ipl).xsd",
        include_bytes!("../../schemas/official/ipl-56.0.0/XPR(ipl).xsd"),
    ),
    (
        "ipl-56.0.0/XPR(ipl)_CodingSchemes.xsd",
        include_bytes!("../../schemas/official/ipl-56.0.0/XPR(ipl)_CodingSchemes.xsd"),
    ),
    (
        "ipl-56.0.0/NPR.xsd",
        include_bytes!("../../schemas/official/ipl-56.0.0/NPR.xsd"),
    ),
    (
        "iplos37/iplos_2019.xsd",
        include_bytes!("../../schemas/official/iplos37/iplos_2019.xsd"),
    ),
    (
        "ide-53.1.3/XPR(ide).xsd",
        include_bytes!("../../schemas/official/ide-53.1.3/XPR(ide).xsd"),
    ),
    (
        "ide-53.1.3/XPR(ide)_CodingSchemes.xsd",
        include_bytes!("../../schemas/official/ide-53.1.3/XPR(ide)_CodingSchemes.xsd"),
    ),
    (
        "ide-53.1.3/NPR.xsd",
        include_bytes!("../../schemas/official/ide-53.1.3/NPR.xsd"),
    ),
];

/// A built-in file as compiled: IPLOS 3.7's under the namespace of the year it is built in
/// for ([`iplos37::BUILT_IN_YEAR`]; the published one is 2019's, and the namespace follows
/// the reporting year), the others as they are.
fn built_in_payload_file(name: &str, bytes: &[u8]) -> Vec<u8> {
    if name != "iplos37/iplos_2019.xsd" {
        return bytes.to_vec();
    }
    String::from_utf8_lossy(bytes)
        .replace(
            iplos37::PUBLISHED_NAMESPACE,
            &iplos37::namespace(iplos37::BUILT_IN_YEAR),
        )
        .into_bytes()
}

/// Problems kept per document; a broken document can have one per line.
const KEEP: usize = 100;
/// Problems shown by `Display`.
const SHOWN: usize = 5;
/// How much of a file the guard reads at a time.
const PIECE: usize = 64 * 1024;

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

/// One line libxml2 (or the guard before it) found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the document; 0 when the problem has no line.
    pub line: u32,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.message),
            line => write!(f, "line {line}: {}", self.message),
        }
    }
}

/// Why a document is not valid. Each kind maps to the AppRec error code KPR would answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// No payload schema for the message type.
    UnknownType {
        msg_type: String,
        known: Vec<String>,
    },
    /// Not well-formed XML, or refused unread.
    NotXml { problems: Vec<Problem> },
    /// Well-formed, but not what the schema says.
    DoesNotValidate { problems: Vec<Problem> },
}

impl Invalid {
    /// The code of AppRec's error code system (8221) for this kind of fault.
    pub fn apprec_code(&self) -> &'static str {
        match self {
            Invalid::NotXml { .. } => "T01",
            Invalid::DoesNotValidate { .. } => "T02",
            Invalid::UnknownType { .. } => "T10",
        }
    }

    pub fn problems(&self) -> &[Problem] {
        match self {
            Invalid::NotXml { problems } | Invalid::DoesNotValidate { problems } => problems,
            Invalid::UnknownType { .. } => &[],
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problems = match self {
            Invalid::UnknownType { msg_type, known } => {
                return write!(
                    f,
                    "message type {} has no payload schema (known: {}) — add its XSD to the \
                     configuration",
                    shown_value(msg_type),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
            Invalid::NotXml { problems } => {
                f.write_str("is not well-formed XML: ")?;
                problems
            }
            Invalid::DoesNotValidate { problems } => {
                f.write_str("does not validate against its schema: ")?;
                problems
            }
        };
        for (i, problem) in problems.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        if problems.len() > SHOWN {
            write!(f, " (and {} more)", problems.len() - SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

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

fn not_xml(line: u32, message: String) -> Invalid {
    Invalid::NotXml {
        problems: vec![Problem { line, message }],
    }
}

fn refused(refused: guard::Refused) -> Invalid {
    not_xml(refused.line(), format!("the document {refused}"))
}

/// A file that cannot be read is a document that cannot be: T01, as KPR would answer.
fn unreadable(file: &Path, reason: &dyn fmt::Display) -> Invalid {
    not_xml(
        0,
        format!(
            "the file {} cannot be read: {reason} — check that it exists and that kpr-bridge may \
             read it",
            file.display()
        ),
    )
}

/// The guard, then libxml2's parser; the document and its text without byte order mark.
fn read(xml: &[u8]) -> Result<(Doc, &str), Invalid> {
    let text = guard::checked(xml).map_err(refused)?;
    let size = c_int::try_from(text.len()).map_err(|_| {
        not_xml(
            0,
            format!(
                "the document is {} bytes, and libxml2 reads at most 2 GiB — deliver it in parts",
                text.len()
            ),
        )
    })?;
    init();
    let options = ffi::XML_PARSE_NONET | ffi::XML_PARSE_BIG_LINES;
    let (doc, reported) = collecting(|_| {
        // SAFETY: `text` is valid for `size` bytes for the whole call; libxml2 copies what it
        // keeps. URL and encoding may be null (no base URL; encoding as detected, UTF-8 by the
        // guard).
        unsafe {
            ffi::xmlReadMemory(
                text.as_ptr().cast::<c_char>(),
                size,
                ptr::null(),
                ptr::null(),
                options,
            )
        }
    });
    // Owned at once, so that it is freed on every path.
    let doc = NonNull::new(doc).map(Doc);
    match doc {
        // A namespace error still yields a tree; it is reported, and counts.
        Some(doc) if reported.is_empty() => Ok((doc, text)),
        _ => Err(Invalid::NotXml {
            problems: reported.problems("libxml2 could not read the document"),
        }),
    }
}

/// The guard over a file, read piece by piece.
fn guard_file(file: &Path) -> Result<(), Invalid> {
    let mut input = File::open(file).map_err(|e| unreadable(file, &e))?;
    let mut scanner = guard::Scanner::default();
    let mut piece = vec![0; PIECE];
    loop {
        match input.read(&mut piece) {
            Ok(0) => return scanner.finish().map_err(refused),
            Ok(n) => scanner.feed(&piece[..n]).map_err(refused)?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(file, &e)),
        }
    }
}

/// Validates the document in `file` against `schema` as libxml2's SAX parser reads it, with a
/// validation context of its own. The parser's problems make it not XML, as a failed
/// [`read`] does; only when there are none do the validator's count.
fn validate_file(schema: &Compiled, file: &Path) -> Result<(), Invalid> {
    let location = CString::new(file.as_os_str().as_bytes())
        .map_err(|_| unreadable(file, &"its path holds a NUL byte"))?;
    init();
    let schema = schema.0.lock().unwrap_or_else(PoisonError::into_inner);
    let (code, reported) = collecting(|data| {
        // SAFETY: the schema pointer is alive (owned by `schema`, locked), `location` outlives
        // the call, the context is freed before returning, and `data` is the collector
        // `collect` expects, alive until `collecting` returns. The parser libxml2 makes for the
        // file reports to the thread's handler, which `collecting` has set.
        unsafe {
            let context = ffi::xmlSchemaNewValidCtxt(schema.0.as_ptr());
            if context.is_null() {
                return -1;
            }
            ffi::xmlSchemaSetValidStructuredErrors(context, Some(collect), data);
            let code = ffi::xmlSchemaValidateFile(context, location.as_ptr(), 0);
            ffi::xmlSchemaFreeValidCtxt(context);
            code
        }
    });
    let (reading, validity) = reported.split();
    if !reading.is_empty() {
        return Err(Invalid::NotXml {
            problems: reading.problems("libxml2 could not read the document"),
        });
    }
    outcome(code, validity)
}

/// Validates `doc` against `schema` with a validation context of its own.
fn validate(schema: &Compiled, doc: &Doc) -> Result<(), Invalid> {
    let schema = schema.0.lock().unwrap_or_else(PoisonError::into_inner);
    let (code, reported) = collecting(|data| {
        // SAFETY: the schema pointer is alive (owned by `schema`, locked), the document is
        // alive (owned by `doc`), the context is freed before returning, and `data` is the
        // collector `collect` expects, alive until `collecting` returns.
        unsafe {
            let context = ffi::xmlSchemaNewValidCtxt(schema.0.as_ptr());
            if context.is_null() {
                return -1;
            }
            ffi::xmlSchemaSetValidStructuredErrors(context, Some(collect), data);
            let code = ffi::xmlSchemaValidateDoc(context, doc.0.as_ptr());
            ffi::xmlSchemaFreeValidCtxt(context);
            code
        }
    });
    outcome(code, reported)
}

/// What libxml2's validation `code` and its problems mean.
fn outcome(code: c_int, reported: Collector) -> Result<(), Invalid> {
    match code {
        0 => Ok(()),
        code if code > 0 => Err(Invalid::DoesNotValidate {
            problems: reported.problems("the document does not validate"),
        }),
        code => Err(Invalid::DoesNotValidate {
            problems: reported.problems(&format!(
                "libxml2 could not validate (internal error {code}); try again, and report it \
                 if it persists"
            )),
        }),
    }
}

/// The document's root element, as quick-xml reads it (libxml2 has read it already).
#[derive(Debug)]
struct Root {
    namespace: Option<String>,
    local: String,
    line: u32,
}

impl Root {
    fn must_be_msghead(&self) -> Result<(), Invalid> {
        if self.namespace.as_deref() != Some(msghead::NAMESPACE) || self.local != "MsgHead" {
            return Err(self.unexpected(&format!("MsgHead in {}", msghead::NAMESPACE)));
        }
        Ok(())
    }

    fn unexpected(&self, expected: &str) -> Invalid {
        let namespace = match &self.namespace {
            Some(namespace) => format!("in {namespace}"),
            None => "in no namespace".to_string(),
        };
        Invalid::DoesNotValidate {
            problems: vec![Problem {
                line: self.line,
                message: hide_identity_numbers(&format!(
                    "the root element is {} {namespace}; expected {expected}",
                    self.local
                )),
            }],
        }
    }
}

/// Reads `input` up to its first start tag; `line_at` tells the line of a byte position.
fn root_of(input: impl BufRead, line_at: impl Fn(usize) -> u32) -> Result<Root, Invalid> {
    let mut reader = NsReader::from_reader(input);
    let mut buf = Vec::new();
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let line = || line_at(at);
        let not_xml = |reason: String| not_xml(line(), hide_identity_numbers(&reason));
        buf.clear();
        let (namespace, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| not_xml(e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let namespace = match namespace {
                    ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.0).into_owned()),
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(prefix) => {
                        return Err(not_xml(format!(
                            "the prefix {} is not declared",
                            String::from_utf8_lossy(&prefix)
                        )));
                    }
                };
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                return Ok(Root {
                    namespace,
                    local,
                    line: line(),
                });
            }
            Event::Eof => return Err(not_xml("the document has no element".to_string())),
            _ => {}
        }
    }
}

/// The line of byte `at` of `file`, counted by reading up to it: only ever for a position in
/// the prolog, before the root's start tag. 0 if the file cannot be read again.
fn line_in_file(file: &Path, at: usize) -> u32 {
    let Ok(input) = File::open(file) else {
        return 0;
    };
    let mut newlines = 0usize;
    let mut input = BufReader::new(input.take(u64::try_from(at).unwrap_or(u64::MAX)));
    loop {
        let consumed = match input.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(bytes) => {
                newlines += bytes.iter().filter(|&&b| b == b'\n').count();
                bytes.len()
            }
        };
        input.consume(consumed);
    }
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// The `targetNamespace` of the XSD at `file`, if it has one.
fn target_namespace(file: &Path) -> Result<Option<String>, SchemaError> {
    let not_xsd = |reason: String| SchemaError::NotXsd {
        file: file.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(file).map_err(|e| not_xsd(e.to_string()))?;
    let mut reader = NsReader::from_reader(bytes.as_slice());
    let mut buf = Vec::new();
    loop {
        let (namespace, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| not_xsd(format!("not well-formed XML: {e}")))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_schema = matches!(namespace, ResolveResult::Bound(ns) if ns.0 == XSD_NAMESPACE.as_bytes())
                    && e.local_name().as_ref() == b"schema";
                if !is_schema {
                    return Err(not_xsd(format!(
                        "its root is {}, not xs:schema",
                        String::from_utf8_lossy(e.name().as_ref())
                    )));
                }
                return match e
                    .try_get_attribute("targetNamespace")
                    .map_err(|e| not_xsd(e.to_string()))?
                {
                    Some(attribute) => Ok(Some(
                        attribute
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| not_xsd(e.to_string()))?
                            .into_owned(),
                    )),
                    None => Ok(None),
                };
            }
            Event::Eof => return Err(not_xsd("it has no element".to_string())),
            _ => {}
        }
        buf.clear();
    }
}

/// A schema of no namespace that brings MsgHead and one payload's schema together.
fn wrapper_xsd(namespace: Option<&str>, location: &str) -> String {
    use quick_xml::escape::escape;
    let payload = match namespace {
        Some(namespace) => format!(
            "<xs:import namespace=\"{}\" schemaLocation=\"{}\"/>",
            escape(namespace),
            escape(location)
        ),
        // A schema without namespace joins ours by inclusion.
        None => format!("<xs:include schemaLocation=\"{}\"/>", escape(location)),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <xs:schema xmlns:xs=\"{XSD_NAMESPACE}\">\n  \
         <xs:import namespace=\"{}\" schemaLocation=\"MsgHead-v1_2.xsd\"/>\n  \
         {payload}\n\
         </xs:schema>\n",
        msghead::NAMESPACE
    )
}

/// `file:///…` for an absolute path, every byte that URIs do not allow percent-encoded.
fn file_uri(path: &Path) -> Option<String> {
    let mut uri = String::from("file://");
    for byte in path.to_str()?.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(uri)
}

fn compile(path: &Path, dir: &Path, what: impl Fn() -> String) -> Result<Compiled, SchemaError> {
    let failed = |problems: Vec<String>| SchemaError::DoesNotCompile {
        what: what(),
        problems,
    };
    let location = path
        .to_str()
        .and_then(|p| CString::new(p).ok())
        .ok_or_else(|| failed(vec!["its path is not UTF-8 text".to_string()]))?;
    let (schema, reported) = collecting(|data| {
        // SAFETY: `location` outlives the parser context, which is freed before returning;
        // `data` is the collector `collect` expects, alive until `collecting` returns.
        unsafe {
            let context = ffi::xmlSchemaNewParserCtxt(location.as_ptr());
            if context.is_null() {
                return ptr::null_mut();
            }
            ffi::xmlSchemaSetParserStructuredErrors(context, Some(collect), data);
            let schema = ffi::xmlSchemaParse(context);
            ffi::xmlSchemaFreeParserCtxt(context);
            schema
        }
    });
    let schema = NonNull::new(schema).map(SchemaPtr);
    match schema {
        Some(schema) if reported.is_empty() => Ok(Compiled(Mutex::new(schema))),
        _ => Err(failed(reported.located(dir))),
    }
}

/// A compiled schema, used by one validation at a time.
struct Compiled(Mutex<SchemaPtr>);

struct SchemaPtr(NonNull<ffi::Schema>);

// SAFETY: a compiled schema is not tied to the thread that compiled it; every use goes
// through the Mutex in `Compiled`.
unsafe impl Send for SchemaPtr {}

impl Drop for SchemaPtr {
    fn drop(&mut self) {
        // SAFETY: the pointer came from xmlSchemaParse and is freed only here.
        unsafe { ffi::xmlSchemaFree(self.0.as_ptr()) }
    }
}

/// A parsed document, freed when dropped.
struct Doc(NonNull<ffi::XmlDoc>);

impl Drop for Doc {
    fn drop(&mut self) {
        // SAFETY: the pointer came from xmlReadMemory and is freed only here.
        unsafe { ffi::xmlFreeDoc(self.0.as_ptr()) }
    }
}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: called once, before any other libxml2 function of this process, as
        // libxml2 asks for threaded use. The loader refuses http:// and ftp:// for every
        // entity and schema import.
        unsafe {
            ffi::xmlInitParser();
            ffi::xmlSchemaInitTypes();
            ffi::xmlSetExternalEntityLoader(Some(ffi::xmlNoNetExternalEntityLoader));
        }
    });
}

/// What libxml2 reported during one call.
#[derive(Default)]
struct Collector {
    kept: Vec<Reported>,
    /// Problems not kept, reading (true) or validating (false).
    more: [usize; 2],
}

struct Reported {
    file: Option<String>,
    line: u32,
    message: String,
    /// From reading the document (the parser, namespaces, input), not from validating it:
    /// with both in one call, as in a stream, these make the document not XML.
    reading: bool,
}

impl Collector {
    fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The problems of reading, and those of validating.
    fn split(self) -> (Collector, Collector) {
        let (reading, validating) = self.kept.into_iter().partition(|r| r.reading);
        let [more_reading, more_validating] = self.more;
        (
            Collector {
                kept: reading,
                more: [more_reading, 0],
            },
            Collector {
                kept: validating,
                more: [0, more_validating],
            },
        )
    }

    fn more(&self) -> usize {
        self.more.iter().sum()
    }

    /// The problems for a document; `otherwise` when libxml2 gave no reason.
    fn problems(self, otherwise: &str) -> Vec<Problem> {
        let more = self.more();
        let mut problems: Vec<Problem> = self
            .kept
            .into_iter()
            .map(|r| Problem {
                line: r.line,
                message: r.message,
            })
            .collect();
        if problems.is_empty() {
            problems.push(Problem {
                line: 0,
                message: otherwise.to_string(),
            });
        }
        if more > 0 {
            problems.push(Problem {
                line: 0,
                message: format!("{more} more problems, not kept"),
            });
        }
        problems
    }

    /// The problems for a schema, each with its file: `file:line: message`.
    fn located(self, dir: &Path) -> Vec<String> {
        let more = self.more();
        let dir = dir.to_string_lossy();
        let mut located: Vec<String> = self
            .kept
            .into_iter()
            .map(|r| {
                let file = r.file.map(|file| {
                    let file = file.strip_prefix("file://").unwrap_or(&file);
                    match file.strip_prefix(dir.as_ref()) {
                        Some(built_in) => format!("(built in){built_in}"),
                        None => file.to_string(),
                    }
                });
                match (file, r.line) {
                    (Some(file), 0) => format!("{file}: {}", r.message),
                    (Some(file), line) => format!("{file}:{line}: {}", r.message),
                    (None, _) => r.message,
                }
            })
            .collect();
        if located.is_empty() {
            located.push("libxml2 gave no reason".to_string());
        }
        if more > 0 {
            located.push(format!("{more} more problems, not kept"));
        }
        located
    }
}

/// Runs `f` with libxml2's errors on this thread going to a fresh collector; `f` receives the
/// collector as the user data to give `xmlSchemaSet…StructuredErrors`.
fn collecting<R>(f: impl FnOnce(*mut c_void) -> R) -> (R, Collector) {
    /// Puts the thread's handler back even if `f` panics.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            // SAFETY: resets this thread's handler (libxml2 keeps it per thread).
            unsafe { ffi::xmlSetStructuredErrorFunc(ptr::null_mut(), None) }
        }
    }
    let mut collector = Collector::default();
    let data = (&raw mut collector).cast::<c_void>();
    // SAFETY: `data` points at `collector`, which outlives the handler: `Reset` removes it
    // before `collector` is touched again or moved.
    unsafe { ffi::xmlSetStructuredErrorFunc(data, Some(collect)) };
    let reset = Reset;
    let result = f(data);
    drop(reset);
    (result, collector)
}

/// libxml2's structured error handler: keeps errors (not warnings), masked.
unsafe extern "C" fn collect(data: *mut c_void, error: *const ffi::XmlError) {
    if data.is_null() || error.is_null() {
        return;
    }
    // SAFETY: `data` is the collector installed by `collecting` (the only user data this
    // handler is ever given), with no other reference to it alive during the libxml2 call;
    // `error` points at libxml2's error record, valid for the duration of the callback.
    let (collector, error) = unsafe { (&mut *data.cast::<Collector>(), &*error) };
    if error.level < ffi::XML_ERR_ERROR {
        return;
    }
    // Each kind kept on its own: a stream's one fatal parser error still counts after a
    // hundred validation errors.
    let reading = error.domain != ffi::XML_FROM_SCHEMASV;
    if collector
        .kept
        .iter()
        .filter(|r| r.reading == reading)
        .count()
        >= KEEP
    {
        collector.more[usize::from(!reading)] += 1;
        return;
    }
    // SAFETY: non-null strings in an error record are NUL-terminated C strings.
    let text = |p: *const c_char| (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) });
    let message = match text(error.message) {
        Some(message) => hide_identity_numbers(message.to_string_lossy().trim_end()),
        None => "libxml2 reported an error without a message".to_string(),
    };
    collector.kept.push(Reported {
        file: text(error.file).map(|f| f.to_string_lossy().into_owned()),
        line: u32::try_from(error.line).unwrap_or(0),
        message,
        reading,
    });
}

/// The part of libxml2 2.9's C interface used here (parser.h, xmlschemas.h, xmlerror.h,
/// xmlIO.h).
mod ffi {
    use std::ffi::{c_char, c_int, c_void};

    /// `xmlDoc`, only ever behind a pointer.
    #[repr(C)]
    pub struct XmlDoc {
        _opaque: [u8; 0],
    }

    #[repr(C)]
    pub struct Schema {
        _opaque: [u8; 0],
    }

    #[repr(C)]
    pub struct SchemaParserCtxt {
        _opaque: [u8; 0],
    }

    #[repr(C)]
    pub struct SchemaValidCtxt {
        _opaque: [u8; 0],
    }

    /// `xmlError`, as laid out in xmlerror.h; only read.
    #[repr(C)]
    pub struct XmlError {
        pub domain: c_int,
        pub code: c_int,
        pub message: *const c_char,
        /// `xmlErrorLevel`: 0 none, 1 warning, 2 error, 3 fatal.
        pub level: c_int,
        pub file: *const c_char,
        pub line: c_int,
        pub str1: *const c_char,
        pub str2: *const c_char,
        pub str3: *const c_char,
        pub int1: c_int,
        /// The column, when known.
        pub int2: c_int,
        pub ctxt: *mut c_void,
        pub node: *mut c_void,
    }

    pub const XML_ERR_ERROR: c_int = 2;
    /// `XML_FROM_SCHEMASV`: the error domain of the schema validator.
    pub const XML_FROM_SCHEMASV: c_int = 17;
    pub const XML_PARSE_NONET: c_int = 1 << 11;
    /// Line numbers past 65535 kept for validation errors.
    pub const XML_PARSE_BIG_LINES: c_int = 1 << 22;

    pub type StructuredErrorFunc = unsafe extern "C" fn(*mut c_void, *const XmlError);
    /// `xmlExternalEntityLoader`; the parser context and input are opaque here.
    pub type EntityLoader =
        unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void) -> *mut c_void;

    #[link(name = "xml2")]
    unsafe extern "C" {
        pub fn xmlInitParser();
        pub fn xmlSchemaInitTypes();
        pub fn xmlSetExternalEntityLoader(loader: Option<EntityLoader>);
        pub fn xmlNoNetExternalEntityLoader(
            url: *const c_char,
            id: *const c_char,
            context: *mut c_void,
        ) -> *mut c_void;
        pub fn xmlSetStructuredErrorFunc(data: *mut c_void, handler: Option<StructuredErrorFunc>);

        pub fn xmlReadMemory(
            buffer: *const c_char,
            size: c_int,
            url: *const c_char,
            encoding: *const c_char,
            options: c_int,
        ) -> *mut XmlDoc;
        pub fn xmlFreeDoc(doc: *mut XmlDoc);

        pub fn xmlSchemaNewParserCtxt(url: *const c_char) -> *mut SchemaParserCtxt;
        pub fn xmlSchemaSetParserStructuredErrors(
            context: *mut SchemaParserCtxt,
            handler: Option<StructuredErrorFunc>,
            data: *mut c_void,
        );
        pub fn xmlSchemaParse(context: *mut SchemaParserCtxt) -> *mut Schema;
        pub fn xmlSchemaFreeParserCtxt(context: *mut SchemaParserCtxt);
        pub fn xmlSchemaFree(schema: *mut Schema);

        pub fn xmlSchemaNewValidCtxt(schema: *mut Schema) -> *mut SchemaValidCtxt;
        pub fn xmlSchemaSetValidStructuredErrors(
            context: *mut SchemaValidCtxt,
            handler: Option<StructuredErrorFunc>,
            data: *mut c_void,
        );
        pub fn xmlSchemaValidateDoc(context: *mut SchemaValidCtxt, doc: *mut XmlDoc) -> c_int;
        /// Parses and validates in one stream; `options` is unused by libxml2 2.9.
        pub fn xmlSchemaValidateFile(
            context: *mut SchemaValidCtxt,
            filename: *const c_char,
            options: c_int,
        ) -> c_int;
        pub fn xmlSchemaFreeValidCtxt(context: *mut SchemaValidCtxt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_escape_what_uris_do_not_allow() {
        assert_eq!(
            file_uri(Path::new("/a b/ø-x_1.xsd")).unwrap(),
            "file:///a%20b/%C3%B8-x_1.xsd"
        );
    }

    #[test]
    fn codes_per_kind() {
        let problems = Vec::new();
        assert_eq!(
            Invalid::NotXml {
                problems: problems.clone()
            }
            .apprec_code(),
            "T01"
        );
        assert_eq!(Invalid::DoesNotValidate { problems }.apprec_code(), "T02");
        let unknown = Invalid::UnknownType {
            msg_type: "KPR_X".into(),
            known: vec!["KPR_IPL".into()],
        };
        assert_eq!(unknown.apprec_code(), "T10");
        assert!(unknown.to_string().contains("known: KPR_IPL"), "{unknown}");
    }

    #[test]
    fn display_shows_the_first_few_with_their_lines() {
        let problems = (1..=7)
            .map(|line| Problem {
                line,
                message: format!("fault {line}"),
            })
            .collect();
        let shown = Invalid::DoesNotValidate { problems }.to_string();
        assert!(
            shown.starts_with("does not validate against its schema: line 1: fault 1; line 2:"),
            "{shown}"
        );
        assert!(shown.ends_with("line 5: fault 5 (and 2 more)"), "{shown}");
    }
}
