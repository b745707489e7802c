//! The daily flow's tables: baselines (what was last reported per service and per person),
//! events, the identities the next identity message needs, and the record of each capture
//! and each ship.
//!
//! Everything goes through [`DailyTx`], one transaction: a capture writes its events and the
//! new baseline together, a ship writes its two messages to the outbox and marks its events
//! together (invariant 1). Captures and ships never overlap: SQLite's `BEGIN IMMEDIATE`
//! holds the write lock, PostgreSQL takes a transaction-scoped advisory lock.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;

use super::outbox::NewMessage;
use super::{Store, StoreError, on_pool};
use crate::daily::event::Event;
use crate::daily::state::PersonKey;

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
}

/// A service's baseline row.
#[derive(Clone, Debug)]
pub struct BaselineService {
    pub source: String,
    pub local_id: String,
    pub service_ref: String,
    pub last_event: Option<String>,
    pub hash: i64,
    pub state: String,
}

/// A person's baseline row.
#[derive(Clone, Debug)]
pub struct BaselinePerson {
    pub key: PersonKey,
    pub last_event: Option<String>,
    pub hash: i64,
    pub state: String,
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

/// Hashes of every person's baseline, sorted by key.
#[derive(Clone, Debug, Default)]
pub struct PersonHashes(Vec<(PersonKey, i64)>);

impl PersonHashes {
    pub fn get(&self, key: &PersonKey) -> Option<i64> {
        let at = self.0.binary_search_by_key(key, |(k, _)| *k).ok()?;
        Some(self.0[at].1)
    }

    pub fn contains_key(&self, key: &PersonKey) -> bool {
        self.get(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads `key TAB hash` lines; `None` unless there are exactly `count` of them.
    fn parse(text: &str, count: usize) -> Option<PersonHashes> {
        let mut hashes = Vec::with_capacity(count);
        for line in text.split('\n') {
            let (key, hash) = line.split_once('\t')?;
            hashes.push((key.parse().ok()?, hash.parse().ok()?));
        }
        (hashes.len() == count).then(|| PersonHashes::sorted(hashes))
    }

    fn sorted(mut hashes: Vec<(PersonKey, i64)>) -> PersonHashes {
        hashes.sort_unstable_by_key(|(key, _)| *key);
        PersonHashes(hashes)
    }
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
    pub const PERSONS_SQLITE: &str = "SELECT COUNT(*),
        group_concat(person_key || char(9) || hash, char(10)) FROM baseline_persons";
    pub const PERSONS_POSTGRES: &str = r#"SELECT COUNT(*),
        string_agg(person_key || E'\t' || hash, E'\n') FROM baseline_persons"#;
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

/// One ship, as kept in `daily_shipments`.
#[derive(Clone, Debug)]
pub struct ShipmentRecord {
    pub shipment: String,
    pub reporting_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub events: i64,
    pub fagmelding: Option<String>,
    pub identmelding: Option<String>,
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
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext('kpr-bridge daily'))")
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
        let row: Option<(String, NaiveDate)> = on_tx!(self, tx => {
            sqlx::query_as("SELECT pseudonym_secret, initial_date FROM daily_state WHERE id = 1")
                .fetch_optional(&mut **tx)
                .await?
        });
        Ok(row.map(|(pseudonym_secret, initial_date)| DailyState {
            pseudonym_secret,
            initial_date,
        }))
    }

    pub async fn create_state(
        &mut self,
        state: &DailyState,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO daily_state (id, pseudonym_secret, initial_date, created_at)
                 VALUES (1, $1, $2, $3)",
            )
            .bind(&state.pseudonym_secret)
            .bind(state.initial_date)
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
        const SELECT: &str = "SELECT source, local_id, service_ref, last_event, hash, state
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
                "SELECT source, local_id, service_ref, last_event, hash, state FROM baseline_services
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
        const INSERT: &str = "INSERT INTO baseline_services (source, local_id, service_ref, last_event, hash, state)";
        const CONFLICT: &str = "ON CONFLICT (source, local_id) DO UPDATE SET
            service_ref = excluded.service_ref, last_event = excluded.last_event,
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
                            .bind(&row.service_ref)
                            .bind(&row.last_event)
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
                        .bind(column(chunk, |r| r.service_ref.as_str()))
                        .bind(column(chunk, |r| r.last_event.as_deref()))
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

    /// Every person's baseline hash: one aggregated text (see [`aggregate`]), or row by row
    /// if that does not read back.
    pub async fn person_hashes(&mut self) -> Result<PersonHashes, StoreError> {
        let parse = |count: i64, text: Option<&str>| match (usize::try_from(count), text) {
            (Ok(0), _) => Some(PersonHashes::default()),
            (Ok(count), Some(text)) => PersonHashes::parse(text, count),
            _ => None,
        };
        let parsed = match self {
            DailyTx::Sqlite(tx) => {
                let row = sqlx::query(aggregate::PERSONS_SQLITE)
                    .fetch_one(&mut **tx)
                    .await?;
                parse(row.try_get(0)?, row.try_get(1)?)
            }
            DailyTx::Postgres(tx) => {
                let row = sqlx::query(aggregate::PERSONS_POSTGRES)
                    .fetch_one(&mut **tx)
                    .await?;
                parse(row.try_get(0)?, row.try_get(1)?)
            }
        };
        if let Some(parsed) = parsed {
            return Ok(parsed);
        }
        let mut hashes = Vec::new();
        on_tx!(self, tx => {
            let mut rows = sqlx::query("SELECT person_key, hash FROM baseline_persons").fetch(&mut **tx);
            while let Some(row) = rows.try_next().await? {
                hashes.push((person_key(row.try_get(0)?)?, row.try_get(1)?));
            }
        });
        Ok(PersonHashes::sorted(hashes))
    }

    pub async fn persons(&mut self, keys: &[PersonKey]) -> Result<Vec<BaselinePerson>, StoreError> {
        const SELECT: &str =
            "SELECT person_key, last_event, hash, state FROM baseline_persons WHERE person_key";
        let mut rows = Vec::new();
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in keys.chunks(BATCH) {
                    let sql = format!("{SELECT} IN ({})", marks(chunk.len()));
                    let mut query = sqlx::query(&sql);
                    for key in chunk {
                        query = query.bind(key.to_string());
                    }
                    for row in query.fetch_all(&mut **tx).await? {
                        rows.push(person_row(&row)?);
                    }
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!("{SELECT} = ANY($1)");
                for chunk in keys.chunks(ARRAY_BATCH) {
                    let query = sqlx::query(&sql).bind(column(chunk, PersonKey::to_string));
                    for row in query.fetch_all(&mut **tx).await? {
                        rows.push(person_row(&row)?);
                    }
                }
            }
        }
        Ok(rows)
    }

    pub async fn upsert_persons(&mut self, rows: &[BaselinePerson]) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO baseline_persons (person_key, last_event, hash, state)";
        const CONFLICT: &str = "ON CONFLICT (person_key) DO UPDATE SET
            last_event = excluded.last_event, hash = excluded.hash, state = excluded.state";
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in rows.chunks(BATCH) {
                    let sql = format!("{INSERT} VALUES {} {CONFLICT}", value_rows(chunk.len(), 4));
                    let mut query = sqlx::query(&sql);
                    for row in chunk {
                        query = query
                            .bind(row.key.to_string())
                            .bind(&row.last_event)
                            .bind(row.hash)
                            .bind(&row.state);
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                let sql = format!(
                    "{INSERT} SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[])
                     {CONFLICT}"
                );
                for chunk in rows.chunks(ARRAY_BATCH) {
                    sqlx::query(&sql)
                        .bind(column(chunk, |r| r.key.to_string()))
                        .bind(column(chunk, |r| r.last_event.as_deref()))
                        .bind(column(chunk, |r| r.hash))
                        .bind(column(chunk, |r| r.state.as_str()))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Appends events captured for `date`, in order.
    pub async fn insert_events(
        &mut self,
        date: NaiveDate,
        events: &[Event],
    ) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO daily_events (event_id, reporting_date, person_key, kind,
            status, effective_on, registered_at, body)";
        let body = |event: &Event| serde_json::to_string(event).expect("events serialize to JSON");
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in events.chunks(BATCH) {
                    let sql = format!("{INSERT} VALUES {}", value_rows(chunk.len(), 8));
                    let mut query = sqlx::query(&sql);
                    for event in chunk {
                        query = query
                            .bind(event.id.to_string())
                            .bind(date)
                            .bind(event.person.to_string())
                            .bind(event.kind.as_str())
                            .bind(event.status.code())
                            .bind(event.effective_on)
                            .bind(event.registered_at)
                            .bind(body(event));
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                // In the arrays' order, which is the order of `seq`.
                let sql = format!(
                    "{INSERT} SELECT id, $2, person, kind, status, effective_on, registered_at, body
                     FROM UNNEST($1::text[], $3::text[], $4::text[], $5::text[], $6::date[],
                     $7::timestamptz[], $8::text[]) WITH ORDINALITY
                     AS e (id, person, kind, status, effective_on, registered_at, body, n)
                     ORDER BY n"
                );
                for chunk in events.chunks(ARRAY_BATCH) {
                    sqlx::query(&sql)
                        .bind(column(chunk, |e| e.id.to_string()))
                        .bind(date)
                        .bind(column(chunk, |e| e.person.to_string()))
                        .bind(column(chunk, |e| e.kind.as_str()))
                        .bind(column(chunk, |e| e.status.code()))
                        .bind(column(chunk, |e| e.effective_on))
                        .bind(column(chunk, |e| e.registered_at))
                        .bind(column(chunk, body))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Events not yet shipped whose reporting date is `date` or earlier, in capture order.
    pub async fn unshipped_events(&mut self, date: NaiveDate) -> Result<Vec<Event>, StoreError> {
        let bodies: Vec<String> = on_tx!(self, tx => {
            sqlx::query_scalar(
                "SELECT body FROM daily_events WHERE shipment IS NULL AND reporting_date <= $1
                 ORDER BY seq",
            )
            .bind(date)
            .fetch_all(&mut **tx)
            .await?
        });
        bodies
            .iter()
            .map(|body| {
                serde_json::from_str(body)
                    .map_err(|e| StoreError::Corrupt(format!("daily event: {e}")))
            })
            .collect()
    }

    pub async fn mark_shipped(
        &mut self,
        date: NaiveDate,
        shipment: &str,
    ) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "UPDATE daily_events SET shipment = $2 WHERE shipment IS NULL AND reporting_date <= $1",
            )
            .bind(date)
            .bind(shipment)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    pub async fn upsert_identities(
        &mut self,
        rows: &[(PersonKey, &str)],
    ) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO daily_identities (person_key, ident)";
        const CONFLICT: &str = "ON CONFLICT (person_key) DO UPDATE SET ident = excluded.ident";
        match self {
            DailyTx::Sqlite(tx) => {
                for chunk in rows.chunks(BATCH) {
                    let sql = format!("{INSERT} VALUES {} {CONFLICT}", value_rows(chunk.len(), 2));
                    let mut query = sqlx::query(&sql);
                    for (key, ident) in chunk {
                        query = query.bind(key.to_string()).bind(*ident);
                    }
                    query.execute(&mut **tx).await?;
                }
            }
            DailyTx::Postgres(tx) => {
                let sql =
                    format!("{INSERT} SELECT * FROM UNNEST($1::text[], $2::text[]) {CONFLICT}");
                for chunk in rows.chunks(ARRAY_BATCH) {
                    sqlx::query(&sql)
                        .bind(column(chunk, |(key, _)| key.to_string()))
                        .bind(column(chunk, |(_, ident)| *ident))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The identity numbers of these persons (those that have one stored).
    pub async fn identities(
        &mut self,
        keys: &[PersonKey],
    ) -> Result<Vec<(PersonKey, String)>, StoreError> {
        const SELECT: &str = "SELECT person_key, ident FROM daily_identities WHERE person_key";
        let mut rows: Vec<(String, String)> = Vec::with_capacity(keys.len());
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
            .map(|(key, ident)| Ok((person_key(&key)?, ident)))
            .collect()
    }

    /// Forgets the identity numbers no unshipped event needs any more.
    pub async fn forget_shipped_identities(&mut self) -> Result<(), StoreError> {
        on_tx!(self, tx => {
            sqlx::query(
                "DELETE FROM daily_identities WHERE person_key NOT IN
                 (SELECT person_key FROM daily_events WHERE shipment IS NULL)",
            )
            .execute(&mut **tx)
            .await?;
        });
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
                "INSERT INTO daily_shipments (shipment, reporting_date, at, events,
                 fagmelding_msg_id, identmelding_msg_id) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&record.shipment)
            .bind(record.reporting_date)
            .bind(record.at)
            .bind(record.events)
            .bind(&record.fagmelding)
            .bind(&record.identmelding)
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

/// A daily shipment that carried messages, with its events counted per kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippedDay {
    pub reporting_date: NaiveDate,
    pub shipment: String,
    pub fagmelding: Option<String>,
    pub identmelding: Option<String>,
    /// Each event kind (`start`, `end`, `residence_changed`, …) with how many went, by kind.
    pub kinds: Vec<(String, i64)>,
}

impl Store {
    /// Every daily shipment that carried events, in the order they were made.
    pub async fn shipped_days(&self) -> Result<Vec<ShippedDay>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "SELECT s.reporting_date, s.shipment, s.fagmelding_msg_id, s.identmelding_msg_id,
                        e.kind, COUNT(*) AS n
                 FROM daily_shipments s JOIN daily_events e ON e.shipment = s.shipment
                 GROUP BY s.at, s.reporting_date, s.shipment, s.fagmelding_msg_id,
                          s.identmelding_msg_id, e.kind
                 ORDER BY s.at, s.shipment, e.kind",
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<(ShippedDay, (String, i64)), StoreError> {
                Ok((
                    ShippedDay {
                        reporting_date: row.try_get("reporting_date")?,
                        shipment: row.try_get("shipment")?,
                        fagmelding: row.try_get("fagmelding_msg_id")?,
                        identmelding: row.try_get("identmelding_msg_id")?,
                        kinds: Vec::new(),
                    },
                    (row.try_get("kind")?, row.try_get("n")?),
                ))
            })
            .collect::<Result<Vec<_>, _>>()?
        });
        let mut days: Vec<ShippedDay> = Vec::new();
        for (day, kind) in rows {
            match days.last_mut() {
                Some(last) if last.shipment == day.shipment => last.kinds.push(kind),
                _ => days.push(ShippedDay {
                    kinds: vec![kind],
                    ..day
                }),
            }
        }
        Ok(days)
    }
}

fn person_row<R: Row>(row: &R) -> Result<BaselinePerson, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(BaselinePerson {
        key: person_key(row.try_get(0)?)?,
        last_event: row.try_get(1)?,
        hash: row.try_get(2)?,
        state: row.try_get(3)?,
    })
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
        service_ref: row.try_get(2)?,
        last_event: row.try_get(3)?,
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
    fn person_hashes_read_back_and_are_found_by_key() {
        let a = PersonKey([0xaa; 16]);
        let b = PersonKey([0x01; 16]);
        let text = format!("{a}\t-1\n{b}\t2");
        let hashes = PersonHashes::parse(&text, 2).unwrap();
        assert_eq!((hashes.get(&a), hashes.get(&b)), (Some(-1), Some(2)));
        assert!(!hashes.contains_key(&PersonKey([0; 16])));
        assert!(PersonHashes::parse(&text, 3).is_none());
        assert!(PersonHashes::parse("not a key\t1", 1).is_none());
    }

    #[test]
    fn many_row_statements_for_sqlite_mark_parameters_with_question_marks() {
        assert_eq!(value_rows(2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(marks(1), "?");
    }
}
