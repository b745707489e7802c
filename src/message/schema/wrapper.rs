//! The wrapper XSD that joins MsgHead 1.2 and one payload's schema, so that a whole message
//! validates through `Content`'s strict wildcard; and what it needs of the payload's schema:
//! its target namespace and its location as a `file://` URI.

use std::path::Path;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::SchemaError;
use crate::message::msghead;

const XSD_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema";

/// The `targetNamespace` of the XSD at `file`, if it has one.
pub(super) fn target_namespace(file: &Path) -> Result<Option<String>, SchemaError> {
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
pub(super) fn wrapper_xsd(namespace: Option<&str>, location: &str) -> String {
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
pub(super) fn file_uri(path: &Path) -> Option<String> {
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
}
