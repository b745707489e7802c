//! The EPJ's own database as a source: PostgreSQL, MySQL/MariaDB or SQLite through sqlx.
//!
//! The configuration gives one read-only query per record kind whose result columns are the
//! extract's columns. Each value becomes the text an extract would hold (a date
//! `2025-03-01`, hours `7.5`), and the rows go through the same reader as an extract's, so
//! the same data gives the same records from either origin.
//!
//! All queries run in one read-only transaction on one connection: they see one snapshot of
//! the EPJ (no service without its person because a person was added in between), and a
//! query that would write fails instead of writing. Rows are streamed: a thread of the
//! source's own drives the connection and hands text rows over in batches, as the extract
//! reader's threads do.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::types::Decimal;
use sqlx::{
    Column, ColumnIndex, Connection, Database, Decode, Executor, IntoArguments, MySql, Postgres,
    Row as _, Sqlite, Statement, TypeInfo, ValueRef,
};

use super::problem::{Place, Problem, Problems};
use super::reader::{ReadSummary, RecordKind, RecordSink, Tables, read_records};
use super::table::{BATCHES_AHEAD, Entry, RowBatch, Table, duplicated_column, missing_columns};
use crate::config::Queries;
use crate::redact::hide_identity_numbers;

/// How long to wait for the database server to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads every kind of record from the database at `url` into `sink`. `Err` only when the
/// source as a whole cannot be used (no connection, no read-only transaction); a failing
/// query, a missing column or a bad value is a problem in the summary.
pub fn read_database(
    source: &str,
    url: &str,
    queries: &Queries,
    sink: &mut impl RecordSink,
) -> Result<ReadSummary, Problem> {
    let shown_url = crate::config::url::redacted(url);
    let backend = match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("postgres" | "postgresql") => Backend::Postgres,
        Some("mysql" | "mariadb") => Backend::MySql,
        Some("sqlite") => Backend::Sqlite,
        _ => {
            return Err(Problem::file(
                &format!("source '{source}'"),
                format!("has the URL {shown_url}, which names no database kpr-bridge reads"),
                "use a postgres://, mysql:// or sqlite: URL",
            ));
        }
    };
    let (opened_sender, opened) = mpsc::sync_channel(1);
    let job = Job {
        source: source.to_string(),
        url: url.to_string(),
        shown_url,
        queries: queries.clone(),
        opened: opened_sender,
    };
    let thread = std::thread::Builder::new()
        .name(format!("read {source}"))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => match backend {
                    Backend::Postgres => runtime.block_on(run::<Postgres>(job)),
                    Backend::MySql => runtime.block_on(run::<MySql>(job)),
                    Backend::Sqlite => runtime.block_on(run::<Sqlite>(job)),
                },
                Err(e) => {
                    let _ = job.opened.send(Opened::Unusable(job.problem(
                        format!("cannot be read: no runtime to read it ({e})"),
                        "the system is out of threads or memory; try again when it has more",
                    )));
                }
            }
        })
        .map_err(|e| {
            Problem::file(
                &format!("source '{source}'"),
                format!("cannot be read: no thread to read it ({e})"),
                "the system is out of threads or memory; try again when it has more",
            )
        })?;
    let mut tables = QueryTables {
        source,
        opened,
        thread: Some(thread),
    };
    // The first word from the thread says whether the source can be read at all.
    let start = tables.opened.recv();
    match start {
        Ok(Opened::Connected) => {}
        Ok(Opened::Unusable(problem)) => {
            tables.join();
            return Err(problem);
        }
        _ => {
            tables.join();
            return Err(Problem::file(
                &format!("source '{source}'"),
                "stopped before it connected",
                "this is a defect in kpr-bridge; please report it with the log",
            ));
        }
    }
    let summary = read_records(&mut tables, sink);
    tables.join();
    Ok(summary)
}

enum Backend {
    Postgres,
    MySql,
    Sqlite,
}

/// What the reading thread says, in the order of [`RecordKind::ALL`] after `Connected`.
enum Opened {
    Connected,
    Unusable(Problem),
    /// The rows of one kind follow in `full`; `problems` are about its columns.
    Table {
        kind: RecordKind,
        has_column: Vec<bool>,
        problems: Vec<Problem>,
        full: Receiver<RowBatch>,
        spent: mpsc::Sender<RowBatch>,
    },
    /// No query for this kind, or a query that could not run (the problem says why).
    Nothing {
        kind: RecordKind,
        problem: Option<Problem>,
    },
}

/// The reader's side: takes each kind's rows as the thread opens them.
struct QueryTables<'a> {
    source: &'a str,
    opened: Receiver<Opened>,
    thread: Option<JoinHandle<()>>,
}

impl QueryTables<'_> {
    /// Waits for the thread, passing a panic on: a defect must not pass as an empty source.
    fn join(&mut self) {
        if let Some(thread) = self.thread.take()
            && let Err(panic) = thread.join()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Tables for QueryTables<'_> {
    fn open(&mut self, kind: RecordKind, problems: &mut Problems) -> Option<Table> {
        let place = query_place(self.source, kind);
        match self.opened.recv() {
            Ok(Opened::Table {
                kind: opened,
                has_column,
                problems: column_problems,
                full,
                spent,
            }) if opened == kind => {
                for problem in column_problems {
                    problems.push(problem);
                }
                Some(Table::new(place, None, has_column, full, spent, None))
            }
            Ok(Opened::Nothing {
                kind: opened,
                problem,
            }) if opened == kind => {
                if let Some(problem) = problem {
                    problems.push(problem);
                }
                None
            }
            _ => {
                problems.push(Problem::file(
                    &place.name,
                    "was not read: the reading thread stopped",
                    "this is a defect in kpr-bridge; please report it with the log",
                ));
                None
            }
        }
    }
}

fn query_place(source: &str, kind: RecordKind) -> Place {
    Place {
        name: format!("{source} {} query", kind.as_str()),
        query: true,
    }
}

/// What the reading thread needs.
struct Job {
    source: String,
    url: String,
    shown_url: String,
    queries: Queries,
    opened: SyncSender<Opened>,
}

impl Job {
    fn problem(&self, what: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem::file(&format!("source '{}'", self.source), what, fix)
    }
}

/// How one kind of database turns a value into the extract's text, and how it is read.
trait Dialect: Database {
    /// Statements that begin a read-only transaction over one snapshot.
    const READ_ONLY: &'static [&'static str];

    /// Whether a result column of `type_name` can be read; `None` when only the values can
    /// tell (SQLite's columns have no fixed type).
    fn readable(type_name: &str) -> Option<bool>;

    /// Appends a non-null value's text to `out`; `Err` names a type the format cannot take.
    fn append(value: Self::ValueRef<'_>, out: &mut String) -> Result<(), String>;
}

impl Dialect for Postgres {
    const READ_ONLY: &'static [&'static str] = &["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"];

    fn readable(type_name: &str) -> Option<bool> {
        Some(matches!(
            type_name,
            "TEXT"
                | "VARCHAR"
                | "CHAR"
                | "NAME"
                | "INT2"
                | "INT4"
                | "INT8"
                | "NUMERIC"
                | "FLOAT4"
                | "FLOAT8"
                | "DATE"
                | "TIMESTAMP"
                | "TIMESTAMPTZ"
        ))
    }

    fn append(value: Self::ValueRef<'_>, out: &mut String) -> Result<(), String> {
        let name = value.type_info().name().to_string();
        match name.as_str() {
            "TEXT" | "VARCHAR" | "CHAR" | "NAME" => decode::<Self, String>(value, out, text),
            "INT2" => decode::<Self, i16>(value, out, number),
            "INT4" => decode::<Self, i32>(value, out, number),
            "INT8" => decode::<Self, i64>(value, out, number),
            "NUMERIC" => decode::<Self, Decimal>(value, out, decimal),
            "FLOAT4" => decode::<Self, f32>(value, out, number),
            "FLOAT8" => decode::<Self, f64>(value, out, number),
            "DATE" => decode::<Self, NaiveDate>(value, out, date),
            "TIMESTAMP" => decode::<Self, NaiveDateTime>(value, out, |t, o| date(t.date(), o)),
            "TIMESTAMPTZ" => decode::<Self, DateTime<Utc>>(value, out, local_date),
            _ => Err(name),
        }
    }
}

impl Dialect for MySql {
    const READ_ONLY: &'static [&'static str] = &[
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
    ];

    fn readable(type_name: &str) -> Option<bool> {
        Some(mysql_kind(type_name).is_some())
    }

    fn append(value: Self::ValueRef<'_>, out: &mut String) -> Result<(), String> {
        let name = value.type_info().name().to_string();
        match mysql_kind(&name) {
            Some(MySqlKind::Text) => decode::<Self, String>(value, out, text),
            Some(MySqlKind::Bytes) => decode::<Self, Vec<u8>>(value, out, |bytes, out| {
                text(String::from_utf8_lossy(&bytes).into_owned(), out)
            }),
            Some(MySqlKind::Signed) => decode::<Self, i64>(value, out, number),
            Some(MySqlKind::Unsigned) => decode::<Self, u64>(value, out, number),
            Some(MySqlKind::Decimal) => decode::<Self, Decimal>(value, out, decimal),
            Some(MySqlKind::Float) => decode::<Self, f64>(value, out, number),
            Some(MySqlKind::Date) => decode::<Self, NaiveDate>(value, out, date),
            Some(MySqlKind::DateTime) => {
                decode::<Self, NaiveDateTime>(value, out, |t, o| date(t.date(), o))
            }
            Some(MySqlKind::Timestamp) => decode::<Self, DateTime<Utc>>(value, out, local_date),
            // A column of NULLs only (`SELECT NULL AS district`) has no values to append.
            Some(MySqlKind::Null) => Ok(()),
            None => Err(name),
        }
    }
}

enum MySqlKind {
    Text,
    Bytes,
    Signed,
    Unsigned,
    Decimal,
    Float,
    Date,
    DateTime,
    Timestamp,
    Null,
}

fn mysql_kind(type_name: &str) -> Option<MySqlKind> {
    Some(match type_name {
        "VARCHAR" | "CHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" => {
            MySqlKind::Text
        }
        // Text from an expression can come as binary (CONCAT with a number, say).
        "VARBINARY" | "BINARY" => MySqlKind::Bytes,
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => MySqlKind::Signed,
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
        | "BIGINT UNSIGNED" => MySqlKind::Unsigned,
        "DECIMAL" => MySqlKind::Decimal,
        "FLOAT" | "DOUBLE" => MySqlKind::Float,
        "DATE" => MySqlKind::Date,
        "DATETIME" => MySqlKind::DateTime,
        "TIMESTAMP" => MySqlKind::Timestamp,
        "NULL" => MySqlKind::Null,
        _ => return None,
    })
}

impl Dialect for Sqlite {
    /// `query_only` makes any write fail; a deferred transaction still reads one snapshot.
    const READ_ONLY: &'static [&'static str] = &["PRAGMA query_only = ON", "BEGIN"];

    fn readable(_type_name: &str) -> Option<bool> {
        None
    }

    fn append(value: Self::ValueRef<'_>, out: &mut String) -> Result<(), String> {
        // The value's own storage class, whatever the column was declared as.
        let name = value.type_info().name().to_string();
        match name.as_str() {
            "TEXT" => decode::<Self, String>(value, out, text),
            "INTEGER" => decode::<Self, i64>(value, out, number),
            "REAL" => decode::<Self, f64>(value, out, number),
            _ => Err(name),
        }
    }
}

fn decode<'r, DB: Database, T: Decode<'r, DB>>(
    value: DB::ValueRef<'r>,
    out: &mut String,
    write: impl FnOnce(T, &mut String),
) -> Result<(), String> {
    let name = value.type_info().name().to_string();
    let decoded = T::decode(value).map_err(|_| name)?;
    write(decoded, out);
    Ok(())
}

/// Text values are trimmed, as an extract's fields are (CHAR columns come padded).
fn text(value: String, out: &mut String) {
    out.push_str(value.trim_ascii());
}

fn number(value: impl std::fmt::Display, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(out, "{value}");
}

/// `7.50` as `7.5`: the scale of a NUMERIC column is not part of the value.
fn decimal(value: Decimal, out: &mut String) {
    number(value.normalize(), out);
}

fn date(value: NaiveDate, out: &mut String) {
    number(value.format("%Y-%m-%d"), out);
}

/// A point in time is a day in Norway.
fn local_date(value: DateTime<Utc>, out: &mut String) {
    date(
        value.with_timezone(&chrono_tz::Europe::Oslo).date_naive(),
        out,
    );
}

/// The reading thread: connects, begins the read-only transaction, then runs each query in
/// the order the reader asks for them.
async fn run<DB: Dialect>(job: Job)
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    let connecting = tokio::time::timeout(CONNECT_TIMEOUT, DB::Connection::connect(&job.url));
    let mut connection = match connecting.await {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => {
            let _ = job.opened.send(Opened::Unusable(job.problem(
                format!(
                    "cannot connect to {}: {}",
                    job.shown_url,
                    hide_identity_numbers(&error.to_string())
                ),
                "check that the database server runs and accepts the host, user and password in the source's url",
            )));
            return;
        }
        Err(_) => {
            let _ = job.opened.send(Opened::Unusable(job.problem(
                format!(
                    "cannot connect to {}: no answer within {} s",
                    job.shown_url,
                    CONNECT_TIMEOUT.as_secs()
                ),
                "check the host and port in the source's url, and that a firewall lets kpr-bridge through",
            )));
            return;
        }
    };
    for statement in DB::READ_ONLY {
        if let Err(error) = sqlx::raw_sql(statement).execute(&mut connection).await {
            let _ = job.opened.send(Opened::Unusable(job.problem(
                format!(
                    "cannot begin a read-only transaction on {} ({statement}): {}",
                    job.shown_url,
                    hide_identity_numbers(&error.to_string())
                ),
                "check that the database user may read; kpr-bridge never writes to the EPJ",
            )));
            return;
        }
    }
    if job.opened.send(Opened::Connected).is_err() {
        return;
    }
    for kind in RecordKind::ALL {
        let place = query_place(&job.source, kind);
        let Some(sql) = job.queries.get(kind) else {
            let problem = kind.is_required().then(|| {
                Problem::file(
                    &place.name,
                    "is not configured",
                    format!(
                        "give the source a query for {} under [source.queries]",
                        kind.as_str()
                    ),
                )
            });
            if job.opened.send(Opened::Nothing { kind, problem }).is_err() {
                return;
            }
            continue;
        };
        if !run_query::<DB>(&mut connection, sql, kind, &place, &job.opened).await {
            return;
        }
    }
    // Nothing was written; rolling back ends the snapshot. Closing is a courtesy.
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut connection).await;
    let _ = connection.close().await;
}

/// Prepares and streams one query. False when the reader has gone away.
async fn run_query<DB: Dialect>(
    connection: &mut DB::Connection,
    sql: &str,
    kind: RecordKind,
    place: &Place,
    opened: &SyncSender<Opened>,
) -> bool
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    let fail = |what: String, fix: &str| Opened::Nothing {
        kind,
        problem: Some(Problem::file(&place.name, what, fix)),
    };
    let statement = match connection.prepare(sql).await {
        Ok(statement) => statement,
        Err(error) => {
            return opened
                .send(fail(
                    format!("fails: {}", hide_identity_numbers(&error.to_string())),
                    "correct the query in the configuration; try it in the database's own client first",
                ))
                .is_ok();
        }
    };
    let columns = match result_columns::<DB>(statement.columns(), kind, place) {
        Ok(columns) => columns,
        Err(problem) => {
            return opened
                .send(Opened::Nothing {
                    kind,
                    problem: Some(problem),
                })
                .is_ok();
        }
    };
    let (full_sender, full) = mpsc::sync_channel(BATCHES_AHEAD);
    let (spent, spent_receiver) = mpsc::channel();
    let has_column = columns.positions.iter().map(Option::is_some).collect();
    let announced = opened.send(Opened::Table {
        kind,
        has_column,
        problems: columns.problems,
        full,
        spent,
    });
    if announced.is_err() {
        return false;
    }

    let mut rows = statement.query().fetch(&mut *connection);
    let mut batch = RowBatch::default();
    let mut number = 0;
    loop {
        let row = match rows.try_next().await {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(error) => {
                batch.entries.push(Entry::Problem(Box::new(Problem::file(
                    &place.name,
                    match number {
                        0 => format!("fails: {}", hide_identity_numbers(&error.to_string())),
                        _ => format!(
                            "stopped after row {number}: {}",
                            hide_identity_numbers(&error.to_string())
                        ),
                    },
                    "correct the query, or check the database, then run again",
                ))));
                break;
            }
        };
        number += 1;
        let first = batch.fields.len();
        for (wanted, position) in columns.positions.iter().enumerate() {
            let start = batch.text.len();
            if let Some(position) = *position {
                let appended = match row.try_get_raw(position) {
                    Ok(value) if value.is_null() => Ok(()),
                    Ok(value) => DB::append(value, &mut batch.text),
                    Err(error) => Err(error.to_string()),
                };
                // As in an extract: a NUL inside a text value empties the value, reported.
                if appended.is_ok() && batch.text[start..].contains('\0') {
                    batch.text.truncate(start);
                    batch.entries.push(Entry::Problem(Box::new(
                        Problem::at(
                            place,
                            number,
                            "holds a NUL byte (binary data inside text); the value is read as empty",
                            "correct the value in the EPJ",
                        )
                        .in_column(kind.columns()[wanted]),
                    )));
                }
                if let Err(type_name) = appended {
                    batch.text.truncate(start);
                    batch.entries.push(Entry::Problem(Box::new(
                        Problem::at(
                            place,
                            number,
                            format!("holds a value of type {type_name}, which cannot be read as text, a number or a date; it counts as empty"),
                            "cast the column in the query, such as CAST(x AS TEXT)",
                        )
                        .in_column(kind.columns()[wanted]),
                    )));
                }
            }
            batch.fields.push(start..batch.text.len());
        }
        batch.entries.push(Entry::Row {
            line: number,
            fields: first..batch.fields.len(),
        });
        if batch.is_full() {
            let mut next = spent_receiver.try_recv().unwrap_or_default();
            next.clear();
            if full_sender
                .send(std::mem::replace(&mut batch, next))
                .is_err()
            {
                return false;
            }
        }
    }
    full_sender.send(batch).is_ok()
}

/// Where each wanted column is in the result, and what is wrong with the columns.
struct ResultColumns {
    positions: Vec<Option<usize>>,
    problems: Vec<Problem>,
}

/// Matches the result's columns to the kind's, by name, case-insensitively. `Err` when a
/// required column is missing or of a type that cannot be read.
fn result_columns<DB: Dialect>(
    columns: &[DB::Column],
    kind: RecordKind,
    place: &Place,
) -> Result<ResultColumns, Problem> {
    let names: Vec<String> = columns.iter().map(|c| c.name().to_lowercase()).collect();
    let mut result = ResultColumns {
        positions: Vec::new(),
        problems: Vec::new(),
    };
    let missing = missing_columns(kind.required(), &names);
    if !missing.is_empty() {
        return Err(Problem::file(
            &place.name,
            format!(
                "returns no column {} (it returns: {})",
                missing.join(", "),
                names.join(", ")
            ),
            format!(
                "name the result columns as the extract's, with AS: {}",
                kind.required().join(", ")
            ),
        ));
    }
    if let Some((column, first, second)) = duplicated_column(kind.columns(), &names) {
        return Err(Problem::file(
            &place.name,
            format!("returns the column {column} twice, as result columns {first} and {second}"),
            "name each result column once, with AS; which of the two holds the value cannot be told",
        ));
    }
    for column in kind.columns() {
        let position = names.iter().position(|n| n == column);
        let type_name = position.map(|p| columns[p].type_info().name());
        let readable = type_name.and_then(DB::readable);
        let position =
            match (position, readable) {
                (None, _) => {
                    result.problems.push(
                        Problem::file(
                            &place.name,
                            "is not in the result; its values count as empty",
                            format!("add it to the query: … AS {column}"),
                        )
                        .in_column(column)
                        .not_fatal(),
                    );
                    None
                }
                (Some(_), Some(false)) => {
                    let type_name = type_name.unwrap_or_default();
                    let required = kind.required().contains(column);
                    let problem = Problem::file(
                    &place.name,
                    format!(
                        "has type {type_name}, which cannot be read as text, a number or a date{}",
                        if required { "" } else { "; its values count as empty" }
                    ),
                    format!("cast it in the query, such as CAST(… AS TEXT) AS {column}"),
                )
                .in_column(column);
                    if required {
                        return Err(problem);
                    }
                    result.problems.push(problem.not_fatal());
                    None
                }
                (position, _) => position,
            };
        result.positions.push(position);
    }
    Ok(result)
}

/// The query of one kind of record.
impl Queries {
    pub fn get(&self, kind: RecordKind) -> Option<&str> {
        match kind {
            RecordKind::Persons => &self.persons,
            RecordKind::Services => &self.services,
            RecordKind::Assessments => &self.assessments,
            RecordKind::Diagnoses => &self.diagnoses,
            RecordKind::Attributes => &self.attributes,
        }
        .as_deref()
    }
}
