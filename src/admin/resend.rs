//! Re-sending from the page: HIS 1135's seven ways to choose notifications as a form, a
//! preview of what would go (how many, which numbers, which messages they were in), then the
//! confirmation — through [`crate::daily::resend`], as `kpr-bridge resend` does.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::Shared;
use super::chrome::Chrome;
use super::session::Session;
use super::view;
use crate::daily::resend::{self, ResendError, Selector};
use crate::daily::sealed::ranges;
use crate::i18n::Language;
use crate::t;

/// The ways to choose, as the form names them.
const WAYS: [&str; 7] = [
    "message",
    "notification",
    "since-date",
    "since-number",
    "between-dates",
    "between-numbers",
    "patient",
];

/// The words the form shows for a way to choose.
fn way_words(lang: Language, way: &str) -> String {
    match way {
        "message" => t!(lang, "resend-by-message"),
        "notification" => t!(lang, "resend-by-notification"),
        "since-date" => t!(lang, "resend-by-since-date"),
        "since-number" => t!(lang, "resend-by-since-number"),
        "between-dates" => t!(lang, "resend-by-between-dates"),
        "between-numbers" => t!(lang, "resend-by-between-numbers"),
        _ => t!(lang, "resend-by-patient"),
    }
}

/// What a selector chose, in the reader's words (the person number is not repeated).
fn described(lang: Language, selector: &Selector) -> String {
    match selector {
        Selector::Message(id) => t!(lang, "resend-chose-message", id = id.clone()),
        Selector::Notification(guid) => {
            t!(lang, "resend-chose-notification", guid = guid.to_string())
        }
        Selector::SinceDate(day) => t!(lang, "resend-chose-since-date", day = lang.date(*day)),
        Selector::SinceNumber(n) => t!(lang, "resend-chose-since-number", number = *n),
        Selector::BetweenDates(a, b) => t!(
            lang,
            "resend-chose-between-dates",
            from = lang.date(*a),
            to = lang.date(*b)
        ),
        Selector::BetweenNumbers(a, b) => {
            t!(lang, "resend-chose-between-numbers", from = *a, to = *b)
        }
        Selector::Patient(_) => t!(lang, "resend-chose-patient"),
    }
}

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
    fn selector(&self, lang: Language) -> Result<Selector, String> {
        let value = self.value.trim();
        let value2 = self.value2.trim();
        let date = |text: &str| {
            lang.parse_date(text).ok_or_else(|| {
                t!(
                    lang,
                    "resend-bad-date",
                    value = text.to_string(),
                    hint = lang.date_hint()
                )
            })
        };
        let number = |text: &str| {
            text.parse::<i64>()
                .map_err(|_| t!(lang, "resend-bad-number", value = text.to_string()))
        };
        if value.is_empty() {
            return Err(t!(lang, "resend-fill-in"));
        }
        let needs_second = matches!(self.by.as_str(), "between-dates" | "between-numbers");
        if needs_second && value2.is_empty() {
            return Err(t!(lang, "resend-fill-in-both"));
        }
        Ok(match self.by.as_str() {
            "message" => Selector::Message(value.to_string()),
            "notification" => Selector::Notification(
                value
                    .parse()
                    .map_err(|_| t!(lang, "resend-bad-guid", value = value.to_string()))?,
            ),
            "since-date" => Selector::SinceDate(date(value)?),
            "since-number" => Selector::SinceNumber(number(value)?),
            "between-dates" => Selector::BetweenDates(date(value)?, date(value2)?),
            "between-numbers" => Selector::BetweenNumbers(number(value)?, number(value2)?),
            "patient" => Selector::Patient(value.to_string()),
            other => return Err(t!(lang, "resend-bad-way", value = other.to_string())),
        })
    }
}

#[derive(Template)]
#[template(path = "admin/resend.html")]
struct FormPage {
    chrome: Chrome,
    /// Each way: its key, its words, and whether it is chosen.
    ways: Vec<(&'static str, String, bool)>,
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
    /// "12 notifications will be sent again, numbers 1–12."
    summary: String,
    confirm: String,
    messages: Vec<(String, String)>,
    /// How many of them wait for a receipt, in words; empty when none does.
    waiting: String,
    problem: String,
    /// Those that cannot be sent again (their identity key is no longer there), in words;
    /// empty when none.
    sealed_away: String,
    /// The selection cannot be confirmed: some of it cannot be sent again.
    blocked: bool,
}

#[derive(Template)]
#[template(path = "admin/resend_done.html")]
struct DonePage {
    chrome: Chrome,
    summary: String,
    messages: Vec<String>,
}

fn form_page(admin: &Shared, session: &Session, choice: &Choice, problem: String) -> Response {
    let by = if choice.by.is_empty() {
        "message"
    } else {
        choice.by.as_str()
    };
    let lang = session.language;
    view::page(
        lang,
        &FormPage {
            chrome: Chrome::new(admin, session, t!(lang, "resend-title"), "/resend"),
            ways: WAYS
                .iter()
                .map(|&key| (key, way_words(lang, key), key == by))
                .collect(),
            value: choice.value.clone(),
            value2: choice.value2.clone(),
            problem,
        },
    )
}

pub async fn form(
    State(admin): State<Shared>,
    session: Session,
    Query(choice): Query<Choice>,
) -> Response {
    form_page(&admin, &session, &choice, String::new())
}

/// The selector a posted form chose: 403 without the session's token, the form again with
/// what is wrong when the choice cannot be read.
fn chosen(admin: &Shared, session: &Session, choice: &Choice) -> Result<Selector, Response> {
    session.check(&choice.csrf)?;
    choice
        .selector(session.language)
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
    preview_page(&admin, &session, &choice, &selector, String::new(), false).await
}

/// What `selector` would send, with the confirmation form; `problem` says why it is shown
/// again, and `refused` that it was refused for notifications that cannot be sent again.
async fn preview_page(
    admin: &Shared,
    session: &Session,
    choice: &Choice,
    selector: &Selector,
    problem: String,
    refused: bool,
) -> Response {
    let lang = session.language;
    let preview = match resend::preview(admin.store(), selector).await {
        Ok(preview) => preview,
        Err(e) => return failed(admin, session, choice, selector, e).await,
    };
    if preview.numbers.is_empty() {
        return form_page(
            admin,
            session,
            choice,
            t!(lang, "resend-nothing", chosen = described(lang, selector)),
        );
    }
    let count = preview.numbers.len();
    // A refusal's own words (`problem`) already say it when a re-send was refused for it.
    let blocked = refused || !preview.sealed_away.is_empty();
    let sealed_away = if preview.sealed_away.is_empty() || refused {
        String::new()
    } else {
        sealed_away_text(lang, &preview.sealed_away, count)
    };
    view::page(
        lang,
        &PreviewPage {
            chrome: Chrome::new(admin, session, t!(lang, "resend-preview-title"), "/resend"),
            selected: described(lang, selector),
            by: choice.by.clone(),
            value: choice.value.clone(),
            value2: choice.value2.clone(),
            summary: t!(
                lang,
                "resend-preview-summary",
                count = count,
                numbers = ranges(&preview.numbers)
            ),
            confirm: t!(lang, "resend-confirm", count = count),
            messages: preview
                .messages
                .into_iter()
                .map(|(msg_id, held)| (msg_id, lang.number(held)))
                .collect(),
            waiting: if preview.waiting.is_empty() {
                String::new()
            } else {
                t!(lang, "resend-waiting", count = preview.waiting.len())
            },
            problem,
            sealed_away,
            blocked,
        },
    )
}

/// Which of the `selected` cannot be sent again, and what to do, in the reader's words.
fn sealed_away_text(lang: Language, numbers: &[i64], selected: usize) -> String {
    t!(
        lang,
        "resend-sealed-away",
        count = numbers.len(),
        selected = selected,
        numbers = ranges(numbers)
    )
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
    let lang = session.language;
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
    let summary = t!(
        lang,
        "resend-done",
        count = resent.numbers.len(),
        numbers = numbers,
        messages = resent.messages.len(),
        forced = if resent.forced { "yes" } else { "no" }
    );
    view::page(
        lang,
        &DonePage {
            chrome: Chrome::new(&admin, &session, t!(lang, "resend-done-title"), "/resend"),
            summary,
            messages: resent.messages,
        },
    )
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
    let lang = session.language;
    match error {
        ResendError::Store(e) => view::store_failed(lang, &e),
        ResendError::Waiting { count, messages } => {
            let text = t!(
                lang,
                "resend-waiting-refused",
                count = count,
                messages = messages
            );
            Box::pin(preview_page(admin, session, choice, selector, text, false)).await
        }
        // Refused before anything went: the preview again with which, and no confirmation.
        ResendError::SealedAway {
            count,
            selected,
            ref numbers,
            ..
        } => {
            let text = t!(
                lang,
                "resend-sealed-away",
                count = count,
                selected = selected,
                numbers = numbers.clone()
            );
            Box::pin(preview_page(admin, session, choice, selector, text, true)).await
        }
        ResendError::NothingSelected(_) => form_page(
            admin,
            session,
            choice,
            t!(lang, "resend-nothing", chosen = described(lang, selector)),
        ),
        // What else the operator must change is told in the words of `kpr-bridge resend`.
        other if other.exit_code() == 2 => form_page(admin, session, choice, other.to_string()),
        other => {
            tracing::error!("a re-send from the administration page failed: {other}");
            view::error(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                &t!(lang, "resend-failed"),
                &t!(lang, "resend-failed.text", error = other.to_string()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_way_to_choose_makes_its_selector() {
        let choice = |by: &str, value: &str, value2: &str| Choice {
            by: by.into(),
            value: value.into(),
            value2: value2.into(),
            ..Choice::default()
        };
        assert_eq!(
            choice("between-numbers", "3", "9").selector(Language::Nb),
            Ok(Selector::BetweenNumbers(3, 9))
        );
        assert_eq!(
            choice("patient", " p1 ", "").selector(Language::Nb),
            Ok(Selector::Patient("p1".into()))
        );
        assert!(
            choice("since-date", "1/3/2026", "")
                .selector(Language::Nb)
                .is_err()
        );
        assert_eq!(
            choice("since-date", "01.03.2026", "").selector(Language::En),
            Ok(Selector::SinceDate(
                chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
            ))
        );
        assert!(
            choice("between-dates", "2026-03-01", "")
                .selector(Language::Nb)
                .is_err()
        );
        assert!(choice("whatever", "1", "").selector(Language::Nb).is_err());
        assert_eq!(WAYS.len(), 7, "HIS 1135's seven ways");
    }
}
