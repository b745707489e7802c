//! The audit log: every sign-in (and refused attempt), sign-out, re-send and change, with
//! who, from where and when — the same rows `kpr-bridge audit` prints.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::Shared;
use super::chrome::Chrome;
use super::session::Session;
use super::view;
use crate::i18n::Language;
use crate::t;

/// Rows shown, newest first.
const SHOWN: i64 = 500;

struct Line {
    at: String,
    user: String,
    address: String,
    action: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct Page {
    chrome: Chrome,
    lines: Vec<Line>,
}

pub async fn page(State(admin): State<Shared>, session: Session) -> Response {
    let lang = session.language;
    let rows = match admin.store().audit_log(SHOWN).await {
        Ok(rows) => rows,
        Err(e) => return view::store_failed(lang, &e),
    };
    view::page(
        lang,
        &Page {
            chrome: Chrome::new(&admin, &session, t!(lang, "audit-title"), "/audit"),
            lines: rows
                .into_iter()
                .map(|row| Line {
                    at: lang.moment(row.at),
                    user: row.user,
                    address: row.address,
                    action: action_words(lang, &row.action),
                    detail: row.detail,
                })
                .collect(),
        },
    )
}

/// What was done, in the reader's words. The log keeps the action as written (`signed in`),
/// as `kpr-bridge audit` prints it; the detail is shown as written.
fn action_words(lang: Language, action: &str) -> String {
    match action {
        "signed in" => t!(lang, "audit-signed-in"),
        "signed out" => t!(lang, "audit-signed-out"),
        "sign-in refused" => t!(lang, "audit-sign-in-refused"),
        "re-sent" => t!(lang, "audit-resent"),
        "contacts changed" => t!(lang, "audit-contacts-changed"),
        other => other.to_string(),
    }
}
