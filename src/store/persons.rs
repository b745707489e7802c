//! The persons the register knows (`daily_persons`): each by its pseudonymous [`PersonKey`],
//! with the `pasientGUID` chosen once and the first `brukerNr`, kept for all years.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StoreError;
use super::daily_tx::{ARRAY_BATCH, BATCH, DailyTx, column, marks, value_rows};

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

/// A person the register knows: `pasientGUID` and `brukerNr`, kept for all years.
#[derive(Clone, Debug)]
pub struct StoredPerson {
    pub key: PersonKey,
    pub patient_guid: Uuid,
    pub user_number: String,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

fn person_key(text: &str) -> Result<PersonKey, StoreError> {
    text.parse().map_err(|()| corrupt("person key", text))
}

impl DailyTx {
    /// The person rows of these keys.
    pub async fn persons(&mut self, keys: &[PersonKey]) -> Result<Vec<StoredPerson>, StoreError> {
        const SELECT: &str =
            "SELECT person_key, patient_guid, user_number FROM daily_persons WHERE person_key";
        let mut rows: Vec<(String, String, String)> = Vec::with_capacity(keys.len());
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in keys.chunks(BATCH) {
                    let sql = format!("{SELECT} IN ({})", marks(chunk.len()));
                    let mut query = sqlx::query_as(&sql);
                    for key in chunk {
                        query = query.bind(key.to_string());
                    }
                    rows.extend(query.fetch_all(&mut **tx).await?);
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!("{SELECT} = ANY($1)");
                for chunk in keys.chunks(ARRAY_BATCH) {
                    let query = sqlx::query_as(&sql).bind(column(chunk, PersonKey::to_string));
                    rows.extend(query.fetch_all(&mut **tx).await?);
                }
            }
        }
        rows.into_iter()
            .map(|(key, guid, user_number)| {
                Ok(StoredPerson {
                    key: person_key(&key)?,
                    patient_guid: Uuid::parse_str(&guid)
                        .map_err(|_| corrupt("pasientGUID", &guid))?,
                    user_number,
                })
            })
            .collect()
    }

    /// Records persons the register hears of for the first time.
    pub async fn insert_persons(&mut self, rows: &[StoredPerson]) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO daily_persons (person_key, patient_guid, user_number)";
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in rows.chunks(BATCH) {
                    let sql = format!("{INSERT} VALUES {}", value_rows(chunk.len(), 3));
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query
                            .bind(row.key.to_string())
                            .bind(row.patient_guid.to_string())
                            .bind(&row.user_number);
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                let sql =
                    format!("{INSERT} SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])");
                for chunk in rows.chunks(ARRAY_BATCH) {
                    sqlx::query(&sql)
                        .bind(column(chunk, |r| r.key.to_string()))
                        .bind(column(chunk, |r| r.patient_guid.to_string()))
                        .bind(column(chunk, |r| r.user_number.as_str()))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The register's person goes on under a new key: its identity number was corrected.
    pub async fn rekey_person(&mut self, old: PersonKey, new: PersonKey) -> Result<(), StoreError> {
        const UPDATE: &str = "UPDATE daily_persons SET person_key = $2 WHERE person_key = $1";
        match self {
            DailyTx::Sqlite(tx) => {
                sqlx::query(UPDATE)
                    .bind(old.to_string())
                    .bind(new.to_string())
                    .execute(&mut **tx)
                    .await?;
            }
            DailyTx::Postgres(tx) => {
                sqlx::query(UPDATE)
                    .bind(old.to_string())
                    .bind(new.to_string())
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }
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
