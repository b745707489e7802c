//! What every XML document passes before a parser reads it: UTF-8 text, no NUL, no other
//! declared encoding, no DOCTYPE.
//!
//! Messages to and from KPR are UTF-8. Settling that first means no parser switches to another
//! encoding on a declaration's word, so a DOCTYPE — the door to entity expansion (the "billion
//! laughs") and to external entities — can only be spelled `<!DOCTYPE`, and a plain search finds
//! it before a parser sees a byte.

use std::fmt;

use crate::source::problem::shown_value;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a document was refused unread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    NotUtf8 { line: u32 },
    Nul { line: u32 },
    Encoding(String),
    DocType { line: u32 },
}

impl Refused {
    /// The line the problem is on; 1 for the declaration.
    pub(crate) fn line(&self) -> u32 {
        match self {
            Refused::NotUtf8 { line } | Refused::Nul { line } | Refused::DocType { line } => *line,
            Refused::Encoding(_) => 1,
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::NotUtf8 { line } => write!(
                f,
                "is not UTF-8 (line {line}) — messages are UTF-8; save the document as UTF-8"
            ),
            Refused::Nul { line } => write!(
                f,
                "holds a NUL character at line {line}, which XML cannot — is it UTF-16 or binary? \
                 Save it as UTF-8"
            ),
            Refused::Encoding(encoding) => write!(
                f,
                "declares encoding {}, and only UTF-8 is taken — convert it to UTF-8 and declare \
                 encoding=\"UTF-8\"",
                shown_value(encoding)
            ),
            Refused::DocType { line } => write!(
                f,
                "has a DOCTYPE at line {line}, which these messages never have — refused unread \
                 (entity expansion)"
            ),
        }
    }
}

/// `xml` as text without its byte order mark, once it has passed the checks.
pub(crate) fn checked(xml: &[u8]) -> Result<&str, Refused> {
    let bytes = xml.strip_prefix(BOM).unwrap_or(xml);
    let text = std::str::from_utf8(bytes).map_err(|e| Refused::NotUtf8 {
        line: line_at(bytes, e.valid_up_to()),
    })?;
    // UTF-16 or UCS-4 without a byte order mark reads as UTF-8 with NULs in it.
    if let Some(at) = text.find('\0') {
        return Err(Refused::Nul {
            line: line_at(bytes, at),
        });
    }
    if let Some(encoding) = declared_encoding(text) {
        if !encoding.eq_ignore_ascii_case("UTF-8") {
            return Err(Refused::Encoding(encoding.to_string()));
        }
    }
    if let Some(at) = text.find("<!DOCTYPE") {
        return Err(Refused::DocType {
            line: line_at(bytes, at),
        });
    }
    Ok(text)
}

/// The text after the XML declaration, if `text` starts with one.
pub(crate) fn without_declaration(text: &str) -> &str {
    match declaration(text) {
        Some(declaration) => &text[declaration.len()..],
        None => text,
    }
}

/// The 1-based line that byte `at` of `bytes` is on.
pub(crate) fn line_at(bytes: &[u8], at: usize) -> u32 {
    let before = &bytes[..at.min(bytes.len())];
    let newlines = before.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// `<?xml … ?>` at the very start, where only it may stand.
fn declaration(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("<?xml")?;
    if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None; // `<?xml-stylesheet …?>` is a processing instruction
    }
    let end = text.find("?>")?;
    Some(&text[..end + 2])
}

/// The value of the declaration's `encoding`, if it has one.
fn declared_encoding(text: &str) -> Option<&str> {
    let declaration = declaration(text)?;
    let after = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let value = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = value.chars().next().filter(|&c| c == '"' || c == '\'')?;
    let value = &value[1..];
    Some(&value[..value.find(quote)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_documents_pass_without_their_byte_order_mark() {
        let xml = b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding='utf-8'?><a>\xC3\xA5</a>";
        assert_eq!(
            checked(xml).unwrap(),
            "<?xml version=\"1.0\" encoding='utf-8'?><a>å</a>"
        );
        assert_eq!(checked(b"<a/>").unwrap(), "<a/>");
    }

    #[test]
    fn other_encodings_and_doctypes_are_refused_with_their_line() {
        assert_eq!(
            checked(b"<a>\n\xE5</a>").unwrap_err(),
            Refused::NotUtf8 { line: 2 }
        );
        assert_eq!(
            checked(b"\xFF\xFE<\0a\0/\0>\0").unwrap_err(),
            Refused::NotUtf8 { line: 1 }
        );
        assert_eq!(
            checked(b"<\0a\0/\0>\0").unwrap_err(),
            Refused::Nul { line: 1 }
        );
        let latin = checked(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>").unwrap_err();
        assert_eq!(latin, Refused::Encoding("ISO-8859-1".into()));
        assert!(latin.to_string().contains("'ISO-8859-1'"), "{latin}");
        let doctype = checked(b"<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"y\">]>\n<a/>");
        assert_eq!(doctype.unwrap_err(), Refused::DocType { line: 2 });
    }

    #[test]
    fn the_declaration_is_dropped_and_only_it() {
        assert_eq!(
            without_declaration("<?xml version=\"1.0\"?>\n<a/>"),
            "\n<a/>"
        );
        assert_eq!(
            without_declaration("<?xml-stylesheet href=\"a\"?><a/>"),
            "<?xml-stylesheet href=\"a\"?><a/>"
        );
        assert_eq!(without_declaration("<a/>"), "<a/>");
    }
}
