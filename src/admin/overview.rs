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
use super::chrome::Chrome;
use super::session::Session;
use super::view;
use crate::i18n::Language;
use crate::status::{self, codes, render};
use crate::store::admin::{ListedMessage, MessageFilter, MessageKind};
use crate::store::outbox::State as MessageState;
use crate::t;

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
    pub kind: String,
    pub state: String,
    /// The state's name in the store, for the style sheet.
    pub state_class: &'static str,
    pub created: String,
    pub changed: String,
    pub receipt: String,
    /// The deciding receipt's error codes with their meaning (filled in for the list).
    pub codes: Vec<(String, String)>,
    pub notifications: String,
}

impl Row {
    pub fn new(lang: Language, listed: &ListedMessage) -> Row {
        let mut what = status::what(&listed.row, listed.reporting_date, None, lang);
        if let Some((part, parts)) = listed.part.filter(|(_, parts)| *parts > 1) {
            what = t!(
                lang,
                "message-part-of",
                what = what,
                part = part,
                parts = parts
            );
        }
        if listed.kind == MessageKind::Resend {
            what = t!(lang, "message-sent-again");
        }
        Row {
            msg_id: listed.row.msg_id.clone(),
            what,
            kind: kind_label(lang, listed.kind),
            state: state_label(lang, listed.row.state),
            state_class: listed.row.state.as_str(),
            created: lang.moment(listed.row.created_at),
            changed: lang.moment(listed.row.state_at),
            receipt: listed
                .receipt_status
                .map(|s| format!("{s} {}", codes::receipt_status(s, lang)))
                .unwrap_or_default(),
            codes: Vec::new(),
            notifications: listed
                .notifications
                .map(|n| lang.number(n))
                .unwrap_or_default(),
        }
    }
}

/// A message's state in words: `levert`, `avvist` …
pub fn state_label(lang: Language, state: MessageState) -> String {
    codes::state(state.as_str(), lang)
}

/// A kind of message in words.
pub fn kind_label(lang: Language, kind: MessageKind) -> String {
    match kind {
        MessageKind::Daily => t!(lang, "message-kind-daily"),
        MessageKind::Resend => t!(lang, "message-kind-resend"),
        MessageKind::Annual => t!(lang, "message-kind-annual"),
    }
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct Page {
    chrome: Chrome,
    actions: Vec<String>,
    rows: Vec<Row>,
    problems: Vec<String>,
    /// Whether any filter is set.
    filtered: bool,
    /// The date fields as typed back in the reader's order (`dd.mm.åååå`).
    from: String,
    to: String,
    /// What a date field takes: the reader's order, or ISO.
    date_pattern: &'static str,
    /// Each choice: its value, its words, whether it is the one chosen.
    states: Vec<(&'static str, String, bool)>,
    kinds: Vec<(&'static str, String, bool)>,
}

/// A date field takes `07.12.2026` (or `7.12.2026`) and `2026-12-07`, whatever the language.
const DATE_PATTERN: &str = r"\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2}";

pub async fn page(
    State(admin): State<Shared>,
    session: Session,
    Query(filters): Query<Filters>,
) -> Response {
    let lang = session.language;
    let mut problems = Vec::new();
    let mut filter = MessageFilter {
        limit: LISTED,
        ..MessageFilter::default()
    };
    if !filters.state.is_empty() {
        match filters.state.parse::<MessageState>() {
            Ok(state) => filter.state = Some(state),
            Err(_) => problems.push(t!(
                lang,
                "overview-bad-state",
                value = filters.state.clone()
            )),
        }
    }
    if !filters.kind.is_empty() {
        match MessageKind::parse(&filters.kind) {
            Some(kind) => filter.kind = Some(kind),
            None => problems.push(t!(lang, "overview-bad-kind", value = filters.kind.clone())),
        }
    }
    // Dates are Norwegian days: from its midnight in Oslo to the next.
    let midnight = |day: NaiveDate| {
        Oslo.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.to_utc())
    };
    let mut shown = [filters.from.clone(), filters.to.clone()];
    for ((text, slot, next), shown) in [
        (&filters.from, &mut filter.from, false),
        (&filters.to, &mut filter.until, true),
    ]
    .into_iter()
    .zip(&mut shown)
    {
        if text.trim().is_empty() {
            continue;
        }
        match lang.parse_date(text) {
            Some(day) => {
                *shown = lang.date(day);
                *slot = midnight(if next {
                    day.succ_opt().unwrap_or(day)
                } else {
                    day
                })
            }
            None => problems.push(t!(
                lang,
                "overview-bad-date",
                value = text.clone(),
                hint = lang.date_hint()
            )),
        }
    }
    let store = admin.store();
    let now = admin.clock.now();
    let status = match status::gather(&admin.config, store, now).await {
        Ok(status) => status,
        Err(e) => return view::store_failed(lang, &e),
    };
    let listed = match store.listed_messages(&filter).await {
        Ok(listed) => listed,
        Err(e) => return view::store_failed(lang, &e),
    };
    let mut rows = Vec::with_capacity(listed.len());
    for message in &listed {
        let mut row = Row::new(lang, message);
        // KPR's codes in words for what it refused or took with errors.
        if matches!(message.receipt_status, Some(2 | 3)) {
            match store.trouble(&message.row.msg_id).await {
                Ok(trouble) => {
                    row.codes = trouble
                        .receipt_errors
                        .iter()
                        .map(|error| status::explain(error, lang))
                        .map(|code| (code.code, code.meaning))
                        .collect();
                }
                Err(e) => return view::store_failed(lang, &e),
            }
        }
        rows.push(row);
    }
    let actions = render::actions(&status, lang)
        .into_iter()
        .map(|text| text.trim_start_matches("! ").trim_end().to_string())
        .collect();
    let states = MessageState::ALL
        .iter()
        .map(|&s| {
            (
                s.as_str(),
                state_label(lang, s),
                s.as_str() == filters.state,
            )
        })
        .collect();
    let kinds = MessageKind::ALL
        .iter()
        .map(|&k| (k.as_str(), kind_label(lang, k), k.as_str() == filters.kind))
        .collect();
    let [from, to] = shown;
    view::page(
        lang,
        &Page {
            chrome: Chrome::new(&admin, &session, t!(lang, "overview-title"), "/"),
            actions,
            rows,
            problems,
            filtered: [&filters.state, &filters.kind, &filters.from, &filters.to]
                .iter()
                .any(|f| !f.trim().is_empty()),
            from,
            to,
            date_pattern: DATE_PATTERN,
            states,
            kinds,
        },
    )
}
