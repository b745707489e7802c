//! What every page shares: rendering, the pages for errors, the style sheet and the headers
//! on every answer. The frame around a signed-in page is `chrome.rs`.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::i18n::Language;
use crate::t;

/// The style sheet, served from the binary: the page loads nothing from elsewhere.
pub const STYLE: &str = include_str!("../../templates/admin/style.css");

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
