//! The KITH envelope around every message to KPR: MsgHead 1.2 ("Hodemelding").
//!
//! Addressing is service-based ("tjenestebasert adressering"): each party is an organisation
//! with its HER-id (and organisation number), and the service unit that handles the message is
//! a nested organisation with a HER-id of its own. The payload travels as XML in
//! `Document/RefDoc/Content`, a strict wildcard: the envelope validates only together with the
//! payload's schema ([`Schemas::validate_message`](super::schema::Schemas::validate_message)).
//!
//! [`wrap`] takes the payload in memory; [`wrap_file`] copies it from a file into the same
//! document, for payloads too large to hold (the annual message).

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, SubsecRound, TimeZone, Utc};
use chrono_tz::Europe::Oslo;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{PrefixDeclaration, ResolveResult};
use quick_xml::{NsReader, XmlVersion};
use thiserror::Error;

use super::guard;
use super::out::Out;
use crate::source::problem::{hide_identity_numbers, shown_value};

pub const NAMESPACE: &str = "http://www.kith.no/xmlstds/msghead/2006-05-24";
pub const MIG_VERSION: &str = "v1.2 2006-05-24";

/// Code system of identifier types for organisations (HER, ENH).
const ID_TYPE_SYSTEM: &str = "2.16.578.1.12.4.1.1.9051";
const HER: (&str, &str) = (
    "HER",
    "Identifikator fra Helsetjenesteenhetsregisteret (HER-id)",
);
const ENH: (&str, &str) = ("ENH", "Organisasjonsnummeret i Enhetsregisteret");

/// One end of a message: an organisation and, for service-based addressing, its unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub her_id: String,
    /// Organisation number (Enhetsregisteret).
    pub orgnr: Option<String>,
    pub unit: Option<Unit>,
}

/// FHI's HER-id (level 1): KPR's organisation in NHN's Adresseregister.
pub const FHI_HER_ID: &str = "85217";

/// The service unit (level 2) that handles the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    pub her_id: String,
}

impl Party {
    /// FHI (HER 85217, orgnr 983744516, "Folkehelseinstituttet") with the KPR unit: 122612
    /// "Kommunalt pasient- og brukerregister" for production, 171479 "KPR Validering" for
    /// validation.
    pub fn kpr(target: Target) -> Party {
        Party {
            name: "Folkehelseinstituttet".into(),
            her_id: FHI_HER_ID.into(),
            orgnr: Some("983744516".into()),
            unit: Some(Unit {
                name: target.unit_name().into(),
                her_id: target.her_id().into(),
            }),
        }
    }
}

/// Which of KPR's receiving units a message goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Production,
    /// KPR's validation service: checks a message and answers, stores nothing.
    Validation,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Production => "production",
            Target::Validation => "validation",
        }
    }

    /// The HER-id of KPR's unit for this target.
    pub fn her_id(self) -> &'static str {
        match self {
            Target::Production => "122612",
            Target::Validation => "171479",
        }
    }

    fn unit_name(self) -> &'static str {
        match self {
            Target::Production => "Kommunalt pasient- og brukerregister",
            Target::Validation => "KPR Validering",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("{} is not a KPR target — write production or validation", shown_value(.0))]
pub struct UnknownTarget(pub String);

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Target, UnknownTarget> {
        match s {
            "production" => Ok(Target::Production),
            "validation" => Ok(Target::Validation),
            _ => Err(UnknownTarget(s.to_string())),
        }
    }
}

/// What MsgInfo says about a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// `Type V`, such as `KPR_IPL`.
    pub msg_type: String,
    /// `Type DN`: the type in words.
    pub msg_type_text: String,
    /// A UUID, unique per message: receipts refer to it.
    pub msg_id: String,
    /// Written as local time in Europe/Oslo with its offset, to the second.
    pub generated: DateTime<Utc>,
    pub sender: Party,
    pub receiver: Party,
}

impl Envelope {
    /// A new message: a fresh UUID, generated now (to the second, as it is written).
    pub fn new(
        msg_type: impl Into<String>,
        msg_type_text: impl Into<String>,
        sender: Party,
        receiver: Party,
    ) -> Envelope {
        Envelope {
            msg_type: msg_type.into(),
            msg_type_text: msg_type_text.into(),
            msg_id: uuid::Uuid::new_v4().to_string(),
            generated: Utc::now().trunc_subsecs(0),
            sender,
            receiver,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MsgHeadError {
    /// The payload cannot go into an envelope.
    #[error("the payload {0}")]
    Payload(String),
    #[error(
        "the envelope's {field} holds the character U+{code:04X}, which XML cannot carry — \
         remove it"
    )]
    Character { field: String, code: u32 },
    /// Refused unread: not UTF-8, or a DOCTYPE.
    #[error("{0}")]
    Refused(String),
    #[error("is not well-formed XML at line {line}: {reason}")]
    NotXml { line: u32, reason: String },
    #[error("is not a MsgHead 1.2 message: its root is {0} — expected MsgHead in {NAMESPACE}")]
    NotMsgHead(String),
    #[error("lacks {0}")]
    Missing(String),
    #[error(
        "has GenDate {value} at line {line}, which is not a date and time such as \
         2025-03-01T10:00:00+01:00"
    )]
    GenDate { value: String, line: u32 },
    #[error("has {0} Document elements; a message to KPR carries exactly one")]
    Documents(usize),
    #[error(
        "carries PatientReport; a message to KPR carries its payload in Document/RefDoc/Content"
    )]
    PatientReport,
    #[error(
        "has {what} in Document/RefDoc/Content at line {line}; Content holds the payload's one \
         element and nothing else"
    )]
    Content { what: &'static str, line: u32 },
    /// A payload file that [`wrap_file`] cannot read or cannot copy unchanged.
    #[error("the payload file {} {reason}", file.display())]
    PayloadFile { file: PathBuf, reason: String },
    #[error("cannot write the message: {0}")]
    Output(String),
}

/// How much of a payload file's end [`wrap_file`] reads for its root's end tag.
const FILE_END: u64 = 64 * 1024;

/// Wraps a payload (an XML document; its XML declaration is dropped) into a MsgHead document,
/// UTF-8 with declaration.
pub fn wrap(envelope: &Envelope, payload: &[u8]) -> Result<Vec<u8>, MsgHeadError> {
    let payload = PayloadElement::of(payload)?;
    envelope.check_characters()?;
    let (mut xml, after) = halves(envelope);
    payload.write_to(&mut xml, &[]);
    xml.extend_from_slice(&after);
    Ok(xml)
}

/// [`wrap`] for a payload in a file, written to `out` as it is read, so that memory does not
/// grow with the payload: the same bytes as `wrap` writes for the same envelope and payload.
///
/// It copies the payload unchanged and reads only its start and end, so it takes what
/// kpr-bridge's own writers write and checks that cheaply: UTF-8 (a byte order mark is
/// dropped), an XML declaration or none, the root element declaring its default namespace
/// (else `wrap` would add `xmlns=""`), and after the root's end tag nothing but white space.
/// What lies between is not read here: validate the result
/// ([`Schemas::validate_message_file`](super::schema::Schemas::validate_message_file)).
pub fn wrap_file(
    envelope: &Envelope,
    payload: &Path,
    out: &mut impl Write,
) -> Result<(), MsgHeadError> {
    let fault = |reason: String| MsgHeadError::PayloadFile {
        file: payload.to_path_buf(),
        reason,
    };
    let unreadable = |e: io::Error| {
        fault(format!(
            "cannot be read: {e} — check that it exists and that kpr-bridge may read it"
        ))
    };
    let mut file = File::open(payload).map_err(unreadable)?;
    let (start, end) = root_span(&mut file).map_err(|e| match e {
        Span::Read(e) => unreadable(e),
        Span::Fault(reason) => fault(reason),
    })?;
    envelope.check_characters()?;
    let (head, tail) = halves(envelope);
    let written = |e: io::Error| MsgHeadError::Output(e.to_string());
    out.write_all(&head).map_err(written)?;
    file.seek(SeekFrom::Start(start)).map_err(unreadable)?;
    let copied = io::copy(&mut (&mut file).take(end - start), out).map_err(|e| {
        // `io::copy` does not say which side failed; reading a local file rarely does.
        MsgHeadError::Output(format!("while copying {}: {e}", payload.display()))
    })?;
    if copied != end - start {
        return Err(fault("became shorter while it was copied".into()));
    }
    out.write_all(&tail).map_err(written)
}

/// Why [`root_span`] failed.
enum Span {
    Read(io::Error),
    Fault(String),
}

impl From<io::Error> for Span {
    fn from(e: io::Error) -> Span {
        Span::Read(e)
    }
}

/// Where a payload file's root element is: from the `<` of its start tag to the `>` of its
/// end tag, read from the file's start up to the start tag and from its last bytes.
fn root_span(file: &mut File) -> Result<(u64, u64), Span> {
    let length = file.metadata()?.len();
    let mut bom = [0; 3];
    let read = file.read(&mut bom)?;
    let offset = if read == 3 && bom == *b"\xEF\xBB\xBF" {
        3
    } else {
        0
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = NsReader::from_reader(BufReader::new(&mut *file));
    let mut buf = Vec::new();
    let (start, name, empty_end) = loop {
        let before = reader.buffer_position();
        buf.clear();
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            Span::Fault(format!(
                "is not well-formed XML before its root element: {}",
                hide_identity_numbers(&e.to_string())
            ))
        })?;
        match event {
            Event::Decl(_) if before == 0 => {}
            Event::Text(ref t) if t.iter().all(u8::is_ascii_whitespace) => {}
            Event::Comment(_) | Event::PI(_) => {}
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if !e
                    .attributes()
                    .any(|a| a.is_ok_and(|a| a.key.as_ref() == b"xmlns"))
                {
                    return Err(Span::Fault(format!(
                        "has its root element {name} without a default namespace declaration \
                         (xmlns=\"…\"), and is copied into the envelope unchanged only with \
                         one — write the payload with its namespace declared on its root"
                    )));
                }
                let empty_end = matches!(event, Event::Empty(_)).then(|| reader.buffer_position());
                break (before, name, empty_end);
            }
            Event::Eof => return Err(Span::Fault("has no element".into())),
            _ => {
                return Err(Span::Fault(
                    "has something other than an XML declaration before its root element".into(),
                ));
            }
        }
    };
    let start_tag_end = offset + reader.buffer_position();
    let start = offset + start;
    drop(reader);
    // After the root's end, white space only: its end tag is where the trimmed file ends.
    let from = length.saturating_sub(FILE_END).max(start_tag_end);
    file.seek(SeekFrom::Start(from))?;
    let mut last = Vec::new();
    file.take(length - from).read_to_end(&mut last)?;
    let trimmed = last.trim_ascii_end();
    let end = from + u64::try_from(trimmed.len()).unwrap_or(u64::MAX);
    match empty_end {
        Some(empty_end) if offset + empty_end == end => Ok((start, end)),
        None if ends_with_end_tag(trimmed, name.as_bytes()) => Ok((start, end)),
        _ => Err(Span::Fault(format!(
            "does not end with the end of its root element {name} (and white space) — write \
             nothing after the root element"
        ))),
    }
}

/// Whether `bytes` ends with `</name>`, white space allowed before the `>`.
fn ends_with_end_tag(bytes: &[u8], name: &[u8]) -> bool {
    let Some(rest) = bytes.strip_suffix(b">") else {
        return false;
    };
    let rest = rest.trim_ascii_end();
    rest.strip_suffix(name)
        .is_some_and(|rest| rest.ends_with(b"</"))
}

/// The envelope before the payload (up to and with the line end after `<Content>`) and
/// after it (from the line end before `</Content>`).
fn halves(envelope: &Envelope) -> (Vec<u8>, Vec<u8>) {
    let generated = gen_date(envelope.generated);
    let mut out = Out::document(2);
    out.start("MsgHead", &[("xmlns", NAMESPACE)]);
    out.start("MsgInfo", &[]);
    out.empty(
        "Type",
        &[("V", &envelope.msg_type), ("DN", &envelope.msg_type_text)],
    );
    out.text("MIGversion", MIG_VERSION);
    out.text("GenDate", &generated);
    out.text("MsgId", &envelope.msg_id);
    out.start("Sender", &[]);
    write_party(&mut out, &envelope.sender);
    out.end("Sender");
    out.start("Receiver", &[]);
    write_party(&mut out, &envelope.receiver);
    out.end("Receiver");
    out.end("MsgInfo");
    out.start("Document", &[]);
    out.start("RefDoc", &[]);
    out.empty("IssueDate", &[("V", &generated)]);
    out.empty("MsgType", &[("V", "XML"), ("DN", "XML-instans")]);
    out.start("Content", &[]);
    out.raw().push(b'\n');
    // The writer's indentation is its own state, not the buffer's: the rest is written as if
    // the payload were still there.
    let before = std::mem::take(out.raw());
    out.end("Content");
    out.end("RefDoc");
    out.end("Document");
    out.end("MsgHead");
    (before, out.finish())
}

/// GenDate: local time in Europe/Oslo with its offset, to the second.
pub fn gen_date(generated: DateTime<Utc>) -> String {
    generated
        .with_timezone(&Oslo)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Reads the envelope fields and returns the payload's bytes: the single element inside
/// Content as a standalone document, with the namespace declarations in scope at Content that
/// it does not make itself added to its root.
pub fn read(xml: &[u8]) -> Result<(Envelope, Vec<u8>), MsgHeadError> {
    let text = guard::checked(xml).map_err(|refused| MsgHeadError::Refused(refused.to_string()))?;
    let mut reader = NsReader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut fields = Fields::default();
    let mut content = String::new();
    loop {
        // Lines are counted only for an error: counting per event would be quadratic.
        let at = reader.buffer_position();
        let not_xml = |reason: &dyn fmt::Display| MsgHeadError::NotXml {
            line: line_at(text, at),
            reason: hide_identity_numbers(&reason.to_string()),
        };
        let (namespace, event) = reader.read_resolved_event().map_err(|e| not_xml(&e))?;
        let ours = matches!(namespace, ResolveResult::Bound(ns) if ns.0 == NAMESPACE.as_bytes());
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.is_empty() && !(ours && local == "MsgHead") {
                    return Err(MsgHeadError::NotMsgHead(qualified(&local, &namespace)));
                }
                // Elements of other namespaces (a signature) are not the envelope's.
                path.push(if ours { local } else { String::new() });
                content.clear();
                fields.start(&path, e).map_err(|e| not_xml(&e))?;
                if path_is(&path, &["MsgHead", "Document", "RefDoc", "Content"]) {
                    if let Event::Start(_) = event {
                        fields.payload = extract_payload(&mut reader, text)?;
                    }
                    path.pop();
                } else if let Event::Empty(_) = event {
                    fields.end(&path, "", at);
                    path.pop();
                }
            }
            Event::Text(ref t) => content.push_str(&t.xml10_content().map_err(|e| not_xml(&e))?),
            Event::CData(ref t) => content.push_str(&t.xml10_content().map_err(|e| not_xml(&e))?),
            Event::GeneralRef(ref r) => match r.resolve_char_ref().map_err(|e| not_xml(&e))? {
                Some(c) => content.push(c),
                None => {
                    let name = r.decode().map_err(|e| not_xml(&e))?;
                    let value = resolve_predefined_entity(&name)
                        .ok_or_else(|| not_xml(&format!("&{name}; is not defined")))?;
                    content.push_str(value);
                }
            },
            Event::End(_) => {
                fields.end(&path, content.trim(), at);
                content.clear();
                path.pop();
            }
            Event::DocType(_) => return Err(not_xml(&"a DOCTYPE is not taken")),
            Event::Eof if !path.is_empty() => {
                return Err(not_xml(&"the document ends before its elements are closed"));
            }
            Event::Eof if fields.seen_root => break,
            Event::Eof => return Err(MsgHeadError::NotMsgHead("missing".into())),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    fields.finish(text)
}

/// Reads Content's events up to its end tag; its one element as a standalone document.
fn extract_payload(
    reader: &mut NsReader<&[u8]>,
    text: &str,
) -> Result<Option<Vec<u8>>, MsgHeadError> {
    // What the payload's names mean inside the envelope: the bindings in scope at Content.
    let in_scope: Vec<(Option<Vec<u8>>, Vec<u8>)> = reader
        .resolver()
        .bindings()
        .map(|(prefix, namespace)| (declared_prefix(prefix), namespace.0.to_vec()))
        .collect();
    let mut payload = None;
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let line = || guard::line_at(text.as_bytes(), start);
        let not_xml = |reason: &dyn fmt::Display| MsgHeadError::NotXml {
            line: line(),
            reason: hide_identity_numbers(&reason.to_string()),
        };
        let content = |what| MsgHeadError::Content { what, line: line() };
        let event = reader.read_event().map_err(|e| not_xml(&e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if payload.is_some() {
                    return Err(content("a second element"));
                }
                let mut own = Vec::new();
                for attribute in e.attributes() {
                    let attribute = attribute.map_err(|e| not_xml(&e))?;
                    if let Some(prefix) = attribute.key.as_namespace_binding() {
                        own.push(declared_prefix(prefix));
                    }
                }
                if let Event::Start(_) = event {
                    reader.read_to_end(e.name()).map_err(|e| not_xml(&e))?;
                }
                let element = PayloadElement {
                    text: &text[start..reader_position(reader)],
                    name_len: e.name().as_ref().len(),
                    undeclare_default: false,
                };
                let added: Vec<_> = in_scope
                    .iter()
                    .filter(|(prefix, _)| !own.contains(prefix))
                    .collect();
                let mut document = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".to_vec();
                element.write_to(&mut document, &added);
                document.push(b'\n');
                payload = Some(document);
            }
            Event::Text(ref t) if t.iter().all(u8::is_ascii_whitespace) => {}
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                return Err(content("text"));
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::End(_) => return Ok(payload),
            Event::Decl(_) | Event::DocType(_) => return Err(content("a declaration")),
            Event::Eof => return Err(not_xml(&"the document ends inside Content")),
        }
    }
}

fn declared_prefix(prefix: PrefixDeclaration) -> Option<Vec<u8>> {
    match prefix {
        PrefixDeclaration::Default => None,
        PrefixDeclaration::Named(prefix) => Some(prefix.to_vec()),
    }
}

/// A payload document's root element, as text.
struct PayloadElement<'a> {
    /// From `<` of the start tag to `>` of the end tag.
    text: &'a str,
    /// The length of the root's name in the start tag.
    name_len: usize,
    /// The payload uses names in no namespace, which inside the envelope would fall into
    /// MsgHead's default namespace unless `xmlns=""` keeps them out.
    undeclare_default: bool,
}

impl<'a> PayloadElement<'a> {
    /// The root element of a standalone payload document, checked to be well-formed.
    fn of(payload: &'a [u8]) -> Result<PayloadElement<'a>, MsgHeadError> {
        let text = guard::checked(payload)
            .map_err(|refused| MsgHeadError::Payload(refused.to_string()))?;
        let body = guard::without_declaration(text);
        let mut reader = NsReader::from_str(body);
        let mut depth = 0usize;
        let mut root: Option<PayloadElement> = None;
        let mut start = 0;
        let mut declares_default = false;
        let mut no_namespace = false;
        loop {
            let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let fault = |what: &dyn fmt::Display| {
                // Lines as the payload's author counts them: the declaration's included.
                let line = guard::line_at(text.as_bytes(), at + (text.len() - body.len()));
                MsgHeadError::Payload(format!(
                    "is not one well-formed XML element: line {line}: {}",
                    hide_identity_numbers(&what.to_string())
                ))
            };
            let (namespace, event) = reader.read_resolved_event().map_err(|e| fault(&e))?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if depth == 0 {
                        if root.is_some() {
                            return Err(fault(&"a second root element"));
                        }
                        start = at;
                        declares_default = e
                            .attributes()
                            .any(|a| a.is_ok_and(|a| a.key.as_ref() == b"xmlns"));
                    }
                    match namespace {
                        ResolveResult::Unbound => no_namespace = true,
                        ResolveResult::Unknown(prefix) => {
                            return Err(fault(&format!(
                                "the prefix {} is not declared",
                                String::from_utf8_lossy(&prefix)
                            )));
                        }
                        ResolveResult::Bound(_) => {}
                    }
                    if let Event::Start(_) = event {
                        depth += 1;
                    }
                    if depth == 0 {
                        root = Some(PayloadElement {
                            text: &body[start..reader_position(&reader)],
                            name_len: e.name().as_ref().len(),
                            undeclare_default: false,
                        });
                    }
                }
                Event::End(ref e) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        let name = e.name();
                        let name_len = name.as_ref().len();
                        root = Some(PayloadElement {
                            text: &body[start..reader_position(&reader)],
                            name_len,
                            undeclare_default: false,
                        });
                    }
                }
                Event::Text(ref t) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                    return Err(fault(&"text outside the root element"));
                }
                Event::CData(_) | Event::GeneralRef(_) if depth == 0 => {
                    return Err(fault(&"text outside the root element"));
                }
                Event::GeneralRef(ref r) => {
                    let name = r.decode().map_err(|e| fault(&e))?;
                    if r.resolve_char_ref().map_err(|e| fault(&e))?.is_none()
                        && resolve_predefined_entity(&name).is_none()
                    {
                        return Err(fault(&format!("&{name}; is not defined")));
                    }
                }
                Event::Decl(_) => return Err(fault(&"a second XML declaration")),
                Event::Eof if depth > 0 => {
                    return Err(fault(&"the document ends before its elements are closed"));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let mut root = root.ok_or_else(|| {
            MsgHeadError::Payload("has no element — give the payload document".into())
        })?;
        root.undeclare_default = no_namespace && !declares_default;
        Ok(root)
    }

    /// Writes the element with `declarations` (prefix, namespace as written) added to its
    /// start tag.
    fn write_to(&self, out: &mut Vec<u8>, declarations: &[&(Option<Vec<u8>>, Vec<u8>)]) {
        let (name, rest) = self.text.as_bytes().split_at(1 + self.name_len);
        out.extend_from_slice(name);
        if self.undeclare_default {
            out.extend_from_slice(b" xmlns=\"\"");
        }
        for (prefix, namespace) in declarations {
            out.extend_from_slice(b" xmlns");
            if let Some(prefix) = prefix {
                out.push(b':');
                out.extend_from_slice(prefix);
            }
            out.extend_from_slice(b"=\"");
            // As written in the source, already escaped; only a quote could end it early.
            for &byte in namespace {
                match byte {
                    b'"' => out.extend_from_slice(b"&quot;"),
                    byte => out.push(byte),
                }
            }
            out.push(b'"');
        }
        out.extend_from_slice(rest);
    }
}

fn reader_position(reader: &NsReader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

fn line_at(text: &str, position: u64) -> u32 {
    guard::line_at(
        text.as_bytes(),
        usize::try_from(position).unwrap_or(usize::MAX),
    )
}

fn qualified(local: &str, namespace: &ResolveResult) -> String {
    match namespace {
        ResolveResult::Bound(ns) => format!("{local} in {}", String::from_utf8_lossy(ns.0)),
        _ => format!("{local} in no namespace"),
    }
}

fn path_is(path: &[String], expected: &[&str]) -> bool {
    path.len() == expected.len() && path.iter().zip(expected).all(|(a, b)| a == b)
}

impl Envelope {
    /// Every text the envelope writes must be one XML can carry.
    fn check_characters(&self) -> Result<(), MsgHeadError> {
        let mut fields = vec![
            ("message type".to_string(), &self.msg_type),
            ("message type text".to_string(), &self.msg_type_text),
            ("message id".to_string(), &self.msg_id),
        ];
        for (side, party) in [("sender", &self.sender), ("receiver", &self.receiver)] {
            fields.push((format!("{side} name"), &party.name));
            fields.push((format!("{side} HER-id"), &party.her_id));
            if let Some(orgnr) = &party.orgnr {
                fields.push((format!("{side} organisation number"), orgnr));
            }
            if let Some(unit) = &party.unit {
                fields.push((format!("{side} unit name"), &unit.name));
                fields.push((format!("{side} unit HER-id"), &unit.her_id));
            }
        }
        for (field, value) in fields {
            if let Some(c) = value.chars().find(|&c| !is_xml_char(c)) {
                return Err(MsgHeadError::Character {
                    field,
                    code: u32::from(c),
                });
            }
        }
        Ok(())
    }
}

/// XML 1.0's `Char`: no control characters but tab and line ends, no U+FFFE or U+FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// `Organisation`: name, HER-id, organisation number, and the unit nested.
fn write_party(out: &mut Out, party: &Party) {
    out.start("Organisation", &[]);
    out.text("OrganisationName", &party.name);
    write_ident(out, &party.her_id, HER);
    if let Some(orgnr) = &party.orgnr {
        write_ident(out, orgnr, ENH);
    }
    if let Some(unit) = &party.unit {
        out.start("Organisation", &[]);
        out.text("OrganisationName", &unit.name);
        write_ident(out, &unit.her_id, HER);
        out.end("Organisation");
    }
    out.end("Organisation");
}

fn write_ident(out: &mut Out, id: &str, (kind, text): (&str, &str)) {
    out.start("Ident", &[]);
    out.text("Id", id);
    out.empty(
        "TypeId",
        &[("V", kind), ("S", ID_TYPE_SYSTEM), ("DN", text)],
    );
    out.end("Ident");
}

/// What has been read so far.
#[derive(Default)]
struct Fields {
    seen_root: bool,
    msg_type: Option<String>,
    msg_type_text: String,
    msg_id: Option<String>,
    /// The text and where it is.
    generated: Option<(String, u64)>,
    sender: PartyFields,
    receiver: PartyFields,
    documents: usize,
    patient_report: bool,
    payload: Option<Vec<u8>>,
}

#[derive(Default)]
struct PartyFields {
    organisation: OrganisationFields,
    unit: Option<OrganisationFields>,
}

#[derive(Default)]
struct OrganisationFields {
    name: Option<String>,
    /// (id, kind) per Ident.
    idents: Vec<(String, String)>,
}

impl Fields {
    fn start(&mut self, path: &[String], e: &BytesStart) -> Result<(), quick_xml::Error> {
        let attribute = |name: &str| -> Result<String, quick_xml::Error> {
            Ok(match e.try_get_attribute(name)? {
                Some(a) => a
                    .normalized_value(XmlVersion::Implicit1_0)?
                    .trim()
                    .to_string(),
                None => String::new(),
            })
        };
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        match path.as_slice() {
            ["MsgHead"] => self.seen_root = true,
            ["MsgHead", "MsgInfo", "Type"] => {
                self.msg_type = Some(attribute("V")?);
                self.msg_type_text = attribute("DN")?;
            }
            ["MsgHead", "Document"] => self.documents += 1,
            ["MsgHead", "PatientReport"] => self.patient_report = true,
            [
                "MsgHead",
                "MsgInfo",
                side @ ("Sender" | "Receiver"),
                "Organisation",
                rest @ ..,
            ] => {
                let party = self.party(side);
                match rest {
                    ["Organisation"] => party.unit = Some(OrganisationFields::default()),
                    ["Ident"] => party.organisation.idents.push(Default::default()),
                    ["Organisation", "Ident"] => {
                        if let Some(unit) = &mut party.unit {
                            unit.idents.push(Default::default());
                        }
                    }
                    ["Ident", "TypeId"] => {
                        if let Some(ident) = party.organisation.idents.last_mut() {
                            ident.1 = attribute("V")?;
                        }
                    }
                    ["Organisation", "Ident", "TypeId"] => {
                        if let Some(ident) = party.unit.as_mut().and_then(|u| u.idents.last_mut()) {
                            ident.1 = attribute("V")?;
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, path: &[String], text: &str, at: u64) {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        match path.as_slice() {
            ["MsgHead", "MsgInfo", "MsgId"] => self.msg_id = Some(text.to_string()),
            ["MsgHead", "MsgInfo", "GenDate"] => self.generated = Some((text.to_string(), at)),
            [
                "MsgHead",
                "MsgInfo",
                side @ ("Sender" | "Receiver"),
                "Organisation",
                rest @ ..,
            ] => {
                let party = self.party(side);
                match rest {
                    ["OrganisationName"] => party.organisation.name = Some(text.to_string()),
                    ["Ident", "Id"] => {
                        if let Some(ident) = party.organisation.idents.last_mut() {
                            ident.0 = text.to_string();
                        }
                    }
                    ["Organisation", "OrganisationName"] => {
                        if let Some(unit) = &mut party.unit {
                            unit.name = Some(text.to_string());
                        }
                    }
                    ["Organisation", "Ident", "Id"] => {
                        if let Some(ident) = party.unit.as_mut().and_then(|u| u.idents.last_mut()) {
                            ident.0 = text.to_string();
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn party(&mut self, side: &str) -> &mut PartyFields {
        if side == "Sender" {
            &mut self.sender
        } else {
            &mut self.receiver
        }
    }

    fn finish(self, xml: &str) -> Result<(Envelope, Vec<u8>), MsgHeadError> {
        let missing = |what: &str| MsgHeadError::Missing(what.to_string());
        if self.patient_report {
            return Err(MsgHeadError::PatientReport);
        }
        if self.documents != 1 {
            return Err(MsgHeadError::Documents(self.documents));
        }
        let msg_type = self
            .msg_type
            .filter(|t| !t.is_empty())
            .ok_or_else(|| missing("MsgInfo/Type with its code V"))?;
        let msg_id = self
            .msg_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| missing("MsgInfo/MsgId"))?;
        let (value, at) = self.generated.ok_or_else(|| missing("MsgInfo/GenDate"))?;
        let generated = parse_gen_date(&value).ok_or_else(|| MsgHeadError::GenDate {
            value: shown_value(&value),
            line: line_at(xml, at),
        })?;
        let sender = self.sender.finish("Sender")?;
        let receiver = self.receiver.finish("Receiver")?;
        let payload = self
            .payload
            .ok_or_else(|| missing("the payload: an element in Document/RefDoc/Content"))?;
        let envelope = Envelope {
            msg_type,
            msg_type_text: self.msg_type_text,
            msg_id,
            generated,
            sender,
            receiver,
        };
        Ok((envelope, payload))
    }
}

impl PartyFields {
    fn finish(self, side: &str) -> Result<Party, MsgHeadError> {
        let at = format!("MsgInfo/{side}/Organisation");
        let organisation = self.organisation;
        let unit = match self.unit {
            Some(unit) => Some(Unit {
                name: unit.name(&format!("{at}/Organisation"))?,
                her_id: unit.id("HER", &format!("{at}/Organisation"))?,
            }),
            None => None,
        };
        Ok(Party {
            name: organisation.name(&at)?,
            her_id: organisation.id("HER", &at)?,
            orgnr: organisation.id("ENH", &at).ok(),
            unit,
        })
    }
}

impl OrganisationFields {
    fn name(&self, at: &str) -> Result<String, MsgHeadError> {
        self.name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| MsgHeadError::Missing(format!("{at}/OrganisationName")))
    }

    fn id(&self, kind: &str, at: &str) -> Result<String, MsgHeadError> {
        self.idents
            .iter()
            .find(|(id, k)| k == kind && !id.is_empty())
            .map(|(id, _)| id.clone())
            .ok_or_else(|| {
                MsgHeadError::Missing(format!("{at}/Ident with TypeId V=\"{kind}\" and its Id"))
            })
    }
}

/// xs:dateTime; without an offset it is the sender's local time, Europe/Oslo.
fn parse_gen_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.to_utc());
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Oslo.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.to_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn targets_by_name_and_their_units() {
        for target in [Target::Production, Target::Validation] {
            assert_eq!(target.as_str().parse::<Target>(), Ok(target));
            assert_eq!(target.to_string(), target.as_str());
        }
        let wrong = "prod".parse::<Target>().unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "'prod' is not a KPR target — write production or validation"
        );
        assert_eq!(Target::Production.her_id(), "122612");
        assert_eq!(Target::Validation.her_id(), "171479");
    }

    #[test]
    fn kpr_is_fhi_with_the_unit_of_the_target() {
        let production = Party::kpr(Target::Production);
        assert_eq!(production.name, "Folkehelseinstituttet");
        assert_eq!(production.her_id, "85217");
        assert_eq!(production.orgnr.as_deref(), Some("983744516"));
        assert_eq!(
            production.unit,
            Some(Unit {
                name: "Kommunalt pasient- og brukerregister".into(),
                her_id: "122612".into()
            })
        );
        let validation = Party::kpr(Target::Validation).unit.unwrap();
        assert_eq!(
            (validation.name.as_str(), validation.her_id.as_str()),
            ("KPR Validering", "171479")
        );
    }

    #[test]
    fn gen_date_is_oslo_time_with_its_offset() {
        let utc = |y, m, d, h| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, 30, 5)
                .unwrap()
                .and_utc()
        };
        assert_eq!(gen_date(utc(2025, 1, 15, 9)), "2025-01-15T10:30:05+01:00");
        assert_eq!(gen_date(utc(2025, 7, 1, 22)), "2025-07-02T00:30:05+02:00");
        let with_nanos = utc(2025, 1, 15, 9) + chrono::Duration::nanoseconds(123);
        assert_eq!(gen_date(with_nanos), "2025-01-15T10:30:05+01:00");
    }

    #[test]
    fn gen_date_is_read_with_or_without_offset() {
        let expected = NaiveDate::from_ymd_opt(2025, 1, 15)
            .unwrap()
            .and_hms_opt(9, 30, 5)
            .unwrap()
            .and_utc();
        for value in [
            "2025-01-15T10:30:05+01:00",
            "2025-01-15T09:30:05Z",
            "2025-01-15T10:30:05",
        ] {
            assert_eq!(parse_gen_date(value), Some(expected), "{value}");
        }
        assert_eq!(parse_gen_date("15.01.2025"), None);
    }

    #[test]
    fn control_characters_are_not_written() {
        assert!(is_xml_char('å') && is_xml_char('\n') && is_xml_char('\u{10FFFF}'));
        assert!(!is_xml_char('\u{1}') && !is_xml_char('\u{FFFE}'));
    }
}
