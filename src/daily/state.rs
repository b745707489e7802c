//! What the register has been told about a service or a person: the reported state that the
//! baseline keeps and the diff compares. It holds no identity number and no name — a person
//! is a pseudonymous [`PersonKey`].

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use openssl::sha::Sha256;
use serde::{Deserialize, Serialize};

use crate::model::{
    AttributeKind, Decision, DiagnosisSystem, HoursPerWeek, Household, Pause, ServiceCode,
};

/// A person as KPR sees them in the daily message: 16 bytes derived from the identity number
/// with the municipality's secret (see `daily::pseudonym`), the same every day and in every
/// EPJ. Only the identity message maps it back.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonKey(pub [u8; 16]);

impl PersonKey {
    /// 32 lower-case hex digits, without formatting machinery: a capture writes a million.
    fn hex(&self) -> [u8; 32] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 32];
        for (i, byte) in self.0.iter().enumerate() {
            text[2 * i] = DIGITS[usize::from(byte >> 4)];
            text[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
        }
        text
    }
}

impl fmt::Display for PersonKey {
    /// 32 lower-case hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex();
        f.write_str(std::str::from_utf8(&hex).expect("hex digits are ASCII"))
    }
}

impl fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonKey({self})")
    }
}

impl FromStr for PersonKey {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if s.len() != 32 || !s.is_ascii() {
            return Err(());
        }
        let mut key = [0u8; 16];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| ())?;
        }
        Ok(PersonKey(key))
    }
}

impl Serialize for PersonKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hex = self.hex();
        s.serialize_str(std::str::from_utf8(&hex).expect("hex digits are ASCII"))
    }
}

impl<'de> Deserialize<'de> for PersonKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|()| serde::de::Error::custom("a person key is 32 hex digits"))
    }
}

/// One service decision as reported: its national code and what the register is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceState {
    pub person: PersonKey,
    pub code: ServiceCode,
    pub decision: Decision,
    pub decided_on: Option<NaiveDate>,
    pub start: Option<NaiveDate>,
    /// Last day; open while the service runs.
    pub end: Option<NaiveDate>,
    pub hours: Option<HoursPerWeek>,
    pub orgnr: Option<String>,
    /// Sorted by their first day; at most one pause starts on a day.
    pub pauses: Vec<Pause>,
}

/// The person-level facts IPLOS reports beside the services.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonState {
    pub residence: Residence,
    /// The latest functional assessment, if any.
    pub assessment: Option<AssessmentState>,
    pub diagnoses: BTreeSet<(DiagnosisSystem, String)>,
    /// Sorted; one per kind and first day (a person can have the same attribute twice).
    pub attributes: Vec<AttributeSpan>,
}

/// A person attribute's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AttributeSpan {
    pub kind: AttributeKind,
    pub from: Option<NaiveDate>,
    /// Last day; open while it lasts.
    pub to: Option<NaiveDate>,
}

/// Where and how the person lives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Residence {
    pub municipality: Option<String>,
    pub district: Option<String>,
    pub household: Option<Household>,
}

/// The scores of one assessment, sorted by variable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentState {
    pub assessed_on: Option<NaiveDate>,
    pub scores: Vec<(String, u8)>,
}

/// The text a state is stored as, and the hash that spares reading it back when unchanged.
pub trait Stored: Serialize + for<'de> Deserialize<'de> {
    fn to_text(&self) -> String {
        serde_json::to_string(self).expect("states serialize to JSON")
    }

    fn from_text(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// `content_hash(&self.to_text())`, writing the text into `buffer` (cleared first) instead
    /// of a new string: the same bytes, so the same hash.
    fn hash_with(&self, buffer: &mut Vec<u8>) -> i64 {
        buffer.clear();
        serde_json::to_writer(&mut *buffer, self).expect("states serialize to JSON");
        content_bytes_hash(buffer)
    }
}

impl Stored for ServiceState {}
impl Stored for PersonState {}

/// The first eight bytes of the text's SHA-256: stable across processes, versions and
/// machines (unlike Rust's own hashers), which a stored hash needs.
pub fn content_hash(text: &str) -> i64 {
    content_bytes_hash(text.as_bytes())
}

fn content_bytes_hash(bytes: &[u8]) -> i64 {
    // SHA-256's own context, not the EVP interface or the one-shot SHA256() (which OpenSSL 3
    // runs through EVP): the same digest without fetching the algorithm, under a lock,
    // for every one of a million states.
    let mut sha = Sha256::new();
    sha.update(bytes);
    let digest = sha.finish();
    i64::from_be_bytes(
        digest[..8]
            .try_into()
            .expect("a SHA-256 digest has 32 bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_key_round_trips_as_hex() {
        let key = PersonKey([0xab; 16]);
        let text = key.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<PersonKey>(), Ok(key));
        assert!("xyz".parse::<PersonKey>().is_err());
    }

    #[test]
    fn a_state_survives_its_text_and_hashes_stably() {
        let state = ServiceState {
            person: PersonKey([1; 16]),
            code: ServiceCode::new(15, 0),
            decision: Decision::Granted,
            decided_on: None,
            start: NaiveDate::from_ymd_opt(2026, 1, 5),
            end: None,
            hours: Some(HoursPerWeek::from_hundredths(750)),
            orgnr: Some("974760673".into()),
            pauses: vec![],
        };
        let text = state.to_text();
        assert_eq!(ServiceState::from_text(&text), Some(state.clone()));
        assert_eq!(content_hash(&text), content_hash(&text.clone()));
        assert_ne!(content_hash(&text), content_hash("{}"));
        let mut buffer = b"left over".to_vec();
        assert_eq!(state.hash_with(&mut buffer), content_hash(&text));
    }

    #[test]
    fn the_content_hash_is_the_first_eight_bytes_of_sha256_big_endian() {
        // SHA-256("abc") = ba7816bf 8f01cfea ... (FIPS 180-2, appendix B.1).
        assert_eq!(content_hash("abc"), 0xba78_16bf_8f01_cfea_u64 as i64);
    }

    #[test]
    fn a_person_key_serializes_as_its_hex_text() {
        let key = PersonKey([
            0x00, 0x01, 0x0a, 0x10, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff, 0x12, 0x34, 0x56, 0x78,
            0x9a, 0xbc,
        ]);
        let hex = "00010a107f80abcdefff123456789abc";
        assert_eq!(key.to_string(), hex);
        assert_eq!(serde_json::to_string(&key).unwrap(), format!("\"{hex}\""));
    }
}
