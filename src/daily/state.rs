//! What the register has been told about a service: the reported state that the baseline
//! keeps and the diff compares, and the originals its corrections refer to. It holds no
//! identity number and no name — a person is a pseudonymous [`PersonKey`].

use chrono::NaiveDate;
use compact_str::CompactString;
use openssl::sha::Sha256;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::model::{Pause, ServiceCode};
pub use crate::store::persons::PersonKey;

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
    pub orgnr: Option<CompactString>,
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
}
