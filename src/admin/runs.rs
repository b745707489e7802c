//! The daily runs: the last 30 reporting dates with what was read and sent, and a chart of
//! notifications per day drawn as inline SVG (the check report's own scale), so the page
//! needs no script and no image from elsewhere.

use std::collections::HashMap;
use std::fmt::Write;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use quick_xml::escape::escape;

use super::Shared;
use super::chrome::Chrome;
use super::overview::state_label;
use super::session::Session;
use super::view;
use crate::checks::Severity;
use crate::i18n::Language;
use crate::report::html::nice_top;
use crate::status::{self, DailyRun};
use crate::store::outbox::State as MessageState;
use crate::t;

/// Reporting dates shown.
const DATES: i64 = 30;

struct Line {
    date: String,
    captures: String,
    notifications: String,
    held_back: String,
    /// The rules that held records back in the date's latest reading: `service-duplicate 2`.
    held_by_rule: String,
    last_capture: String,
    shipped: String,
    /// Each message: its MsgId, its part, its state in words and the state's name.
    messages: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "admin/runs.html")]
struct Page {
    chrome: Chrome,
    lines: Vec<Line>,
    chart: String,
}

pub async fn page(State(admin): State<Shared>, session: Session) -> Response {
    let lang = session.language;
    let (captures, shipments) = match admin.store().recent_daily(DATES).await {
        Ok(recent) => recent,
        Err(e) => return view::store_failed(lang, &e),
    };
    let runs = status::daily_runs(&captures, &shipments, lang);
    // Captures come oldest first: the last one of a date stands.
    let mut held: HashMap<NaiveDate, String> = HashMap::new();
    for capture in &captures {
        let rules: Vec<String> = capture
            .findings
            .iter()
            .flatten()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{} {}", f.rule, lang.number(f.count)))
            .collect();
        held.insert(capture.reporting_date, rules.join(", "));
    }
    let lines = runs
        .iter()
        .map(|run| Line {
            held_by_rule: held.remove(&run.reporting_date).unwrap_or_default(),
            date: lang.date(run.reporting_date),
            captures: lang.number(run.captures),
            notifications: lang.number(run.notifications),
            held_back: lang.number(run.held_back),
            last_capture: run
                .last_capture_at
                .map(|at| lang.moment(at))
                .unwrap_or_default(),
            shipped: run
                .shipments
                .last()
                .map(|s| lang.moment(s.at))
                .unwrap_or_default(),
            messages: run
                .shipments
                .iter()
                .flat_map(|s| &s.messages)
                .map(|m| {
                    let state = m.state.clone().unwrap_or_default();
                    let words = state
                        .parse::<MessageState>()
                        .map(|s| state_label(lang, s))
                        .unwrap_or_else(|_| state.clone());
                    (m.msg_id.clone(), m.part.clone(), words, state)
                })
                .collect(),
        })
        .collect();
    view::page(
        lang,
        &Page {
            chrome: Chrome::new(&admin, &session, t!(lang, "runs-title"), "/runs"),
            lines,
            chart: chart(lang, &runs),
        },
    )
}

/// Notifications per reporting date, oldest on the left; each bar has its date and count as
/// a tooltip, and the numbers are in the table below for those who cannot see it.
fn chart(lang: Language, runs: &[DailyRun]) -> String {
    const W: f64 = 760.0;
    const H: f64 = 220.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = W - 12.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = H - 36.0;
    if runs.is_empty() {
        return String::new();
    }
    let oldest_first: Vec<&DailyRun> = runs.iter().rev().collect();
    let top = nice_top(
        oldest_first
            .iter()
            .map(|r| u64::try_from(r.notifications).unwrap_or(0))
            .max(),
    );
    let y = |n: i64| BOTTOM - (BOTTOM - TOP) * (n.max(0) as f64) / top as f64;
    let slot = (RIGHT - LEFT) / oldest_first.len() as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"chart-title\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\">\
         <title id=\"chart-title\">{}</title>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{BOTTOM}\" x2=\"{RIGHT}\" y2=\"{BOTTOM}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{BOTTOM}\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        escape(&t!(lang, "runs-chart-title", count = oldest_first.len())),
        LEFT - 6.0,
        TOP + 4.0,
        lang.number(top),
        LEFT - 6.0,
        BOTTOM + 4.0,
    );
    let label_every = oldest_first.len().div_ceil(10).max(1);
    for (i, run) in oldest_first.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let bar_top = y(run.notifications);
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{bar_top:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}</title></rect>",
            x + slot * 0.15,
            slot * 0.7,
            BOTTOM - bar_top,
            escape(&t!(
                lang,
                "runs-chart-bar",
                day = lang.date(run.reporting_date),
                count = run.notifications
            )),
        );
        if i % label_every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + slot / 2.0,
                BOTTOM + 16.0,
                run.reporting_date.format("%d.%m")
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
