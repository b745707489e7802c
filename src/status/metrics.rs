//! The status as Prometheus text exposition (format 0.0.4), for `/metrics`, written by the
//! Prometheus organisation's `prometheus-client`: names, types, HELP lines and label escaping
//! are the library's. Each scrape builds a registry from a [`Status`] (the status is already
//! a snapshot of the state store). Labels are kinds, states, rule ids and certificate roles —
//! never a person, a MsgId or a date, so the number of series stays small and fixed.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};

use super::{Latency, Status};

/// The content type a `/metrics` answer carries.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric's labels: the municipality's first when there are several.
type Labels = Vec<(&'static str, String)>;

/// Every metric family of one municipality's status, ending with a line break.
pub fn metrics(status: &Status) -> String {
    exposition(&[(None, status)])
}

/// Every metric family of several municipalities' statuses (a replica of a
/// multi-municipality deployment), each series labelled `municipality`; unlabelled when the
/// municipality is `None` (a single configuration, as before there were several).
pub fn exposition(statuses: &[(Option<&str>, &Status)]) -> String {
    let mut families = Families::default();
    for (municipality, status) in statuses {
        let base: Labels = municipality
            .map(|m| vec![("municipality", m.to_string())])
            .unwrap_or_default();
        let with = |more: Vec<(&'static str, String)>| {
            let mut labels = base.clone();
            labels.extend(more);
            labels
        };
        for (kind, count) in &status.events_per_kind {
            families.events.0.push((
                with(vec![("kind", kind.to_string())]),
                ConstCounter::new(u64::try_from(*count).unwrap_or(0)),
            ));
        }
        for (state, count) in &status.messages_per_state {
            families.messages.0.push((
                with(vec![("state", state.to_string())]),
                ConstGauge::new(*count),
            ));
        }
        families
            .receipt_latency
            .0
            .push((base.clone(), ReceiptLatency::from(&status.receipt_latency)));
        if let Some(age) = status.daily.last_success_age_seconds {
            families
                .daily_last_success_age
                .0
                .push((base.clone(), ConstGauge::new(age)));
        }
        families.daily_run_missed.0.push((
            base.clone(),
            ConstGauge::new(i64::from(status.daily.missed_count > 0)),
        ));
        for finding in status.findings.iter().flat_map(|f| &f.findings) {
            let severity = match finding.severity {
                crate::checks::Severity::Error => "error",
                crate::checks::Severity::Warning => "warning",
            };
            families.findings.0.push((
                with(vec![
                    ("rule", finding.rule.clone()),
                    ("severity", severity.to_string()),
                ]),
                ConstGauge::new(i64::try_from(finding.count).unwrap_or(i64::MAX)),
            ));
        }
        for certificate in status.certificates.iter().flatten() {
            if let Some(days) = certificate.days_left {
                families.certificate_expiry_days.0.push((
                    with(vec![("role", certificate.role.to_string())]),
                    ConstGauge::new(days),
                ));
            }
        }
        families.anomalies.0.push((
            base.clone(),
            ConstCounter::new(u64::try_from(status.anomalies.total).unwrap_or(0)),
        ));
        families
            .receipt_conflicts
            .0
            .push((base.clone(), ConstGauge::new(status.conflicts.len() as i64)));
        families
            .needs_action
            .0
            .push((base, ConstGauge::new(i64::from(status.needs_action()))));
    }
    families.encode()
}

/// One metric's series, each with its labels, as a family.
#[derive(Debug)]
struct Series<M>(Vec<(Labels, M)>);

impl<M> Default for Series<M> {
    fn default() -> Self {
        Series(Vec::new())
    }
}

impl<M: EncodeMetric + TypedMetric> EncodeMetric for Series<M> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, metric) in &self.0 {
            metric.encode(encoder.encode_family(labels)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        M::TYPE
    }
}

#[derive(Default)]
struct Families {
    events: Series<ConstCounter>,
    messages: Series<ConstGauge>,
    receipt_latency: Series<ReceiptLatency>,
    daily_last_success_age: Series<ConstGauge>,
    daily_run_missed: Series<ConstGauge>,
    findings: Series<ConstGauge>,
    certificate_expiry_days: Series<ConstGauge>,
    anomalies: Series<ConstCounter>,
    receipt_conflicts: Series<ConstGauge>,
    needs_action: Series<ConstGauge>,
}

impl Families {
    fn encode(self) -> String {
        let mut registry = Registry::with_prefix("kpr_bridge");
        registry.register(
            "events",
            "Daily notifications made, by event kind, since daily reporting began",
            self.events,
        );
        registry.register(
            "messages",
            "Messages in the outbox, by state (queued, sent, delivered, rejected, error, expired)",
            self.messages,
        );
        registry.register_with_unit(
            "receipt_latency",
            "Time from the broker's confirm to KPR's receipt (delivered or rejected)",
            Unit::Seconds,
            self.receipt_latency,
        );
        if !self.daily_last_success_age.0.is_empty() {
            registry.register_with_unit(
                "daily_last_success_age",
                "Seconds since the latest daily ship that needs nothing more (no changes, or every part delivered); absent before the first",
                Unit::Seconds,
                self.daily_last_success_age,
            );
        }
        registry.register(
            "daily_run_missed",
            "1 when a reporting date the schedule has closed was not shipped, else 0",
            self.daily_run_missed,
        );
        registry.register(
            "findings",
            "Records the latest capture's checks found, by rule and severity",
            self.findings,
        );
        registry.register(
            "certificate_expiry_days",
            "Whole days until each configured certificate ends, by role; absent when the file cannot be read",
            self.certificate_expiry_days,
        );
        registry.register(
            "anomalies",
            "Messages that arrived on our queues and could not be taken (kept in the state store)",
            self.anomalies,
        );
        registry.register(
            "receipt_conflicts",
            "Receipts that contradicted the first receipt for their message and were not applied (the latest 50)",
            self.receipt_conflicts,
        );
        registry.register(
            "needs_action",
            "1 when `kpr-bridge status` would exit 1: something needs an operator",
            self.needs_action,
        );
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
            .expect("writing to a String does not fail");
        out
    }
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
