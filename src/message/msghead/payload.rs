//! The payload inside `RefDoc/Content`: its root element, with the namespaces declared above
//! it carried down, so that the payload moves between its own document and the envelope
//! unchanged. Shared by the writing and the reading of the envelope.

use std::fmt;

use quick_xml::NsReader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::name::{PrefixDeclaration, ResolveResult};

use super::MsgHeadError;
use crate::message::guard;
use crate::redact::hide_identity_numbers;

pub(super) fn declared_prefix(prefix: PrefixDeclaration) -> Option<Vec<u8>> {
    match prefix {
        PrefixDeclaration::Default => None,
        PrefixDeclaration::Named(prefix) => Some(prefix.to_vec()),
    }
}

/// A payload document's root element, as text.
pub(super) struct PayloadElement<'a> {
    /// From `<` of the start tag to `>` of the end tag.
    pub(super) text: &'a str,
    /// The length of the root's name in the start tag.
    pub(super) name_len: usize,
    /// The payload uses names in no namespace, which inside the envelope would fall into
    /// MsgHead's default namespace unless `xmlns=""` keeps them out.
    pub(super) undeclare_default: bool,
}

impl<'a> PayloadElement<'a> {
    /// The root element of a standalone payload document, checked to be well-formed.
    pub(super) fn of(payload: &'a [u8]) -> Result<PayloadElement<'a>, MsgHeadError> {
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
    pub(super) fn write_to(&self, out: &mut Vec<u8>, declarations: &[&(Option<Vec<u8>>, Vec<u8>)]) {
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

pub(super) fn reader_position(reader: &NsReader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}
