//! The baseline: what the register was last told per service (`baseline_services`), its
//! hashes read at once for the diff, and the rows a capture reads and writes back.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use sqlx::Row;

use super::StoreError;
use super::daily_tx::{ARRAY_BATCH, BATCH, DailyTx, column, marks, on_tx, value_rows};

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

impl DailyTx {
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
}
