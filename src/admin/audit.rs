//! The audit log: every sign-in (and refused attempt), sign-out, re-send and change, with
//! who, from where and when — the same rows `kpr-bridge audit` prints.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::Shared;
use super::session::Session;
use super::view::{self, Chrome};

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
    let rows = match admin.store().audit_log(SHOWN).await {
        Ok(rows) => rows,
        Err(e) => return view::store_failed(&e),
    };
    view::page(&Page {
        chrome: Chrome::new(&admin, &session, "Audit log", "/audit"),
        lines: rows
            .into_iter()
            .map(|row| Line {
                at: view::oslo(row.at),
                user: row.user,
                address: row.address,
                action: row.action,
                detail: row.detail,
            })
            .collect(),
    })
}
