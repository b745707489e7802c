//! Which identity key sealed each notification's identity number: the keys the store has
//! seen, each by its fingerprint (`identity_keys`, never the key), and each notification's
//! key (`daily_notifications.identity_key`, set by [`DailyTx::insert_notifications`] to the
//! key current then). A notification whose key is no longer present — the key file was lost
//! and made anew — is *sealed away*: its identity number cannot be opened, so it cannot be
//! sent again (`daily::sealed` decides, `status` and the page say so).

use chrono::{DateTime, Utc};

use super::daily_tx::{ARRAY_BATCH, BATCH, DailyTx, on_tx};
use super::{Store, StoreError, on_pool};

/// The condition on `daily_notifications` of a notification sealed under a key that is no
/// longer present. One sealed before keys were recorded (`identity_key` NULL) is not: the
/// next run that reads the key file records which key that was.
pub(crate) const SEALED_AWAY: &str = "identity_key IS NOT NULL AND identity_key NOT IN
    (SELECT id FROM identity_keys WHERE present = 1)";

/// The id of the key that seals now, as a statement's scalar subquery.
pub(crate) const CURRENT_KEY: &str = "(SELECT id FROM identity_keys WHERE current = 1)";

/// An identity key the store has seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRow {
    pub id: i64,
    /// `None` for the key of notifications sealed before keys were recorded, when no key
    /// file found since opened them.
    pub fingerprint: Option<String>,
    /// The first notification number it sealed: one after the last when it was first seen.
    pub first_number: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The key that seals now.
    pub current: bool,
    /// Found by the last run that read the key files.
    pub present: bool,
}

type KeyTuple = (
    i64,
    Option<String>,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    i64,
    i64,
);

fn key_row(
    (id, fingerprint, first_number, first_seen, last_seen, current, present): KeyTuple,
) -> KeyRow {
    KeyRow {
        id,
        fingerprint,
        first_number,
        first_seen,
        last_seen,
        current: current == 1,
        present: present == 1,
    }
}

const SELECT_KEYS: &str = "SELECT id, fingerprint, first_number, first_seen, last_seen, current,
    present FROM identity_keys ORDER BY id";

/// Numbers as ranges, ascending: (first, last) and how many notifications it holds.
pub type NumberRange = (i64, i64);

/// The notifications sealed away, as the status shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SealedAway {
    /// Sent ones (at least once in a message): they cannot be sent again.
    pub sent: Vec<NumberRange>,
    pub sent_count: i64,
    /// Not yet sent: they hold up every later notification.
    pub unsent: Vec<NumberRange>,
    pub unsent_count: i64,
}

/// At most this many ranges are read (every notification is counted).
pub const MAX_RANGES: i64 = 50;

/// The islands of consecutive numbers among the notifications that meet `condition`.
fn ranges_sql(condition: &str) -> String {
    format!(
        "SELECT MIN(number), MAX(number) FROM (
            SELECT number, number - ROW_NUMBER() OVER (ORDER BY number) AS island
            FROM daily_notifications WHERE {condition}
         ) AS islands GROUP BY island ORDER BY MIN(number) LIMIT {MAX_RANGES}"
    )
}

impl DailyTx {
    /// Every key the store has seen, oldest first.
    pub async fn identity_keys(&mut self) -> Result<Vec<KeyRow>, StoreError> {
        let rows: Vec<KeyTuple> = on_tx!(self, tx => {
            sqlx::query_as(SELECT_KEYS).fetch_all(&mut **tx).await?
        });
        Ok(rows.into_iter().map(key_row).collect())
    }

    pub async fn insert_identity_key(&mut self, row: &KeyRow) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO identity_keys (id, fingerprint, first_number, first_seen, last_seen,
                 current, present) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(row.id)
            .bind(&row.fingerprint)
            .bind(row.first_number)
            .bind(row.first_seen)
            .bind(row.last_seen)
            .bind(i64::from(row.current))
            .bind(i64::from(row.present))
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// Names the key of a row recorded without a fingerprint, once a key file opens it.
    pub async fn name_identity_key(
        &mut self,
        id: i64,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query("UPDATE identity_keys SET fingerprint = $1 WHERE id = $2")
                .bind(fingerprint)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        });
        Ok(())
    }

    /// Records what a run found: `current` seals now, `present` are there (it among them),
    /// every other key is gone. A key found gone for the first time has the sent
    /// notifications it sealed counted and their ranges kept, once: nothing sealed under a
    /// missing key can be sent, so they stay what they are while it is gone.
    pub async fn note_identity_keys(
        &mut self,
        current: Option<i64>,
        present: &[i64],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let gone: Vec<i64> = on_tx!(self, tx => {
            sqlx::query_scalar("SELECT id FROM identity_keys WHERE lost_ranges IS NULL ORDER BY id")
                .fetch_all(&mut **tx)
                .await?
        });
        for id in gone.into_iter().filter(|id| !present.contains(id)) {
            let condition = format!("identity_key = {id} AND first_message IS NOT NULL");
            let (ranges, count): (Vec<NumberRange>, i64) = on_tx!(self, tx => {
                (
                    sqlx::query_as(&ranges_sql(&condition)).fetch_all(&mut **tx).await?,
                    sqlx::query_scalar(&format!(
                        "SELECT COUNT(*) FROM daily_notifications WHERE {condition}"
                    ))
                    .fetch_one(&mut **tx)
                    .await?,
                )
            });
            let ranges = serde_json::to_string(&ranges).expect("numbers serialize");
            on_tx!(self, tx => {
                sqlx::query("UPDATE identity_keys SET lost_count = $1, lost_ranges = $2 WHERE id = $3")
                    .bind(count)
                    .bind(&ranges)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            });
        }
        on_tx!(self, tx => {
            sqlx::query(
                "UPDATE identity_keys SET present = 0,
                 current = CASE WHEN id = $1 THEN 1 ELSE 0 END",
            )
            .bind(current.unwrap_or(-1))
            .execute(&mut **tx)
            .await?;
            for id in present {
                sqlx::query(
                    "UPDATE identity_keys SET present = 1, last_seen = $1, lost_count = 0,
                     lost_ranges = NULL WHERE id = $2",
                )
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
        });
        Ok(())
    }

    /// The latest notification sealed under key `id` (`None`: before keys were recorded):
    /// (number, GUID, sealed identity).
    pub async fn latest_sealed_under(
        &mut self,
        id: Option<i64>,
    ) -> Result<Option<(i64, String, String)>, StoreError> {
        const SELECT: &str = "SELECT number, guid, identity FROM daily_notifications WHERE";
        const LATEST: &str = "ORDER BY number DESC LIMIT 1";
        Ok(on_tx!(self, tx => {
            match id {
                Some(id) => {
                    sqlx::query_as(&format!("{SELECT} identity_key = $1 {LATEST}"))
                        .bind(id)
                        .fetch_optional(&mut **tx)
                        .await?
                }
                None => {
                    sqlx::query_as(&format!("{SELECT} identity_key IS NULL {LATEST}"))
                        .fetch_optional(&mut **tx)
                        .await?
                }
            }
        }))
    }

    /// Records key `id` on every notification sealed before keys were recorded.
    pub async fn record_unrecorded_key(&mut self, id: i64) -> Result<u64, StoreError> {
        Ok(on_tx!(self, tx => {
            sqlx::query("UPDATE daily_notifications SET identity_key = $1 WHERE identity_key IS NULL")
                .bind(id)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        }))
    }

    /// Of `numbers`, those sealed away, ascending.
    pub async fn sealed_away(&mut self, numbers: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut away: Vec<i64> = Vec::new();
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in numbers.chunks(BATCH) {
                    let sql = format!(
                        "SELECT number FROM daily_notifications WHERE {SEALED_AWAY} AND number IN ({})",
                        vec!["?"; chunk.len()].join(", ")
                    );
                    let mut query = sqlx::query_scalar::<_, i64>(&sql);
                    for number in chunk {
                        query = query.bind(number);
                    }
                    away.extend(query.fetch_all(&mut **tx).await?);
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!(
                    "SELECT number FROM daily_notifications WHERE {SEALED_AWAY} AND number = ANY($1)"
                );
                for chunk in numbers.chunks(ARRAY_BATCH) {
                    away.extend(
                        sqlx::query_scalar::<_, i64>(&sql)
                            .bind(chunk)
                            .fetch_all(&mut **tx)
                            .await?,
                    );
                }
            }
        }
        away.sort_unstable();
        Ok(away)
    }

    /// How many notifications are sealed away.
    pub async fn sealed_away_count(&mut self) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM daily_notifications WHERE {SEALED_AWAY}");
        Ok(on_tx!(self, tx => {
            sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?
        }))
    }

    /// The notifications not yet sent that are sealed away, each with the person keys of
    /// its `brukerNr` (none when the store has no person of it, several when it is not
    /// unique): (number, GUID, person key).
    pub async fn unsent_sealed_away(
        &mut self,
    ) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
        const SQL: &str = "SELECT n.number, n.guid, p.person_key FROM daily_notifications n
             LEFT JOIN daily_persons p ON p.user_number = n.user_number
             WHERE n.first_message IS NULL AND n.identity_key IS NOT NULL
             AND n.identity_key NOT IN (SELECT id FROM identity_keys WHERE present = 1)
             ORDER BY n.number";
        Ok(on_tx!(self, tx => {
            sqlx::query_as(SQL).fetch_all(&mut **tx).await?
        }))
    }

    /// Seals these notifications' identity numbers again, under the current key:
    /// (number, sealed identity).
    pub async fn reseal(&mut self, rows: &[(i64, String)]) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE daily_notifications SET identity = $1, identity_key = {CURRENT_KEY}
             WHERE number = $2"
        );
        on_tx!(self, tx => {
            for (number, sealed) in rows {
                sqlx::query(&sql)
                    .bind(sealed)
                    .bind(number)
                    .execute(&mut **tx)
                    .await?;
            }
        });
        Ok(())
    }
}

impl Store {
    /// Every key the store has seen, oldest first.
    pub async fn identity_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        let rows: Vec<KeyTuple> = on_pool!(self, pool => {
            sqlx::query_as(SELECT_KEYS).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(key_row).collect())
    }

    /// The notifications sealed away, sent and not yet sent, as ranges of numbers: the sent
    /// ones as kept when their key went (see [`DailyTx::note_identity_keys`]), the unsent ones
    /// read (few, by the index of what is not yet sent).
    pub async fn sealed_away(&self) -> Result<SealedAway, StoreError> {
        let unsent = format!("first_message IS NULL AND {SEALED_AWAY}");
        let lost: Vec<(i64, Option<String>)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT lost_count, lost_ranges FROM identity_keys WHERE present = 0")
                .fetch_all(pool)
                .await?
        });
        let mut sent: Vec<NumberRange> = Vec::new();
        for (_, ranges) in &lost {
            if let Some(text) = ranges {
                let ranges: Vec<NumberRange> = serde_json::from_str(text)
                    .map_err(|e| StoreError::Corrupt(format!("identity_keys.lost_ranges: {e}")))?;
                sent.extend(ranges);
            }
        }
        sent.sort_unstable();
        let mut merged: Vec<NumberRange> = Vec::with_capacity(sent.len());
        for (first, last) in sent {
            match merged.last_mut() {
                Some(previous) if previous.1 + 1 >= first => previous.1 = previous.1.max(last),
                _ => merged.push((first, last)),
            }
        }
        merged.truncate(MAX_RANGES as usize);
        Ok(on_pool!(self, pool => {
            SealedAway {
                sent: merged,
                sent_count: lost.iter().map(|(count, _)| count).sum(),
                unsent: sqlx::query_as(&ranges_sql(&unsent)).fetch_all(pool).await?,
                unsent_count: sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM daily_notifications WHERE {unsent}"
                ))
                .fetch_one(pool)
                .await?,
            }
        }))
    }

    /// The notifications of message `msg_id` that are sealed away, ascending.
    pub async fn sealed_away_in_message(&self, msg_id: &str) -> Result<Vec<i64>, StoreError> {
        let sql = format!(
            "SELECT number FROM daily_notifications WHERE {SEALED_AWAY} AND number IN
             (SELECT number FROM daily_message_notifications WHERE msg_id = $1) ORDER BY number"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(&sql).bind(msg_id).fetch_all(pool).await?
        }))
    }

    /// How many notifications the store holds.
    pub async fn notification_count(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM daily_notifications")
                .fetch_one(pool)
                .await?
        }))
    }
}
