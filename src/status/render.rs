//! The status as text for a terminal: what needs action first, each with what happened and
//! what to do, in words a care professional understands; then what is under way; then the
//! quiet facts. In the reader's language (`locales/<language>/status.ftl`), times in
//! Europe/Oslo. The texts are made here from the status's codes and ids, so that one
//! gathered status reads in either language.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Oslo;

use super::{ACTION_DAYS, Certificate, ChainProblem, FindingLine, Problem, Status, codes};
use crate::checks::Severity;
use crate::i18n::Language;
use crate::t;

/// The whole status, ending with a line break.
pub fn render(status: &Status, lang: Language) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        t!(
            lang,
            "status-heading",
            name = status.municipality_name.clone(),
            number = status.municipality.clone(),
            mode = status.mode,
            at = lang.moment(status.generated_at)
        )
    );
    let actions = actions(status, lang);
    if actions.is_empty() {
        let _ = writeln!(out, "\n{}", t!(lang, "status-nothing-needs-action"));
    } else {
        let _ = writeln!(
            out,
            "\n{}",
            t!(lang, "status-needs-action", count = actions.len())
        );
        for action in &actions {
            out.push('\n');
            out.push_str(action);
        }
    }
    waiting(status, lang, &mut out);
    daily(status, lang, &mut out);
    quiet_problems(status, lang, &mut out);
    warnings(status, lang, &mut out);
    certificates(status, lang, &mut out);
    sources(status, lang, &mut out);
    counts(status, lang, &mut out);
    out
}

fn sources(status: &Status, lang: Language, out: &mut String) {
    for source in &status.sources {
        let _ = writeln!(
            out,
            "\n{}",
            t!(
                lang,
                "status-source",
                name = source.name.clone(),
                kind = source.kind
            )
        );
        if let Some(cannot) = &source.cannot {
            let _ = writeln!(out, "  {cannot}.");
        }
    }
}

/// Several municipalities at a glance (`status --tenants`): a line each with who serves it,
/// the last date shipped and how many things need action, then those things, by
/// municipality. `served_by` says who serves a municipality (by its number).
pub fn overview(
    statuses: &std::collections::BTreeMap<String, Status>,
    served_by: impl Fn(&str) -> String,
    lang: Language,
) -> String {
    let mut out = String::new();
    let generated = statuses.values().map(|s| s.generated_at).next();
    let _ = writeln!(
        out,
        "{}\n",
        t!(
            lang,
            "status-overview-heading",
            count = statuses.len(),
            at = generated.map(|at| lang.moment(at)).unwrap_or_default()
        )
    );
    let _ = writeln!(
        out,
        "{:<28} {:<44} {:<12} {}",
        t!(lang, "status-overview-municipality"),
        t!(lang, "status-overview-served"),
        t!(lang, "status-overview-last-shipped"),
        t!(lang, "status-overview-needs-action")
    );
    let mut details = String::new();
    for (number, status) in statuses {
        let actions = actions(status, lang);
        let name: String = format!("{number} {}", status.municipality_name)
            .chars()
            .take(28)
            .collect();
        let _ = writeln!(
            out,
            "{name:<28} {:<44} {:<12} {}",
            served_by(number),
            status
                .daily
                .last_shipped
                .map_or_else(|| "-".to_string(), |d| lang.date(d)),
            if actions.is_empty() {
                "-".to_string()
            } else {
                lang.number(actions.len() as i128)
            }
        );
        if !actions.is_empty() {
            let _ = writeln!(details, "\n{number} {}:", status.municipality_name);
            for action in actions {
                details.push('\n');
                details.push_str(&action);
            }
        }
    }
    if !details.is_empty() {
        let _ = writeln!(out, "\n{}", t!(lang, "status-overview-actions"));
        out.push_str(&details);
    }
    out
}

/// A thing that needs action as a paragraph: `! ` and its first line, the rest indented.
fn paragraph(lines: &[String]) -> String {
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        text.push_str(if i == 0 { "! " } else { "    " });
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Each thing that needs action, as a paragraph.
pub fn actions(status: &Status, lang: Language) -> Vec<String> {
    let mut actions = Vec::new();
    // Rejected first: nothing of it reached the register; then undeliverable, then unanswered.
    for state in ["rejected", "error", "expired"] {
        for problem in status
            .problems
            .iter()
            .filter(|p| p.needs_action && p.state == state)
        {
            actions.push(problem_text(problem, lang));
        }
    }
    let daily = &status.daily;
    if daily.missed_count > 0 {
        let dates: Vec<String> = daily.missed.iter().map(|d| lang.date(*d)).collect();
        let named = if daily.missed_count as usize > dates.len() {
            t!(
                lang,
                "action-daily-missed-many",
                count = daily.missed_count,
                shown = dates.len(),
                dates = dates.join(", ")
            )
        } else {
            dates.join(", ")
        };
        // The command takes the date as written in ISO, in every language.
        let closed_iso = daily
            .closed
            .map_or_else(|| t!(lang, "status-date-placeholder"), |d| d.to_string());
        actions.push(paragraph(&[
            t!(lang, "action-daily-missed", dates = named),
            t!(
                lang,
                "action-daily-missed.last",
                last = daily
                    .last_shipped
                    .map_or_else(|| t!(lang, "status-none"), |d| lang.date(d)),
                schedule = daily.schedule.clone(),
                closed = daily.closed.map_or_else(|| "?".into(), |d| lang.date(d))
            ),
            t!(lang, "action-daily-missed.todo", date = closed_iso),
        ]));
    }
    for certificate in status
        .certificates
        .iter()
        .flatten()
        .filter(|c| c.needs_action(status.certificate_days))
    {
        actions.push(certificate_action(certificate, lang));
    }
    if let Some(findings) = &status.findings {
        let errors: Vec<_> = findings.errors().collect();
        if !errors.is_empty() {
            let mut text = paragraph(&[t!(
                lang,
                "action-findings",
                at = lang.moment(findings.at),
                date = lang.date(findings.reporting_date)
            )]);
            for finding in errors {
                let _ = writeln!(
                    text,
                    "    {}\n      {}",
                    finding_line(finding, lang),
                    t!(lang, "status-what-to-do", todo = finding.fix_in(lang))
                );
            }
            let _ = writeln!(text, "    {}", t!(lang, "action-findings.report"));
            actions.push(text);
        }
    }
    for conflict in status.conflicts.iter().filter(|c| c.needs_action) {
        actions.push(paragraph(&[
            t!(
                lang,
                "action-conflict",
                id = conflict.msg_id.clone(),
                first = conflict.first_receipt_id.clone(),
                first_at = lang.moment(conflict.first_at),
                first_status = codes::receipt_status_words(conflict.first_status, lang),
                later = conflict.later_receipt_id.clone(),
                later_at = lang.moment(conflict.later_at),
                later_status = codes::receipt_status_words(conflict.later_status, lang)
            ),
            t!(
                lang,
                "action-conflict.stays",
                state = codes::state(&conflict.state, lang)
            ),
            t!(lang, "action-conflict.todo"),
        ]));
    }
    if let Some(chain) = &status.chain {
        actions.push(chain_action(chain, lang));
    }
    for lines in super::identity_key::actions(&status.identity_key, lang) {
        actions.push(paragraph(&lines));
    }
    if status.anomalies.recent > 0 {
        actions.push(paragraph(&[
            t!(
                lang,
                "action-anomalies",
                count = status.anomalies.recent,
                days = ACTION_DAYS,
                at = status
                    .anomalies
                    .last_at
                    .map_or_else(|| "?".into(), |at| lang.moment(at))
            ),
            t!(lang, "action-anomalies.todo"),
        ]));
    }
    actions
}

/// The store behind the chain mark, disagreeing with it, or a mark that cannot be read.
fn chain_action(chain: &ChainProblem, lang: Language) -> String {
    let mark = chain.mark_number.unwrap_or(0);
    let id = chain.mark_msg_id.clone().unwrap_or_default();
    match chain.kind {
        "behind" => paragraph(&[
            t!(
                lang,
                "action-chain-behind",
                store = chain.store_number,
                mark = mark,
                id = id,
                date = chain
                    .mark_date
                    .map_or_else(|| t!(lang, "status-none"), |d| lang.date(d))
            ),
            t!(lang, "action-chain-behind.means"),
            t!(lang, "action-chain-behind.todo", mark = mark),
        ]),
        "diverged" => paragraph(&[
            t!(
                lang,
                "action-chain-diverged",
                file = chain.file.clone(),
                mark = mark,
                id = id
            ),
            t!(lang, "action-chain-diverged.means"),
            t!(lang, "action-chain-diverged.todo"),
        ]),
        _ => paragraph(&[
            t!(
                lang,
                "action-chain-unreadable",
                problem = chain.detail.clone().unwrap_or_default()
            ),
            t!(lang, "action-chain-unreadable.todo"),
        ]),
    }
}

fn certificate_action(certificate: &Certificate, lang: Language) -> String {
    let name = capitalised(&certificate.role_name(lang));
    let subject = certificate.subject.clone().unwrap_or_else(|| "?".into());
    match (&certificate.problem, certificate.days_left) {
        (Some(problem), _) => paragraph(&[
            t!(
                lang,
                "action-certificate-unreadable",
                name = name,
                problem = problem.clone()
            ),
            t!(lang, "action-certificate-unreadable.means"),
        ]),
        (None, Some(left)) if left < 0 => paragraph(&[
            t!(
                lang,
                "action-certificate-ended",
                name = name,
                day = day(certificate.not_after, lang),
                subject = subject
            ),
            t!(lang, "action-certificate-ended.means"),
            t!(
                lang,
                "action-certificate-ended.todo",
                renew = certificate.renew(lang)
            ),
        ]),
        (None, left) => paragraph(&[
            t!(
                lang,
                "action-certificate-ending",
                name = name,
                day = day(certificate.not_after, lang),
                days = left.unwrap_or(0),
                subject = subject
            ),
            t!(
                lang,
                "action-certificate-ending.todo",
                renew = certificate.renew(lang),
                day = day(certificate.not_after, lang)
            ),
        ]),
    }
}

/// A finding of the checks in a line: its rule, how many records, what it means.
pub fn finding_line(finding: &FindingLine, lang: Language) -> String {
    t!(
        lang,
        "status-finding",
        rule = finding.rule.clone(),
        count = finding.count,
        explains = finding.explains_in(lang)
    )
}

fn problem_text(problem: &Problem, lang: Language) -> String {
    let what = codes::message_what(
        &problem.msg_type,
        problem.reporting_date,
        problem.year,
        lang,
    );
    let id = problem.msg_id.clone();
    let target = codes::target(&problem.target, lang);
    let at = lang.moment(problem.since);
    let mut text = match problem.state.as_str() {
        "rejected" => paragraph(&[
            t!(
                lang,
                "problem-rejected",
                what = what,
                id = id,
                target = target,
                at = at
            ),
            t!(lang, "problem-rejected.means"),
        ]),
        "error" => paragraph(&[t!(
            lang,
            "problem-error",
            what = what,
            id = id,
            target = target,
            at = at
        )]),
        "expired" => paragraph(&[
            t!(
                lang,
                "problem-expired",
                what = what,
                id = id,
                target = target,
                at = at
            ),
            t!(lang, "problem-expired.means"),
        ]),
        _ => format!(
            "- {}\n",
            t!(
                lang,
                "problem-remarked",
                what = what,
                id = id,
                target = target,
                at = at
            )
        ),
    };
    for code in &problem.codes {
        let code = code.in_language(lang);
        let _ = writeln!(text, "    {}: {}", code.code, code.meaning);
        if let Some(what_to_do) = &code.what_to_do {
            let _ = writeln!(
                text,
                "      {}",
                t!(lang, "status-what-to-do", todo = what_to_do.clone())
            );
            if !code.kpr_text.is_empty() {
                let _ = writeln!(
                    text,
                    "      {}",
                    t!(lang, "status-kpr-wrote", text = code.kpr_text.clone())
                );
            }
        }
    }
    if let Some(detail) = &problem.detail {
        let _ = writeln!(text, "    {detail}");
    }
    let advice = match problem.state.as_str() {
        "rejected" if problem.codes.is_empty() => Some(t!(lang, "problem-rejected.todo")),
        "error" => Some(t!(lang, "problem-error.todo")),
        "expired" => Some(t!(lang, "problem-expired.todo")),
        _ => None,
    };
    if let Some(advice) = advice {
        let _ = writeln!(text, "    {advice}");
    }
    text
}

fn waiting(status: &Status, lang: Language, out: &mut String) {
    if status.waiting.is_empty() {
        return;
    }
    let total = status
        .messages_per_state
        .get("queued")
        .copied()
        .unwrap_or(0)
        + status.messages_per_state.get("sent").copied().unwrap_or(0);
    let shown = status.waiting.len() as i64;
    let heading = if total > shown {
        t!(lang, "status-waiting-some", count = total, shown = shown)
    } else {
        t!(lang, "status-waiting", count = total)
    };
    let _ = writeln!(out, "\n{heading}");
    for w in &status.waiting {
        let doing = if w.state == "queued" {
            let queued = t!(
                lang,
                "status-waiting-queued",
                duration = duration(w.age_seconds, lang)
            );
            match w.last_problem.as_deref() {
                Some(problem) => format!("{queued} — {problem}"),
                None => queued,
            }
        } else {
            t!(
                lang,
                "status-waiting-sent",
                duration = duration(w.age_seconds, lang)
            )
        };
        let what = codes::message_what(&w.msg_type, w.reporting_date, w.year, lang);
        let _ = writeln!(
            out,
            "  {}",
            t!(
                lang,
                "status-waiting-line",
                what = capitalised(&what),
                id = w.msg_id.clone(),
                target = codes::target(&w.target, lang),
                doing = doing
            )
        );
    }
}

fn daily(status: &Status, lang: Language, out: &mut String) {
    let daily = &status.daily;
    let _ = writeln!(out, "\n{}", t!(lang, "status-daily"));
    match daily.last_shipped {
        None => {
            let _ = writeln!(out, "  {}", t!(lang, "status-daily-not-begun"));
        }
        Some(last) => {
            let _ = writeln!(
                out,
                "  {}",
                t!(
                    lang,
                    "status-daily-last",
                    date = lang.date(last),
                    schedule = daily.schedule.clone()
                )
            );
        }
    }
    let _ = writeln!(
        out,
        "  {}",
        t!(lang, "status-daily-msg-type", code = daily.msg_type.clone())
    );
    if let (Some(at), Some(age)) = (daily.last_success_at, daily.last_success_age_seconds) {
        let _ = writeln!(
            out,
            "  {}",
            t!(
                lang,
                "status-daily-success",
                at = lang.moment(at),
                duration = duration(age, lang)
            )
        );
    }
    if let Some(line) = super::identity_key::quiet(&status.identity_key, lang) {
        let _ = writeln!(out, "  {line}");
    }
    for run in &daily.runs {
        let mut parts = Vec::new();
        if run.captures > 0 {
            let mut read = t!(
                lang,
                "status-run-read",
                count = run.captures,
                notifications = run.notifications
            );
            if run.held_back > 0 {
                read = format!(
                    "{read}, {}",
                    t!(lang, "status-run-held-back", count = run.held_back)
                );
            }
            parts.push(format!("{read};"));
        }
        if run.shipments.is_empty() {
            parts.push(t!(lang, "status-run-not-sent"));
        }
        for shipment in &run.shipments {
            if shipment.messages.is_empty() {
                parts.push(t!(lang, "status-run-no-changes", time = time(shipment.at)));
            } else {
                let states: Vec<String> = shipment
                    .messages
                    .iter()
                    .map(|m| {
                        format!(
                            "{} {} ({})",
                            t!(lang, "status-part", number = m.number, parts = m.parts),
                            m.state
                                .as_deref()
                                .map_or_else(|| "?".into(), |s| codes::state(s, lang)),
                            m.msg_id
                        )
                    })
                    .collect();
                parts.push(t!(
                    lang,
                    "status-run-sent",
                    time = time(shipment.at),
                    count = shipment.notifications,
                    messages = states.join(", ")
                ));
            }
        }
        let _ = writeln!(
            out,
            "  {}: {}",
            lang.date(run.reporting_date),
            parts.join(" ")
        );
    }
}

fn quiet_problems(status: &Status, lang: Language, out: &mut String) {
    let quiet: Vec<&Problem> = status.problems.iter().filter(|p| !p.needs_action).collect();
    if quiet.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", t!(lang, "status-earlier", days = ACTION_DAYS));
    for problem in quiet {
        for line in problem_text(problem, lang).lines() {
            let _ = writeln!(out, "  {}", line.trim_start_matches("! "));
        }
    }
}

fn warnings(status: &Status, lang: Language, out: &mut String) {
    let Some(findings) = &status.findings else {
        return;
    };
    if !findings.recorded {
        return;
    }
    let warnings: Vec<_> = findings
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .collect();
    if warnings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        t!(lang, "status-warnings", at = lang.moment(findings.at))
    );
    for finding in warnings {
        let _ = writeln!(out, "  {}", finding_line(finding, lang));
    }
}

fn certificates(status: &Status, lang: Language, out: &mut String) {
    let Some(certificates) = &status.certificates else {
        return;
    };
    let _ = writeln!(out, "\n{}", t!(lang, "status-certificates"));
    for c in certificates {
        let name = capitalised(&c.role_name(lang));
        let line = match (&c.problem, c.days_left) {
            (Some(_), _) => t!(
                lang,
                "status-certificate-unreadable",
                name = name,
                file = c.file.clone()
            ),
            (None, left) => t!(
                lang,
                "status-certificate-valid",
                name = name,
                day = day(c.not_after, lang),
                days = left.unwrap_or(0),
                subject = c.subject.clone().unwrap_or_else(|| "?".into())
            ),
        };
        let _ = writeln!(out, "  {line}");
    }
}

fn counts(status: &Status, lang: Language, out: &mut String) {
    let states: Vec<String> = status
        .messages_per_state
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(state, n)| {
            t!(
                lang,
                "status-count",
                count = *n,
                what = codes::state(state, lang)
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "\n{}",
        t!(
            lang,
            "status-messages",
            messages = if states.is_empty() {
                t!(lang, "status-messages-none")
            } else {
                states.join(", ")
            }
        )
    );
    let latency = &status.receipt_latency;
    if let Some(median) = latency.median_seconds {
        let _ = writeln!(
            out,
            "{}",
            t!(
                lang,
                "status-receipts",
                count = latency.count,
                duration = duration(median as i64, lang)
            )
        );
    }
    let events: Vec<String> = status
        .events_per_kind
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(kind, n)| {
            t!(
                lang,
                "status-count",
                count = *n,
                what = codes::event_kind(kind, lang)
            )
        })
        .collect();
    if !events.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            t!(lang, "status-events", events = events.join(", "))
        );
    }
    if status.anomalies.total > 0 {
        let _ = writeln!(
            out,
            "{}",
            t!(lang, "status-anomalies", count = status.anomalies.total)
        );
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Oslo).format("%H:%M").to_string()
}

fn day(at: Option<DateTime<Utc>>, lang: Language) -> String {
    at.map_or_else(
        || "?".into(),
        |at| lang.date(at.with_timezone(&Oslo).date_naive()),
    )
}

/// The text with its first letter in upper case, to begin a sentence.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// "3 days 4 hours", "2 hours 5 minutes", "5 minutes", "40 seconds".
pub fn duration(seconds: i64, lang: Language) -> String {
    let s = seconds.max(0);
    let seconds = |n: i64| t!(lang, "duration-seconds", count = n);
    let minutes = |n: i64| t!(lang, "duration-minutes", count = n);
    let hours = |n: i64| t!(lang, "duration-hours", count = n);
    let days = |n: i64| t!(lang, "duration-days", count = n);
    match s {
        0..60 => seconds(s),
        60..3600 => minutes(s / 60),
        3600..86400 => match (s % 3600) / 60 {
            0 => hours(s / 3600),
            m => format!("{} {}", hours(s / 3600), minutes(m)),
        },
        _ => match (s % 86400) / 3600 {
            0 => days(s / 86400),
            h => format!("{} {}", days(s / 86400), hours(h)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        let en = Language::En;
        assert_eq!(duration(40, en), "40 seconds");
        assert_eq!(duration(60, en), "1 minute");
        assert_eq!(duration(7500, en), "2 hours 5 minutes");
        assert_eq!(duration(86400 * 3 + 3600 * 4, en), "3 days 4 hours");
        assert_eq!(duration(-5, en), "0 seconds");
        let nb = Language::Nb;
        assert_eq!(duration(40, nb), "40 sekunder");
        assert_eq!(duration(1, nb), "1 sekund");
        assert_eq!(duration(60, nb), "1 minutt");
        assert_eq!(duration(7500, nb), "2 timer 5 minutter");
        assert_eq!(duration(86400 + 3600, nb), "1 dag 1 time");
        assert_eq!(duration(86400 * 3 + 3600 * 4, nb), "3 dager 4 timer");
    }
}
