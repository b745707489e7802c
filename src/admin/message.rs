//! One message: what it is, how it moved, what KPR answered (each code explained), and the
//! notifications it held, each traced back to the EPJ by its source, service id and person
//! number. A message that failed or was rejected can have its notifications sent again.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::Shared;
use super::overview::Row;
use super::session::Session;
use super::view::{self, Chrome};
use crate::source::problem::hide_identity_numbers;
use crate::status::{self, Code, codes};
use crate::store::admin::{MessageFilter, MessageKind};
use crate::store::outbox::State as MessageState;

struct Step {
    at: String,
    from: String,
    to: String,
    detail: String,
}

struct Receipt {
    at: String,
    id: String,
    status: String,
    note: &'static str,
    codes: Vec<Code>,
}

struct Notification {
    number: i64,
    event: String,
    status: String,
    corrects: String,
    event_day: String,
    reporting_date: String,
    source: String,
    service: String,
    person: String,
    guid: String,
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct Page {
    chrome: Chrome,
    message: Row,
    target: String,
    msg_type: String,
    publish_count: i64,
    last_problem: String,
    steps: Vec<Step>,
    receipts: Vec<Receipt>,
    error_report: Option<(String, String)>,
    notifications: Vec<Notification>,
    can_resend: bool,
    is_daily: bool,
}

pub async fn page(
    State(admin): State<Shared>,
    session: Session,
    Path(msg_id): Path<String>,
) -> Response {
    let store = admin.store();
    let filter = MessageFilter {
        msg_id: Some(msg_id.clone()),
        limit: 1,
        ..MessageFilter::default()
    };
    let loaded = async {
        let listed = store.listed_messages(&filter).await?;
        let Some(listed) = listed.into_iter().next() else {
            return Ok(None);
        };
        let transitions = store.transitions(&msg_id).await?;
        let receipts = store.receipts(&msg_id).await?;
        let trouble = store.trouble(&msg_id).await?;
        let notifications = store.notifications_of_message(&msg_id).await?;
        Ok::<_, crate::store::StoreError>(Some((
            listed,
            transitions,
            receipts,
            trouble,
            notifications,
        )))
    };
    let (listed, transitions, receipts, trouble, notifications) = match loaded.await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return view::error(
                StatusCode::NOT_FOUND,
                "No such message",
                "kpr-bridge has sent no message with this MsgId. Find it in the overview's list.",
            );
        }
        Err(e) => return view::store_failed(&e),
    };
    let state = listed.row.state;
    let failed = matches!(
        state,
        MessageState::Rejected | MessageState::Error | MessageState::Expired
    ) || listed.receipt_status == Some(3);
    let is_daily = listed.kind != MessageKind::Annual;
    let page = Page {
        chrome: Chrome::new(&admin, &session, format!("Message {msg_id}"), ""),
        target: listed.row.target.clone(),
        msg_type: format!(
            "{} ({})",
            listed.row.msg_type,
            codes::message_type(&listed.row.msg_type)
        ),
        publish_count: listed.row.publish_count,
        last_problem: listed
            .row
            .last_problem
            .as_deref()
            .map(hide_identity_numbers)
            .unwrap_or_default(),
        message: Row::new(&listed),
        steps: transitions
            .into_iter()
            .map(|t| Step {
                at: view::oslo(t.at),
                from: t.from.map(|s| s.to_string()).unwrap_or_default(),
                to: t.to.to_string(),
                detail: t
                    .detail
                    .as_deref()
                    .map(hide_identity_numbers)
                    .unwrap_or_default(),
            })
            .collect(),
        receipts: receipts
            .iter()
            .map(|r| Receipt {
                at: view::oslo(r.received_at),
                id: hide_identity_numbers(&r.receipt_id),
                status: format!("{} {}", r.status, codes::receipt_status(r.status)),
                note: if r.conflicting {
                    "contradicts the first receipt: kept, not applied"
                } else if r.duplicate {
                    "the same answer again"
                } else {
                    ""
                },
                codes: r.errors.iter().map(status::explain).collect(),
            })
            .collect(),
        error_report: trouble.error_report.map(|(condition, description)| {
            (
                hide_identity_numbers(&condition),
                hide_identity_numbers(&description),
            )
        }),
        notifications: notifications
            .into_iter()
            .map(|n| Notification {
                number: n.number,
                event: n.kind,
                status: n.status,
                corrects: n.corrects.unwrap_or_default(),
                event_day: view::date(n.event_day),
                reporting_date: view::date(n.reporting_date),
                source: n.source,
                service: n.local_id,
                person: n.user_number,
                guid: n.guid,
            })
            .collect(),
        can_resend: failed && is_daily,
        is_daily,
    };
    view::page(&page)
}
