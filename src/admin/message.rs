//! One message: what it is, how it moved, what KPR answered (each code explained), and the
//! notifications it held, each traced back to the EPJ by its source, service id and person
//! number. A message that failed or was rejected can have its notifications sent again.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::Shared;
use super::chrome::Chrome;
use super::overview::{Row, state_label};
use super::session::Session;
use super::view;
use crate::redact::hide_identity_numbers;
use crate::status::{self, Code, codes};
use crate::store::admin::{MessageFilter, MessageKind};
use crate::store::outbox::State as MessageState;
use crate::t;

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
    note: String,
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
    /// Sealed under an identity key that is no longer there: cannot be sent again.
    sealed_away: bool,
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct Page {
    chrome: Chrome,
    message: Row,
    target: String,
    msg_type: String,
    /// How often it went to the broker, in words.
    published: String,
    last_problem: String,
    steps: Vec<Step>,
    receipts: Vec<Receipt>,
    error_report: Option<(String, String)>,
    notifications: Vec<Notification>,
    notifications_heading: String,
    /// Which of them cannot be sent again, in words; empty when all can.
    sealed_away: String,
    can_resend: bool,
    is_daily: bool,
}

pub async fn page(
    State(admin): State<Shared>,
    session: Session,
    Path(msg_id): Path<String>,
) -> Response {
    let lang = session.language;
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
        let sealed_away = store.sealed_away_in_message(&msg_id).await?;
        Ok::<_, crate::store::StoreError>(Some((
            listed,
            transitions,
            receipts,
            trouble,
            (notifications, sealed_away),
        )))
    };
    let (listed, transitions, receipts, trouble, (notifications, sealed_away)) = match loaded.await
    {
        Ok(Some(found)) => found,
        Ok(None) => {
            return view::error(
                lang,
                StatusCode::NOT_FOUND,
                &t!(lang, "message-not-found"),
                &t!(lang, "message-not-found.text"),
            );
        }
        Err(e) => return view::store_failed(lang, &e),
    };
    let state = listed.row.state;
    let failed = matches!(
        state,
        MessageState::Rejected | MessageState::Error | MessageState::Expired
    ) || listed.receipt_status == Some(3);
    let is_daily = listed.kind != MessageKind::Annual;
    let page = Page {
        chrome: Chrome::new(
            &admin,
            &session,
            t!(lang, "message-title", msg_id = msg_id.clone()),
            "",
        ),
        target: listed.row.target.clone(),
        msg_type: format!(
            "{} ({})",
            listed.row.msg_type,
            codes::message_type(&listed.row.msg_type, lang)
        ),
        published: t!(
            lang,
            "message-published-times",
            count = listed.row.publish_count
        ),
        last_problem: listed
            .row
            .last_problem
            .as_deref()
            .map(hide_identity_numbers)
            .unwrap_or_default(),
        message: Row::new(lang, &listed),
        steps: transitions
            .into_iter()
            .map(|t| Step {
                at: lang.moment(t.at),
                from: t.from.map(|s| state_label(lang, s)).unwrap_or_default(),
                to: state_label(lang, t.to),
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
                at: lang.moment(r.received_at),
                id: hide_identity_numbers(&r.receipt_id),
                status: format!("{} {}", r.status, codes::receipt_status(r.status, lang)),
                note: if r.conflicting {
                    t!(lang, "message-receipt-conflicting")
                } else if r.duplicate {
                    t!(lang, "message-receipt-duplicate")
                } else {
                    String::new()
                },
                codes: r.errors.iter().map(|e| status::explain(e, lang)).collect(),
            })
            .collect(),
        error_report: trouble.error_report.map(|(condition, description)| {
            (
                hide_identity_numbers(&condition),
                hide_identity_numbers(&description),
            )
        }),
        notifications_heading: t!(lang, "message-notifications", count = notifications.len()),
        sealed_away: if sealed_away.is_empty() {
            String::new()
        } else {
            t!(
                lang,
                "message-sealed-away",
                count = sealed_away.len(),
                numbers = crate::daily::sealed::ranges(&sealed_away)
            )
        },
        notifications: notifications
            .into_iter()
            .map(|n| Notification {
                number: n.number,
                event: codes::event_kind(&n.kind, lang),
                status: format!(
                    "{} {}",
                    n.status,
                    codes::notification_status(&n.status, lang)
                ),
                corrects: n.corrects.unwrap_or_default(),
                event_day: lang.date(n.event_day),
                reporting_date: lang.date(n.reporting_date),
                source: n.source,
                service: n.local_id,
                person: n.user_number,
                guid: n.guid,
                sealed_away: sealed_away.binary_search(&n.number).is_ok(),
            })
            .collect(),
        can_resend: failed && is_daily,
        is_daily,
    };
    view::page(lang, &page)
}
