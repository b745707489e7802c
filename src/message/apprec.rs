//! KITH application receipts (AppRec 1.0 and 1.1): what KPR answers to each shipment.
//!
//! Read with quick-xml's namespace-aware reader, because serde would ignore namespaces and
//! take any `<AppRec>` for one. Real receipts have quirks — `TypeId V=" HER"` — so codes are
//! trimmed. A receipt is small: anything larger than [`MAX_BYTES`], or with a DOCTYPE (the
//! door to entity bombs), is refused before it is read.
//!
//! [`write()`] writes one, for the tests and any stand-in for the register: what KPR would
//! answer, valid against the KITH schema, and read back by [`parse`] as it was.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};
use thiserror::Error;

use super::out::Out;

pub const NAMESPACE_V1_0: &str = "http://www.kith.no/xmlstds/apprec/2004-11-21";
pub const NAMESPACE_V1_1: &str = "http://www.kith.no/xmlstds/apprec/2012-02-15";

/// Code system 8221, of a receipt's errors. (The status's, 8258, is not written: `Status` is
/// a code without `S`.)
pub const ERROR_SYSTEM: &str = "2.16.578.1.12.4.1.1.8221";

/// Real receipts are a few KiB; this leaves room for many errors and nothing more.
pub const MAX_BYTES: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1_0,
    V1_1,
}

/// Status of the original message at the receiver (code system 8258).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 1: OK.
    Ok,
    /// 2: Avvist — rejected as a whole.
    Rejected,
    /// 3: OK, feil i delmelding — accepted, with errors in some parts.
    OkWithErrors,
}

impl Status {
    /// Its code and its meaning in code system 8258.
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            Status::Ok => ("1", "OK"),
            Status::Rejected => ("2", "Avvist"),
            Status::OkWithErrors => ("3", "OK, feil i delmelding"),
        }
    }

    /// Whether the register took the message (status 1 or 3).
    pub fn is_delivered(self) -> bool {
        matches!(self, Status::Ok | Status::OkWithErrors)
    }
}

/// One `Error` of a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptError {
    /// `V`: the code, such as `T02` or `E21`.
    pub code: String,
    /// `DN`: its meaning in words.
    pub text: String,
    /// `S`: the code system's OID.
    pub system: String,
    /// `OT`: which part of the message, or free text.
    pub part: String,
}

/// An identifier of the receipt's sender: an id and its kind (`HER`, `ENH`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyId {
    pub id: String,
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRec {
    pub version: Version,
    /// The receipt's own id.
    pub id: String,
    pub generated: String,
    pub status: Status,
    pub errors: Vec<ReceiptError>,
    /// The MsgId of the shipment this receipt answers.
    pub original_msg_id: String,
    /// Its message type, such as `KPR_IPL`.
    pub original_type: String,
    /// When it was issued (`OriginalMsgId/IssueDate`), as written.
    pub original_issued: String,
    /// The sender's ids, outermost first (organisation, then its units).
    pub sender: Vec<PartyId>,
    /// The receiver's ids, in the same order.
    pub receiver: Vec<PartyId>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AppRecError {
    #[error("is {0} bytes; an AppRec is at most {MAX_BYTES} bytes — not a receipt")]
    TooLarge(usize),
    #[error("has a DOCTYPE, which an AppRec never has — refused unread (entity expansion)")]
    DocType,
    #[error("is not well-formed XML at byte {position}: {reason}")]
    NotXml { position: u64, reason: String },
    #[error("is not an AppRec: its root is {0}")]
    NotAppRec(String),
    #[error("lacks {0}")]
    Missing(&'static str),
    #[error("has status '{0}', which is not 1 (OK), 2 (Avvist) or 3 (OK, feil i delmelding)")]
    UnknownStatus(String),
}

/// Parses a receipt, already decrypted and verified.
pub fn parse(xml: &[u8]) -> Result<AppRec, AppRecError> {
    if xml.len() > MAX_BYTES {
        return Err(AppRecError::TooLarge(xml.len()));
    }
    let mut reader = NsReader::from_reader(xml);
    let mut parsed = Parsed::default();
    let mut path: Vec<String> = Vec::new();
    let mut version = None;
    let mut buf = Vec::new();
    // An element's text, gathered across the events quick-xml splits it into at `&amp;`.
    let mut content = String::new();
    loop {
        let position = reader.buffer_position();
        let not_xml = |e: &dyn std::fmt::Display| AppRecError::NotXml {
            position,
            reason: e.to_string(),
        };
        let (namespace, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| not_xml(&e))?;
        let namespace = match namespace {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_vec()),
            _ => None,
        };
        match event {
            Event::DocType(_) => return Err(AppRecError::DocType),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.is_empty() {
                    version = Some(root_version(&name, namespace.as_deref())?);
                }
                // Elements of other namespaces (extensions) are not the receipt's.
                let ours = namespace.as_deref()
                    == Some(match version {
                        Some(Version::V1_1) => NAMESPACE_V1_1.as_bytes(),
                        _ => NAMESPACE_V1_0.as_bytes(),
                    });
                path.push(if ours { name } else { String::new() });
                content.clear();
                parsed.element(&path, e).map_err(|e| not_xml(&e))?;
                if matches!(event, Event::Empty(_)) {
                    path.pop();
                }
            }
            Event::Text(ref text) => {
                content.push_str(&text.decode().map_err(|e| not_xml(&e))?);
            }
            Event::GeneralRef(ref reference) => {
                match reference.resolve_char_ref().map_err(|e| not_xml(&e))? {
                    Some(c) => content.push(c),
                    None => {
                        let name = reference.decode().map_err(|e| not_xml(&e))?;
                        let value = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| not_xml(&format!("&{name}; is not defined")))?;
                        content.push_str(value);
                    }
                }
            }
            Event::End(_) => {
                if !content.trim().is_empty() {
                    parsed.text(&path, content.trim());
                }
                content.clear();
                path.pop();
            }
            Event::Eof if !path.is_empty() => {
                return Err(not_xml(&"the document ends before its elements are closed"));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let version = version.ok_or(AppRecError::NotAppRec("missing".into()))?;
    parsed.finish(version)
}

/// Writes a receipt as AppRec of its version (1.0 or 1.1, by namespace and MIGversion).
///
/// The parties' ids go in `Inst` (the first) and `Dept` (the rest), without names, which the
/// schema leaves optional; empty attributes are left out. `generated` and `original_issued`
/// are written as they are, so they must be xs:dateTime for the receipt to validate.
pub fn write(receipt: &AppRec) -> Vec<u8> {
    // MIGversion as each schema has it by default.
    let (namespace, mig_version) = match receipt.version {
        Version::V1_0 => (NAMESPACE_V1_0, "1.0 2004-11-21"),
        Version::V1_1 => (NAMESPACE_V1_1, "v1.1 2012-02-15"),
    };
    let mut out = Out::document(4);
    out.start("AppRec", &[("xmlns", namespace)]);
    out.empty(
        "MsgType",
        &[("V", "APPREC"), ("DN", "Applikasjonskvittering")],
    );
    out.text("MIGversion", mig_version);
    out.text("GenDate", &receipt.generated);
    out.text("Id", &receipt.id);
    for (side, ids) in [("Sender", &receipt.sender), ("Receiver", &receipt.receiver)] {
        out.start(side, &[]);
        out.start("HCP", &[]);
        write_inst(&mut out, ids);
        out.end("HCP");
        out.end(side);
    }
    let (code, meaning) = receipt.status.code();
    out.empty("Status", &[("V", code), ("DN", meaning)]);
    for error in &receipt.errors {
        out.empty(
            "Error",
            &present(&[
                ("V", &error.code),
                ("S", &error.system),
                ("DN", &error.text),
                ("OT", &error.part),
            ]),
        );
    }
    out.start("OriginalMsgId", &[]);
    out.empty("MsgType", &present(&[("V", &receipt.original_type)]));
    out.text("IssueDate", &receipt.original_issued);
    out.text("Id", &receipt.original_msg_id);
    out.end("OriginalMsgId");
    out.end("AppRec");
    out.finish()
}

/// `Inst` with the first id, each further id a `Dept` of it.
fn write_inst(out: &mut Out, ids: &[PartyId]) {
    let Some((inst, depts)) = ids.split_first() else {
        out.empty("Inst", &[]);
        return;
    };
    out.start("Inst", &[]);
    write_id(out, inst);
    for dept in depts {
        out.start("Dept", &[]);
        write_id(out, dept);
        out.end("Dept");
    }
    out.end("Inst");
}

fn write_id(out: &mut Out, id: &PartyId) {
    out.text("Id", &id.id);
    let meaning = match id.kind.as_str() {
        "HER" => "HER-id",
        "ENH" => "Organisasjonsnummeret i Enhetsregisteret",
        _ => "",
    };
    out.empty("TypeId", &present(&[("V", &id.kind), ("DN", meaning)]));
}

/// The attributes that have a value.
fn present<'a>(attributes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    attributes
        .iter()
        .copied()
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

fn root_version(name: &str, namespace: Option<&[u8]>) -> Result<Version, AppRecError> {
    match (name, namespace) {
        ("AppRec", Some(ns)) if ns == NAMESPACE_V1_0.as_bytes() => Ok(Version::V1_0),
        ("AppRec", Some(ns)) if ns == NAMESPACE_V1_1.as_bytes() => Ok(Version::V1_1),
        _ => Err(AppRecError::NotAppRec(format!(
            "{name} in namespace {}",
            namespace.map_or_else(
                || "none".into(),
                |n| String::from_utf8_lossy(n).into_owned()
            )
        ))),
    }
}

/// What has been read so far.
#[derive(Default)]
struct Parsed {
    id: Option<String>,
    generated: Option<String>,
    status: Option<String>,
    errors: Vec<ReceiptError>,
    original_msg_id: Option<String>,
    original_type: Option<String>,
    original_issued: Option<String>,
    sender: Vec<PartyId>,
    receiver: Vec<PartyId>,
}

impl Parsed {
    fn element(&mut self, path: &[String], e: &BytesStart) -> Result<(), quick_xml::Error> {
        let attribute = |name: &str| -> Result<String, quick_xml::Error> {
            Ok(match e.try_get_attribute(name)? {
                Some(a) => a
                    .normalized_value(XmlVersion::Implicit1_0)?
                    .trim()
                    .to_string(),
                None => String::new(),
            })
        };
        match path_of(path).as_slice() {
            ["AppRec", "Status"] => self.status = Some(attribute("V")?),
            ["AppRec", "Error"] => self.errors.push(ReceiptError {
                code: attribute("V")?,
                text: attribute("DN")?,
                system: attribute("S")?,
                part: attribute("OT")?,
            }),
            ["AppRec", "OriginalMsgId", "MsgType"] => self.original_type = Some(attribute("V")?),
            ["AppRec", side @ ("Sender" | "Receiver"), .., "TypeId"] => {
                if let Some(last) = self.party(side).last_mut().filter(|p| p.kind.is_empty()) {
                    last.kind = attribute("V")?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn text(&mut self, path: &[String], text: &str) {
        match path_of(path).as_slice() {
            ["AppRec", "Id"] => self.id = Some(text.to_string()),
            ["AppRec", "GenDate"] => self.generated = Some(text.to_string()),
            ["AppRec", "OriginalMsgId", "Id"] => self.original_msg_id = Some(text.to_string()),
            ["AppRec", "OriginalMsgId", "IssueDate"] => {
                self.original_issued = Some(text.to_string());
            }
            ["AppRec", side @ ("Sender" | "Receiver"), .., "Id"] => {
                self.party(side).push(PartyId {
                    id: text.to_string(),
                    kind: String::new(),
                });
            }
            _ => {}
        }
    }

    fn party(&mut self, side: &str) -> &mut Vec<PartyId> {
        if side == "Sender" {
            &mut self.sender
        } else {
            &mut self.receiver
        }
    }

    fn finish(self, version: Version) -> Result<AppRec, AppRecError> {
        let status = self.status.ok_or(AppRecError::Missing("Status"))?;
        let status = match status.as_str() {
            "1" => Status::Ok,
            "2" => Status::Rejected,
            "3" => Status::OkWithErrors,
            _ => return Err(AppRecError::UnknownStatus(status)),
        };
        Ok(AppRec {
            version,
            id: self.id.ok_or(AppRecError::Missing("Id"))?,
            generated: self.generated.unwrap_or_default(),
            status,
            errors: self.errors,
            original_msg_id: self
                .original_msg_id
                .filter(|id| !id.is_empty())
                .ok_or(AppRecError::Missing("OriginalMsgId/Id"))?,
            original_type: self.original_type.unwrap_or_default(),
            original_issued: self.original_issued.unwrap_or_default(),
            sender: self.sender,
            receiver: self.receiver,
        })
    }
}

fn path_of(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}
