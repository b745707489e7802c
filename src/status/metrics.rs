//! The status as Prometheus text exposition (format 0.0.4), for `/metrics`, written by the
//! Prometheus organisation's `prometheus-client`: names, types, HELP lines and label escaping
//! are the library's. Each scrape builds a registry from a [`Status`] (the status is already
//! a snapshot of the state store). Labels are kinds, states, rule ids and certificate roles —
//! never a person, a MsgId or a date, so the number of series stays small and fixed.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};

use super::{Latency, Status};

/// The content type a `/metrics` answer carries.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

type Labelled = Family<Vec<(&'static str, String)>, Gauge>;
type LabelledCounter =
    Family<Vec<(&'static str, String)>, prometheus_client::metrics::counter::Counter>;

/// Every metric family, ending with a line break.
pub fn metrics(status: &Status) -> String {
    let mut registry = Registry::with_prefix("kpr_bridge");

    let events = LabelledCounter::default();
    for (kind, count) in &status.events_per_kind {
        events
            .get_or_create(&vec![("kind", kind.to_string())])
            .inc_by(u64::try_from(*count).unwrap_or(0));
    }
    registry.register(
        "events",
        "Daily notifications made, by event kind, since daily reporting began",
        events,
    );

    let messages = Labelled::default();
    for (state, count) in &status.messages_per_state {
        messages
            .get_or_create(&vec![("state", state.to_string())])
            .set(*count);
    }
    registry.register(
        "messages",
        "Messages in the outbox, by state (queued, sent, delivered, rejected, error, expired)",
        messages,
    );

    registry.register_with_unit(
        "receipt_latency",
        "Time from the broker's confirm to KPR's receipt (delivered or rejected)",
        Unit::Seconds,
        ReceiptLatency::from(&status.receipt_latency),
    );

    if let Some(age) = status.daily.last_success_age_seconds {
        registry.register_with_unit(
            "daily_last_success_age",
            "Seconds since the latest daily ship that needs nothing more (no changes, or every part delivered); absent before the first",
            Unit::Seconds,
            ConstGauge::new(age),
        );
    }

    registry.register(
        "daily_run_missed",
        "1 when a reporting date the schedule has closed was not shipped, else 0",
        ConstGauge::new(i64::from(status.daily.missed_count > 0)),
    );

    let findings = Labelled::default();
    for finding in status.findings.iter().flat_map(|f| &f.findings) {
        let severity = match finding.severity {
            crate::checks::Severity::Error => "error",
            crate::checks::Severity::Warning => "warning",
        };
        findings
            .get_or_create(&vec![
                ("rule", finding.rule.clone()),
                ("severity", severity.to_string()),
            ])
            .set(i64::try_from(finding.count).unwrap_or(i64::MAX));
    }
    registry.register(
        "findings",
        "Records the latest capture's checks found, by rule and severity",
        findings,
    );

    let expiry = Labelled::default();
    for certificate in status.certificates.iter().flatten() {
        if let Some(days) = certificate.days_left {
            expiry
                .get_or_create(&vec![("role", certificate.role.to_string())])
                .set(days);
        }
    }
    registry.register(
        "certificate_expiry_days",
        "Whole days until each configured certificate ends, by role; absent when the file cannot be read",
        expiry,
    );

    registry.register(
        "anomalies",
        "Messages that arrived on our queues and could not be taken (kept in the state store)",
        ConstCounter::new(u64::try_from(status.anomalies.total).unwrap_or(0)),
    );

    registry.register(
        "receipt_conflicts",
        "Receipts that contradicted the first receipt for their message and were not applied (the latest 50)",
        ConstGauge::new(status.conflicts.len() as i64),
    );

    registry.register(
        "needs_action",
        "1 when `kpr-bridge status` would exit 1: something needs an operator",
        ConstGauge::new(i64::from(status.needs_action())),
    );

    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
        .expect("writing to a String does not fail");
    out
}

/// The receipt latency as the status already counted it: a histogram whose buckets are
/// known, not observed one by one here.
#[derive(Debug)]
struct ReceiptLatency {
    sum: f64,
    count: u64,
    /// (upper bound, answered within it and above the previous bound), ending with +Inf.
    buckets: Vec<(f64, u64)>,
}

impl From<&Latency> for ReceiptLatency {
    fn from(latency: &Latency) -> ReceiptLatency {
        let mut buckets = Vec::with_capacity(latency.buckets.len() + 1);
        let mut below = 0;
        for &(bound, cumulative) in &latency.buckets {
            buckets.push((bound, cumulative.saturating_sub(below)));
            below = cumulative;
        }
        buckets.push((f64::INFINITY, latency.count.saturating_sub(below)));
        ReceiptLatency {
            sum: latency.sum_seconds,
            count: latency.count,
            buckets,
        }
    }
}

impl TypedMetric for ReceiptLatency {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for ReceiptLatency {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<NoLabelSet>(self.sum, self.count, &self.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
