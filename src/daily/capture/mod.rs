//! Capture: sources → today's states → the diff against the baseline → notifications and the
//! new baseline, written in one state-store transaction (invariant 1). Run as often as
//! wanted: an unchanged source gives no notifications (invariant 3), because the baseline
//! moves with the notifications it caused.
//!
//! Each notification gets its number (`notifikasjonLopeNr`) and its place in the chain
//! (`notifikasjonForrigeGUID`) here, in the transaction that writes it, so that a crash can
//! neither skip nor reuse a number. Its identity number is sealed before it is stored.
//!
//! Reading the whole baseline would cost more than the diff, so only each service's hash is
//! read; the stored state is read back only for what changed.
//!
//! Which baseline services are compared with what:
//! - a source that speaks for the date and was read: each service diffed; one that left the
//!   EPJ is annulled (C to each N original) — but only if every row of the source could be
//!   read;
//! - a source whose `to` has passed (an EPJ change): its open services are *continued* by
//!   the new EPJ's services of the same person and code, so that the register sees no
//!   annulment and no restart, and keeps its tjenesteID; those not continued are ended on
//!   the old source's last day, once a source that takes over is configured;
//! - a source that could not be read, is not in use yet, or is no longer configured: left
//!   exactly as it is, and said so.
//!
//! The parts: this file the entry points and what a capture gives; `run.rs` its work in
//! progress and the drafts; `services.rs` the diff of every service; `rekeyed.rs` services
//! whose person key changed; `unnamed.rs` persons who can no longer be named; `numbering.rs`
//! the drafts numbered, chained, sealed and written.

mod numbering;
mod rekeyed;
mod run;
mod services;
mod unnamed;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Europe::Oslo;
use serde::Serialize;
use thiserror::Error;

use super::current::{self, Current, Pseudonyms, SourceInput};
use super::identity_change::{self, IdentityConflict};
use crate::checks::CheckOptions;
use crate::config::daily::Daily;
use crate::crypto::at_rest::IdentityKey;
use crate::message::ipl56::EventKind;
use crate::store::StoreError;
use crate::store::daily::{DailyState, DailyTx};
use numbering::number;
use run::Run;

/// The initial load's start date unless `--since` says otherwise: the 2026 duty's.
pub fn default_since() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("a valid date")
}

#[derive(Clone, Copy, Debug)]
pub struct CaptureOptions {
    /// The reporting date: the day whose changes these are.
    pub date: NaiveDate,
    /// The first run, with the initial load's start date: every service active on it and
    /// every event since.
    pub initial: Option<NaiveDate>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error(
        "the state store has no baseline yet: the first daily run is the initial load (kpr-bridge daily --config FILE --initial [--since 2026-01-01]), which sends every service active on the start date and every event since"
    )]
    NoBaseline,
    #[error(
        "daily reporting already began on {0}; --initial is only for the very first run — run without it"
    )]
    AlreadyStarted(NaiveDate),
    #[error(
        "the reporting date {date} is before daily reporting began ({initial}); give a date on or after {initial}"
    )]
    BeforeInitial { date: NaiveDate, initial: NaiveDate },
    #[error(
        "--since {since} is after the reporting date {date}; the initial load starts on or before the date it reports"
    )]
    SinceAfterDate { since: NaiveDate, date: NaiveDate },
    #[error(transparent)]
    Key(#[from] crate::crypto::at_rest::KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a capture found, for the operator and the `daily_captures` table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaptureSummary {
    pub notifications: usize,
    pub new_services: usize,
    pub changed_services: usize,
    pub annulled_services: usize,
    /// Services of a retired EPJ taken over by the new one without annulment or restart.
    pub continued_services: usize,
    /// Services of a retired EPJ that the new one did not take over: ended on its last day.
    pub ended_at_switch: usize,
    /// Services that ended before reporting began: recorded, not reported.
    pub history: usize,
    pub held_services: usize,
    pub held_persons: usize,
    /// Persons whose identity number the EPJ corrected: their live originals sent again.
    pub identity_corrected: usize,
    /// EPJ persons whose identity numbers are mixed up: held back, with both EPJ ids.
    pub identity_conflicts: Vec<IdentityConflict>,
    /// Services whose type is not in `[daily] service_types`.
    pub out_of_scope: usize,
    /// Persons the EPJ no longer lists whose latest notification is sealed under an identity
    /// key that is no longer there, so that they cannot be named: everything of theirs is
    /// held back (`daily::sealed`), these services (counted in `held_services` too).
    pub unnamed_persons: usize,
    pub unnamed_services: usize,
    /// This capture met a new identity key while the store held notifications sealed under
    /// keys that are no longer there: how many (they cannot be sent again).
    pub new_identity_key: Option<i64>,
    /// Notifications not yet sent whose identity key is no longer there, sealed again from
    /// today's EPJ; and those it could not seal again (they hold up the ship).
    pub resealed: usize,
    pub not_resealed: usize,
    /// The numbers this capture gave, first and last.
    pub numbers: Option<(i64, i64)>,
    /// Per source, services missing from it that were not annulled, and why.
    pub left_as_they_are: Vec<Left>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Left {
    pub source: String,
    pub services: usize,
    pub why: String,
}

pub struct Captured {
    pub summary: CaptureSummary,
    pub current: Current,
}

/// A 32-byte secret for the person keys, made once.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).expect("the system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs one capture inside `tx`; the caller commits (or, for a dry run, rolls back).
///
/// The three steps are public so that a benchmark can time them apart: [`open`] the daily
/// state, build today's states ([`current::build`]), then [`diff_and_commit`].
pub async fn capture(
    tx: &mut DailyTx,
    sources: &[SourceInput<'_>],
    checks: &CheckOptions<'_>,
    daily: &Daily,
    options: CaptureOptions,
) -> Result<Captured, CaptureError> {
    let (pseudonyms, key) = open(tx, daily, options).await?;
    let current = current::build(sources, options.date, checks, daily, &pseudonyms);
    diff_and_commit(tx, sources, current, &key, options).await
}

/// Reads the daily state, or makes it on the initial run, and gives the person keys' secret
/// and the identity key (made on the initial run if there is none).
pub async fn open(
    tx: &mut DailyTx,
    daily: &Daily,
    options: CaptureOptions,
) -> Result<(Pseudonyms, IdentityKey), CaptureError> {
    let state = match (tx.state().await?, options.initial) {
        (None, None) => return Err(CaptureError::NoBaseline),
        (Some(state), Some(_)) => return Err(CaptureError::AlreadyStarted(state.initial_date)),
        (Some(state), None) => state,
        (None, Some(since)) => {
            if since > options.date {
                return Err(CaptureError::SinceAfterDate {
                    since,
                    date: options.date,
                });
            }
            let state = DailyState {
                pseudonym_secret: new_secret(),
                initial_date: options.date,
                since,
            };
            tx.create_state(&state, options.now).await?;
            state
        }
    };
    if options.date < state.initial_date {
        return Err(CaptureError::BeforeInitial {
            date: options.date,
            initial: state.initial_date,
        });
    }
    // Made when missing, and recorded by its fingerprint: a new key is never a first run.
    let key = match super::sealed::open_for_capture(tx, daily, options.now).await {
        Ok(key) => key,
        Err(super::sealed::KeyOrStore::Key(e)) => return Err(e.into()),
        Err(super::sealed::KeyOrStore::Store(e)) => return Err(e.into()),
    };
    Ok((Pseudonyms::new(&state.pseudonym_secret), key))
}

/// Oslo's civil time of an instant, in whole seconds, as HIS 1135's times are written.
pub fn oslo(at: DateTime<Utc>) -> NaiveDateTime {
    let local = at.with_timezone(&Oslo).naive_local();
    local.with_nanosecond(0).unwrap_or(local)
}

/// Diffs today's states against the baseline and writes the notifications and the new
/// baseline, all inside `tx` (the caller commits).
pub async fn diff_and_commit(
    tx: &mut DailyTx,
    sources: &[SourceInput<'_>],
    current: Current,
    key: &IdentityKey,
    options: CaptureOptions,
) -> Result<Captured, CaptureError> {
    let mut run = Run {
        options,
        drafts: Vec::new(),
        services_out: Vec::new(),
        rekeyed: Vec::new(),
        deletes: Vec::new(),
        summary: CaptureSummary {
            held_services: current.held_services.len(),
            held_persons: current.held_persons.len(),
            out_of_scope: current.out_of_scope,
            ..CaptureSummary::default()
        },
    };
    run.services(tx, sources, &current, key).await?;
    let Run {
        mut drafts,
        services_out,
        mut summary,
        ..
    } = run;
    if options.initial.is_some() {
        // The initial load in date order: what was active on the start date first.
        drafts.sort_by_key(|d| (d.change.day, d.change.kind == EventKind::End));
    }
    tx.upsert_services(&services_out).await?;
    drop(services_out);
    let new_key = super::sealed::new_key_note(tx).await?;
    (summary.resealed, summary.not_resealed) =
        super::sealed::reseal_unsent(tx, &current, key).await?;
    summary.new_identity_key = new_key
        .map(|away| away - summary.resealed as i64)
        .filter(|away| *away > 0);
    summary.numbers = number(tx, drafts, &current, key, options).await?;
    summary.notifications = summary
        .numbers
        .map_or(0, |(first, last)| (last - first + 1) as usize);
    tx.record_capture(&crate::store::daily::CaptureRecord {
        reporting_date: options.date,
        at: options.now,
        events: summary.notifications as i64,
        held: (summary.held_services + summary.held_persons) as i64,
        summary: serde_json::to_string(&summary).expect("the summary serializes"),
        findings: current
            .report
            .findings
            .iter()
            .map(|f| crate::store::daily::FindingCount {
                rule: f.rule.to_string(),
                severity: f.severity,
                count: f.count,
            })
            .chain((!summary.identity_conflicts.is_empty()).then(|| {
                crate::store::daily::FindingCount {
                    rule: identity_change::RULE.to_string(),
                    severity: crate::checks::Severity::Error,
                    count: summary.identity_conflicts.len() as u64,
                }
            }))
            .chain(
                (summary.unnamed_services > 0).then(|| crate::store::daily::FindingCount {
                    rule: super::sealed::RULE.to_string(),
                    severity: crate::checks::Severity::Error,
                    count: summary.unnamed_services as u64,
                }),
            )
            .collect(),
    })
    .await?;
    crate::failpoint::hit("daily.capture.before-commit");
    Ok(Captured { summary, current })
}
