//! What an operator reads on Monday morning: did the daily runs go, did KPR take what was
//! sent, what waits, what went wrong and what to do, and what the checks found — gathered
//! from the state store and the configuration alone, so that it survives restarts and a
//! second process (`kpr-bridge status`) shows the same as the agent's `/status`.
//!
//! - `mod.rs`: [`Status`] and [`gather`].
//! - `codes.rs`: KPR's receipt codes in plain words.
//! - `certificates.rs`: the configured certificates and their days left.
//! - `render.rs`: the text for a terminal, what needs action first.
//! - `metrics.rs`: the Prometheus text exposition.
//!
//! The texts in a [`Status`] (`what`, a code's meaning, a certificate's name, …) are in the
//! configuration's language, for `status --json`, whose keys stay English; beside each stand
//! the codes and ids it was made from, so that [`render`] and the alerts can speak any
//! language from the same status.
//!
//! Nothing here names a person: messages by MsgId, days by date, findings by rule and count;
//! text that comes from outside (KPR's error texts, transport errors) has any run of 11 or
//! more digits hidden.

pub mod certificates;
pub mod codes;
pub mod identity_key;
pub mod metrics;
pub mod render;

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

use crate::checks::{Severity, rules};
use crate::config::{Config, Mode, SourceKind};
use crate::i18n::Language;
use crate::message::ipl56::EventKind;
use crate::redact::hide_identity_numbers;
use crate::store::outbox::State;
use crate::store::status::{CaptureRow, MessageRow, ShipmentRow};
use crate::store::{Store, StoreError};
use crate::t;

pub use certificates::Certificate;

/// Reporting dates shown in the list of daily runs.
pub const RECENT_DATES: i64 = 7;
/// A rejected, failed or expired message, or an anomaly, needs action for this many days;
/// older ones stay listed (and counted in the metrics) but no longer set the exit code, so
/// that one old rejection does not keep `status` failing for ever.
pub const ACTION_DAYS: i64 = 30;
/// At most this many messages per list, newest first.
pub const MAX_LISTED: i64 = 50;
/// How late a daily run may be before its date counts as missed.
pub const MISSED_AFTER: chrono::Duration = chrono::Duration::hours(2);

/// At most this many missed reporting dates are named (all are counted).
pub const MAX_MISSED: usize = 31;
/// Upper bounds of the receipt latency histogram, in seconds: a minute to a week.
pub const LATENCY_BUCKETS: [f64; 12] = [
    60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 43200.0, 86400.0, 172800.0, 259200.0,
    604800.0,
];

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub generated_at: DateTime<Utc>,
    /// The language of the texts in it (`config.language`); `render` and the alerts can
    /// speak another, from the codes and ids beside each text.
    pub language: Language,
    pub municipality: String,
    pub municipality_name: String,
    /// Each configured source, with what its format cannot carry.
    pub sources: Vec<SourceLine>,
    /// `test` or `production`.
    pub mode: &'static str,
    pub daily: Daily,
    /// Messages waiting for the broker (`queued`) or for KPR's receipt (`sent`), oldest first.
    pub waiting: Vec<Waiting>,
    /// Messages rejected, in error or expired, and those accepted with errors in parts.
    pub problems: Vec<Problem>,
    pub anomalies: Anomalies,
    /// Receipts that answered otherwise than the first receipt for their message, newest
    /// first: never applied, so someone must find out which answer holds.
    pub conflicts: Vec<Conflict>,
    /// The state store behind the chain KPR has (a restored older copy), or a chain mark
    /// that cannot be read: the daily flow refuses until it is settled.
    pub chain: Option<ChainProblem>,
    /// The findings of the latest capture; `None` before the first.
    pub findings: Option<CaptureFindings>,
    /// The identity key: whether its file is there, and the notifications sealed under a key
    /// that is no longer there.
    pub identity_key: identity_key::IdentityKey,
    /// `None` without `[delivery]`.
    pub certificates: Option<Vec<Certificate>>,
    /// A certificate that ends within this many days needs action (`alerts.certificate_days`).
    pub certificate_days: i64,
    /// Every event kind, with the number of events ever captured of it.
    pub events_per_kind: BTreeMap<&'static str, i64>,
    /// Every outbox state, with the number of messages in it.
    pub messages_per_state: BTreeMap<&'static str, i64>,
    pub receipt_latency: Latency,
}

/// A configured source as `status` names it.
#[derive(Clone, Debug, Serialize)]
pub struct SourceLine {
    pub name: String,
    /// `extract`, `database` or `iplos`.
    pub kind: &'static str,
    /// What the source's format cannot carry, when something.
    pub cannot: Option<String>,
}

/// Each configured source, with what its format cannot carry.
pub fn source_lines(config: &Config, lang: Language) -> Vec<SourceLine> {
    config
        .sources
        .iter()
        .map(|source| {
            let (kind, cannot) = match source.kind {
                SourceKind::Extract { .. } => ("extract", None),
                SourceKind::Database { .. } => ("database", None),
                SourceKind::Iplos { .. } => ("iplos", Some(t!(lang, "status-source-iplos-cannot"))),
            };
            SourceLine {
                name: source.name.clone(),
                kind,
                cannot,
            }
        })
        .collect()
}

/// The sources in one line, for the administration page's settings.
pub fn sources_line(config: &Config, lang: Language) -> String {
    source_lines(config, lang)
        .iter()
        .map(|s| match &s.cannot {
            Some(cannot) => format!("{} ({}): {cannot}", s.name, s.kind),
            None => format!("{} ({})", s.name, s.kind),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Clone, Debug, Serialize)]
pub struct Daily {
    /// The schedule as configured (cron, Europe/Oslo).
    pub schedule: String,
    /// MsgHead type of the daily message in use (`[daily] msg_type`): no public name exists,
    /// so the operator must see which one goes.
    pub msg_type: String,
    /// The latest reporting date shipped; `None` before daily reporting began.
    pub last_shipped: Option<NaiveDate>,
    /// The latest reporting date that should have been shipped by now.
    pub closed: Option<NaiveDate>,
    /// Closed reporting dates not shipped, the latest [`MAX_MISSED`] of them.
    pub missed: Vec<NaiveDate>,
    pub missed_count: u64,
    /// When the latest daily ship went that needs nothing more (a quiet day, or every part
    /// delivered), and how long ago.
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_success_age_seconds: Option<i64>,
    /// The latest reporting dates, newest first.
    pub runs: Vec<DailyRun>,
}

/// One reporting date: its captures and its ship.
#[derive(Clone, Debug, Serialize)]
pub struct DailyRun {
    pub reporting_date: NaiveDate,
    pub captures: u64,
    /// Notifications captured for the date, over all its captures.
    pub notifications: i64,
    /// Records held back by the latest capture of the date (errors found by the checks).
    pub held_back: i64,
    pub last_capture_at: Option<DateTime<Utc>>,
    pub shipments: Vec<Shipment>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Shipment {
    pub at: DateTime<Utc>,
    pub notifications: i64,
    /// Its messages, one per part; none on a day without changes.
    pub messages: Vec<MessageState>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MessageState {
    pub msg_id: String,
    /// "part 1 of 3".
    pub part: String,
    /// Which part it is (from 1), of how many.
    pub number: usize,
    pub parts: usize,
    pub state: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Waiting {
    pub msg_id: String,
    pub msg_type: String,
    /// The message in words: "the daily report for 2026-03-02".
    pub what: String,
    /// The reporting date or the year the message carries, when known.
    pub reporting_date: Option<NaiveDate>,
    pub year: Option<i64>,
    pub target: String,
    pub state: String,
    /// Since it was queued (`queued`) or confirmed by the broker (`sent`).
    pub since: DateTime<Utc>,
    pub age_seconds: i64,
    pub publish_count: i64,
    /// Why it stays queued, if the broker said.
    pub last_problem: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub msg_id: String,
    pub msg_type: String,
    pub what: String,
    pub reporting_date: Option<NaiveDate>,
    pub year: Option<i64>,
    pub target: String,
    /// `rejected`, `error`, `expired`, or `delivered` (accepted with errors in parts).
    pub state: String,
    pub since: DateTime<Utc>,
    /// Within [`ACTION_DAYS`] and not merely accepted with errors in parts.
    pub needs_action: bool,
    /// The latest receipt's status: 1 accepted, 2 rejected, 3 accepted with errors in parts.
    pub receipt_status: Option<i64>,
    pub codes: Vec<Code>,
    /// The transport's error report, or why it expired.
    pub detail: Option<String>,
}

/// An error code from KPR's receipt, explained.
#[derive(Clone, Debug, Serialize)]
pub struct Code {
    pub code: String,
    /// In plain words; KPR's own text for a code not in the table.
    pub meaning: String,
    pub what_to_do: Option<String>,
    /// The text KPR sent with the code (empty when it is the meaning already).
    pub kpr_text: String,
    /// The text KPR sent, masked, always: to explain the code again in another language.
    #[serde(skip)]
    pub said: String,
}

impl Code {
    /// The same code explained in `lang`.
    pub fn in_language(&self, lang: Language) -> Code {
        code(&self.code, &self.said, lang)
    }
}

/// Two final receipts for one message that disagree.
#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    pub msg_id: String,
    /// The state the first receipt decided, which the later one did not change.
    pub state: String,
    /// Status (1 OK, 2 Avvist, 3 OK with errors in parts), AppRec Id and arrival of each.
    pub first_status: i64,
    pub first_receipt_id: String,
    pub first_at: DateTime<Utc>,
    pub later_status: i64,
    pub later_receipt_id: String,
    pub later_at: DateTime<Utc>,
    /// Within [`ACTION_DAYS`].
    pub needs_action: bool,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Anomalies {
    pub total: i64,
    /// Within the last [`ACTION_DAYS`].
    pub recent: i64,
    pub last_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CaptureFindings {
    pub capture_id: i64,
    pub reporting_date: NaiveDate,
    pub at: DateTime<Utc>,
    /// `false` for a capture recorded before findings were kept.
    pub recorded: bool,
    pub findings: Vec<FindingLine>,
}

impl CaptureFindings {
    pub fn errors(&self) -> impl Iterator<Item = &FindingLine> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct FindingLine {
    pub rule: String,
    pub severity: Severity,
    pub count: u64,
    /// What it means and what to do, from the rule catalogue.
    pub explains: String,
    pub fix: String,
}

impl FindingLine {
    /// What the finding means, in `lang`.
    pub fn explains_in(&self, lang: Language) -> String {
        rules::find(&self.rule)
            .map_or_else(|| t!(lang, "status-rule-unknown"), |r| r.explains(lang))
    }

    /// What to do about it, in `lang`.
    pub fn fix_in(&self, lang: Language) -> String {
        rules::find(&self.rule).map_or_else(String::new, |r| r.fix(lang))
    }
}

/// The times from the broker's confirm to KPR's receipt, as a cumulative histogram.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// (upper bound in seconds, messages answered within it), for [`LATENCY_BUCKETS`].
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
    pub median_seconds: Option<f64>,
}

impl Status {
    /// Whether someone must act; `status` exits 1 then.
    pub fn needs_action(&self) -> bool {
        self.problems.iter().any(|p| p.needs_action)
            || self.daily.missed_count > 0
            || self
                .certificates
                .iter()
                .flatten()
                .any(|c| c.needs_action(self.certificate_days))
            || self
                .findings
                .as_ref()
                .is_some_and(|f| f.errors().count() > 0)
            || self.anomalies.recent > 0
            || self.conflicts.iter().any(|c| c.needs_action)
            || self.identity_key.needs_action
            || self.chain.is_some()
    }
}

/// Gathers the status at `now`. Fails only when the store cannot be read.
pub async fn gather(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Status, StoreError> {
    let lang = config.language;
    let since_action = now - chrono::Duration::days(ACTION_DAYS);
    let (captures, shipments) = store.recent_daily(RECENT_DATES).await?;
    let last_shipped = store.last_shipped_date().await?;
    let last_success_at = store.last_successful_shipment().await?;
    // A run takes a while, and waits for an EPJ that is briefly down: a date counts as
    // missed once its run is more than MISSED_AFTER late.
    let closed = config.agent.schedule.closed_date(now - MISSED_AFTER);
    let (missed, missed_count) = missed_dates(last_shipped, closed);

    let mut waiting = Vec::new();
    for row in store
        .messages_in(&[State::Queued, State::Sent], MAX_LISTED)
        .await?
    {
        let trouble = store.trouble(&row.msg_id).await?;
        let since = if row.state == State::Queued {
            row.created_at
        } else {
            row.state_at
        };
        waiting.push(Waiting {
            what: what(&row, trouble.reporting_date, trouble.year, lang),
            reporting_date: trouble.reporting_date,
            year: trouble.year,
            msg_id: row.msg_id,
            msg_type: row.msg_type,
            target: row.target,
            state: row.state.to_string(),
            since,
            age_seconds: (now - since).num_seconds().max(0),
            publish_count: row.publish_count,
            last_problem: row.last_problem.as_deref().map(hide_identity_numbers),
        });
    }
    waiting.sort_by_key(|w| w.since);

    let mut problems = Vec::new();
    let troubled = store
        .messages_in(&[State::Rejected, State::Error, State::Expired], MAX_LISTED)
        .await?;
    let remarked = store.delivered_with_errors(MAX_LISTED).await?;
    for row in troubled.into_iter().chain(remarked) {
        let trouble = store.trouble(&row.msg_id).await?;
        let detail = match (row.state, &trouble.error_report) {
            (State::Error, Some((condition, description))) => {
                Some(format!("{condition}: {description}"))
            }
            // The receipt's codes say it better than the transition's summary of them.
            (State::Delivered, _) => None,
            (State::Rejected, _) if !trouble.receipt_errors.is_empty() => None,
            _ => trouble.detail.clone(),
        };
        problems.push(Problem {
            what: what(&row, trouble.reporting_date, trouble.year, lang),
            reporting_date: trouble.reporting_date,
            year: trouble.year,
            needs_action: row.state != State::Delivered && row.state_at >= since_action,
            msg_id: row.msg_id,
            msg_type: row.msg_type,
            target: row.target,
            state: row.state.to_string(),
            since: row.state_at,
            receipt_status: trouble.receipt_status,
            codes: trouble
                .receipt_errors
                .iter()
                .map(|error| explain(error, lang))
                .collect(),
            detail: detail.as_deref().map(hide_identity_numbers),
        });
    }

    let anomalies = store.anomaly_counts(since_action).await?;
    let mut conflicts = Vec::new();
    for later in store.conflicting_receipts(MAX_LISTED).await? {
        let receipts = store.receipts(&later.msg_id).await?;
        let Some(first) = receipts.iter().find(|r| !r.conflicting) else {
            continue;
        };
        let state = store.state(&later.msg_id).await?;
        conflicts.push(Conflict {
            state: state.map_or_else(|| "?".into(), |s| s.to_string()),
            first_status: first.status,
            first_receipt_id: hide_identity_numbers(&first.receipt_id),
            first_at: first.received_at,
            later_status: later.status,
            later_receipt_id: hide_identity_numbers(&later.receipt_id),
            later_at: later.received_at,
            needs_action: later.received_at >= since_action,
            msg_id: later.msg_id,
        });
    }
    let chain = chain_problem(config, store).await?;
    let findings = store
        .last_capture()
        .await?
        .map(|row| capture_findings(row, lang));
    let certificates = config
        .delivery
        .as_ref()
        .map(|delivery| certificates::read(&delivery.certificates, now, lang));
    let identity_key = identity_key::gather(config, store, now).await?;

    let mut events_per_kind: BTreeMap<&'static str, i64> =
        EventKind::ALL.iter().map(|k| (k.as_str(), 0)).collect();
    for (kind, count) in store.events_per_kind().await? {
        if let Some(known) = EventKind::ALL.iter().find(|k| k.as_str() == kind) {
            events_per_kind.insert(known.as_str(), count);
        }
    }
    let mut messages_per_state: BTreeMap<&'static str, i64> =
        State::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for (state, count) in store.messages_per_state().await? {
        messages_per_state.insert(state.as_str(), count);
    }
    let latencies: Vec<f64> = store
        .receipt_times()
        .await?
        .into_iter()
        .map(|(sent, answered)| (answered - sent).num_milliseconds().max(0) as f64 / 1000.0)
        .collect();

    Ok(Status {
        generated_at: now,
        language: lang,
        municipality: config.municipality.clone(),
        municipality_name: config.municipality_name.clone(),
        sources: source_lines(config, lang),
        mode: match config.mode {
            Mode::Test => "test",
            Mode::Production => "production",
        },
        daily: Daily {
            schedule: config.agent.schedule.text().to_string(),
            msg_type: config.daily.msg_type.clone(),
            last_shipped,
            closed,
            missed,
            missed_count,
            last_success_age_seconds: last_success_at.map(|at| (now - at).num_seconds().max(0)),
            last_success_at,
            runs: daily_runs(&captures, &shipments, lang),
        },
        waiting,
        problems,
        anomalies: Anomalies {
            total: anomalies.total,
            recent: anomalies.since,
            last_at: anomalies.last_at,
        },
        conflicts,
        chain,
        findings,
        identity_key,
        certificates,
        certificate_days: config.alerts.certificate_days,
        events_per_kind,
        messages_per_state,
        receipt_latency: latency(&latencies),
    })
}

/// What is wrong with the chain, if something: the store against the chain mark
/// (`daily/mark.rs`).
#[derive(Clone, Debug, Serialize)]
pub struct ChainProblem {
    /// `behind`, `diverged` or `unreadable`.
    pub kind: &'static str,
    /// The chain mark file.
    pub file: String,
    /// The last number KPR was sent, and the message it went in.
    pub mark_number: Option<i64>,
    pub mark_msg_id: Option<String>,
    pub mark_date: Option<NaiveDate>,
    /// The store's last notification (0: none).
    pub store_number: i64,
    /// Why the mark cannot be read.
    pub detail: Option<String>,
}

async fn chain_problem(config: &Config, store: &Store) -> Result<Option<ChainProblem>, StoreError> {
    use crate::daily::mark::{self, MarkError, Position};
    let file = mark::file_for(&config.daily).display().to_string();
    let problem = |kind, mark: &mark::Mark, store_number| ChainProblem {
        kind,
        file: file.clone(),
        mark_number: Some(mark.number),
        mark_msg_id: Some(mark.msg_id.clone()),
        mark_date: mark.reporting_date,
        store_number,
        detail: None,
    };
    Ok(match mark::position_now(store, &config.daily).await {
        Ok(Position::NoMark | Position::Whole { .. }) => None,
        Ok(Position::Behind { mark, store }) => Some(problem(
            "behind",
            &mark,
            store.map_or(0, |(number, _)| number),
        )),
        Ok(Position::Diverged { mark, .. }) => Some(problem("diverged", &mark, mark.number)),
        Err(MarkError::Store(e)) => return Err(e),
        Err(e) => Some(ChainProblem {
            kind: "unreadable",
            file: file.clone(),
            mark_number: None,
            mark_msg_id: None,
            mark_date: None,
            store_number: 0,
            detail: Some(e.to_string()),
        }),
    })
}

/// The closed dates after the last shipped one: the latest [`MAX_MISSED`], and how many.
/// Before daily reporting began nothing is missed: the first run is an operator's decision.
fn missed_dates(
    last_shipped: Option<NaiveDate>,
    closed: Option<NaiveDate>,
) -> (Vec<NaiveDate>, u64) {
    let (Some(last), Some(closed)) = (last_shipped, closed) else {
        return (Vec::new(), 0);
    };
    if closed <= last {
        return (Vec::new(), 0);
    }
    let count = u64::try_from((closed - last).num_days()).unwrap_or(0);
    let first = closed
        .checked_sub_days(Days::new(count.min(MAX_MISSED as u64).saturating_sub(1)))
        .unwrap_or(closed);
    let dates = first.iter_days().take_while(|d| *d <= closed).collect();
    (dates, count)
}

/// The message in words, with the date or year it carries.
pub fn what(
    row: &MessageRow,
    reporting_date: Option<NaiveDate>,
    year: Option<i64>,
    lang: Language,
) -> String {
    codes::message_what(&row.msg_type, reporting_date, year, lang)
}

/// A code of KPR's receipt, explained in `lang`; KPR's own text masked.
pub fn explain(error: &crate::store::receipts::ReceiptErrorRow, lang: Language) -> Code {
    code(
        error.code.trim(),
        &hide_identity_numbers(error.text.trim()),
        lang,
    )
}

fn code(code: &str, said: &str, lang: Language) -> Code {
    match codes::explain(code, lang) {
        Some(explained) => Code {
            code: code.to_string(),
            meaning: explained.meaning,
            what_to_do: Some(explained.what_to_do),
            kpr_text: said.to_string(),
            said: said.to_string(),
        },
        None => {
            let unknown = codes::unknown(lang);
            Code {
                code: hide_identity_numbers(code),
                meaning: if said.is_empty() {
                    unknown.meaning
                } else {
                    said.to_string()
                },
                what_to_do: Some(unknown.what_to_do),
                kpr_text: String::new(),
                said: said.to_string(),
            }
        }
    }
}

fn capture_findings(row: CaptureRow, lang: Language) -> CaptureFindings {
    CaptureFindings {
        capture_id: row.id,
        reporting_date: row.reporting_date,
        at: row.at,
        recorded: row.findings.is_some(),
        findings: row
            .findings
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                let rule = rules::find(&f.rule);
                FindingLine {
                    explains: rule
                        .map_or_else(|| t!(lang, "status-rule-unknown"), |r| r.explains(lang)),
                    fix: rule.map_or_else(String::new, |r| r.fix(lang)),
                    rule: f.rule,
                    severity: f.severity,
                    count: f.count,
                }
            })
            .collect(),
    }
}

pub fn daily_runs(
    captures: &[CaptureRow],
    shipments: &[ShipmentRow],
    lang: Language,
) -> Vec<DailyRun> {
    let mut runs: BTreeMap<NaiveDate, DailyRun> = BTreeMap::new();
    let run = |runs: &mut BTreeMap<NaiveDate, DailyRun>, date| {
        runs.entry(date).or_insert_with(|| DailyRun {
            reporting_date: date,
            captures: 0,
            notifications: 0,
            held_back: 0,
            last_capture_at: None,
            shipments: Vec::new(),
        });
    };
    for capture in captures {
        run(&mut runs, capture.reporting_date);
        let entry = runs.get_mut(&capture.reporting_date).expect("just made");
        entry.captures += 1;
        entry.notifications += capture.events;
        // Captures come oldest first: the last one's held count stands.
        entry.held_back = capture.held;
        entry.last_capture_at = Some(capture.at);
    }
    for shipment in shipments {
        run(&mut runs, shipment.reporting_date);
        let parts = shipment.messages.len();
        runs.get_mut(&shipment.reporting_date)
            .expect("just made")
            .shipments
            .push(Shipment {
                at: shipment.at,
                notifications: shipment.notifications,
                messages: shipment
                    .messages
                    .iter()
                    .enumerate()
                    .map(|(at, (msg_id, state))| MessageState {
                        msg_id: msg_id.clone(),
                        part: t!(lang, "status-part", number = at + 1, parts = parts),
                        number: at + 1,
                        parts,
                        state: state.map(|s| s.to_string()),
                    })
                    .collect(),
            });
    }
    runs.into_values().rev().collect()
}

/// The cumulative histogram of `seconds` over [`LATENCY_BUCKETS`].
fn latency(seconds: &[f64]) -> Latency {
    let mut sorted = seconds.to_vec();
    sorted.sort_by(f64::total_cmp);
    Latency {
        buckets: LATENCY_BUCKETS
            .iter()
            .map(|&le| (le, sorted.iter().filter(|&&s| s <= le).count() as u64))
            .collect(),
        count: sorted.len() as u64,
        sum_seconds: sorted.iter().sum(),
        median_seconds: (!sorted.is_empty()).then(|| sorted[sorted.len() / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn missed_dates_are_the_closed_ones_after_the_last_shipped() {
        assert_eq!(
            missed_dates(Some(day("2026-03-01")), Some(day("2026-03-03"))),
            (vec![day("2026-03-02"), day("2026-03-03")], 2)
        );
        assert_eq!(
            missed_dates(Some(day("2026-03-03")), Some(day("2026-03-03"))),
            (vec![], 0)
        );
        assert_eq!(missed_dates(None, Some(day("2026-03-03"))), (vec![], 0));
        let (dates, count) = missed_dates(Some(day("2025-01-01")), Some(day("2026-01-01")));
        assert_eq!(count, 365);
        assert_eq!(dates.len(), MAX_MISSED);
        assert_eq!(dates.last(), Some(&day("2026-01-01")));
    }

    #[test]
    fn the_latency_histogram_is_cumulative() {
        let latency = latency(&[30.0, 400.0, 90_000.0]);
        assert_eq!(latency.count, 3);
        assert_eq!(latency.buckets[0], (60.0, 1));
        assert_eq!(latency.buckets[2], (900.0, 2));
        assert_eq!(latency.buckets.last(), Some(&(604800.0, 3)));
        assert_eq!(latency.median_seconds, Some(400.0));
        assert_eq!(latency.sum_seconds, 90_430.0);
    }
}
