//! The status as text for a terminal: what needs action first, each with what happened and
//! what to do, in words a care professional understands; then what is under way; then the
//! quiet facts. Times in Europe/Oslo.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Oslo;

use super::{ACTION_DAYS, Problem, Status};
use crate::checks::Severity;
use crate::store::receipts::status_words;

/// The whole status, ending with a line break.
pub fn render(status: &Status) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "kpr-bridge status for {} ({}), {} mode, {}",
        status.municipality_name,
        status.municipality,
        status.mode,
        local(status.generated_at)
    );
    let actions = actions(status);
    if actions.is_empty() {
        out.push_str("\nNothing needs action.\n");
    } else {
        let _ = writeln!(out, "\nNEEDS ACTION ({})", actions.len());
        for action in &actions {
            out.push('\n');
            out.push_str(action);
        }
    }
    waiting(status, &mut out);
    daily(status, &mut out);
    quiet_problems(status, &mut out);
    warnings(status, &mut out);
    certificates(status, &mut out);
    sources(status, &mut out);
    counts(status, &mut out);
    out
}

fn sources(status: &Status, out: &mut String) {
    for source in &status.sources {
        let _ = writeln!(out, "\nSource {} ({})", source.name, source.kind);
        if let Some(cannot) = source.cannot {
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
) -> String {
    let mut out = String::new();
    let generated = statuses.values().map(|s| s.generated_at).next();
    let _ = writeln!(
        out,
        "kpr-bridge status of {} municipalities, {}\n",
        statuses.len(),
        generated.map(local).unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "{:<28} {:<44} {:<12} Needs action",
        "Municipality", "Served", "Last shipped"
    );
    let mut details = String::new();
    for (number, status) in statuses {
        let actions = actions(status);
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
                .map_or_else(|| "-".to_string(), |d| d.to_string()),
            if actions.is_empty() {
                "-".to_string()
            } else {
                actions.len().to_string()
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
        out.push_str("\nNEEDS ACTION\n");
        out.push_str(&details);
    }
    out
}

/// Each thing that needs action, as a paragraph.
pub fn actions(status: &Status) -> Vec<String> {
    let mut actions = Vec::new();
    // Rejected first: nothing of it reached the register; then undeliverable, then unanswered.
    for state in ["rejected", "error", "expired"] {
        for problem in status
            .problems
            .iter()
            .filter(|p| p.needs_action && p.state == state)
        {
            actions.push(problem_text(problem));
        }
    }
    let daily = &status.daily;
    if daily.missed_count > 0 {
        let dates: Vec<String> = daily.missed.iter().map(|d| d.to_string()).collect();
        let named = if daily.missed_count as usize > dates.len() {
            format!(
                "{} reporting dates, the latest {}: {}",
                daily.missed_count,
                dates.len(),
                dates.join(", ")
            )
        } else {
            dates.join(", ")
        };
        actions.push(format!(
            "! The daily report has not been sent for {named}.\n    The last reporting date sent is {}; by the schedule ({}) every date up to {} should have gone.\n    What to do: check that the kpr-bridge agent runs and read its log; `kpr-bridge daily --config FILE --date {}` sends a date by hand.\n",
            daily
                .last_shipped
                .map_or_else(|| "none".into(), |d| d.to_string()),
            daily.schedule,
            daily.closed.map_or_else(|| "?".into(), |d| d.to_string()),
            daily
                .closed
                .map_or_else(|| "YYYY-MM-DD".into(), |d| d.to_string()),
        ));
    }
    for certificate in status
        .certificates
        .iter()
        .flatten()
        .filter(|c| c.needs_action(status.certificate_days))
    {
        let text = match (&certificate.problem, certificate.days_left) {
            (Some(problem), _) => format!(
                "! {} cannot be read: {problem}\n    Until it can, nothing can be sent to KPR or read from it.\n",
                capitalised(certificate.name)
            ),
            (None, Some(left)) if left < 0 => format!(
                "! {} ended on {}: {}.\n    Nothing can be sent with it.\n    What to do: {}.\n",
                capitalised(certificate.name),
                day(certificate.not_after),
                certificate.subject.as_deref().unwrap_or("?"),
                certificate.renew()
            ),
            (None, left) => format!(
                "! {} ends on {} ({} days left): {}.\n    What to do: {} before then.\n",
                capitalised(certificate.name),
                day(certificate.not_after),
                left.unwrap_or(0),
                certificate.subject.as_deref().unwrap_or("?"),
                certificate.renew()
            ),
        };
        actions.push(text);
    }
    if let Some(findings) = &status.findings {
        let errors: Vec<_> = findings.errors().collect();
        if !errors.is_empty() {
            let mut text = format!(
                "! The checks of the latest reading of the patient record system ({}, reporting date {}) found errors. The records concerned are held back, and are sent once they are corrected:\n",
                local(findings.at),
                findings.reporting_date
            );
            for finding in errors {
                let _ = writeln!(
                    text,
                    "    {} ({} record(s)): {}\n      What to do: {}",
                    finding.rule, finding.count, finding.explains, finding.fix
                );
            }
            text.push_str(
                "    `kpr-bridge check --config FILE --report report.html` shows each record by its id in the patient record system.\n",
            );
            actions.push(text);
        }
    }
    for conflict in status.conflicts.iter().filter(|c| c.needs_action) {
        actions.push(format!(
            "! KPR's receipts for message {} disagree: the first ({}, {}) said {}, a later one ({}, {}) says {}.\n    The message stays {}, as the first receipt decided; the later one was kept, not applied.\n    What to do: ask KPR (FHI) which answer holds; if it is the later one, send the message again. `kpr-bridge receipts --config FILE --offline` shows both.\n",
            conflict.msg_id,
            conflict.first_receipt_id,
            local(conflict.first_at),
            status_words(conflict.first_status),
            conflict.later_receipt_id,
            local(conflict.later_at),
            status_words(conflict.later_status),
            conflict.state,
        ));
    }
    if status.anomalies.recent > 0 {
        actions.push(format!(
            "! {} message(s) arrived on our queues in the last {ACTION_DAYS} days that could not be taken as a receipt (the latest {}).\n    They are kept in the state store. What to do: `kpr-bridge receipts --config FILE --offline` lists them with the reason; a receipt among them may mean a message's answer is lost.\n",
            status.anomalies.recent,
            status.anomalies.last_at.map_or_else(|| "?".into(), local)
        ));
    }
    actions
}

fn problem_text(problem: &Problem) -> String {
    let mut text = match problem.state.as_str() {
        "rejected" => format!(
            "! KPR rejected {} (message {}, {}, {}).\n    Nothing in it reached the register.\n",
            problem.what,
            problem.msg_id,
            problem.target,
            local(problem.since)
        ),
        "error" => format!(
            "! The national message network could not deliver {} (message {}, {}, {}).\n",
            problem.what,
            problem.msg_id,
            problem.target,
            local(problem.since)
        ),
        "expired" => format!(
            "! No receipt came from KPR for {} (message {}, {}): given up waiting {}.\n    KPR may not have received it.\n",
            problem.what,
            problem.msg_id,
            problem.target,
            local(problem.since)
        ),
        _ => format!(
            "- KPR accepted {} (message {}, {}, {}) but found errors in parts of it; those parts did not reach the register.\n",
            problem.what,
            problem.msg_id,
            problem.target,
            local(problem.since)
        ),
    };
    for code in &problem.codes {
        let _ = writeln!(text, "    {}: {}", code.code, code.meaning);
        if let Some(what_to_do) = &code.what_to_do {
            let _ = writeln!(text, "      What to do: {what_to_do}");
            if !code.kpr_text.is_empty() {
                let _ = writeln!(text, "      KPR wrote: \"{}\"", code.kpr_text);
            }
        }
    }
    if let Some(detail) = &problem.detail {
        let _ = writeln!(text, "    {detail}");
    }
    let advice = match problem.state.as_str() {
        "rejected" if problem.codes.is_empty() => {
            Some("What to do: ask KPR (FHI) why; `kpr-bridge receipts` shows the receipt.")
        }
        "error" => Some(
            "What to do: check the certificates and the queue names in the configuration against NHN's address register, then send again.",
        ),
        "expired" => Some(
            "What to do: check that receipts reach our queue (`kpr-bridge receipts --config FILE`); ask KPR (FHI) whether the message arrived before sending it again.",
        ),
        _ => None,
    };
    if let Some(advice) = advice {
        let _ = writeln!(text, "    {advice}");
    }
    text
}

fn waiting(status: &Status, out: &mut String) {
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
    if total > shown {
        let _ = writeln!(out, "\nWaiting ({total}, the latest {shown} shown)");
    } else {
        let _ = writeln!(out, "\nWaiting ({total})");
    }
    for w in &status.waiting {
        let (doing, problem) = if w.state == "queued" {
            (
                format!(
                    "not yet accepted by the message network (NHN), for {}",
                    duration(w.age_seconds)
                ),
                w.last_problem
                    .as_deref()
                    .map(|p| format!(" — {p}"))
                    .unwrap_or_default(),
            )
        } else {
            (
                format!(
                    "sent, waiting for KPR's receipt for {}",
                    duration(w.age_seconds)
                ),
                String::new(),
            )
        };
        let _ = writeln!(
            out,
            "  {} (message {}, {}): {doing}{problem}",
            capitalised(&w.what),
            w.msg_id,
            w.target
        );
    }
}

fn daily(status: &Status, out: &mut String) {
    let daily = &status.daily;
    let _ = writeln!(out, "\nDaily reports");
    match daily.last_shipped {
        None => {
            let _ = writeln!(
                out,
                "  Daily reporting has not begun: the first run is the initial load, `kpr-bridge daily --config FILE --initial [--since 2026-01-01]`."
            );
        }
        Some(last) => {
            let _ = writeln!(
                out,
                "  Last reporting date sent: {last}; schedule {} (Europe/Oslo).",
                daily.schedule
            );
        }
    }
    let _ = writeln!(
        out,
        "  Daily messages go as MsgHead type {} (HIS 1135, XPR(ipl) 56.0.0); no public name exists for it — confirm it with FHI before production.",
        daily.msg_type
    );
    if let (Some(at), Some(age)) = (daily.last_success_at, daily.last_success_age_seconds) {
        let _ = writeln!(
            out,
            "  Last daily report fully received by KPR: sent {} ({} ago).",
            local(at),
            duration(age)
        );
    }
    for run in &daily.runs {
        let mut line = format!("  {}:", run.reporting_date);
        if run.captures > 0 {
            let _ = write!(
                line,
                " read {} time(s), {} notification(s)",
                run.captures, run.notifications
            );
            if run.held_back > 0 {
                let _ = write!(line, ", {} record(s) held back", run.held_back);
            }
            line.push(';');
        }
        if run.shipments.is_empty() {
            line.push_str(" not sent yet");
        }
        for shipment in &run.shipments {
            if shipment.messages.is_empty() {
                let _ = write!(line, " {}: no changes to send", time(shipment.at));
            } else {
                let states: Vec<String> = shipment
                    .messages
                    .iter()
                    .map(|m| {
                        format!(
                            "{} {} ({})",
                            m.part,
                            m.state.as_deref().unwrap_or("?"),
                            m.msg_id
                        )
                    })
                    .collect();
                let _ = write!(
                    line,
                    " sent {} with {} notification(s): {}",
                    time(shipment.at),
                    shipment.notifications,
                    states.join(", ")
                );
            }
        }
        let _ = writeln!(out, "{line}");
    }
}

fn quiet_problems(status: &Status, out: &mut String) {
    let quiet: Vec<&Problem> = status.problems.iter().filter(|p| !p.needs_action).collect();
    if quiet.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nEarlier problems and remarks (older than {ACTION_DAYS} days, or accepted with errors in parts)"
    );
    for problem in quiet {
        for line in problem_text(problem).lines() {
            let _ = writeln!(out, "  {}", line.trim_start_matches("! "));
        }
    }
}

fn warnings(status: &Status, out: &mut String) {
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
        "\nWorth a look (warnings of the latest reading, {}; the data still goes)",
        local(findings.at)
    );
    for finding in warnings {
        let _ = writeln!(
            out,
            "  {} ({} record(s)): {}",
            finding.rule, finding.count, finding.explains
        );
    }
}

fn certificates(status: &Status, out: &mut String) {
    let Some(certificates) = &status.certificates else {
        return;
    };
    let _ = writeln!(out, "\nCertificates");
    for c in certificates {
        match (&c.problem, c.days_left) {
            (Some(_), _) => {
                let _ = writeln!(out, "  {}: cannot be read ({})", c.name, c.file);
            }
            (None, left) => {
                let _ = writeln!(
                    out,
                    "  {}: valid until {} ({} days left), {}",
                    capitalised(c.name),
                    day(c.not_after),
                    left.unwrap_or(0),
                    c.subject.as_deref().unwrap_or("?")
                );
            }
        }
    }
}

fn counts(status: &Status, out: &mut String) {
    let states: Vec<String> = status
        .messages_per_state
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    let _ = writeln!(
        out,
        "\nMessages: {}",
        if states.is_empty() {
            "none yet".into()
        } else {
            states.join(", ")
        }
    );
    let latency = &status.receipt_latency;
    if let Some(median) = latency.median_seconds {
        let _ = writeln!(
            out,
            "Receipts: {} received; half came within {} of sending.",
            latency.count,
            duration(median as i64)
        );
    }
    let events: Vec<String> = status
        .events_per_kind
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    if !events.is_empty() {
        let _ = writeln!(out, "Changes reported so far: {}", events.join(", "));
    }
    if status.anomalies.total > 0 {
        let _ = writeln!(
            out,
            "Anomalies kept: {} (`kpr-bridge receipts --offline` lists them).",
            status.anomalies.total
        );
    }
}

fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&Oslo).format("%Y-%m-%d %H:%M").to_string()
}

fn time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Oslo).format("%H:%M").to_string()
}

fn day(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "?".into(), |at| at.format("%Y-%m-%d").to_string())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// "3 days 4 hours", "2 hours 5 minutes", "5 minutes", "40 seconds".
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match s {
        0..60 => plural(s, "second"),
        60..3600 => plural(s / 60, "minute"),
        3600..86400 => {
            let minutes = (s % 3600) / 60;
            if minutes == 0 {
                plural(s / 3600, "hour")
            } else {
                format!("{} {}", plural(s / 3600, "hour"), plural(minutes, "minute"))
            }
        }
        _ => {
            let hours = (s % 86400) / 3600;
            if hours == 0 {
                plural(s / 86400, "day")
            } else {
                format!("{} {}", plural(s / 86400, "day"), plural(hours, "hour"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration(40), "40 seconds");
        assert_eq!(duration(60), "1 minute");
        assert_eq!(duration(7500), "2 hours 5 minutes");
        assert_eq!(duration(86400 * 3 + 3600 * 4), "3 days 4 hours");
        assert_eq!(duration(-5), "0 seconds");
    }
}
