//! Just enough DER to learn who a CMS message is for and who signed it.
//!
//! The openssl crate decrypts and verifies, but does not say which recipient or signer a
//! message names, and without that an error cannot say "encrypted to someone else" or name
//! the signer. So the few fields needed are read here. BER's indefinite lengths are accepted
//! too (streaming CMS writers use them). Everything is bounds-checked: bad input is an
//! error, never a panic, and nesting is limited so that no input can exhaust the stack.

use std::fmt;

use openssl::x509::{X509Name, X509Ref};

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
/// `[0]` constructed: an explicit wrapper, or an implicit SET such as `certificates`.
const CONTEXT_0: u8 = 0xa0;
/// `[1]` constructed: `crls` in SignedData.
const CONTEXT_1: u8 = 0xa1;
/// `[0]` primitive: a subject key identifier in place of issuer and serial.
const KEY_ID: u8 = 0x80;

/// id-signedData, 1.2.840.113549.1.7.2, as DER content octets.
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// id-envelopedData, 1.2.840.113549.1.7.3.
const ENVELOPED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];

/// Deeper than any CMS message nests indefinite lengths; stops stack exhaustion.
const MAX_DEPTH: usize = 32;

/// Why the bytes are not the CMS structure expected, in words for an error message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DerError(pub String);

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn error(what: impl Into<String>) -> DerError {
    DerError(what.into())
}

/// One element: its tag, its content, and all its bytes (header included).
#[derive(Clone, Copy)]
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

/// Splits the first element off `input`.
fn split(input: &[u8], depth: usize) -> Result<(Element<'_>, &[u8]), DerError> {
    let truncated = || error("ends in the middle of an element (truncated?)");
    let (&tag, rest) = input.split_first().ok_or_else(truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(error(format!(
            "has a tag (0x{tag:02x}) that no CMS field uses"
        )));
    }
    let (&first, mut rest) = rest.split_first().ok_or_else(truncated)?;
    let length = match first {
        0..0x80 => usize::from(first),
        0x80 => {
            // Indefinite length: children up to an end-of-contents marker (two zero bytes).
            if tag & 0x20 == 0 || depth >= MAX_DEPTH {
                return Err(error("has an indefinite length where none is allowed"));
            }
            let mut body = rest;
            while !body.starts_with(&[0, 0]) {
                body = split(body, depth + 1)?.1;
            }
            let content = &rest[..rest.len() - body.len()];
            let after = &body[2..];
            let whole = &input[..input.len() - after.len()];
            return Ok((
                Element {
                    tag,
                    content,
                    whole,
                },
                after,
            ));
        }
        _ => {
            let count = usize::from(first & 0x7f);
            let (bytes, after) = rest.split_at_checked(count).ok_or_else(truncated)?;
            rest = after;
            let mut length: usize = 0;
            for &byte in bytes {
                length = length
                    .checked_mul(256)
                    .and_then(|l| l.checked_add(usize::from(byte)))
                    .ok_or_else(|| error("declares an element longer than memory"))?;
            }
            length
        }
    };
    let (content, after) = rest.split_at_checked(length).ok_or_else(truncated)?;
    let whole = &input[..input.len() - after.len()];
    Ok((
        Element {
            tag,
            content,
            whole,
        },
        after,
    ))
}

/// The elements of a SEQUENCE or SET, one by one.
struct Children<'a>(&'a [u8]);

impl<'a> Children<'a> {
    fn next(&mut self) -> Result<Option<Element<'a>>, DerError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let (element, rest) = split(self.0, 0)?;
        self.0 = rest;
        Ok(Some(element))
    }

    fn peek_tag(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn expect(&mut self, tag: u8, what: &str) -> Result<Element<'a>, DerError> {
        match self.next()? {
            Some(element) if element.tag == tag => Ok(element),
            Some(element) => Err(error(format!(
                "has tag 0x{:02x} where {what} should be",
                element.tag
            ))),
            None => Err(error(format!("ends where {what} should be"))),
        }
    }

    /// Everything that is left, as elements.
    fn rest(&mut self) -> Result<Vec<Element<'a>>, DerError> {
        let mut all = Vec::new();
        while let Some(element) = self.next()? {
            all.push(element);
        }
        Ok(all)
    }
}

/// How a CMS message names a certificate: by issuer and serial number, or by subject key
/// identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Identifier<'a> {
    IssuerSerial {
        /// The issuer's Name, DER.
        issuer: &'a [u8],
        /// The serial number's INTEGER content octets.
        serial: &'a [u8],
    },
    KeyId(&'a [u8]),
}

impl Identifier<'_> {
    /// Whether this names `certificate`. Names are compared as openssl compares them
    /// (canonically), so a re-encoded issuer still matches.
    pub(super) fn names(&self, certificate: &X509Ref) -> bool {
        match self {
            Identifier::IssuerSerial { issuer, serial } => {
                let Ok(issuer) = X509Name::from_der(issuer) else {
                    return false;
                };
                let same_issuer = certificate
                    .issuer_name()
                    .try_cmp(&issuer)
                    .is_ok_and(|order| order.is_eq());
                let ours = certificate
                    .serial_number()
                    .to_bn()
                    .map(|n| n.to_vec())
                    .unwrap_or_default();
                same_issuer && without_leading_zeros(serial) == without_leading_zeros(&ours)
            }
            Identifier::KeyId(id) => certificate
                .subject_key_id()
                .is_some_and(|ours| ours.as_slice() == *id),
        }
    }
}

impl fmt::Display for Identifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::IssuerSerial { issuer, serial } => {
                let issuer = X509Name::from_der(issuer)
                    .map(|name| super::describe::name(&name))
                    .unwrap_or_else(|_| "an unreadable issuer".into());
                write!(
                    f,
                    "serial {} issued by {issuer}",
                    super::describe::hex(without_leading_zeros(serial))
                )
            }
            Identifier::KeyId(id) => {
                write!(f, "subject key identifier {}", super::describe::hex(id))
            }
        }
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The content of a ContentInfo of the given type (`wanted`), which must be all of `input`.
fn content_info<'a>(input: &'a [u8], wanted: &[u8]) -> Result<Element<'a>, DerError> {
    if input.is_empty() {
        return Err(error("is empty"));
    }
    let mut top = Children(input);
    let info = top.expect(SEQUENCE, "a ContentInfo")?;
    if !top.0.is_empty() {
        return Err(error(format!("has {} bytes after its end", top.0.len())));
    }
    let mut fields = Children(info.content);
    let kind = fields.expect(OID, "the content type")?;
    if kind.content != wanted {
        let name = match kind.content {
            SIGNED_DATA => "SignedData (signed, not encrypted)",
            ENVELOPED_DATA => "EnvelopedData (encrypted)",
            _ => "neither SignedData nor EnvelopedData",
        };
        return Err(error(format!("is CMS of another type: {name}")));
    }
    let mut wrapper = Children(fields.expect(CONTEXT_0, "the content")?.content);
    wrapper.expect(SEQUENCE, "the content")
}

/// Reads `issuerAndSerialNumber`.
fn issuer_serial(element: Element<'_>) -> Result<Identifier<'_>, DerError> {
    let mut fields = Children(element.content);
    let issuer = fields.expect(SEQUENCE, "the issuer")?.whole;
    let serial = fields.expect(INTEGER, "the serial number")?.content;
    Ok(Identifier::IssuerSerial { issuer, serial })
}

/// Reads a SignerIdentifier or RecipientIdentifier.
fn identifier<'a>(fields: &mut Children<'a>) -> Result<Identifier<'a>, DerError> {
    match fields.next()? {
        Some(element) if element.tag == SEQUENCE => issuer_serial(element),
        Some(element) if element.tag == KEY_ID => Ok(Identifier::KeyId(element.content)),
        _ => Err(error("names a certificate in a way CMS does not define")),
    }
}

/// The certificates an EnvelopedData is encrypted for (key transport recipients only; other
/// kinds, such as key agreement, are not used by KPR and are skipped).
pub(super) fn recipients(input: &[u8]) -> Result<Vec<Identifier<'_>>, DerError> {
    let enveloped = content_info(input, ENVELOPED_DATA)?;
    let mut fields = Children(enveloped.content);
    fields.expect(INTEGER, "the version")?;
    if fields.peek_tag() == Some(CONTEXT_0) {
        fields.next()?; // originatorInfo
    }
    let mut infos = Children(fields.expect(SET, "the recipients")?.content);
    let mut found = Vec::new();
    for info in infos.rest()? {
        if info.tag == SEQUENCE {
            let mut fields = Children(info.content);
            fields.expect(INTEGER, "a recipient's version")?;
            found.push(identifier(&mut fields)?);
        }
    }
    Ok(found)
}

/// What a SignedData carries besides its content: its certificates and who signed it.
pub(super) struct Signed<'a> {
    /// Each certificate, DER (other certificate formats are skipped).
    pub certificates: Vec<&'a [u8]>,
    pub signers: Vec<Identifier<'a>>,
}

pub(super) fn signed_data(input: &[u8]) -> Result<Signed<'_>, DerError> {
    let signed = content_info(input, SIGNED_DATA)?;
    let mut fields = Children(signed.content);
    fields.expect(INTEGER, "the version")?;
    fields.expect(SET, "the digest algorithms")?;
    fields.expect(SEQUENCE, "the signed content")?;
    let mut certificates = Vec::new();
    if fields.peek_tag() == Some(CONTEXT_0) {
        for certificate in Children(fields.next()?.map_or(&[][..], |e| e.content)).rest()? {
            if certificate.tag == SEQUENCE {
                certificates.push(certificate.whole);
            }
        }
    }
    if fields.peek_tag() == Some(CONTEXT_1) {
        fields.next()?; // crls
    }
    let mut infos = Children(fields.expect(SET, "the signer infos")?.content);
    let mut signers = Vec::new();
    for info in infos.rest()? {
        let mut fields = Children(info.content);
        fields.expect(INTEGER, "a signer's version")?;
        signers.push(identifier(&mut fields)?);
    }
    Ok(Signed {
        certificates,
        signers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_definite_and_indefinite_lengths_alike() {
        // SEQUENCE { INTEGER 5 } both ways.
        let definite = [0x30, 0x03, 0x02, 0x01, 0x05];
        let indefinite = [0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00];
        for input in [&definite[..], &indefinite[..]] {
            let (element, rest) = split(input, 0).unwrap();
            assert_eq!(element.tag, SEQUENCE);
            assert_eq!(element.content, &[0x02, 0x01, 0x05]);
            assert_eq!(element.whole, input);
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn long_lengths_and_truncation() {
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(7, 256));
        assert_eq!(split(&long, 0).unwrap().0.content.len(), 256);
        assert!(split(&long[..100], 0).is_err());
        assert!(split(&[0x04, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0).is_err());
        assert!(split(&[0x04, 0xff], 0).is_err());
        assert!(split(&[0x30, 0x80, 0x30, 0x80], 0).is_err());
    }

    #[test]
    fn deep_indefinite_nesting_is_refused_not_a_stack_overflow() {
        let mut input = Vec::new();
        for _ in 0..100_000 {
            input.extend([0x30, 0x80]);
        }
        assert!(split(&input, 0).is_err());
    }

    #[test]
    fn names_other_types_of_content() {
        // ContentInfo { id-data, [0] { OCTET STRING } } is neither of ours.
        let data = [
            0x30, 0x12, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0,
            0x05, 0x30, 0x03, 0x04, 0x01, 0x41,
        ];
        let why = recipients(&data).unwrap_err().0;
        assert!(
            why.contains("neither SignedData nor EnvelopedData"),
            "{why}"
        );
        assert_eq!(recipients(&[]).unwrap_err().0, "is empty");
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = recipients(&bytes);
            let _ = signed_data(&bytes);
        }

        #[test]
        fn random_bytes_after_a_cms_header_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            for oid in [SIGNED_DATA, ENVELOPED_DATA] {
                let mut input = vec![0x30, 0x80, 0x06, 0x09];
                input.extend_from_slice(oid);
                input.extend([0xa0, 0x80, 0x30, 0x80]);
                input.extend_from_slice(&bytes);
                let _ = recipients(&input);
                let _ = signed_data(&input);
            }
        }
    }
}
