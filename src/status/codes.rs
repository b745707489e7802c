//! KPR's answers and the register's codes in plain words, in the reader's language: the AppRec
//! status (code system 8258) and error codes (8221), each with what it means and what to do,
//! for an IPLOS contact rather than a programmer; the notification status (7316), the message
//! types, the messages' states and the daily report's events. A code's name is the register's
//! own (Norwegian) one; in English an explanation stands beside it. The texts are in
//! `locales/<language>/codes.ftl`. A code not in the table falls back to the text KPR sent.

use crate::i18n::Language;

/// What an error code means and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explained {
    pub meaning: String,
    pub what_to_do: String,
}

/// The error codes of code system 8221 that KPR answers with (domain brief); each has the
/// catalog message `apprec-<code>` (its meaning) with the attribute `what-to-do`.
pub const CODES: &[&str] = &[
    "E10", "E20", "E21", "E30", "E31", "E35", "S01", "S02", "S03", "T01", "T02", "T10", "T99",
    "X99",
];

/// The code's explanation, if it is one KPR is known to use.
pub fn explain(code: &str, lang: Language) -> Option<Explained> {
    let code = code.trim();
    let known = CODES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(code))?;
    let key = format!("apprec-{}", known.to_ascii_lowercase());
    Some(Explained {
        meaning: lang.text(&key),
        what_to_do: lang.text(&format!("{key}.what-to-do")),
    })
}

/// For a code kpr-bridge does not know: what it means when KPR said nothing, and what to do.
pub fn unknown(lang: Language) -> Explained {
    Explained {
        meaning: crate::t!(lang, "apprec-unknown"),
        what_to_do: crate::t!(lang, "apprec-unknown.what-to-do"),
    }
}

/// The receipt status (code system 8258) by the register's name: `Avvist` (in English
/// `Avvist (rejected)`).
pub fn receipt_status(status: i64, lang: Language) -> String {
    match status {
        1 => crate::t!(lang, "apprec-status-1"),
        2 => crate::t!(lang, "apprec-status-2"),
        3 => crate::t!(lang, "apprec-status-3"),
        _ => crate::t!(lang, "apprec-status-unknown"),
    }
}

/// The receipt status with its code: `2 Avvist`.
pub fn receipt_status_words(status: i64, lang: Language) -> String {
    match status {
        1..=3 => format!("{status} {}", receipt_status(status, lang)),
        _ => receipt_status(status, lang),
    }
}

/// Which of the known message types `msg_type` is, as the catalog's selectors name them.
fn kind(msg_type: &str) -> &'static str {
    match msg_type {
        crate::model::register::DEFAULT_MSG_TYPE => "daily",
        "KPR_IPL" => "annual",
        "KPR_IDE" => "identity",
        _ => "other",
    }
}

/// An outbox message type in words: "daily report".
pub fn message_type(msg_type: &str, lang: Language) -> String {
    crate::t!(
        lang,
        "codes-message-type",
        kind = kind(msg_type),
        code = msg_type.to_string()
    )
}

/// A message in words, with the reporting date or year it carries: "the daily report for
/// 2026-03-02", "an annual report".
pub fn message_what(
    msg_type: &str,
    reporting_date: Option<chrono::NaiveDate>,
    year: Option<i64>,
    lang: Language,
) -> String {
    let when = match (reporting_date, year) {
        (Some(date), _) => Some(lang.date(date)),
        // A year is a name, not a quantity: no thousands separator.
        (None, Some(year)) => Some(year.to_string()),
        (None, None) => None,
    };
    match when {
        Some(when) => crate::t!(
            lang,
            "codes-message-what-for",
            kind = kind(msg_type),
            code = msg_type.to_string(),
            when = when
        ),
        None => crate::t!(
            lang,
            "codes-message-what",
            kind = kind(msg_type),
            code = msg_type.to_string()
        ),
    }
}

/// Where a message went (`production`, `validation`) in words.
pub fn target(target: &str, lang: Language) -> String {
    match target {
        "production" => crate::t!(lang, "target-production"),
        "validation" => crate::t!(lang, "target-validation"),
        other => other.to_string(),
    }
}

/// An outbox state (`queued`, `sent`, …) in words.
pub fn state(state: &str, lang: Language) -> String {
    match state {
        "queued" => crate::t!(lang, "state-queued"),
        "sent" => crate::t!(lang, "state-sent"),
        "delivered" => crate::t!(lang, "state-delivered"),
        "rejected" => crate::t!(lang, "state-rejected"),
        "error" => crate::t!(lang, "state-error"),
        "expired" => crate::t!(lang, "state-expired"),
        other => other.to_string(),
    }
}

/// An event kind of the daily report (`start`, `stop_until`, …) in words.
pub fn event_kind(kind: &str, lang: Language) -> String {
    match kind {
        "start" => crate::t!(lang, "kind-start"),
        "stop_until" => crate::t!(lang, "kind-stop-until"),
        "stop_from" => crate::t!(lang, "kind-stop-from"),
        "provider_changed" => crate::t!(lang, "kind-provider-changed"),
        "end" => crate::t!(lang, "kind-end"),
        other => other.to_string(),
    }
}

/// A notification's status (code system 7316: `N`, `M`, `T`, `C`) by the register's name.
pub fn notification_status(status: &str, lang: Language) -> String {
    match status.trim() {
        "N" => crate::t!(lang, "status-notification-n"),
        "M" => crate::t!(lang, "status-notification-m"),
        "T" => crate::t!(lang, "status-notification-t"),
        "C" => crate::t!(lang, "status-notification-c"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_domain_brief_is_explained_in_both_languages() {
        for lang in Language::ALL {
            for code in CODES {
                let explained = explain(code, lang).unwrap();
                assert!(explained.meaning.ends_with('.'), "{code} {lang}");
                assert!(explained.what_to_do.ends_with('.'), "{code} {lang}");
                let key = format!("apprec-{}", code.to_ascii_lowercase());
                assert!(lang.text_if_any(&format!("{key}.what-to-do")).is_some());
            }
        }
        assert_eq!(explain(" e35 ", Language::Nb), explain("E35", Language::Nb));
        assert_eq!(
            explain("E35", Language::Nb).unwrap().meaning,
            "Registeret kjenner ikke en person i meldingen."
        );
        assert!(explain("Q42", Language::En).is_none());
    }

    #[test]
    fn codes_carry_the_register_s_names() {
        assert_eq!(receipt_status_words(2, Language::Nb), "2 Avvist");
        assert_eq!(receipt_status(2, Language::En), "Avvist (rejected)");
        assert_eq!(
            receipt_status_words(3, Language::Nb),
            "3 OK, feil i delmelding"
        );
        assert_eq!(notification_status("N", Language::Nb), "Original");
        assert_eq!(
            notification_status("C", Language::En),
            "KorrigerAnnuller (cancels the original)"
        );
        assert_eq!(
            message_what("KPR_IPL", None, None, Language::En),
            "an annual report"
        );
        assert_eq!(
            message_what("KPR_IPL", None, Some(2025), Language::Nb),
            "årsrapporten for 2025"
        );
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(
            message_what(
                crate::model::register::DEFAULT_MSG_TYPE,
                Some(day),
                None,
                Language::Nb
            ),
            "den daglige rapporten for 02.03.2026"
        );
        assert_eq!(
            message_what(
                crate::model::register::DEFAULT_MSG_TYPE,
                Some(day),
                None,
                Language::En
            ),
            "the daily report for 2026-03-02"
        );
        assert_eq!(message_type("KPR_X", Language::En), "KPR_X message");
        assert_eq!(state("rejected", Language::Nb), "avvist");
        assert_eq!(event_kind("stop_from", Language::En), "stop from");
    }
}
