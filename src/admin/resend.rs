//! Re-sending from the page: HIS 1135's seven ways to choose notifications as a form, a
//! preview of what would go (how many, which numbers, which messages they were in), then the
//! confirmation — through [`crate::daily::resend`], as `kpr-bridge resend` does.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use super::Shared;
use super::session::Session;
use super::view::{self, Chrome};
use crate::daily::resend::{self, ResendError, Selector};

/// The ways to choose, as the form names them, with the words the form shows.
const WAYS: [(&str, &str); 7] = [
    ("message", "The notifications of one message (MsgId)"),
    ("notification", "One notification (its GUID)"),
    ("since-date", "Those reported on or after a date"),
    ("since-number", "Those numbered from a number on"),
    ("between-dates", "Those reported between two dates"),
    ("between-numbers", "Those numbered between two numbers"),
    ("patient", "One person's (the person number, brukerNr)"),
];

#[derive(Deserialize, Default)]
pub struct Choice {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    value2: String,
    #[serde(default)]
    force: Option<String>,
}

impl Choice {
    fn selector(&self) -> Result<Selector, String> {
        let value = self.value.trim();
        let value2 = self.value2.trim();
        let date = |text: &str| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| format!("'{text}' is not a date; give it as YYYY-MM-DD"))
        };
        let number = |text: &str| {
            text.parse::<i64>()
                .map_err(|_| format!("'{text}' is not a notification number"))
        };
        if value.is_empty() {
            return Err("Fill in what to re-send.".into());
        }
        let needs_second = matches!(self.by.as_str(), "between-dates" | "between-numbers");
        if needs_second && value2.is_empty() {
            return Err("Fill in both ends of the range.".into());
        }
        Ok(match self.by.as_str() {
            "message" => Selector::Message(value.to_string()),
            "notification" => Selector::Notification(
                value
                    .parse()
                    .map_err(|_| format!("'{value}' is not a notification GUID"))?,
            ),
            "since-date" => Selector::SinceDate(date(value)?),
            "since-number" => Selector::SinceNumber(number(value)?),
            "between-dates" => Selector::BetweenDates(date(value)?, date(value2)?),
            "between-numbers" => Selector::BetweenNumbers(number(value)?, number(value2)?),
            "patient" => Selector::Patient(value.to_string()),
            other => return Err(format!("'{other}' is not a way to choose notifications")),
        })
    }
}

#[derive(Template)]
#[template(path = "admin/resend.html")]
struct FormPage {
    chrome: Chrome,
    /// Each way: its key, its words, and whether it is chosen.
    ways: Vec<(&'static str, &'static str, bool)>,
    value: String,
    value2: String,
    problem: String,
}

#[derive(Template)]
#[template(path = "admin/resend_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    selected: String,
    by: String,
    value: String,
    value2: String,
    count: usize,
    numbers: String,
    messages: Vec<(String, i64)>,
    waiting: Vec<(i64, String)>,
    problem: String,
}

#[derive(Template)]
#[template(path = "admin/resend_done.html")]
struct DonePage {
    chrome: Chrome,
    count: usize,
    numbers: String,
    messages: Vec<String>,
    forced: bool,
}

fn form_page(admin: &Shared, session: &Session, choice: &Choice, problem: String) -> Response {
    let by = if choice.by.is_empty() {
        "message"
    } else {
        choice.by.as_str()
    };
    view::page(&FormPage {
        chrome: Chrome::new(admin, session, "Re-send notifications", "/resend"),
        ways: WAYS
            .iter()
            .map(|&(key, words)| (key, words, key == by))
            .collect(),
        value: choice.value.clone(),
        value2: choice.value2.clone(),
        problem,
    })
}

pub async fn form(
    State(admin): State<Shared>,
    session: Session,
    Query(choice): Query<Choice>,
) -> Response {
    form_page(&admin, &session, &choice, String::new())
}

/// Numbers as ranges: `1–4, 7, 9–12`.
fn ranges(numbers: &[i64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut at = 0;
    while at < numbers.len() {
        let start = numbers[at];
        let mut end = start;
        while at + 1 < numbers.len() && numbers[at + 1] == end + 1 {
            at += 1;
            end = numbers[at];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}–{end}")
        });
        at += 1;
    }
    parts.join(", ")
}

/// The selector a posted form chose: 403 without the session's token, the form again with
/// what is wrong when the choice cannot be read.
fn chosen(admin: &Shared, session: &Session, choice: &Choice) -> Result<Selector, Response> {
    session.check(&choice.csrf)?;
    choice
        .selector()
        .map_err(|problem| form_page(admin, session, choice, problem))
}

pub async fn preview(
    State(admin): State<Shared>,
    session: Session,
    axum::Form(choice): axum::Form<Choice>,
) -> Response {
    let selector = match chosen(&admin, &session, &choice) {
        Ok(selector) => selector,
        Err(response) => return response,
    };
    preview_page(&admin, &session, &choice, &selector, String::new()).await
}

/// What `selector` would send, with the confirmation form; `problem` says why it is shown
/// again.
async fn preview_page(
    admin: &Shared,
    session: &Session,
    choice: &Choice,
    selector: &Selector,
    problem: String,
) -> Response {
    let preview = match resend::preview(admin.store(), selector).await {
        Ok(preview) => preview,
        Err(e) => return failed(admin, session, choice, selector, e).await,
    };
    if preview.numbers.is_empty() {
        return form_page(
            admin,
            session,
            choice,
            format!("Nothing to re-send: no notification that has been sent matches {selector}."),
        );
    }
    view::page(&PreviewPage {
        chrome: Chrome::new(admin, session, "Re-send: check before sending", "/resend"),
        selected: selector.to_string(),
        by: choice.by.clone(),
        value: choice.value.clone(),
        value2: choice.value2.clone(),
        count: preview.numbers.len(),
        numbers: ranges(&preview.numbers),
        messages: preview.messages,
        waiting: preview.waiting,
        problem,
    })
}

pub async fn confirm(
    State(admin): State<Shared>,
    session: Session,
    axum::Form(choice): axum::Form<Choice>,
) -> Response {
    let selector = match chosen(&admin, &session, &choice) {
        Ok(selector) => selector,
        Err(response) => return response,
    };
    let force = choice.force.is_some();
    let now = admin.clock.now();
    let resent = match resend::resend(&admin.config, &admin.shipping, &selector, force, now).await {
        Ok(resent) => resent,
        Err(e) => return failed(&admin, &session, &choice, &selector, e).await,
    };
    admin.queued.notify_one();
    let numbers = ranges(&resent.numbers);
    let detail = format!(
        "{selector}: {} notification(s), numbers {numbers}, in message(s) {}{}",
        resent.numbers.len(),
        resent.messages.join(", "),
        if resent.forced {
            " (forced: an earlier message still awaited its receipt)"
        } else {
            ""
        }
    );
    tracing::info!(user = %session.user, "re-sent from the administration page: {detail}");
    if let Err(response) = session.audit(&admin, "re-sent", &detail).await {
        return response;
    }
    view::page(&DonePage {
        chrome: Chrome::new(&admin, &session, "Re-sent", "/resend"),
        count: resent.numbers.len(),
        numbers,
        messages: resent.messages,
        forced: resent.forced,
    })
}

/// A re-send that could not go: waiting for a receipt shows the preview again with its
/// "send anyway" box; another choice the operator must change, the form again with why; a
/// store failure 503.
async fn failed(
    admin: &Shared,
    session: &Session,
    choice: &Choice,
    selector: &Selector,
    error: ResendError,
) -> Response {
    match error {
        ResendError::Store(e) => view::store_failed(&e),
        ResendError::Waiting { .. } => {
            let text = error
                .to_string()
                .replace("give --force", "tick \"send anyway\"");
            Box::pin(preview_page(admin, session, choice, selector, text)).await
        }
        other if other.exit_code() == 2 => form_page(admin, session, choice, other.to_string()),
        other => {
            tracing::error!("a re-send from the administration page failed: {other}");
            view::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The re-send failed",
                &format!(
                    "{other}. Nothing was sent; try again, or ask IT operations to read the agent's log."
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 4, 7, 9, 10]), "1–4, 7, 9–10");
        assert_eq!(ranges(&[5]), "5");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn each_way_to_choose_makes_its_selector() {
        let choice = |by: &str, value: &str, value2: &str| Choice {
            by: by.into(),
            value: value.into(),
            value2: value2.into(),
            ..Choice::default()
        };
        assert_eq!(
            choice("between-numbers", "3", "9").selector(),
            Ok(Selector::BetweenNumbers(3, 9))
        );
        assert_eq!(
            choice("patient", " p1 ", "").selector(),
            Ok(Selector::Patient("p1".into()))
        );
        assert!(choice("since-date", "1.3.2026", "").selector().is_err());
        assert!(
            choice("between-dates", "2026-03-01", "")
                .selector()
                .is_err()
        );
        assert!(choice("whatever", "1", "").selector().is_err());
        assert_eq!(WAYS.len(), 7, "HIS 1135's seven ways");
    }
}
