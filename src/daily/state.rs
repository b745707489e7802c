//! What the register has been told about a service: the reported state that the baseline
//! keeps and the diff compares, and the originals its corrections refer to. It holds no
//! identity number and no name — a person is a pseudonymous [`PersonKey`].

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use openssl::sha::Sha256;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::model::{Pause, ServiceCode};

/// A person in the state store: 16 bytes derived from the identity number with the
/// municipality's secret (`daily::current::Pseudonyms`), the same every day and in every EPJ.
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

/// A service as the register was told of it: only what its events say. Refusals, hours,
/// decisions and everything about the person but their key have no place in 56.0.0's
/// events, so the baseline does not keep them and a change to them sends nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceState {
    pub person: PersonKey,
    pub code: ServiceCode,
    pub start: Option<NaiveDate>,
    /// Last day; open while the service runs.
    pub end: Option<NaiveDate>,
    pub orgnr: Option<String>,
    /// Sorted by their first day; at most one pause starts on a day.
    pub pauses: Vec<Pause>,
}

/// The N originals of one service's events: what an M or a C refers to (HIS 1135: always
/// the N original, never a later correction), each with the day it reported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Originals {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Original>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Original>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<Original>,
    /// By the stop's first day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stops: Vec<StopOriginals>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Original {
    pub guid: Uuid,
    pub day: NaiveDate,
}

/// A temporary stop as reported: its `midlertidigStoppID` and its two originals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopOriginals {
    pub first_day: NaiveDate,
    pub id: String,
    pub from: Original,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Original>,
}

impl Originals {
    pub fn stop(&self, first_day: NaiveDate) -> Option<&StopOriginals> {
        self.stops.iter().find(|s| s.first_day == first_day)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("originals serialize to JSON")
    }

    pub fn from_text(text: &str) -> Option<Originals> {
        serde_json::from_str(text).ok()
    }
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
            start: NaiveDate::from_ymd_opt(2026, 1, 5),
            end: None,
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
