//! The daily flow's tables: baselines (what the register was last told per service), the
//! persons it knows, the notifications (numbered, chained, their identity numbers sealed),
//! the messages they went in, and the record of each capture and each ship.
//!
//! Everything goes through [`DailyTx`], one transaction: a capture numbers and writes its
//! notifications and the new baseline together, a ship writes its messages to the outbox and
//! records which notifications they hold together (invariant 1). Captures and ships never overlap: SQLite's `BEGIN IMMEDIATE`
//! holds the write lock, PostgreSQL takes a transaction-scoped advisory lock.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;

use uuid::Uuid;

use super::outbox::NewMessage;
use super::{Store, StoreError, on_pool};
use crate::daily::state::PersonKey;
use crate::message::ipl56::{EventKind, Status};

/// Rows per statement. SQLite binds each value, and 500 rows stay well under its limit on
/// parameters; PostgreSQL binds each column as one array (`UNNEST`, `= ANY`), with one
/// statement to parse and plan for thousands of rows instead of one per 500.
const BATCH: usize = 500;
const ARRAY_BATCH: usize = 10_000;

/// One open transaction on the daily tables.
pub enum DailyTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same statements on whichever database the transaction is on.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            DailyTx::Sqlite($c) => $body,
            DailyTx::Postgres($c) => $body,
        }
    };
}

/// The daily flow's settings, made by the first (`--initial`) capture.
#[derive(Clone, Debug)]
pub struct DailyState {
    pub pseudonym_secret: String,
    pub initial_date: NaiveDate,
    /// The initial load's start date.
    pub since: NaiveDate,
}

/// A service's baseline row.
#[derive(Clone, Debug)]
pub struct BaselineService {
    pub source: String,
    pub local_id: String,
    /// The `tjenesteID` the register knows the service by.
    pub service_id: String,
    /// [`crate::daily::state::Originals`] as JSON.
    pub originals: String,
    pub hash: i64,
    pub state: String,
}

/// A person the register knows: `pasientGUID` and `brukerNr`, kept for all years.
#[derive(Clone, Debug)]
pub struct StoredPerson {
    pub key: PersonKey,
    pub patient_guid: Uuid,
    pub user_number: String,
}

/// One notification as stored: its place in the chain, what the status and the
/// administration page select by, and its content without the identity number.
#[derive(Clone, Debug)]
pub struct StoredNotification {
    pub number: i64,
    pub guid: Uuid,
    pub previous: Uuid,
    pub reporting_date: NaiveDate,
    pub kind: EventKind,
    pub status: Status,
    pub corrects: Option<Uuid>,
    pub event_day: NaiveDate,
    pub user_number: String,
    /// Where in the EPJ it comes from: the source and the service's local id.
    pub source: String,
    pub local_id: String,
    /// The notification as JSON, its `fid` empty.
    pub body: String,
    /// The identity number, sealed (`crypto::at_rest`) for the notification's GUID.
    pub identity: String,
}

/// One daily message: a part of a date's shipment or of a re-send.
#[derive(Clone, Debug)]
pub struct MessageRecord {
    pub msg_id: String,
    /// `None` for a re-send.
    pub reporting_date: Option<NaiveDate>,
    pub at: DateTime<Utc>,
    pub part: i64,
    pub parts: i64,
    pub resend: bool,
    /// A re-send of notifications whose message still awaited its receipt (`--force`).
    pub forced: bool,
}

/// Hashes of every service's baseline, per source.
pub type ServiceHashes = HashMap<String, SourceHashes>;

/// One source's baseline hashes, sorted by local id in byte order. The ids live in one
/// text, so that a million of them are one allocation rather than a million.
#[derive(Clone, Debug, Default)]
pub struct SourceHashes {
    text: String,
    /// Where each id is in `text` (start, length), and its hash.
    entries: Vec<(u32, u32, i64)>,
}

impl SourceHashes {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `(local id, hash)` in byte order of the ids.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        self.entries
            .iter()
            .map(|&(start, len, hash)| (self.slice(start, len), hash))
    }

    fn slice(&self, start: u32, len: u32) -> &str {
        let start = start as usize;
        &self.text[start..start + len as usize]
    }

    fn push(&mut self, id: &str, hash: i64) {
        let start = offset(self.text.len());
        self.text.push_str(id);
        self.entries.push((start, offset(id.len()), hash));
    }

    /// Reads `id TAB hash` lines; `None` unless there are exactly `count` of them, which
    /// is how an id with a line break in it shows (a tab in an id is harmless: the hash
    /// is what follows the last one). Keeps the ids alone, a third of the text.
    fn parse(text: &str, count: usize) -> Option<SourceHashes> {
        let mut hashes = SourceHashes {
            text: String::new(),
            entries: Vec::with_capacity(count),
        };
        for line in text.split('\n') {
            let (id, hash) = line.rsplit_once('\t')?;
            if u32::try_from(hashes.text.len() + id.len()).is_err() {
                return None;
            }
            hashes.push(id, hash.parse().ok()?);
        }
        if hashes.entries.len() != count {
            return None;
        }
        hashes.text.shrink_to_fit();
        hashes.sort();
        Some(hashes)
    }

    /// Sorts by id, unless the database already gave them in that order.
    fn sort(&mut self) {
        let id = |&(start, len, _): &(u32, u32, i64)| self.slice(start, len);
        if self.entries.is_sorted_by(|a, b| id(a) <= id(b)) {
            return;
        }
        let mut entries = std::mem::take(&mut self.entries);
        entries.sort_unstable_by(|a, b| self.slice(a.0, a.1).cmp(self.slice(b.0, b.1)));
        self.entries = entries;
    }
}

/// An offset into a source's text of local ids, which would have to reach 4 GB first.
fn offset(at: usize) -> u32 {
    u32::try_from(at).expect("a source's local ids fit in 4 GB")
}

/// The baseline hashes, each source's in one text of `local id TAB hash` lines, with the
/// count of rows it should hold: one row per source, where reading a million rows one by one
/// was what took the time. A text is bounded by the database's largest value (1 GB): some 30
/// million services per source. SQLite reads them in the primary key's order, which is
/// already the order the diff needs; PostgreSQL is not asked to sort (an ordered aggregate
/// sorted a million rows on disk, twice as slow as sorting them here).
mod aggregate {
    pub const SERVICES_SQLITE: &str = "SELECT source, COUNT(*),
        group_concat(local_id || char(9) || hash, char(10))
        FROM baseline_services GROUP BY source";
    pub const SERVICES_POSTGRES: &str = r#"SELECT source, COUNT(*),
        string_agg(local_id || E'\t' || hash, E'\n')
        FROM baseline_services GROUP BY source"#;
}

/// What one capture did, as kept in `daily_captures`.
#[derive(Clone, Debug)]
pub struct CaptureRecord {
    pub reporting_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub events: i64,
    pub held: i64,
    /// JSON: the counts an operator is shown.
    pub summary: String,
    /// The checks' findings, counted per rule (no examples: nothing that locates a person).
    pub findings: Vec<FindingCount>,
}

/// One rule's findings in a capture, as kept in `daily_captures.findings` (JSON) for
/// `kpr-bridge status` and the alerts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FindingCount {
    pub rule: String,
    pub severity: crate::checks::Severity,
    pub count: u64,
}

/// A parameter of a selection over the notifications.
#[derive(Clone, Debug)]
pub enum Param {
    Text(String),
    Number(i64),
    Date(NaiveDate),
}

/// One ship, as kept in `daily_shipments`.
#[derive(Clone, Debug)]
pub struct ShipmentRecord {
    pub shipment: String,
    pub reporting_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub notifications: i64,
    pub messages: i64,
}

impl Store {
    /// The latest reporting date shipped (the initial run's date included); `None` before
    /// daily reporting began. The agent ships the next date once the schedule closes it.
    pub async fn last_shipped_date(&self) -> Result<Option<NaiveDate>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(reporting_date) FROM daily_shipments")
                .fetch_one(pool)
                .await?
        }))
    }

    /// Begins a daily transaction, waiting for any other capture or ship to finish.
    pub async fn begin_daily(&self) -> Result<DailyTx, StoreError> {
        Ok(match self {
            Store::Sqlite(pool) => DailyTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' kpr-bridge daily'))")
                    .execute(&mut *tx)
                    .await?;
                DailyTx::Postgres(tx)
            }
        })
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

fn person_key(text: &str) -> Result<PersonKey, StoreError> {
    text.parse().map_err(|()| corrupt("person key", text))
}

/// `?, ?, …` for `count` parameters. SQLite takes `$1` too, but binding looks each numbered
/// parameter's name up in a list as long as the statement's: at 500 rows of 8 columns that
/// took three quarters of an initial capture. (sqlx numbers a `?` after the `?`s before it,
/// not after a `$1`, so a statement uses one kind of mark throughout.)
fn marks(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// `(?, …, ?), (?, …)`: `rows` rows of `width` parameters.
fn value_rows(rows: usize, width: usize) -> String {
    vec![format!("({})", marks(width)); rows].join(", ")
}

/// Each column's values as one PostgreSQL array.
fn column<'r, R, T>(rows: &'r [R], value: impl Fn(&'r R) -> T) -> Vec<T> {
    rows.iter().map(value).collect()
}

impl DailyTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        on_tx!(self, tx => tx.commit().await?);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        on_tx!(self, tx => tx.rollback().await?);
        Ok(())
    }

    pub async fn state(&mut self) -> Result<Option<DailyState>, StoreError> {
        let row: Option<(String, NaiveDate, NaiveDate)> = on_tx!(self, tx => {
            sqlx::query_as("SELECT pseudonym_secret, initial_date, since FROM daily_state WHERE id = 1")
                .fetch_optional(&mut **tx)
                .await?
        });
        Ok(
            row.map(|(pseudonym_secret, initial_date, since)| DailyState {
                pseudonym_secret,
                initial_date,
                since,
            }),
        )
    }

    pub async fn create_state(
        &mut self,
        state: &DailyState,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_state (id, pseudonym_secret, initial_date, since, created_at)
                 VALUES (1, $1, $2, $3, $4)",
            )
            .bind(&state.pseudonym_secret)
            .bind(state.initial_date)
            .bind(state.since)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// Every service's baseline hash, per source: one aggregated text per source (see
    /// [`aggregate`]), or row by row for a source whose text does not read back.
    pub async fn service_hashes(&mut self) -> Result<ServiceHashes, StoreError> {
        let mut hashes = ServiceHashes::new();
        let mut unread = Vec::new();
        // Each text is parsed from the row as it comes, not copied out of it first.
        let mut take = |source: String, count: i64, text: Option<&str>| {
            let parsed = usize::try_from(count)
                .ok()
                .zip(text)
                .and_then(|(count, text)| SourceHashes::parse(text, count));
            match parsed {
                Some(parsed) => {
                    hashes.insert(source, parsed);
                }
                None => unread.push(source),
            }
        };
        match self {
            DailyTx::Sqlite(tx) => {
                let mut rows = sqlx::query(aggregate::SERVICES_SQLITE).fetch(&mut **tx);
                while let Some(row) = rows.try_next().await? {
                    take(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                }
            }
            DailyTx::Postgres(tx) => {
                let mut rows = sqlx::query(aggregate::SERVICES_POSTGRES).fetch(&mut **tx);
                while let Some(row) = rows.try_next().await? {
                    take(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                }
            }
        }
        for source in unread {
            let source_hashes = self.service_hashes_of(&source).await?;
            hashes.insert(source, source_hashes);
        }
        Ok(hashes)
    }

    /// One source's baseline hashes, row by row.
    async fn service_hashes_of(&mut self, source: &str) -> Result<SourceHashes, StoreError> {
        let mut hashes = SourceHashes::default();
        on_tx!(self, tx => {
            let mut rows = sqlx::query("SELECT local_id, hash FROM baseline_services WHERE source = $1")
                .bind(source)
                .fetch(&mut **tx);
            while let Some(row) = rows.try_next().await? {
                hashes.push(row.try_get(0)?, row.try_get(1)?);
            }
        });
        hashes.sort();
        Ok(hashes)
    }

    /// The baseline rows of these services of one source.
    pub async fn services(
        &mut self,
        source: &str,
        local_ids: &[&str],
    ) -> Result<Vec<BaselineService>, StoreError> {
        const SELECT: &str = "SELECT source, local_id, service_id, originals, hash, state
            FROM baseline_services WHERE source = ";
        let mut found = Vec::with_capacity(local_ids.len());
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in local_ids.chunks(BATCH) {
                    let sql = format!("{SELECT} ? AND local_id IN ({})", marks(chunk.len()));
                    let mut query = sqlx::query(&sql).bind(source);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    for row in query.fetch_all(&mut **tx).await? {
                        found.push(service_row(&row)?);
                    }
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!("{SELECT} $1 AND local_id = ANY($2)");
                for chunk in local_ids.chunks(ARRAY_BATCH) {
                    let rows = sqlx::query(&sql)
                        .bind(source)
                        .bind(chunk)
                        .fetch_all(&mut **tx)
                        .await?;
                    for row in rows {
                        found.push(service_row(&row)?);
                    }
                }
            }
        }
        Ok(found)
    }

    /// Every baseline row of one source.
    pub async fn services_of(&mut self, source: &str) -> Result<Vec<BaselineService>, StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "SELECT source, local_id, service_id, originals, hash, state FROM baseline_services
                 WHERE source = $1 ORDER BY local_id",
            )
            .bind(source)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(service_row)
            .collect()
        })
    }

    pub async fn upsert_services(&mut self, rows: &[BaselineService]) -> Result<(), StoreError> {
        const INSERT: &str =
            "INSERT INTO baseline_services (source, local_id, service_id, originals, hash, state)";
        const CONFLICT: &str = "ON CONFLICT (source, local_id) DO UPDATE SET
            service_id = excluded.service_id, originals = excluded.originals,
            hash = excluded.hash, state = excluded.state";
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in rows.chunks(BATCH) {
                    let sql = format!("{INSERT} VALUES {} {CONFLICT}", value_rows(chunk.len(), 6));
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query
                            .bind(&row.source)
                            .bind(&row.local_id)
                            .bind(&row.service_id)
                            .bind(&row.originals)
                            .bind(row.hash)
                            .bind(&row.state);
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!(
                    "{INSERT} SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[],
                     $5::int8[], $6::text[]) {CONFLICT}"
                );
                for chunk in rows.chunks(ARRAY_BATCH) {
                    sqlx::query(&sql)
                        .bind(column(chunk, |r| r.source.as_str()))
                        .bind(column(chunk, |r| r.local_id.as_str()))
                        .bind(column(chunk, |r| r.service_id.as_str()))
                        .bind(column(chunk, |r| r.originals.as_str()))
                        .bind(column(chunk, |r| r.hash))
                        .bind(column(chunk, |r| r.state.as_str()))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    pub async fn delete_service(&mut self, source: &str, local_id: &str) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query("DELETE FROM baseline_services WHERE source = $1 AND local_id = $2")
                .bind(source)
                .bind(local_id)
                .execute(&mut **tx)
                .await?;
        });
        Ok(())
    }

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

    /// The last notification's number and GUID: where the chain goes on. A continuation
    /// recorded after a restore (`store/chain.rs`) later than the store's own last
    /// notification is where it goes on instead: the register has the numbers up to it.
    pub async fn last_notification(&mut self) -> Result<Option<(i64, Uuid)>, StoreError> {
        let stored = self.last_stored().await?;
        let continued = self
            .last_continuation()
            .await?
            .map(|c| (c.after_number, c.after_guid));
        Ok(match (stored, continued) {
            (Some(stored), Some(continued)) if continued.0 > stored.0 => Some(continued),
            (None, continued) => continued,
            (stored, _) => stored,
        })
    }

    /// Appends notifications, numbered by the caller in this transaction.
    pub async fn insert_notifications(
        &mut self,
        rows: &[StoredNotification],
    ) -> Result<(), StoreError> {
        // Each row is stamped with the identity key current in the store (`identity_keys`),
        // which sealed it.
        use super::identity_keys::CURRENT_KEY;
        const INSERT: &str = "INSERT INTO daily_notifications (number, guid, previous,
            reporting_date, kind, status, corrects, event_day, user_number, source, local_id,
            body, identity, identity_key)";
        match self {
            DailyTx::Sqlite(tx) => {
                // Read once and bound: as a subquery in each row it cost SQLite a lookup per row.
                let key: Option<i64> = sqlx::query_scalar(&format!("SELECT {CURRENT_KEY}"))
                    .fetch_one(&mut **tx)
                    .await?;
                for chunk in rows.chunks(BATCH) {
                    let sql = format!("{INSERT} VALUES {}", value_rows(chunk.len(), 14));
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query
                            .bind(row.number)
                            .bind(row.guid.to_string())
                            .bind(row.previous.to_string())
                            .bind(row.reporting_date)
                            .bind(row.kind.as_str())
                            .bind(row.status.code())
                            .bind(row.corrects.map(|g| g.to_string()))
                            .bind(row.event_day)
                            .bind(&row.user_number)
                            .bind(&row.source)
                            .bind(&row.local_id)
                            .bind(&row.body)
                            .bind(&row.identity)
                            .bind(key);
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!(
                    "{INSERT} SELECT *, {CURRENT_KEY} FROM UNNEST($1::int8[], $2::text[],
                     $3::text[], $4::date[], $5::text[], $6::text[], $7::text[], $8::date[],
                     $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])"
                );
                for chunk in rows.chunks(ARRAY_BATCH) {
                    sqlx::query(&sql)
                        .bind(column(chunk, |r| r.number))
                        .bind(column(chunk, |r| r.guid.to_string()))
                        .bind(column(chunk, |r| r.previous.to_string()))
                        .bind(column(chunk, |r| r.reporting_date))
                        .bind(column(chunk, |r| r.kind.as_str()))
                        .bind(column(chunk, |r| r.status.code()))
                        .bind(column(chunk, |r| r.corrects.map(|g| g.to_string())))
                        .bind(column(chunk, |r| r.event_day))
                        .bind(column(chunk, |r| r.user_number.as_str()))
                        .bind(column(chunk, |r| r.source.as_str()))
                        .bind(column(chunk, |r| r.local_id.as_str()))
                        .bind(column(chunk, |r| r.body.as_str()))
                        .bind(column(chunk, |r| r.identity.as_str()))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The numbers of the notifications not yet shipped whose reporting date is `date` or
    /// earlier, ascending.
    pub async fn unshipped(&mut self, date: NaiveDate) -> Result<Vec<i64>, StoreError> {
        Ok(on_tx!(self, tx => {
            sqlx::query_scalar(
                "SELECT number FROM daily_notifications
                 WHERE first_message IS NULL AND reporting_date <= $1 ORDER BY number",
            )
            .bind(date)
            .fetch_all(&mut **tx)
            .await?
        }))
    }

    /// The numbers a query over `daily_notifications` selects (`WHERE …` given, with its
    /// parameters), ascending.
    pub(crate) async fn select_numbers(
        &mut self,
        condition: &str,
        params: &[Param],
    ) -> Result<Vec<i64>, StoreError> {
        let sql =
            format!("SELECT number FROM daily_notifications WHERE {condition} ORDER BY number");
        Ok(on_tx!(self, tx => {
            let mut query = sqlx::query_scalar(&sql);
            for param in params {
                query = match param {
                    Param::Text(text) => query.bind(text),
                    Param::Number(number) => query.bind(number),
                    Param::Date(date) => query.bind(date),
                };
            }
            query.fetch_all(&mut **tx).await?
        }))
    }

    /// The messages these notifications went in, with how many of them each held.
    pub async fn messages_of(&mut self, numbers: &[i64]) -> Result<Vec<(String, i64)>, StoreError> {
        const SELECT: &str = "SELECT msg_id FROM daily_message_notifications WHERE number";
        let mut ids: Vec<String> = Vec::new();
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in numbers.chunks(BATCH) {
                    let sql = format!("{SELECT} IN ({})", marks(chunk.len()));
                    let mut query = sqlx::query_scalar(&sql);
                    for number in chunk {
                        query = query.bind(number);
                    }
                    ids.extend(query.fetch_all(&mut **tx).await?);
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!("{SELECT} = ANY($1)");
                for chunk in numbers.chunks(ARRAY_BATCH) {
                    ids.extend(
                        sqlx::query_scalar(&sql)
                            .bind(chunk)
                            .fetch_all(&mut **tx)
                            .await?,
                    );
                }
            }
        }
        let mut counted: Vec<(String, i64)> = Vec::new();
        ids.sort();
        for id in ids {
            match counted.last_mut() {
                Some((last, n)) if *last == id => *n += 1,
                _ => counted.push((id, 1)),
            }
        }
        Ok(counted)
    }

    /// These stored notifications, ascending: (number, body, sealed identity).
    pub async fn notifications(
        &mut self,
        numbers: &[i64],
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        const SELECT: &str = "SELECT number, body, identity FROM daily_notifications WHERE number";
        let mut rows: Vec<(i64, String, String)> = Vec::with_capacity(numbers.len());
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in numbers.chunks(BATCH) {
                    let sql = format!("{SELECT} IN ({})", marks(chunk.len()));
                    let mut query = sqlx::query_as(&sql);
                    for number in chunk {
                        query = query.bind(number);
                    }
                    rows.extend(query.fetch_all(&mut **tx).await?);
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!("{SELECT} = ANY($1)");
                for chunk in numbers.chunks(ARRAY_BATCH) {
                    rows.extend(
                        sqlx::query_as(&sql)
                            .bind(chunk)
                            .fetch_all(&mut **tx)
                            .await?,
                    );
                }
            }
        }
        rows.sort_by_key(|row| row.0);
        Ok(rows)
    }

    /// Of these notifications, those whose latest message still awaits its receipt
    /// (`queued` or `sent`): (number, MsgId).
    pub async fn awaiting_receipt(
        &mut self,
        numbers: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        const SELECT: &str = "SELECT n.number, n.msg_id, m.at, o.state
            FROM daily_message_notifications n
            JOIN daily_messages m ON m.msg_id = n.msg_id
            JOIN outbox o ON o.msg_id = n.msg_id WHERE n.number";
        let mut rows: Vec<(i64, String, DateTime<Utc>, String)> = Vec::new();
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in numbers.chunks(BATCH) {
                    let sql = format!("{SELECT} IN ({})", marks(chunk.len()));
                    let mut query = sqlx::query_as(&sql);
                    for number in chunk {
                        query = query.bind(number);
                    }
                    rows.extend(query.fetch_all(&mut **tx).await?);
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!("{SELECT} = ANY($1)");
                for chunk in numbers.chunks(ARRAY_BATCH) {
                    rows.extend(
                        sqlx::query_as(&sql)
                            .bind(chunk)
                            .fetch_all(&mut **tx)
                            .await?,
                    );
                }
            }
        }
        let mut latest: HashMap<i64, (DateTime<Utc>, String, String)> = HashMap::new();
        for (number, msg_id, at, state) in rows {
            let entry = latest
                .entry(number)
                .or_insert((at, msg_id.clone(), state.clone()));
            if at > entry.0 {
                *entry = (at, msg_id, state);
            }
        }
        let mut waiting: Vec<(i64, String)> = latest
            .into_iter()
            .filter(|(_, (_, _, state))| state == "queued" || state == "sent")
            .map(|(number, (_, msg_id, _))| (number, msg_id))
            .collect();
        waiting.sort();
        Ok(waiting)
    }

    /// Records a daily message and which notifications it holds; the first message of each
    /// is remembered on the notification.
    pub async fn record_message(
        &mut self,
        message: &MessageRecord,
        numbers: &[i64],
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_messages (msg_id, reporting_date, at, part, parts,
                 notifications, first_number, last_number, resend, forced)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&message.msg_id)
            .bind(message.reporting_date)
            .bind(message.at)
            .bind(message.part)
            .bind(message.parts)
            .bind(numbers.len() as i64)
            .bind(numbers.first().copied().unwrap_or(0))
            .bind(numbers.last().copied().unwrap_or(0))
            .bind(i64::from(message.resend))
            .bind(i64::from(message.forced))
            .execute(&mut **tx)
            .await?;
        });
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in numbers.chunks(BATCH) {
                    let sql = format!(
                        "INSERT INTO daily_message_notifications (msg_id, number) VALUES {}",
                        value_rows(chunk.len(), 2)
                    );
                    let mut query = sqlx::query(&sql);
                    for number in chunk {
                        query = query.bind(&message.msg_id).bind(number);
                    }
                    query.execute(&mut **tx).await?;
                    let sql = format!(
                        "UPDATE daily_notifications SET first_message = ? WHERE first_message IS NULL
                         AND number IN ({})",
                        marks(chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(&message.msg_id);
                    for number in chunk {
                        query = query.bind(number);
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                for chunk in numbers.chunks(ARRAY_BATCH) {
                    sqlx::query(
                        "INSERT INTO daily_message_notifications (msg_id, number)
                         SELECT $1, * FROM UNNEST($2::int8[])",
                    )
                    .bind(&message.msg_id)
                    .bind(chunk)
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query(
                        "UPDATE daily_notifications SET first_message = $1
                         WHERE first_message IS NULL AND number = ANY($2)",
                    )
                    .bind(&message.msg_id)
                    .bind(chunk)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }

    pub async fn record_capture(&mut self, record: &CaptureRecord) -> Result<(), StoreError> {
        let findings =
            serde_json::to_string(&record.findings).expect("rule ids and counts serialize");
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_captures (reporting_date, at, events, held, summary, findings)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(record.reporting_date)
            .bind(record.at)
            .bind(record.events)
            .bind(record.held)
            .bind(&record.summary)
            .bind(&findings)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    pub async fn record_shipment(&mut self, record: &ShipmentRecord) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_shipments (shipment, reporting_date, at, notifications,
                 messages) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&record.shipment)
            .bind(record.reporting_date)
            .bind(record.at)
            .bind(record.notifications)
            .bind(record.messages)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// Puts a packed message in the outbox, inside this transaction.
    pub async fn enqueue(
        &mut self,
        message: &NewMessage,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            let tx = &mut **tx;
            super::outbox::insert_queued!(tx, message, now)
        });
        Ok(())
    }
}

/// A daily shipment that carried notifications: its messages, and its notifications counted
/// per event kind and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippedDay {
    pub reporting_date: NaiveDate,
    pub shipment: String,
    /// MsgIds of its parts, in order.
    pub messages: Vec<String>,
    /// (event kind, status, count), e.g. ("start", "N", 12).
    pub kinds: Vec<(String, String, i64)>,
}

impl Store {
    /// Every daily shipment that carried notifications, in the order they were made.
    pub async fn shipped_days(&self) -> Result<Vec<ShippedDay>, StoreError> {
        let shipments: Vec<(NaiveDate, String)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT reporting_date, shipment FROM daily_shipments WHERE messages > 0
                 ORDER BY at, shipment",
            )
            .fetch_all(pool)
            .await?
        });
        let mut days = Vec::new();
        for (reporting_date, shipment) in shipments {
            let (messages, kinds) = on_pool!(self, pool => {
                let messages: Vec<String> = sqlx::query_scalar(
                    "SELECT msg_id FROM daily_messages WHERE resend = 0 AND reporting_date = $1
                     ORDER BY at, part",
                )
                .bind(reporting_date)
                .fetch_all(pool)
                .await?;
                let kinds: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT n.kind, n.status, COUNT(*) FROM daily_notifications n
                     JOIN daily_messages m ON m.msg_id = n.first_message
                     WHERE m.resend = 0 AND m.reporting_date = $1
                     GROUP BY n.kind, n.status ORDER BY n.kind, n.status",
                )
                .bind(reporting_date)
                .fetch_all(pool)
                .await?;
                (messages, kinds)
            });
            days.push(ShippedDay {
                reporting_date,
                shipment,
                messages,
                kinds,
            });
        }
        Ok(days)
    }
}

fn service_row<R: Row>(row: &R) -> Result<BaselineService, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(BaselineService {
        source: row.try_get(0)?,
        local_id: row.try_get(1)?,
        service_id: row.try_get(2)?,
        originals: row.try_get(3)?,
        hash: row.try_get(4)?,
        state: row.try_get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(hashes: &SourceHashes) -> Vec<(&str, i64)> {
        hashes.iter().collect()
    }

    #[test]
    fn an_aggregated_text_reads_back_sorted_by_id_in_byte_order() {
        let text = "s2\t-5\ns10\t7\ntab\there\t3\nZ\t0\næ\t9223372036854775807";
        let hashes = SourceHashes::parse(text, 5).unwrap();
        assert_eq!(
            entries(&hashes),
            [
                ("Z", 0),
                ("s10", 7),
                ("s2", -5),
                ("tab\there", 3),
                ("æ", i64::MAX)
            ]
        );
    }

    #[test]
    fn an_id_with_a_line_break_or_a_bad_line_is_not_taken_for_two() {
        // "s TAB 1 LF 2" with hash 5 reads as two good lines: only the count tells.
        assert!(SourceHashes::parse("s\t1\n2\t5", 1).is_none());
        assert!(SourceHashes::parse("line\nbreak\t1\nx\t2", 2).is_none());
        assert!(SourceHashes::parse("x\t2\n", 1).is_none());
        assert!(SourceHashes::parse("x\tnot a number", 1).is_none());
        assert!(SourceHashes::parse("x 2", 1).is_none());
    }

    #[test]
    fn ids_added_one_by_one_are_sorted_too() {
        let mut hashes = SourceHashes::default();
        for (id, hash) in [("b", 2), ("a", 1), ("c", 3)] {
            hashes.push(id, hash);
        }
        hashes.sort();
        assert_eq!(entries(&hashes), [("a", 1), ("b", 2), ("c", 3)]);
        assert_eq!(hashes.len(), 3);
    }

    #[test]
    fn many_row_statements_for_sqlite_mark_parameters_with_question_marks() {
        assert_eq!(value_rows(2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(marks(1), "?");
    }
}
