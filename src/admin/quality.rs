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
use super::chrome::Chrome;
use super::session::Session;
use super::view;
use crate::checks::{Severity, rules};
use crate::i18n::Language;
use crate::report::html;
use crate::report::run_view::report_view;
use crate::status;
use crate::t;

struct Finding {
    rule: String,
    severity: String,
    count: String,
    explains: String,
    consequence: String,
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
fn consequence(lang: Language, severity: Severity) -> String {
    match severity {
        Severity::Error => t!(lang, "quality-consequence-error"),
        Severity::Warning => t!(lang, "quality-consequence-warning"),
    }
}

pub async fn page(State(admin): State<Shared>, session: Session) -> Response {
    let lang = session.language;
    let now = admin.clock.now();
    let status = match status::gather(&admin.config, admin.store(), now).await {
        Ok(status) => status,
        Err(e) => return view::store_failed(lang, &e),
    };
    let (read_at, reporting_date, findings) = match status.findings {
        Some(latest) => (
            lang.moment(latest.at),
            lang.date(latest.reporting_date),
            latest
                .findings
                .into_iter()
                .map(|f| {
                    // The rule's words in the reader's language; those stored with the
                    // capture for a rule this version no longer has.
                    let rule = rules::find(&f.rule);
                    Finding {
                        severity: match f.severity {
                            Severity::Error => t!(lang, "quality-severity-error"),
                            Severity::Warning => t!(lang, "quality-severity-warning"),
                        },
                        consequence: consequence(lang, f.severity),
                        count: lang.number(f.count),
                        explains: rule.map_or(f.explains, |r| r.explains(lang)),
                        fix: rule.map_or(f.fix, |r| r.fix(lang)),
                        rule: f.rule,
                    }
                })
                .collect(),
        ),
        None => (String::new(), String::new(), Vec::new()),
    };
    view::page(
        lang,
        &Page {
            chrome: Chrome::new(&admin, &session, t!(lang, "quality-title"), "/quality"),
            read_at,
            reporting_date,
            findings,
            year: now.with_timezone(&Oslo).year(),
        },
    )
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
    let lang = session.language;
    let year = query
        .year
        .unwrap_or_else(|| admin.clock.now().with_timezone(&Oslo).year());
    if !(2000..=2100).contains(&year) {
        return view::error(
            lang,
            StatusCode::BAD_REQUEST,
            &t!(lang, "quality-bad-year"),
            &t!(lang, "quality-bad-year.text"),
        );
    }
    tracing::info!(user = %session.user, year, "check report requested on the administration page");
    let config = admin.config.clone();
    let made = tokio::task::spawn_blocking(move || {
        let run = crate::check_run::run(&config, year);
        html::render(&report_view(&config, year, &run), lang)
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
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                &t!(lang, "quality-report-failed"),
                &t!(lang, "quality-report-failed.text"),
            )
        }
    }
}
