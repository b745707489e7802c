//! What every page shares: the frame (who is signed in, the menu, the sign-out form with its
//! CSRF token), times in Europe/Oslo, and the pages for errors.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;

use super::Admin;
use super::session::Session;
use crate::config::Mode;

/// The style sheet, served from the binary: the page loads nothing from elsewhere.
pub const STYLE: &str = include_str!("../../templates/admin/style.css");

pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// The frame around every signed-in page.
pub struct Chrome {
    pub title: String,
    pub user: String,
    pub csrf: String,
    pub municipality: String,
    pub municipality_name: String,
    pub mode: &'static str,
    pub nav: Vec<NavItem>,
    /// Where this municipality's pages are: empty for one municipality, `/m/NNNN` on the
    /// page of a multi-municipality deployment.
    pub base: String,
    /// Whether the user may have other municipalities (a link back to the list).
    pub portal: bool,
}

const MENU: [(&str, &str); 6] = [
    ("/", "Overview"),
    ("/resend", "Re-send"),
    ("/runs", "Daily runs"),
    ("/quality", "Data quality"),
    ("/settings", "Settings"),
    ("/audit", "Audit log"),
];

impl Chrome {
    pub fn new(admin: &Admin, session: &Session, title: impl Into<String>, at: &str) -> Chrome {
        Chrome {
            title: title.into(),
            user: session.user.clone(),
            csrf: session.csrf.clone(),
            municipality: admin.config.municipality.clone(),
            municipality_name: admin.config.municipality_name.clone(),
            mode: match admin.config.mode {
                Mode::Test => "test",
                Mode::Production => "production",
            },
            nav: MENU
                .iter()
                .map(|&(href, label)| NavItem {
                    href: format!("{}{href}", admin.base),
                    label,
                    current: href == at,
                })
                .collect(),
            base: admin.base.clone(),
            portal: admin.portal,
        }
    }
}

/// A moment as people in Norway read it: `04.12.2026 17:05` in Europe/Oslo.
pub fn oslo(at: DateTime<Utc>) -> String {
    at.with_timezone(&Oslo).format("%d.%m.%Y %H:%M").to_string()
}

pub fn oslo_opt(at: Option<DateTime<Utc>>) -> String {
    at.map(oslo).unwrap_or_default()
}

/// A date as people in Norway read it: `04.12.2026`.
pub fn date(day: NaiveDate) -> String {
    day.format("%d.%m.%Y").to_string()
}

/// A rendered page; a template that fails to render is a 500 naming the page.
pub fn page(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("the administration page could not be rendered: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown",
                "kpr-bridge could not render this page; its log says why.",
            )
        }
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    text: &'a str,
}

/// A page without the frame: for errors, and for those not signed in.
pub fn error(status: StatusCode, title: &str, text: &str) -> Response {
    let html = ErrorPage { title, text }
        .render()
        .unwrap_or_else(|_| title.to_string());
    (status, Html(html)).into_response()
}

/// The state store could not be read or written: 503, with what to do.
pub fn store_failed(error: &dyn std::fmt::Display) -> Response {
    tracing::error!("the administration page could not use the state store: {error}");
    self::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "The state store cannot be used",
        "kpr-bridge cannot read its state store just now. Try again in a minute; if it persists, ask IT operations to look at the agent's log and /health.",
    )
}

pub async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "No such page",
        "This address is not a page of kpr-bridge. Start from the overview.",
    )
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// Headers on every answer: nothing from elsewhere, not in a frame, not cached, no referrer.
/// A page may set a policy of its own (the check report's style is inline).
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
