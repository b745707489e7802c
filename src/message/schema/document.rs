//! A document read: the guard first (in memory, or over a file piece by piece), then libxml2's
//! parser into a tree, with no network, entities or DTD; and its root element, read with
//! quick-xml, which says what it must be validated as.

use std::ffi::{c_char, c_int};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::ptr::{self, NonNull};

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::collector::collecting;
use super::ffi::{self, init};
use super::invalid::{Invalid, Problem, not_xml, refused, unreadable};
use crate::message::{guard, msghead};
use crate::redact::hide_identity_numbers;

/// How much of a file the guard reads at a time.
const PIECE: usize = 64 * 1024;

/// The guard, then libxml2's parser; the document and its text without byte order mark.
pub(super) fn read(xml: &[u8]) -> Result<(Doc, &str), Invalid> {
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
pub(super) fn guard_file(file: &Path) -> Result<(), Invalid> {
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

/// A parsed document, freed when dropped.
pub(super) struct Doc(pub(super) NonNull<ffi::XmlDoc>);

impl Drop for Doc {
    fn drop(&mut self) {
        // SAFETY: the pointer came from xmlReadMemory and is freed only here.
        unsafe { ffi::xmlFreeDoc(self.0.as_ptr()) }
    }
}

/// The document's root element, as quick-xml reads it (libxml2 has read it already).
#[derive(Debug)]
pub(super) struct Root {
    pub(super) namespace: Option<String>,
    pub(super) local: String,
    line: u32,
}

impl Root {
    pub(super) fn must_be_msghead(&self) -> Result<(), Invalid> {
        if self.namespace.as_deref() != Some(msghead::NAMESPACE) || self.local != "MsgHead" {
            return Err(self.unexpected(&format!("MsgHead in {}", msghead::NAMESPACE)));
        }
        Ok(())
    }

    pub(super) fn unexpected(&self, expected: &str) -> Invalid {
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
pub(super) fn root_of(
    input: impl BufRead,
    line_at: impl Fn(usize) -> u32,
) -> Result<Root, Invalid> {
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
pub(super) fn line_in_file(file: &Path, at: usize) -> u32 {
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
