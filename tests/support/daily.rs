//! The daily flow in a test's own words: records built by hand, a capture on a real store,
//! and the baseline read back from its tables.

use std::collections::HashMap;
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use kpr_bridge::checks::{CheckOptions, TestUsers};
use kpr_bridge::daily::capture::{self, CaptureError, CaptureOptions, Captured};
use kpr_bridge::daily::current::SourceInput;
use kpr_bridge::daily::state::{PersonKey, PersonState, ServiceState, Stored};
use kpr_bridge::mapping::Mapping;
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

/// Runs one capture on `store` for `date` and commits it.
pub async fn capture_on(
    store: &Store,
    sources: &[Source<'_>],
    date: &str,
    initial: bool,
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

/// The baseline as stored: services by their reference, persons by key.
pub struct Baseline {
    pub services: HashMap<String, ServiceState>,
    /// `(source, local id)` → reference.
    pub refs: HashMap<(String, String), String>,
    pub persons: HashMap<PersonKey, PersonState>,
}

pub async fn baseline(store: &Store) -> Baseline {
    let services: Vec<(String, String, String, String)> = match store {
        Store::Sqlite(pool) => {
            sqlx::query_as("SELECT source, local_id, service_ref, state FROM baseline_services")
                .fetch_all(pool)
                .await
                .unwrap()
        }
        Store::Postgres(pool) => {
            sqlx::query_as("SELECT source, local_id, service_ref, state FROM baseline_services")
                .fetch_all(pool)
                .await
                .unwrap()
        }
    };
    let persons: Vec<(String, String)> = match store {
        Store::Sqlite(pool) => sqlx::query_as("SELECT person_key, state FROM baseline_persons")
            .fetch_all(pool)
            .await
            .unwrap(),
        Store::Postgres(pool) => sqlx::query_as("SELECT person_key, state FROM baseline_persons")
            .fetch_all(pool)
            .await
            .unwrap(),
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
        persons: persons
            .into_iter()
            .map(|(key, state)| {
                (
                    key.parse().unwrap(),
                    PersonState::from_text(&state).unwrap(),
                )
            })
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
        ("baseline_persons", "person_key"),
        ("daily_events", "seq"),
        ("daily_identities", "person_key"),
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
