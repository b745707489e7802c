//! Writing the envelope around a payload: in memory ([`wrap`]) or from a file into a file
//! ([`wrap_file`]) for payloads too large to hold.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use quick_xml::NsReader;
use quick_xml::events::Event;

use super::payload::PayloadElement;
use super::{
    ENH, Envelope, HER, ID_TYPE_SYSTEM, MIG_VERSION, MsgHeadError, NAMESPACE, Party, gen_date,
};
use crate::message::out::Out;
use crate::redact::hide_identity_numbers;

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
pub(super) fn is_xml_char(c: char) -> bool {
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
