//! Certificates in words for messages: subjects as an operator reads them in a certificate
//! viewer, dates in UTC as YYYY-MM-DD, key usages by their RFC 5280 names.

use chrono::{DateTime, Utc};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::x509::{X509KeyUsage, X509NameRef, X509Ref};

/// `C=NO, O=BERGEN KOMMUNE, serialNumber=964338531, CN=BERGEN KOMMUNE - TEST sign`.
pub(crate) fn name(name: &X509NameRef) -> String {
    let entries: Vec<String> = name
        .entries()
        .map(|entry| {
            let key = entry
                .object()
                .nid()
                .short_name()
                .map(str::to_string)
                .unwrap_or_else(|_| entry.object().to_string());
            let value = entry.data().to_string().unwrap_or_else(|_| "?".into());
            format!("{key}={value}")
        })
        .collect();
    entries.join(", ")
}

pub(crate) fn subject(certificate: &X509Ref) -> String {
    name(certificate.subject_name())
}

/// The subject's organisation number (`serialNumber`, as in Norwegian enterprise
/// certificates), if it has one.
pub(super) fn organisation_number(certificate: &X509Ref) -> Option<String> {
    certificate
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::SERIALNUMBER)
        .next()
        .and_then(|entry| entry.data().to_string().ok())
        .map(|text| text.to_string())
}

/// Upper-case hex, as certificate viewers show serial numbers.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

pub(super) fn serial(certificate: &X509Ref) -> String {
    certificate
        .serial_number()
        .to_bn()
        .map(|n| hex(&n.to_vec()))
        .unwrap_or_else(|_| "?".into())
}

/// An ASN.1 time as a UTC instant; `None` only if openssl cannot compare it.
pub(super) fn utc(time: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let since = epoch.diff(time).ok()?;
    DateTime::from_timestamp(i64::from(since.days) * 86_400 + i64::from(since.secs), 0)
}

/// `2026-12-31`, or openssl's own text if the time cannot be converted.
pub(super) fn day(time: &Asn1TimeRef) -> String {
    utc(time).map_or_else(|| time.to_string(), |t| t.format("%Y-%m-%d").to_string())
}

/// The key usages a certificate has, by name: `nonRepudiation, digitalSignature`.
pub(super) fn usages(usage: Option<X509KeyUsage>) -> String {
    let Some(usage) = usage else {
        return "no keyUsage extension".into();
    };
    let names = [
        (X509KeyUsage::DIGITAL_SIGNATURE, "digitalSignature"),
        (X509KeyUsage::NON_REPUDIATION, "nonRepudiation"),
        (X509KeyUsage::KEY_ENCIPHERMENT, "keyEncipherment"),
        (X509KeyUsage::DATA_ENCIPHERMENT, "dataEncipherment"),
        (X509KeyUsage::KEY_AGREEMENT, "keyAgreement"),
        (X509KeyUsage::KEY_CERT_SIGN, "keyCertSign"),
        (X509KeyUsage::CRL_SIGN, "cRLSign"),
        (X509KeyUsage::ENCIPHER_ONLY, "encipherOnly"),
        (X509KeyUsage::DECIPHER_ONLY, "decipherOnly"),
    ];
    let present: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| usage.contains(*bit))
        .map(|(_, name)| *name)
        .collect();
    if present.is_empty() {
        "an empty keyUsage".into()
    } else {
        format!("keyUsage {}", present.join(", "))
    }
}
