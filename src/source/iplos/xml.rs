//! One file the EPJ wrote, opened for reading: the encoding its XML declaration names
//! (ISO-8859-1 and UTF-8 both occur), a DOCTYPE refused unread, a MsgHead envelope looked
//! through, and its elements handed out one by one with the line each starts on.
//!
//! The readers above see only the payload: [`XmlFile::open`] stops at its root, and
//! [`XmlFile::next_node`] says [`Node::Eof`] when that root has closed and the rest of the file
//! was well-formed.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;

use encoding_rs_io::DecodeReaderBytesBuilder;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use crate::redact::hide_identity_numbers;

/// The namespace of IPLOS data for a year: `http://www.npr.no/xmlstds/iplos/2025`.
pub const IPLOS_NAMESPACE_PREFIX: &str = "http://www.npr.no/xmlstds/iplos/";
/// XPR(ide) 53.1.3.
pub const IDE_NAMESPACE: &str = "http://www.npr.no/xmlstds/53_1_3_ide";
const MSGHEAD_NAMESPACE: &str = "http://www.kith.no/xmlstds/msghead/2006-05-24";

/// Which of the pair a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// IPLOS 3.7 (`KPR_IPL`).
    Fagmelding,
    /// XPR(ide) 53.1.3 (`KPR_IDE`).
    Identmelding,
}

impl Payload {
    pub fn as_str(self) -> &'static str {
        match self {
            Payload::Fagmelding => "fagmelding (IPLOS 3.7)",
            Payload::Identmelding => "identmelding (XPR(ide) 53.1.3)",
        }
    }
}

/// What [`XmlFile::next_node`] found; the element's name, attributes and text are read from the
/// file's accessors until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// An element opened (`empty`: it closes at once, and no `End` follows).
    Start { empty: bool },
    /// An element closed; [`XmlFile::text`] is its text when it holds no elements.
    End,
    /// The payload's root closed and the file ended well-formed.
    Eof,
}

/// Why a file cannot be read (from `line` on, when known). Never holds an identity number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlProblem {
    pub line: Option<u64>,
    pub what: String,
    pub fix: String,
}

impl XmlProblem {
    /// The same problem with anything like an identity number in its text masked.
    pub fn masked(self) -> XmlProblem {
        XmlProblem::new(self.line, self.what, self.fix)
    }

    fn new(line: Option<u64>, what: impl Into<String>, fix: impl Into<String>) -> XmlProblem {
        XmlProblem {
            line,
            what: hide_identity_numbers(&what.into()),
            fix: fix.into(),
        }
    }
}

pub struct XmlFile {
    reader: NsReader<BufReader<Box<dyn Read + Send>>>,
    buf: Vec<u8>,
    /// The line the current event starts on.
    line: u64,
    /// Lines counted so far (1-based: the line the reader is at).
    at_line: u64,
    /// Open elements below and including the payload's root.
    depth: usize,
    /// Open elements above the payload's root (the MsgHead's).
    outer: usize,
    /// The declared encoding, as read: `UTF-8` or `ISO-8859-1`.
    pub encoding: &'static str,
    pub payload: Payload,
    /// The root's namespace.
    pub namespace: String,
    name: String,
    text: String,
    attributes: String,
    spans: Vec<(Range<usize>, Range<usize>)>,
}

impl XmlFile {
    /// Opens `path` and reads up to the payload's root, whose attributes are then readable.
    pub fn open(path: &Path) -> Result<XmlFile, XmlProblem> {
        let file = File::open(path).map_err(|e| {
            XmlProblem::new(
                None,
                format!("cannot be opened: {e}"),
                "give kpr-bridge read access to the directory",
            )
        })?;
        let mut peek = BufReader::with_capacity(64 * 1024, file);
        let start = peek
            .fill_buf()
            .map_err(|e| XmlProblem::new(None, format!("cannot be read: {e}"), "check the disk"))?;
        let encoding = declared_encoding(start)?;
        let source: Box<dyn Read + Send> = match encoding {
            "UTF-8" => Box::new(peek),
            _ => Box::new(
                DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding_rs::WINDOWS_1252))
                    .build(peek),
            ),
        };
        let mut reader = NsReader::from_reader(BufReader::with_capacity(64 * 1024, source));
        reader.config_mut().check_end_names = true;
        let mut file = XmlFile {
            reader,
            buf: Vec::with_capacity(4096),
            line: 1,
            at_line: 1,
            depth: 0,
            outer: 0,
            encoding,
            payload: Payload::Fagmelding,
            namespace: String::new(),
            name: String::new(),
            text: String::new(),
            attributes: String::new(),
            spans: Vec::new(),
        };
        file.find_payload()?;
        Ok(file)
    }

    /// The line the current element starts on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The current element's local name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text of the element that just ended, trimmed.
    pub fn text(&self) -> &str {
        self.text.trim()
    }

    /// An attribute of the element that just started, unescaped and trimmed.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.spans
            .iter()
            .find(|(key, _)| &self.attributes[key.clone()] == name)
            .map(|(_, value)| self.attributes[value.clone()].trim())
    }

    /// Reads to the root of the payload: IPLOS or Melding, alone or inside a MsgHead.
    fn find_payload(&mut self) -> Result<(), XmlProblem> {
        loop {
            let (namespace, node) = self.event()?;
            match node {
                Some(Node::Start { empty }) => {
                    let payload = match (self.name.as_str(), namespace.as_str()) {
                        ("IPLOS", ns) if ns.starts_with(IPLOS_NAMESPACE_PREFIX) => {
                            Some(Payload::Fagmelding)
                        }
                        ("Melding", IDE_NAMESPACE) => Some(Payload::Identmelding),
                        _ => None,
                    };
                    if let Some(payload) = payload {
                        self.payload = payload;
                        self.namespace = namespace;
                        self.depth = usize::from(!empty);
                        return Ok(());
                    }
                    if self.outer == 0 && (self.name != "MsgHead" || namespace != MSGHEAD_NAMESPACE)
                    {
                        return Err(self.not_ours(&namespace));
                    }
                    if !empty {
                        self.outer += 1;
                    }
                }
                Some(Node::End) => {
                    self.outer = self.outer.saturating_sub(1);
                    if self.outer == 0 {
                        return Err(XmlProblem::new(
                            Some(self.line),
                            "is a MsgHead without an IPLOS 3.7 or XPR(ide) 53.1.3 payload in Document/RefDoc/Content",
                            "ask the EPJ to write the payload as XML (not base64), or the bare payload",
                        ));
                    }
                }
                Some(Node::Eof) => {
                    return Err(XmlProblem::new(
                        None,
                        "holds no XML element",
                        "the file is empty or not XML; ask the EPJ to write the IPLOS extract again",
                    ));
                }
                None => {}
            }
        }
    }

    /// The problem for a root that is neither ours nor a MsgHead: another version, or
    /// another format.
    fn not_ours(&self, namespace: &str) -> XmlProblem {
        let found = if namespace.is_empty() {
            format!("'{}' (no namespace)", self.name)
        } else {
            format!("'{}' in namespace {}", self.name, namespace)
        };
        XmlProblem::new(
            Some(self.line),
            format!(
                "is not an IPLOS 3.7 fagmelding or XPR(ide) 53.1.3 identmelding: its root is {found}"
            ),
            format!(
                "give the directory only the EPJ's IPLOS extract: IPLOS in {IPLOS_NAMESPACE_PREFIX}<year> and Melding in {IDE_NAMESPACE}"
            ),
        )
    }

    /// The next element of the payload.
    pub fn next_node(&mut self) -> Result<Node, XmlProblem> {
        loop {
            let (_, node) = self.event()?;
            match node {
                Some(Node::Start { empty }) => {
                    if !empty {
                        self.depth += 1;
                    }
                    return Ok(Node::Start { empty });
                }
                Some(Node::End) if self.depth > 0 => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.finish()?;
                    }
                    return Ok(Node::End);
                }
                Some(Node::Eof) => return Ok(Node::Eof),
                _ => {}
            }
        }
    }

    /// After the payload's root: the envelope's closing tags, then the end of the file.
    fn finish(&mut self) -> Result<(), XmlProblem> {
        while self.outer > 0 {
            match self.event()?.1 {
                Some(Node::Start { empty: false }) => self.outer += 1,
                Some(Node::End) => self.outer -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads one event; gives the namespace of a start tag and what it was.
    fn event(&mut self) -> Result<(String, Option<Node>), XmlProblem> {
        self.buf.clear();
        let line = self.at_line;
        let at_depth = self.depth + self.outer;
        let (resolved, event) = match self.reader.read_resolved_event_into(&mut self.buf) {
            Ok(read) => read,
            Err(e) => {
                return Err(XmlProblem::new(
                    Some(self.at_line),
                    format!("is not well-formed XML: {e}"),
                    "the file may be cut short or not yet fully written; ask the EPJ to write the extract again",
                ));
            }
        };
        let namespace = match (&event, resolved) {
            (Event::Start(_) | Event::Empty(_), ResolveResult::Bound(ns)) => {
                String::from_utf8_lossy(ns.0).into_owned()
            }
            _ => String::new(),
        };
        let newlines = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let node = match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                self.at_line += newlines(e);
                self.line = line;
                self.name.clear();
                self.name
                    .push_str(&String::from_utf8_lossy(e.local_name().into_inner()));
                self.text.clear();
                self.attributes.clear();
                self.spans.clear();
                for attribute in e.attributes() {
                    let attribute = attribute.map_err(|e| {
                        XmlProblem::new(
                            Some(line),
                            format!("has a malformed attribute: {e}"),
                            "ask the EPJ to write the extract again",
                        )
                    })?;
                    let key = String::from_utf8_lossy(attribute.key.local_name().into_inner());
                    let value = attribute
                        .normalized_value(XmlVersion::default())
                        .map_err(|e| {
                            XmlProblem::new(
                                Some(line),
                                format!("has an attribute value that cannot be read: {e}"),
                                "ask the EPJ to write the extract again",
                            )
                        })?;
                    let key_start = self.attributes.len();
                    self.attributes.push_str(&key);
                    let value_start = self.attributes.len();
                    self.attributes.push_str(&value);
                    self.spans
                        .push((key_start..value_start, value_start..self.attributes.len()));
                }
                Some(Node::Start {
                    empty: matches!(event, Event::Empty(_)),
                })
            }
            Event::End(ref e) => {
                self.at_line += newlines(e);
                self.line = line;
                self.name.clear();
                self.name
                    .push_str(&String::from_utf8_lossy(e.local_name().into_inner()));
                Some(Node::End)
            }
            Event::Text(ref t) => {
                self.at_line += newlines(t);
                let text = t.decode().map_err(|e| {
                    XmlProblem::new(
                        Some(line),
                        format!("holds text that is not in its declared encoding: {e}"),
                        "write the file in the encoding its XML declaration names",
                    )
                })?;
                self.text.push_str(&text);
                None
            }
            Event::CData(ref t) => {
                self.at_line += newlines(t);
                self.text.push_str(&String::from_utf8_lossy(t));
                None
            }
            Event::GeneralRef(ref r) => {
                let resolved = r.resolve_char_ref().ok().flatten();
                match resolved {
                    Some(c) => self.text.push(c),
                    None => {
                        let name = String::from_utf8_lossy(r).into_owned();
                        let value = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| {
                                XmlProblem::new(
                                    Some(line),
                                    format!("uses the entity &{name}; which XML does not define"),
                                    "write the character itself, or &amp; &lt; &gt; &quot; &apos;",
                                )
                            })?;
                        self.text.push_str(value);
                    }
                }
                None
            }
            Event::DocType(_) => {
                return Err(XmlProblem::new(
                    Some(line),
                    "has a DOCTYPE, which kpr-bridge refuses unread (entities could make it read other files or grow without end)",
                    "ask the EPJ to write the file without a DOCTYPE",
                ));
            }
            Event::Comment(ref t) => {
                self.at_line += newlines(t);
                None
            }
            Event::PI(ref t) => {
                self.at_line += newlines(t);
                None
            }
            Event::Decl(_) => None,
            Event::Eof => {
                if at_depth > 0 {
                    return Err(XmlProblem::new(
                        Some(self.at_line),
                        format!("ends before its elements are closed ({at_depth} still open)"),
                        "the file is cut short or still being written; kpr-bridge takes it once it is complete",
                    ));
                }
                Some(Node::Eof)
            }
        };
        Ok((namespace, node))
    }
}

/// The encoding the XML declaration names, checked against the file's first bytes:
/// `UTF-8` (also when undeclared, as XML says) or `ISO-8859-1` (read as Windows-1252, its
/// superset, as every EPJ on Windows writes it).
fn declared_encoding(start: &[u8]) -> Result<&'static str, XmlProblem> {
    if start.starts_with(&[0xFF, 0xFE]) || start.starts_with(&[0xFE, 0xFF]) {
        return Err(XmlProblem::new(
            Some(1),
            "is UTF-16, which kpr-bridge does not read",
            "ask the EPJ to write the extract in UTF-8 or ISO-8859-1",
        ));
    }
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    if !start.starts_with(b"<?xml") {
        return Ok("UTF-8");
    }
    let end = start.iter().position(|&b| b == b'>').unwrap_or(start.len());
    let declaration = String::from_utf8_lossy(&start[..end]).to_ascii_lowercase();
    let Some(at) = declaration.find("encoding") else {
        return Ok("UTF-8");
    };
    let value: String = declaration[at + "encoding".len()..]
        .trim_start()
        .trim_start_matches('=')
        .trim_start()
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| !matches!(c, '"' | '\''))
        .collect();
    match value.trim() {
        "utf-8" | "utf8" => Ok("UTF-8"),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "windows-1252" | "cp1252" => {
            Ok("ISO-8859-1")
        }
        other => Err(XmlProblem::new(
            Some(1),
            format!("declares the encoding '{other}', which kpr-bridge does not read"),
            "ask the EPJ to write the extract in UTF-8 or ISO-8859-1",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(text: &[u8]) -> Result<XmlFile, XmlProblem> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.xml");
        std::fs::write(&path, text).unwrap();
        XmlFile::open(&path)
    }

    #[test]
    fn the_declaration_names_the_encoding() {
        assert_eq!(declared_encoding(b"<IPLOS/>"), Ok("UTF-8"));
        assert_eq!(
            declared_encoding(b"<?xml version=\"1.0\" encoding='ISO-8859-1'?>"),
            Ok("ISO-8859-1")
        );
        assert_eq!(
            declared_encoding(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
            Ok("UTF-8")
        );
        assert!(declared_encoding(b"<?xml version=\"1.0\" encoding=\"EBCDIC\"?>").is_err());
        assert!(declared_encoding(b"\xFF\xFE<\x00").is_err());
    }

    #[test]
    fn latin1_text_is_read_as_what_it_says() {
        let mut file = open(
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<IPLOS xmlns=\"http://www.npr.no/xmlstds/iplos/2025\" versjon=\"3.7\">\n <Navn>\xC6rlig \xD8ye \xE5s</Navn>\n</IPLOS>\n",
        )
        .unwrap();
        assert_eq!(file.payload, Payload::Fagmelding);
        assert_eq!(file.next_node().unwrap(), Node::Start { empty: false });
        assert_eq!(file.line(), 3);
        assert_eq!(file.next_node().unwrap(), Node::End);
        assert_eq!(file.text(), "Ærlig Øye ås");
        assert_eq!(file.next_node().unwrap(), Node::End);
        assert_eq!(file.next_node().unwrap(), Node::Eof);
    }

    #[test]
    fn a_msghead_is_looked_through() {
        let mut file = open(
            br#"<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"><MsgInfo/><Document><RefDoc><Content>
<Melding xmlns="http://www.npr.no/xmlstds/53_1_3_ide" versjon="53.1.3" lopenr="7"><Institusjon/></Melding>
</Content></RefDoc></Document></MsgHead>"#,
        )
        .unwrap();
        assert_eq!(file.payload, Payload::Identmelding);
        assert_eq!(file.attribute("lopenr"), Some("7"));
        assert_eq!(file.next_node().unwrap(), Node::Start { empty: true });
        assert_eq!(file.next_node().unwrap(), Node::End);
        assert_eq!(file.next_node().unwrap(), Node::Eof);
    }

    #[test]
    fn bad_files_are_named() {
        let truncated =
            open(b"<IPLOS xmlns=\"http://www.npr.no/xmlstds/iplos/2025\"><PERSON pePeID=\"1\">")
                .map(|mut f| {
                    loop {
                        match f.next_node() {
                            Ok(Node::Eof) => break Ok(()),
                            Ok(_) => {}
                            Err(e) => break Err(e),
                        }
                    }
                });
        let problem = truncated.unwrap().unwrap_err();
        assert!(problem.what.contains("ends before"), "{problem:?}");
        let other = open(b"<IPLOS xmlns=\"http://www.npr.no/xmlstds/iplos37\"/>")
            .err()
            .unwrap();
        assert!(other.what.contains("its root is 'IPLOS'"), "{other:?}");
        let doctype = open(b"<!DOCTYPE x [<!ENTITY a \"b\">]><x/>").err().unwrap();
        assert!(doctype.what.contains("DOCTYPE"), "{doctype:?}");
        let empty = open(b"").err().unwrap();
        assert!(empty.what.contains("no XML element"), "{empty:?}");
    }
}
