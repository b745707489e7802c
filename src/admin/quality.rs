//! Data quality: the latest capture's findings with what each means at KPR and what to do,
//! and the full HTML check report, made on request from the sources as `kpr-bridge check
//! --report` makes it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Datelike;
use chrono_tz::Europe::Oslo;
use serde::Deserialize;

use super::Shared;
use super::session::Session;
use super::view::{self, Chrome};
use crate::checks::Severity;
use crate::commands::check::report_view;
use crate::report::html;
use crate::status;

struct Finding {
    rule: String,
    severity: &'static str,
    count: u64,
    explains: String,
    consequence: &'static str,
    fix: String,
}

#[derive(Template)]
#[template(path = "admin/quality.html")]
struct Page {
    chrome: Chrome,
    /// When and for which date the findings were made; empty before the first capture.
    read_at: String,
    reporting_date: String,
    findings: Vec<Finding>,
    year: i32,
}

/// What a finding of this severity means at the register.
fn consequence(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => {
            "KPR's arrival checks would refuse these records: kpr-bridge holds them back and sends them once they are corrected."
        }
        Severity::Warning => {
            "KPR takes these records, but its quality control marks them; the statistics they feed may be wrong."
        }
    }
}

pub async fn page(State(admin): State<Shared>, session: Session) -> Response {
    let now = admin.clock.now();
    let status = match status::gather(&admin.config, admin.store(), now).await {
        Ok(status) => status,
        Err(e) => return view::store_failed(&e),
    };
    let (read_at, reporting_date, findings) = match status.findings {
        Some(latest) => (
            view::oslo(latest.at),
            view::date(latest.reporting_date),
            latest
                .findings
                .into_iter()
                .map(|f| Finding {
                    severity: match f.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    },
                    consequence: consequence(f.severity),
                    rule: f.rule,
                    count: f.count,
                    explains: f.explains,
                    fix: f.fix,
                })
                .collect(),
        ),
        None => (String::new(), String::new(), Vec::new()),
    };
    view::page(&Page {
        chrome: Chrome::new(&admin, &session, "Data quality", "/quality"),
        read_at,
        reporting_date,
        findings,
        year: now.with_timezone(&Oslo).year(),
    })
}

#[derive(Deserialize)]
pub struct ReportYear {
    year: Option<i32>,
}

/// The check report for a year: every source read and checked now (it takes a while for a
/// large municipality), in a blocking task so the agent's other work goes on.
pub async fn report(
    State(admin): State<Shared>,
    session: Session,
    Query(query): Query<ReportYear>,
) -> Response {
    let year = query
        .year
        .unwrap_or_else(|| admin.clock.now().with_timezone(&Oslo).year());
    if !(2000..=2100).contains(&year) {
        return view::error(
            StatusCode::BAD_REQUEST,
            "Not a reporting year",
            "Choose a reporting year such as 2026.",
        );
    }
    tracing::info!(user = %session.user, year, "check report requested on the administration page");
    let config = admin.config.clone();
    let made = tokio::task::spawn_blocking(move || {
        let run = crate::check_run::run(&config, year);
        html::render(&report_view(&config, year, &run))
    })
    .await;
    match made {
        // The report is one self-contained file with its style inline.
        Ok(page) => (
            [(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
            )],
            Html(page),
        )
            .into_response(),
        Err(e) => {
            tracing::error!("the check report could not be made: {e}");
            view::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The report could not be made",
                "kpr-bridge could not check the sources just now; its log says why.",
            )
        }
    }
}
