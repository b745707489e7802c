//! The status as Prometheus text exposition (format 0.0.4), for `/metrics`. Written by hand:
//! a few families, each with HELP and TYPE before its samples, label values escaped. Labels
//! are kinds, states, rule ids and certificate roles — never a person, a MsgId or a date, so
//! the number of series stays small and fixed.

use std::fmt::Write;

use super::Status;

/// The content type a `/metrics` answer carries.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every metric family, ending with a line break.
pub fn metrics(status: &Status) -> String {
    let mut out = String::new();

    family(
        &mut out,
        "kpr_bridge_events_total",
        "counter",
        "Daily notifications made, by event kind, since daily reporting began.",
    );
    for (kind, count) in &status.events_per_kind {
        sample(
            &mut out,
            "kpr_bridge_events_total",
            &[("kind", kind)],
            *count,
        );
    }

    family(
        &mut out,
        "kpr_bridge_messages",
        "gauge",
        "Messages in the outbox, by state (queued, sent, delivered, rejected, error, expired).",
    );
    for (state, count) in &status.messages_per_state {
        sample(&mut out, "kpr_bridge_messages", &[("state", state)], *count);
    }

    let latency = &status.receipt_latency;
    let name = "kpr_bridge_receipt_latency_seconds";
    family(
        &mut out,
        name,
        "histogram",
        "Time from the broker's confirm to KPR's receipt (delivered or rejected).",
    );
    for (le, count) in &latency.buckets {
        sample(
            &mut out,
            &format!("{name}_bucket"),
            &[("le", &le.to_string())],
            count,
        );
    }
    sample(
        &mut out,
        &format!("{name}_bucket"),
        &[("le", "+Inf")],
        latency.count,
    );
    sample(&mut out, &format!("{name}_sum"), &[], latency.sum_seconds);
    sample(&mut out, &format!("{name}_count"), &[], latency.count);

    family(
        &mut out,
        "kpr_bridge_daily_last_success_age_seconds",
        "gauge",
        "Seconds since the latest daily ship that needs nothing more (no changes, or every part delivered); absent before the first.",
    );
    if let Some(age) = status.daily.last_success_age_seconds {
        sample(
            &mut out,
            "kpr_bridge_daily_last_success_age_seconds",
            &[],
            age,
        );
    }

    family(
        &mut out,
        "kpr_bridge_daily_run_missed",
        "gauge",
        "1 when a reporting date the schedule has closed was not shipped, else 0.",
    );
    sample(
        &mut out,
        "kpr_bridge_daily_run_missed",
        &[],
        u8::from(status.daily.missed_count > 0),
    );

    family(
        &mut out,
        "kpr_bridge_findings",
        "gauge",
        "Records the latest capture's checks found, by rule and severity.",
    );
    for finding in status.findings.iter().flat_map(|f| &f.findings) {
        let severity = match finding.severity {
            crate::checks::Severity::Error => "error",
            crate::checks::Severity::Warning => "warning",
        };
        sample(
            &mut out,
            "kpr_bridge_findings",
            &[("rule", &finding.rule), ("severity", severity)],
            finding.count,
        );
    }

    family(
        &mut out,
        "kpr_bridge_certificate_expiry_days",
        "gauge",
        "Whole days until each configured certificate ends, by role; absent when the file cannot be read.",
    );
    for certificate in status.certificates.iter().flatten() {
        if let Some(days) = certificate.days_left {
            sample(
                &mut out,
                "kpr_bridge_certificate_expiry_days",
                &[("role", certificate.role)],
                days,
            );
        }
    }

    family(
        &mut out,
        "kpr_bridge_anomalies_total",
        "counter",
        "Messages that arrived on our queues and could not be taken (kept in the state store).",
    );
    sample(
        &mut out,
        "kpr_bridge_anomalies_total",
        &[],
        status.anomalies.total,
    );

    family(
        &mut out,
        "kpr_bridge_receipt_conflicts",
        "gauge",
        "Receipts that contradicted the first receipt for their message and were not applied (the latest 50).",
    );
    sample(
        &mut out,
        "kpr_bridge_receipt_conflicts",
        &[],
        status.conflicts.len() as i64,
    );

    family(
        &mut out,
        "kpr_bridge_needs_action",
        "gauge",
        "1 when `kpr-bridge status` would exit 1: something needs an operator.",
    );
    sample(
        &mut out,
        "kpr_bridge_needs_action",
        &[],
        u8::from(status.needs_action()),
    );
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    // HELP text escapes backslash and line break only.
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        let labels: Vec<String> = labels
            .iter()
            .map(|(key, value)| format!("{key}=\"{}\"", escape(value)))
            .collect();
        let _ = write!(out, "{{{}}}", labels.join(","));
    }
    let _ = writeln!(out, " {value}");
}

/// A label value as the exposition format writes it.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let mut out = String::new();
        sample(&mut out, "m", &[("k", "x\"y"), ("l", "z")], 3);
        assert_eq!(out, "m{k=\"x\\\"y\",l=\"z\"} 3\n");
    }
}
