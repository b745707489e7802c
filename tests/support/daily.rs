//! The daily flow in a test's own words: records built by hand, a capture on a real store,
//! and the baseline and the notifications read back from its tables.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use chrono::{NaiveDate, TimeZone, Utc};
use kpr_bridge::checks::{CheckOptions, TestUsers};
use kpr_bridge::config::daily::{DEFAULT_SERVICE_TYPES, Daily};
use kpr_bridge::crypto::at_rest::IdentityKey;
use kpr_bridge::daily::capture::{self, CaptureError, CaptureOptions, Captured};
use kpr_bridge::daily::current::SourceInput;
use kpr_bridge::daily::state::{ServiceState, Stored as _};
use kpr_bridge::mapping::Mapping;
use kpr_bridge::message::ipl56::{self, Notification};
use kpr_bridge::model::assessment::AssessmentVariables;
use kpr_bridge::model::{Decision, Gender, Ident, Person, Service, ident};
use kpr_bridge::source::Snapshot;
use kpr_bridge::store::Store;
use sqlx::Row;

pub const MAPPING: &str = r#"
[[rule]]
local_type = "MATOMBR"
code = "5"
[[rule]]
local_type = "TRYGGH"
code = "6"
[[rule]]
local_type = "PRAKT"
code = "1"
[[rule]]
local_type = "STOTTEK"
code = "9"
[[rule]]
local_type = "REHAB"
attribute = "rehab_outside_institution"
"#;

pub const ORGNR: &str = "974760673";
pub const OTHER_ORGNR: &str = "964338531";

pub fn mapping() -> Mapping {
    Mapping::parse(MAPPING, Path::new("test-mapping.toml")).unwrap()
}

pub fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A valid synthetic identity number, different for each `n`.
pub fn ident_number(n: u32) -> String {
    let birth = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + chrono::Days::new(u64::from(n) * 7);
    (0..500)
        .find_map(|individual| ident::synthetic(birth, individual))
        .unwrap()
}

pub fn person(id: &str, n: u32, municipality: &str) -> Person {
    Person {
        person_id: id.into(),
        ident: Some(Ident::new(ident_number(n))),
        name: None,
        birth_year: Some(1940),
        gender: Some(Gender::Female),
        municipality: Some(municipality.into()),
        district: None,
        household: None,
    }
}

/// A granted service from `start`, open, with no hours or provider.
pub fn service(id: &str, person: &str, local_type: &str, start: &str) -> Service {
    Service {
        service_id: id.into(),
        person_id: person.into(),
        local_type: local_type.into(),
        decision: Decision::Granted,
        decided_on: None,
        start: Some(day(start)),
        end: None,
        hours_per_week: None,
        provider_orgnr: None,
        pauses: vec![],
    }
}

/// One source as the capture sees it.
pub struct Source<'a> {
    pub name: &'a str,
    pub records: Option<&'a Snapshot>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub complete: bool,
}

pub fn only(records: &Snapshot) -> Vec<Source<'_>> {
    vec![Source {
        name: "epj",
        records: Some(records),
        from: None,
        to: None,
        complete: true,
    }]
}

/// The `[daily]` settings of every test capture: all types in force, and one identity key
/// file for the whole test process (made once, before any capture needs it).
pub fn daily() -> &'static Daily {
    static DAILY: LazyLock<(tempfile::TempDir, Daily)> = LazyLock::new(|| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("identity.key");
        IdentityKey::open(&file, true).unwrap();
        let daily = Daily {
            service_types: DEFAULT_SERVICE_TYPES.to_vec(),
            max_notifications: 10_000,
            msg_type: kpr_bridge::model::register::DEFAULT_MSG_TYPE.into(),
            identity_key_file: file,
        };
        (dir, daily)
    });
    &DAILY.1
}

pub fn identity_key() -> IdentityKey {
    IdentityKey::open(&daily().identity_key_file, false).unwrap()
}

/// Runs one capture on `store` for `date` and commits it; `initial` makes it the initial
/// load from `date` itself (what is active on the date, nothing before).
pub async fn capture_on(
    store: &Store,
    sources: &[Source<'_>],
    date: &str,
    initial: bool,
) -> Result<Captured, CaptureError> {
    capture_with(store, sources, date, initial.then(|| day(date))).await
}

/// [`capture_on`] with the initial load's start date given.
pub async fn capture_with(
    store: &Store,
    sources: &[Source<'_>],
    date: &str,
    initial: Option<NaiveDate>,
) -> Result<Captured, CaptureError> {
    let mapping = mapping();
    let inputs: Vec<SourceInput> = sources
        .iter()
        .map(|s| SourceInput {
            name: s.name,
            records: s.records,
            mapping: Some(&mapping),
            from: s.from.map(day),
            to: s.to.map(day),
            complete: s.complete,
            ids: kpr_bridge::source::LocalIds::Lasting,
        })
        .collect();
    let test_users = TestUsers::default();
    let date = day(date);
    let checks = CheckOptions {
        year: 2026,
        production: false,
        test_users: &test_users,
        variables: AssessmentVariables::builtin(),
    };
    let mut tx = store.begin_daily().await?;
    let captured = capture::capture(
        &mut tx,
        &inputs,
        &checks,
        daily(),
        CaptureOptions {
            date,
            initial,
            now: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(captured)
}

/// One stored notification: its chain, where it came from, and its content with the
/// identity number unsealed.
#[derive(Clone, Debug)]
pub struct Stored {
    pub notification: Notification,
    pub reporting_date: NaiveDate,
    pub source: String,
    pub local_id: String,
    pub first_message: Option<String>,
}

/// Every notification in the store, by number.
pub async fn notifications(store: &Store) -> Vec<Stored> {
    notifications_with(store, &identity_key()).await
}

/// [`notifications`] unsealed with `key`.
pub async fn notifications_with(store: &Store, key: &IdentityKey) -> Vec<Stored> {
    const SQL: &str = "SELECT body, identity, CAST(reporting_date AS TEXT), source, local_id,
        first_message FROM daily_notifications ORDER BY number";
    type Row = (String, String, String, String, String, Option<String>);
    let rows: Vec<Row> = match store {
        Store::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
    };
    rows.into_iter()
        .map(|(body, sealed, date, source, local_id, first_message)| {
            let mut notification: Notification = serde_json::from_str(&body).unwrap();
            assert_eq!(
                notification.event.user.fid, "",
                "no identity number in the body"
            );
            notification.event.user.fid = key
                .open_sealed(&sealed, &notification.guid.to_string())
                .unwrap();
            Stored {
                notification,
                reporting_date: day(&date),
                source,
                local_id,
                first_message,
            }
        })
        .collect()
}

/// The notifications numbered after `after`.
pub async fn notifications_after(store: &Store, after: i64) -> Vec<Notification> {
    notifications(store)
        .await
        .into_iter()
        .map(|s| s.notification)
        .filter(|n| n.number > after)
        .collect()
}

/// The chain holds: numbers 1, 2, 3, … without a gap, each notification's previous the one
/// before, the first's the empty GUID.
pub fn assert_chain(all: &[Notification]) {
    let mut previous = ipl56::FIRST_PREVIOUS;
    for (at, n) in all.iter().enumerate() {
        assert_eq!(n.number, at as i64 + 1, "numbers ascend without a gap");
        assert_eq!(
            n.previous, previous,
            "notification {} chains to the one before",
            n.number
        );
        previous = n.guid;
    }
}

/// The baseline as stored: services by their tjenesteID.
pub struct Baseline {
    pub services: HashMap<String, ServiceState>,
    /// `(source, local id)` → tjenesteID.
    pub refs: HashMap<(String, String), String>,
}

pub async fn baseline(store: &Store) -> Baseline {
    const SQL: &str = "SELECT source, local_id, service_id, state FROM baseline_services";
    let services: Vec<(String, String, String, String)> = match store {
        Store::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
    };
    Baseline {
        refs: services
            .iter()
            .map(|(source, id, r, _)| ((source.clone(), id.clone()), r.clone()))
            .collect(),
        services: services
            .into_iter()
            .map(|(_, _, r, state)| (r, ServiceState::from_text(&state).unwrap()))
            .collect(),
    }
}

/// Every row of every daily table and the outbox as text, to compare a store before and
/// after.
pub async fn dump(pool: &sqlx::SqlitePool) -> Vec<String> {
    let mut rows = Vec::new();
    for (table, order) in [
        ("daily_state", "id"),
        ("baseline_services", "source, local_id"),
        ("daily_persons", "person_key"),
        ("daily_notifications", "number"),
        ("daily_messages", "msg_id"),
        ("daily_message_notifications", "msg_id, number"),
        ("daily_captures", "id"),
        ("daily_shipments", "shipment"),
        ("outbox", "msg_id"),
    ] {
        let sql = format!("SELECT * FROM {table} ORDER BY {order}");
        for row in sqlx::query(&sql).fetch_all(pool).await.unwrap() {
            let cells: Vec<String> = (0..row.len())
                .map(|i| {
                    let text = row.try_get::<Option<String>, _>(i).ok().flatten();
                    let number = || row.try_get::<Option<i64>, _>(i).ok().flatten();
                    text.or_else(|| number().map(|n| n.to_string()))
                        .unwrap_or_default()
                })
                .collect();
            rows.push(format!("{table}: {}", cells.join("|")));
        }
    }
    rows
}
