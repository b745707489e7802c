//! What every XML document passes before a parser reads it: UTF-8 text, no NUL, no other
//! declared encoding, no DOCTYPE.
//!
//! Messages to and from KPR are UTF-8. Settling that first means no parser switches to another
//! encoding on a declaration's word, so a DOCTYPE — the door to entity expansion (the "billion
//! laughs") and to external entities — can only be spelled `<!DOCTYPE`, and a plain search finds
//! it before a parser sees a byte.
//!
//! [`checked`] takes a document in memory; [`Scanner`] makes the same checks on one read piece
//! by piece, for files too large to hold.

use std::fmt;

use crate::redact::shown_value;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a document was refused unread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    NotUtf8 {
        line: u32,
    },
    Nul {
        line: u32,
    },
    Encoding(String),
    DocType {
        line: u32,
    },
    /// Only from [`Scanner`], which looks for the declaration's end in the first [`HEAD`] bytes.
    LongDeclaration,
}

impl Refused {
    /// The line the problem is on; 1 for the declaration.
    pub(crate) fn line(&self) -> u32 {
        match self {
            Refused::NotUtf8 { line } | Refused::Nul { line } | Refused::DocType { line } => *line,
            Refused::Encoding(_) | Refused::LongDeclaration => 1,
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
            Refused::LongDeclaration => write!(
                f,
                "has an XML declaration that does not end within its first {} KiB — refused \
                 unread; a declaration is one short line",
                HEAD / 1024
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
    if let Some(encoding) = declared_encoding(text)
        && !encoding.eq_ignore_ascii_case("UTF-8")
    {
        return Err(Refused::Encoding(encoding.to_string()));
    }
    if let Some(at) = text.find("<!DOCTYPE") {
        return Err(Refused::DocType {
            line: line_at(bytes, at),
        });
    }
    Ok(text)
}

/// How much of a document's start [`Scanner`] keeps: the declaration must end in it.
const HEAD: usize = 64 * 1024;
/// What [`Scanner`] keeps of a piece's end, so that a DOCTYPE cut between pieces is found.
const OVERLAP: usize = "<!DOCTYPE".len() - 1;

/// [`checked`] for a document read piece by piece: the same checks, with the same precedence
/// and lines, holding only the document's first [`HEAD`] bytes (where the declaration is) and
/// a few bytes between pieces. [`Scanner::feed`] each piece in order, then
/// [`Scanner::finish`].
#[derive(Default)]
pub(crate) struct Scanner {
    /// Bytes not judged yet: the start until the byte order mark is settled, or a character
    /// cut between two pieces.
    carry: Vec<u8>,
    bom_settled: bool,
    /// Line ends in the text judged so far.
    newlines: usize,
    /// The text's start, for the declaration.
    head: String,
    /// The text did not all fit in `head`.
    head_full: bool,
    /// The last few characters judged, for a DOCTYPE cut between pieces.
    tail: String,
    /// The first NUL's and the first DOCTYPE's line: they count only if the whole document is
    /// UTF-8, which is known at the end.
    nul: Option<u32>,
    doctype: Option<u32>,
}

impl Scanner {
    /// Judges the next piece; an error as soon as the text is not UTF-8.
    pub(crate) fn feed(&mut self, piece: &[u8]) -> Result<(), Refused> {
        self.carry.extend_from_slice(piece);
        self.judge_carry(false)
    }

    /// After the last piece: the verdict on the whole document.
    pub(crate) fn finish(mut self) -> Result<(), Refused> {
        self.judge_carry(true)?;
        if let Some(line) = self.nul {
            return Err(Refused::Nul { line });
        }
        match declared_encoding(&self.head) {
            Some(encoding) if !encoding.eq_ignore_ascii_case("UTF-8") => {
                return Err(Refused::Encoding(encoding.to_string()));
            }
            None if self.head_full
                && declaration_starts(&self.head)
                && !self.head.contains("?>") =>
            {
                return Err(Refused::LongDeclaration);
            }
            _ => {}
        }
        match self.doctype {
            Some(line) => Err(Refused::DocType { line }),
            None => Ok(()),
        }
    }

    /// Judges the carried bytes; at the `end`, a character cut off is not UTF-8.
    fn judge_carry(&mut self, end: bool) -> Result<(), Refused> {
        if !self.bom_settled {
            if !end && self.carry.len() < BOM.len() && BOM.starts_with(&self.carry) {
                return Ok(());
            }
            if self.carry.starts_with(BOM) {
                self.carry.drain(..BOM.len());
            }
            self.bom_settled = true;
        }
        let bytes = std::mem::take(&mut self.carry);
        let valid = match std::str::from_utf8(&bytes) {
            Ok(text) => text.len(),
            Err(e) if e.error_len().is_none() && !end => e.valid_up_to(),
            Err(e) => {
                return Err(Refused::NotUtf8 {
                    line: self.line(&bytes[..e.valid_up_to()]),
                });
            }
        };
        let (text, cut) = bytes.split_at(valid);
        let text = std::str::from_utf8(text).expect("the valid prefix is UTF-8");
        self.judge(text);
        self.carry = cut.to_vec();
        Ok(())
    }

    fn judge(&mut self, text: &str) {
        if self.nul.is_none()
            && let Some(at) = text.find('\0')
        {
            self.nul = Some(self.line(&text.as_bytes()[..at]));
        }
        if self.doctype.is_none() {
            let tail_newlines = count_newlines(self.tail.as_bytes());
            let mut window = std::mem::take(&mut self.tail);
            window.push_str(text);
            if let Some(at) = window.find("<!DOCTYPE") {
                let before =
                    self.newlines - tail_newlines + count_newlines(&window.as_bytes()[..at]);
                self.doctype = Some(line_number(before));
            }
            let keep = char_boundary_at_or_after(&window, window.len().saturating_sub(OVERLAP));
            self.tail = window[keep..].to_string();
        }
        if !self.head_full {
            let room = HEAD - self.head.len();
            let taken = char_boundary_at_or_before(text, room.min(text.len()));
            self.head.push_str(&text[..taken]);
            self.head_full = taken < text.len();
        }
        self.newlines += count_newlines(text.as_bytes());
    }

    /// The line that the byte after `before` (text not yet counted) is on.
    fn line(&self, before: &[u8]) -> u32 {
        line_number(self.newlines + count_newlines(before))
    }
}

fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// 1-based, from the line ends before.
fn line_number(newlines: usize) -> u32 {
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

fn char_boundary_at_or_before(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn char_boundary_at_or_after(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
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
    if !declaration_starts(text) {
        return None;
    }
    let end = text.find("?>")?;
    Some(&text[..end + 2])
}

/// `<?xml` and a space: not `<?xml-stylesheet …?>`, a processing instruction.
fn declaration_starts(text: &str) -> bool {
    text.strip_prefix("<?xml")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_whitespace()))
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

    /// The scanner's verdict on `xml` fed in pieces of `size` bytes.
    fn scanned(xml: &[u8], size: usize) -> Result<(), Refused> {
        let mut scanner = Scanner::default();
        for piece in xml.chunks(size) {
            scanner.feed(piece)?;
        }
        scanner.finish()
    }

    #[test]
    fn the_scanner_judges_as_checked_does_whatever_the_pieces() {
        let documents: [&[u8]; 12] = [
            b"",
            b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding='utf-8'?><a>\xC3\xA5</a>",
            b"\xEF\xBB",
            b"<a>\n\xE5</a>",
            b"<a>\n\xC3",
            b"\xFF\xFE<\0a\0/\0>\0",
            b"<a>\n\0\n\xFF</a>",
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>\0",
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"y\">]>\n<a/>",
            b"<a>\n\n\n<!DOCTYPE\n<!DOCTYPE</a>",
            b"<?xml-stylesheet encoding=\"latin1\"?><a/>",
            b"<a>\xC3\xA5\xC3\xA5\xC3\xA5\xC3\xA5\xC3\xA5\xC3\xA5\xC3\xA5<!DOCTYPE</a>",
        ];
        for xml in documents {
            let expected = checked(xml).map(|_| ());
            for size in [1, 2, 3, 5, 8, 9, 64, xml.len().max(1)] {
                assert_eq!(scanned(xml, size), expected, "{xml:?} in pieces of {size}");
            }
        }
    }

    #[test]
    fn the_scanner_refuses_a_declaration_it_cannot_see_the_end_of() {
        let mut xml = b"<?xml version=\"1.0\"".to_vec();
        xml.extend(std::iter::repeat_n(b' ', HEAD));
        xml.extend_from_slice(b"encoding=\"latin1\"?><a/>");
        assert_eq!(scanned(&xml, 4096), Err(Refused::LongDeclaration));
        let mut long = b"<?xml version=\"1.0\"?><a>".to_vec();
        long.extend(std::iter::repeat_n(b'x', 3 * HEAD));
        long.extend_from_slice(b"</a>");
        assert_eq!(scanned(&long, 4096), Ok(()));
    }

    proptest::proptest! {
        #[test]
        fn the_scanner_agrees_with_checked_on_any_mix(
            parts in proptest::collection::vec(0..PARTS.len(), 0..40),
            size in 1..20usize,
        ) {
            let xml: Vec<u8> = parts.iter().flat_map(|&i| PARTS[i].iter().copied()).collect();
            proptest::prop_assert_eq!(scanned(&xml, size), checked(&xml).map(|_| ()));
        }
    }

    /// What the documents of the property above are made of.
    const PARTS: [&[u8]; 12] = [
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        b"<?xml version='1.0' encoding='latin1'?>",
        b"\n",
        b"<a>",
        b"<!DOCTYPE",
        b"<!DOC",
        b"\0",
        b"\xEF\xBB\xBF",
        b"\xC3\xA5",
        b"\xC3",
        b"\xFF",
        b"?>",
    ];

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
