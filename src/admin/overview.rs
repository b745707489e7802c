//! The overview: what needs action first (the same items as `kpr-bridge status`), then every
//! message sent or attempted — daily parts, re-sends, annual — filtered by state, kind and
//! date, with KPR's answer in words.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Europe::Oslo;
use serde::Deserialize;

use super::Shared;
use super::session::Session;
use super::view::{self, Chrome};
use crate::status::{self, codes, render};
use crate::store::admin::{ListedMessage, MessageFilter, MessageKind};
use crate::store::outbox::State as MessageState;

/// At most this many messages in the list.
const LISTED: i64 = 200;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// One message as a row of the list.
pub struct Row {
    pub msg_id: String,
    pub what: String,
    pub kind: &'static str,
    pub state: String,
    pub created: String,
    pub changed: String,
    pub receipt: String,
    /// The deciding receipt's error codes with their meaning (filled in for the list).
    pub codes: Vec<(String, String)>,
    pub notifications: String,
}

impl Row {
    pub fn new(listed: &ListedMessage) -> Row {
        let kind = match listed.kind {
            MessageKind::Daily => "daily",
            MessageKind::Resend => "re-send",
            MessageKind::Annual => "annual",
        };
        let mut what = status::what(&listed.row, listed.reporting_date, None);
        if let Some((part, parts)) = listed.part.filter(|(_, parts)| *parts > 1) {
            what.push_str(&format!(", part {part} of {parts}"));
        }
        if listed.kind == MessageKind::Resend {
            what = "notifications sent again".into();
        }
        Row {
            msg_id: listed.row.msg_id.clone(),
            what,
            kind,
            state: listed.row.state.to_string(),
            created: view::oslo(listed.row.created_at),
            changed: view::oslo(listed.row.state_at),
            receipt: listed
                .receipt_status
                .map(|s| format!("{s} {}", codes::receipt_status(s)))
                .unwrap_or_default(),
            codes: Vec::new(),
            notifications: listed
                .notifications
                .map(|n| n.to_string())
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct Page {
    chrome: Chrome,
    actions: Vec<String>,
    rows: Vec<Row>,
    problems: Vec<String>,
    state: String,
    kind: String,
    from: String,
    to: String,
    /// Each choice with whether it is the one chosen.
    states: Vec<(&'static str, bool)>,
    kinds: Vec<(&'static str, bool)>,
}

pub async fn page(
    State(admin): State<Shared>,
    session: Session,
    Query(filters): Query<Filters>,
) -> Response {
    let mut problems = Vec::new();
    let mut filter = MessageFilter {
        limit: LISTED,
        ..MessageFilter::default()
    };
    if !filters.state.is_empty() {
        match filters.state.parse::<MessageState>() {
            Ok(state) => filter.state = Some(state),
            Err(_) => problems.push(format!("'{}' is not a message state", filters.state)),
        }
    }
    if !filters.kind.is_empty() {
        match MessageKind::parse(&filters.kind) {
            Some(kind) => filter.kind = Some(kind),
            None => problems.push(format!("'{}' is not a kind of message", filters.kind)),
        }
    }
    // Dates are Norwegian days: from its midnight in Oslo to the next.
    let midnight = |day: NaiveDate| {
        Oslo.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.to_utc())
    };
    for (text, name, slot, next) in [
        (&filters.from, "from", &mut filter.from, false),
        (&filters.to, "to", &mut filter.until, true),
    ] {
        if text.is_empty() {
            continue;
        }
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) => {
                *slot = midnight(if next {
                    day.succ_opt().unwrap_or(day)
                } else {
                    day
                })
            }
            Err(_) => problems.push(format!(
                "'{text}' is not a date ({name}); give it as YYYY-MM-DD"
            )),
        }
    }
    let store = admin.store();
    let now = admin.clock.now();
    let status = match status::gather(&admin.config, store, now).await {
        Ok(status) => status,
        Err(e) => return view::store_failed(&e),
    };
    let listed = match store.listed_messages(&filter).await {
        Ok(listed) => listed,
        Err(e) => return view::store_failed(&e),
    };
    let mut rows = Vec::with_capacity(listed.len());
    for message in &listed {
        let mut row = Row::new(message);
        // KPR's codes in words for what it refused or took with errors.
        if matches!(message.receipt_status, Some(2 | 3)) {
            match store.trouble(&message.row.msg_id).await {
                Ok(trouble) => {
                    row.codes = trouble
                        .receipt_errors
                        .iter()
                        .map(status::explain)
                        .map(|code| (code.code, code.meaning))
                        .collect();
                }
                Err(e) => return view::store_failed(&e),
            }
        }
        rows.push(row);
    }
    let actions = render::actions(&status)
        .into_iter()
        .map(|text| text.trim_start_matches("! ").trim_end().to_string())
        .collect();
    let states = MessageState::ALL
        .iter()
        .map(|s| (s.as_str(), s.as_str() == filters.state))
        .collect();
    let kinds = MessageKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.as_str() == filters.kind))
        .collect();
    view::page(&Page {
        chrome: Chrome::new(&admin, &session, "Overview", "/"),
        actions,
        rows,
        problems,
        state: filters.state,
        kind: filters.kind,
        from: filters.from,
        to: filters.to,
        states,
        kinds,
    })
}
