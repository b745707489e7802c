//! What every page shares: the frame (who is signed in, the menu, the sign-out form with its
//! CSRF token), times in Europe/Oslo, and the pages for errors.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::Admin;
use super::session::Session;
use crate::config::Mode;
use crate::i18n::Language;
use crate::t;

/// The style sheet, served from the binary: the page loads nothing from elsewhere.
pub const STYLE: &str = include_str!("../../templates/admin/style.css");

pub struct NavItem {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// The frame around every signed-in page.
pub struct Chrome {
    /// What the page is read in; templates take their words from it.
    pub lang: Language,
    pub title: String,
    pub user: String,
    pub csrf: String,
    pub municipality: String,
    pub municipality_name: String,
    pub mode: String,
    /// `test` or `production`, for the style sheet.
    pub mode_class: &'static str,
    pub nav: Vec<NavItem>,
    /// Where this municipality's pages are: empty for one municipality, `/m/NNNN` on the
    /// page of a multi-municipality deployment.
    pub base: String,
    /// Whether the user may have other municipalities (a link back to the list).
    pub portal: bool,
    /// This page's address, where choosing another language leads back to.
    pub here: String,
}

impl Chrome {
    pub fn new(admin: &Admin, session: &Session, title: impl Into<String>, at: &str) -> Chrome {
        let lang = session.language;
        let menu = [
            ("/", t!(lang, "nav-overview")),
            ("/resend", t!(lang, "nav-resend")),
            ("/runs", t!(lang, "nav-runs")),
            ("/quality", t!(lang, "nav-quality")),
            ("/settings", t!(lang, "nav-settings")),
            ("/audit", t!(lang, "nav-audit")),
        ];
        Chrome {
            lang,
            title: title.into(),
            user: session.user.clone(),
            csrf: session.csrf.clone(),
            municipality: admin.config.municipality.clone(),
            municipality_name: admin.config.municipality_name.clone(),
            mode: match admin.config.mode {
                Mode::Test => t!(lang, "mode-test"),
                Mode::Production => t!(lang, "mode-production"),
            },
            mode_class: match admin.config.mode {
                Mode::Test => "test",
                Mode::Production => "production",
            },
            nav: menu
                .into_iter()
                .map(|(href, label)| NavItem {
                    href: format!("{}{href}", admin.base),
                    label,
                    current: href == at,
                })
                .collect(),
            base: admin.base.clone(),
            portal: admin.portal,
            here: format!(
                "{}{}",
                admin.base,
                if session.here.is_empty() {
                    at
                } else {
                    &session.here
                }
            ),
        }
    }

    /// A text of the catalog in the page's language, for templates.
    pub fn t(&self, key: &str) -> String {
        self.lang.text(key)
    }
}

/// A rendered page; a template that fails to render is a 500 naming the page.
pub fn page(lang: Language, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("the administration page could not be rendered: {e}");
            error(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                &t!(lang, "error-render"),
                &t!(lang, "error-render.text"),
            )
        }
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    lang: Language,
    title: &'a str,
    text: &'a str,
}

/// A page without the frame: for errors, and for those not signed in.
pub fn error(lang: Language, status: StatusCode, title: &str, text: &str) -> Response {
    let html = ErrorPage { lang, title, text }
        .render()
        .unwrap_or_else(|_| title.to_string());
    (status, Html(html)).into_response()
}

/// The state store could not be read or written: 503, with what to do.
pub fn store_failed(lang: Language, error: &dyn std::fmt::Display) -> Response {
    tracing::error!("the administration page could not use the state store: {error}");
    self::error(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        &t!(lang, "error-store"),
        &t!(lang, "error-store.text"),
    )
}

/// No page here. Said in the configured language: the address may be anybody's guess.
pub fn not_found_in(lang: Language) -> Response {
    error(
        lang,
        StatusCode::NOT_FOUND,
        &t!(lang, "error-not-found"),
        &t!(lang, "error-not-found.text"),
    )
}

pub async fn not_found() -> Response {
    not_found_in(Language::default())
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
