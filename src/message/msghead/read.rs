//! Reading an envelope back: its fields checked as they come, and the payload cut out of
//! `RefDoc/Content` as it was written (receipts, our own spool, the test receiver).

use std::fmt;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Oslo;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::payload::{PayloadElement, declared_prefix, reader_position};
use super::{Envelope, MsgHeadError, NAMESPACE, Party, Unit};
use crate::message::guard;
use crate::redact::{hide_identity_numbers, shown_value};

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
pub(super) fn parse_gen_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.to_utc());
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Oslo.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.to_utc())
}
