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

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Europe::Oslo;
use serde::Serialize;
use thiserror::Error;
use uuid::Uuid;

use super::current::{self, Current, Pseudonyms, SourceInput};
use super::identity_change::{self, IdentityConflict, Verdict};
use super::state::{Original, Originals, PersonKey, ServiceState, StopOriginals, Stored};
use crate::checks::CheckOptions;
use crate::config::daily::Daily;
use crate::crypto::at_rest::IdentityKey;
use crate::delta::{self, Change, Compare};
use crate::message::ident::type_id;
use crate::message::ipl56::{EventKind, FIRST_PREVIOUS, Notification, ServiceEvent, Status, User};
use crate::model::Ident;
use crate::store::StoreError;
use crate::store::daily::{
    BaselineService, DailyState, DailyTx, Param, SourceHashes, StoredNotification, StoredPerson,
};

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

/// A notification before it has its number: one change of one service.
struct Draft {
    guid: Uuid,
    change: Change,
    stop_id: Option<String>,
    service_id: String,
    service_type: u8,
    orgnr: Option<String>,
    person: PersonKey,
    source: String,
    local_id: String,
}

/// Notifications written per statement batch: the rest wait as drafts, a quarter the size.
const WRITE_EVERY: usize = 10_000;

/// Numbers the drafts after the last notification, chains them, names their users (a person
/// new to the register gets a pasientGUID and keeps this brukerNr for good), seals each
/// identity number and writes them, some thousands at a time; gives the first and last
/// number.
async fn number(
    tx: &mut DailyTx,
    drafts: Vec<Draft>,
    current: &Current,
    key: &IdentityKey,
    options: CaptureOptions,
) -> Result<Option<(i64, i64)>, CaptureError> {
    if drafts.is_empty() {
        return Ok(None);
    }
    let mut keys: Vec<PersonKey> = drafts.iter().map(|d| d.person).collect();
    keys.sort();
    keys.dedup();
    let mut persons: HashMap<PersonKey, StoredPerson> = tx
        .persons(&keys)
        .await?
        .into_iter()
        .map(|p| (p.key, p))
        .collect();
    let mut new_persons = Vec::new();
    // Who the EPJ no longer knows is named as the register last heard of them.
    let mut last_known: HashMap<PersonKey, (Ident, Option<String>)> = HashMap::new();
    for person in &keys {
        if current.users.contains_key(person) {
            if !persons.contains_key(person) {
                let stored = StoredPerson {
                    key: *person,
                    patient_guid: Uuid::new_v4(),
                    user_number: current.users[person].person_id.clone(),
                };
                new_persons.push(stored.clone());
                persons.insert(*person, stored);
            }
        } else if let Some(stored) = persons.get(person) {
            let known = last_user(tx, &stored.user_number, key).await?;
            last_known.insert(*person, known);
        }
    }
    tx.insert_persons(&new_persons).await?;

    let (mut number, mut previous) = tx.last_notification().await?.unwrap_or((0, FIRST_PREVIOUS));
    let first = number + 1;
    let at = oslo(options.now);
    let mut stored = Vec::with_capacity(WRITE_EVERY.min(drafts.len()));
    for draft in drafts {
        let person = persons.get(&draft.person).ok_or_else(|| {
            StoreError::Corrupt("a person with a reported service is not in daily_persons".into())
        })?;
        let (ident, district) = match current.users.get(&draft.person) {
            Some(user) => (user.ident.clone(), user.district.clone()),
            None => last_known.get(&draft.person).cloned().ok_or_else(|| {
                StoreError::Corrupt("a person the register knows has no notification".into())
            })?,
        };
        number += 1;
        let notification = Notification {
            guid: draft.guid,
            previous,
            number,
            status: draft.change.status,
            corrects: draft.change.corrects,
            time: at,
            event: ServiceEvent {
                kind: draft.change.kind,
                guid: Uuid::new_v4(),
                service_id: draft.service_id,
                service_type: draft.service_type,
                registered: at,
                orgnr: draft.orgnr,
                day: draft.change.day,
                stop_id: draft.stop_id,
                user: User {
                    patient_guid: person.patient_guid,
                    user_number: person.user_number.clone(),
                    district,
                    fid: String::new(),
                    id_type: type_id(&ident),
                },
            },
        };
        previous = draft.guid;
        stored.push(StoredNotification {
            number,
            guid: draft.guid,
            previous: notification.previous,
            reporting_date: options.date,
            kind: notification.event.kind,
            status: notification.status,
            corrects: notification.corrects,
            event_day: notification.event.day,
            user_number: person.user_number.clone(),
            source: draft.source,
            local_id: draft.local_id,
            body: serde_json::to_string(&notification).expect("notifications serialize"),
            identity: key.seal(ident.expose(), &draft.guid.to_string()),
        });
        if stored.len() == WRITE_EVERY {
            tx.insert_notifications(&stored).await?;
            stored.clear();
        }
    }
    tx.insert_notifications(&stored).await?;
    Ok(Some((first, number)))
}

/// The identity number and district of a person's latest notification.
async fn last_user(
    tx: &mut DailyTx,
    user_number: &str,
    key: &IdentityKey,
) -> Result<(Ident, Option<String>), CaptureError> {
    let numbers = tx
        .select_numbers("user_number = $1", &[Param::Text(user_number.to_string())])
        .await?;
    let last = *numbers.last().ok_or_else(|| {
        StoreError::Corrupt("a person the register knows has no notification".into())
    })?;
    let (_, body, sealed) = tx
        .notifications(&[last])
        .await?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("a notification vanished".into()))?;
    let notification: Notification = serde_json::from_str(&body)
        .map_err(|e| StoreError::Corrupt(format!("daily notification {last}: {e}")))?;
    let fid = key.open_sealed(&sealed, &notification.guid.to_string())?;
    Ok((Ident::new(fid), notification.event.user.district))
}

/// Records a notification's GUID among the originals; gives the stop's id for stop events.
fn record(originals: &mut Originals, change: &Change, guid: Uuid) -> Option<String> {
    let original = Original {
        guid,
        day: change.day,
    };
    let set = |slot: &mut Option<Original>| match change.status {
        Status::Original => *slot = Some(original),
        Status::Replaces => {
            if let Some(slot) = slot {
                slot.day = change.day;
            }
        }
        Status::Cancels => *slot = None,
    };
    match change.kind {
        EventKind::Start => set(&mut originals.start),
        EventKind::End => set(&mut originals.end),
        EventKind::ProviderChanged => match change.status {
            Status::Original => originals.providers.push(original),
            Status::Replaces => {
                for provider in &mut originals.providers {
                    if Some(provider.guid) == change.corrects {
                        provider.day = change.day;
                    }
                }
            }
            Status::Cancels => originals
                .providers
                .retain(|p| Some(p.guid) != change.corrects),
        },
        EventKind::StopFrom | EventKind::StopUntil => {
            let first_day = change.stop.unwrap_or(change.day);
            let at = originals
                .stops
                .iter()
                .position(|s| s.first_day == first_day);
            let id = match (change.kind, change.status, at) {
                (EventKind::StopFrom, Status::Original, None) => {
                    let id = Uuid::new_v4().to_string();
                    originals.stops.push(StopOriginals {
                        first_day,
                        id: id.clone(),
                        from: original,
                        until: None,
                    });
                    originals.stops.sort_by_key(|s| s.first_day);
                    id
                }
                (_, _, Some(at)) => {
                    let id = originals.stops[at].id.clone();
                    if change.kind == EventKind::StopFrom {
                        if change.status == Status::Cancels {
                            originals.stops.remove(at);
                        }
                    } else {
                        set(&mut originals.stops[at].until);
                    }
                    id
                }
                // A stop's last day without its first: the diff does not give one.
                (_, _, None) => first_day.to_string(),
            };
            return Some(id);
        }
    }
    None
}

/// One capture's work in progress.
struct Run {
    options: CaptureOptions,
    drafts: Vec<Draft>,
    services_out: Vec<BaselineService>,
    /// Changed services whose person key changed: judged once all are known.
    rekeyed: Vec<Rekeyed>,
    /// Services to take out of the baseline, with their person: done once it is known whose
    /// changes are held back.
    deletes: Vec<(String, String, PersonKey)>,
    summary: CaptureSummary,
}

/// Below this many states, hashing them on one thread is quicker than starting others.
const PARALLEL_FROM: usize = 10_000;

/// The stored hash of each state, in order, on every core: at a million states this is
/// the largest part of a capture that finds little changed.
fn hashes<K: Sync, T: Stored + Sync>(states: &[(K, T)]) -> Vec<i64> {
    let mut hashes = vec![0; states.len()];
    let hash_all = |states: &[(K, T)], hashes: &mut [i64]| {
        let mut buffer = Vec::new();
        for ((_, state), hash) in states.iter().zip(hashes) {
            *hash = state.hash_with(&mut buffer);
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || states.len() < PARALLEL_FROM {
        hash_all(states, &mut hashes);
        return hashes;
    }
    let chunk = states.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for (states, hashes) in states.chunks(chunk).zip(hashes.chunks_mut(chunk)) {
            scope.spawn(move || hash_all(states, hashes));
        }
    });
    hashes
}

fn parse<T: Stored>(text: &str, what: &str) -> Result<T, StoreError> {
    T::from_text(text).ok_or_else(|| StoreError::Corrupt(format!("baseline state of {what}")))
}

fn parse_originals(text: &str, what: &str) -> Result<Originals, StoreError> {
    Originals::from_text(text)
        .ok_or_else(|| StoreError::Corrupt(format!("baseline originals of {what}")))
}

/// Where a service's notifications come from and what they name.
struct Subject<'a> {
    source: &'a str,
    local_id: &'a str,
    service_id: &'a str,
}

impl Run {
    fn compare(&self, continued: bool, since: Option<NaiveDate>) -> Compare {
        Compare {
            today: self.options.date,
            continued,
            since,
        }
    }

    /// Turns a service's changes into drafts, recording each among its originals.
    fn service_events(
        &mut self,
        subject: Subject,
        state: &ServiceState,
        originals: &mut Originals,
        changes: Vec<Change>,
    ) {
        for change in changes {
            let guid = Uuid::new_v4();
            let stop_id = record(originals, &change, guid);
            self.drafts.push(Draft {
                guid,
                change,
                stop_id,
                service_id: subject.service_id.to_string(),
                service_type: state.code.main(),
                orgnr: state.orgnr.clone(),
                person: state.person,
                source: subject.source.to_string(),
                local_id: subject.local_id.to_string(),
            });
        }
    }

    /// Diffs every service.
    async fn services(
        &mut self,
        tx: &mut DailyTx,
        sources: &[SourceInput<'_>],
        current: &Current,
        key: &IdentityKey,
    ) -> Result<(), StoreError> {
        let date = self.options.date;
        let hashes = tx.service_hashes().await?;
        let empty = SourceHashes::default();
        // Which sources read today may take over services of a retired one.
        let read_today: Vec<&SourceInput> = sources
            .iter()
            .filter(|s| s.speaks_for(date) && s.records.is_some())
            .collect();
        let mut candidates: Vec<(BaselineService, ServiceState, Option<NaiveDate>)> = Vec::new();
        let mut left: Vec<Left> = Vec::new();
        let mut names: Vec<&String> = hashes.keys().collect();
        names.sort();
        for name in names {
            let config = sources.iter().find(|s| s.name == name);
            let retired_on = config.and_then(|s| s.to.filter(|to| *to < date));
            let why = match config {
                None => Some("the source is no longer configured".to_string()),
                Some(_) if retired_on.is_some() => None,
                Some(s) if !s.speaks_for(date) => {
                    Some(format!("the source is not in use on {date}"))
                }
                Some(s) if s.records.is_none() => Some("the source could not be read".to_string()),
                Some(_) => continue,
            };
            // Services of a retired or dropped source: candidates for continuation.
            if config.is_none() || retired_on.is_some() {
                for row in tx.services_of(name).await? {
                    let state: ServiceState = parse(&row.state, name)?;
                    candidates.push((row, state, retired_on));
                }
            }
            if let Some(why) = why {
                left.push(Left {
                    source: name.clone(),
                    services: hashes[name].len(),
                    why,
                });
            }
        }

        // Services of the sources read today: today's (sorted by id) walked beside the
        // baseline's (sorted the same way).
        let mut news: Vec<(&str, &str, &ServiceState, String, i64)> = Vec::new();
        for source in &read_today {
            let name = source.name;
            let baseline = hashes.get(name).unwrap_or(&empty);
            let today = current.services_of(name);
            let today_hashes = self::hashes(today);
            let mut changed: Vec<(&str, &ServiceState, String, i64)> = Vec::new();
            let mut gone: Vec<&str> = Vec::new();
            let mut old = baseline.iter().peekable();
            for ((id, state), &hash) in today.iter().zip(&today_hashes) {
                while let Some((old_id, _)) = old.next_if(|(old_id, _)| *old_id < id.as_str()) {
                    gone.push(old_id);
                }
                match old.next_if(|(old_id, _)| *old_id == id.as_str()) {
                    Some((_, old_hash)) if old_hash == hash => {}
                    Some(_) => changed.push((id, state, state.to_text(), hash)),
                    None => news.push((name, id, state, state.to_text(), hash)),
                }
            }
            gone.extend(old.map(|(old_id, _)| old_id));
            drop(today_hashes);
            gone.retain(|id| {
                !current
                    .held_services
                    .contains(&(name.to_string(), id.to_string()))
            });
            if !gone.is_empty() && !source.complete {
                left.push(Left {
                    source: name.to_string(),
                    services: gone.len(),
                    why: "rows of the source could not be read, so missing services are not annulled; fix the rows named above".to_string(),
                });
                gone.clear();
            }
            let ids: Vec<&str> = changed
                .iter()
                .map(|c| c.0)
                .chain(gone.iter().copied())
                .collect();
            let rows: HashMap<String, BaselineService> = tx
                .services(name, &ids)
                .await?
                .into_iter()
                .map(|row| (row.local_id.clone(), row))
                .collect();
            for (id, state, text, hash) in changed {
                let row = &rows[id];
                let old: ServiceState = parse(&row.state, name)?;
                if old.person != state.person {
                    self.rekeyed.push(Rekeyed {
                        row: row.clone(),
                        old,
                        new: state.clone(),
                        text,
                        hash,
                    });
                    continue;
                }
                let mut originals = parse_originals(&row.originals, name)?;
                let changes = delta::diff_service(
                    Some(&old),
                    Some(state),
                    &originals,
                    self.compare(false, None),
                );
                let subject = Subject {
                    source: name,
                    local_id: id,
                    service_id: &row.service_id,
                };
                self.service_events(subject, state, &mut originals, changes);
                self.summary.changed_services += 1;
                self.services_out.push(BaselineService {
                    originals: originals.to_text(),
                    hash,
                    state: text,
                    ..row.clone()
                });
            }
            for id in gone {
                let row = &rows[id];
                let old: ServiceState = parse(&row.state, name)?;
                let mut originals = parse_originals(&row.originals, name)?;
                let changes =
                    delta::diff_service(Some(&old), None, &originals, self.compare(false, None));
                let subject = Subject {
                    source: name,
                    local_id: id,
                    service_id: &row.service_id,
                };
                self.service_events(subject, &old, &mut originals, changes);
                self.summary.annulled_services += 1;
                self.deletes
                    .push((name.to_string(), id.to_string(), old.person));
            }
        }

        // New services: a continuation of a retired source's service, history, or new.
        let mut taken: HashSet<(String, String)> = HashSet::new();
        for (name, id, state, text, hash) in news {
            let source = read_today
                .iter()
                .find(|s| s.name == name)
                .expect("read today");
            let continued = candidates
                .iter()
                .filter(|(row, old, _)| {
                    old.person == state.person
                        && old.code == state.code
                        && is_open_at(old, source.from.unwrap_or(date))
                        && !taken.contains(&(row.source.clone(), row.local_id.clone()))
                })
                .max_by_key(|(_, old, _)| old.start);
            if let Some((row, old, _)) = continued {
                taken.insert((row.source.clone(), row.local_id.clone()));
                let mut originals = parse_originals(&row.originals, &row.source)?;
                let changes = delta::diff_service(
                    Some(old),
                    Some(state),
                    &originals,
                    self.compare(true, None),
                );
                let subject = Subject {
                    source: name,
                    local_id: id,
                    service_id: &row.service_id,
                };
                self.service_events(subject, state, &mut originals, changes);
                self.deletes
                    .push((row.source.clone(), row.local_id.clone(), old.person));
                self.summary.continued_services += 1;
                self.services_out.push(BaselineService {
                    source: name.to_string(),
                    local_id: id.to_string(),
                    service_id: row.service_id.clone(),
                    originals: originals.to_text(),
                    hash,
                    state: text,
                });
                continue;
            }
            let cutoff = match (self.options.initial, source.from) {
                (Some(since), from) => Some(from.map_or(since, |f| f.max(since))),
                (None, from) => from,
            };
            let mut originals = Originals::default();
            if cutoff.is_some_and(|cutoff| is_history(state, cutoff)) {
                self.summary.history += 1;
            } else {
                self.summary.new_services += 1;
                let changes =
                    delta::diff_service(None, Some(state), &originals, self.compare(false, cutoff));
                let subject = Subject {
                    source: name,
                    local_id: id,
                    service_id: id,
                };
                self.service_events(subject, state, &mut originals, changes);
            }
            self.services_out.push(BaselineService {
                source: name.to_string(),
                local_id: id.to_string(),
                service_id: id.to_string(),
                originals: originals.to_text(),
                hash,
                state: text,
            });
        }

        // Services of retired sources that no new source took over.
        for (row, old, retired_on) in &candidates {
            let Some(last_day) = *retired_on else {
                continue;
            };
            if taken.contains(&(row.source.clone(), row.local_id.clone())) {
                continue;
            }
            let successor = read_today
                .iter()
                .any(|s| s.from.is_some_and(|from| from > last_day));
            if !successor {
                continue;
            }
            if old.end.is_none_or(|end| end > last_day) {
                let ended = ServiceState {
                    end: Some(last_day),
                    ..old.clone()
                };
                let mut originals = parse_originals(&row.originals, &row.source)?;
                let changes = delta::diff_service(
                    Some(old),
                    Some(&ended),
                    &originals,
                    self.compare(false, None),
                );
                let subject = Subject {
                    source: &row.source,
                    local_id: &row.local_id,
                    service_id: &row.service_id,
                };
                self.service_events(subject, &ended, &mut originals, changes);
                self.summary.ended_at_switch += 1;
            }
            self.deletes
                .push((row.source.clone(), row.local_id.clone(), old.person));
        }
        for source in sources {
            if let Some(last_day) = source.to.filter(|to| *to < date) {
                let successor = read_today
                    .iter()
                    .any(|s| s.from.is_some_and(|from| from > last_day));
                let waiting = candidates
                    .iter()
                    .filter(|(row, _, _)| row.source == source.name)
                    .filter(|(row, _, _)| {
                        !taken.contains(&(row.source.clone(), row.local_id.clone()))
                    })
                    .count();
                if !successor && waiting > 0 {
                    left.push(Left {
                        source: source.name.to_string(),
                        services: waiting,
                        why: format!(
                            "the source's last day was {last_day} and no configured source takes over after it; configure the new EPJ with `from` after that day"
                        ),
                    });
                }
            }
        }
        self.summary.left_as_they_are = left;
        self.identities(tx, current).await?;
        self.unnamed(tx, current, key).await?;
        for (source, local_id, _) in std::mem::take(&mut self.deletes) {
            tx.delete_service(&source, &local_id).await?;
        }
        Ok(())
    }

    /// Services whose person key changed: a corrected identity number goes on as the
    /// register's person with an M for each live original; numbers mixed up between EPJ
    /// persons hold back everything of both persons today (`identity_change.rs`).
    async fn identities(&mut self, tx: &mut DailyTx, current: &Current) -> Result<(), StoreError> {
        let rekeyed = std::mem::take(&mut self.rekeyed);
        if rekeyed.is_empty() {
            return Ok(());
        }
        let pairs: HashSet<(PersonKey, PersonKey)> = rekeyed
            .iter()
            .map(|r| (r.old.person, r.new.person))
            .collect();
        let mut keys: Vec<PersonKey> = pairs.iter().flat_map(|&(old, new)| [old, new]).collect();
        keys.sort();
        keys.dedup();
        let stored: HashMap<PersonKey, StoredPerson> = tx
            .persons(&keys)
            .await?
            .into_iter()
            .map(|p| (p.key, p))
            .collect();
        let mut corrected: HashMap<PersonKey, PersonKey> = HashMap::new();
        let mut conflicted: HashSet<PersonKey> = HashSet::new();
        let mut verdicts: Vec<_> = identity_change::judge(&pairs, &stored, current)
            .into_iter()
            .collect();
        verdicts.sort_by_key(|(pair, _)| *pair);
        for ((old, new), verdict) in verdicts {
            match verdict {
                Verdict::Corrected => {
                    corrected.insert(old, new);
                }
                Verdict::Conflict(conflict) => {
                    conflicted.extend([old, new]);
                    if !self.summary.identity_conflicts.contains(&conflict) {
                        self.summary.identity_conflicts.push(conflict);
                    }
                }
                Verdict::Unrelated => {}
            }
        }
        for (old, new) in &corrected {
            tx.rekey_person(*old, *new).await?;
        }
        self.summary.identity_corrected = corrected.len();
        let mut held: HashSet<(String, String)> = HashSet::new();
        for r in rekeyed {
            if conflicted.contains(&r.old.person) || conflicted.contains(&r.new.person) {
                held.insert((r.row.source, r.row.local_id));
                continue;
            }
            let mut originals = parse_originals(&r.row.originals, &r.row.source)?;
            let again = corrected.get(&r.old.person) == Some(&r.new.person);
            let mut old = r.old;
            if again {
                old.person = r.new.person;
            }
            let mut changes = delta::diff_service(
                Some(&old),
                Some(&r.new),
                &originals,
                self.compare(false, None),
            );
            if again {
                let repeated = identity_change::again(&originals, &changes);
                changes.extend(repeated);
            }
            let subject = Subject {
                source: &r.row.source,
                local_id: &r.row.local_id,
                service_id: &r.row.service_id,
            };
            self.service_events(subject, &r.new, &mut originals, changes);
            self.summary.changed_services += 1;
            self.services_out.push(BaselineService {
                originals: originals.to_text(),
                hash: r.hash,
                state: r.text,
                ..r.row
            });
        }
        // What else was found today of the persons held back waits with them.
        if !conflicted.is_empty() {
            self.drafts.retain(|d| {
                let keep = !conflicted.contains(&d.person);
                if !keep {
                    held.insert((d.source.clone(), d.local_id.clone()));
                }
                keep
            });
            let mut kept = Vec::with_capacity(self.services_out.len());
            for row in std::mem::take(&mut self.services_out) {
                let state: ServiceState = parse(&row.state, &row.source)?;
                if conflicted.contains(&state.person) {
                    held.insert((row.source.clone(), row.local_id.clone()));
                } else {
                    kept.push(row);
                }
            }
            self.services_out = kept;
            self.deletes.retain(|(source, local_id, person)| {
                let keep = !conflicted.contains(person);
                if !keep {
                    held.insert((source.clone(), local_id.clone()));
                }
                keep
            });
            self.summary.held_services += held.len();
        }
        // An annulment of the old key's service goes out under the person's new key.
        for draft in &mut self.drafts {
            if let Some(new) = corrected.get(&draft.person) {
                draft.person = *new;
            }
        }
        Ok(())
    }
}

impl Run {
    /// A person the EPJ no longer lists is named as the register last heard of them; one
    /// whose latest notification is sealed under an identity key that is no longer there
    /// cannot be, so everything of theirs today is held back (`daily::sealed`).
    async fn unnamed(
        &mut self,
        tx: &mut DailyTx,
        current: &Current,
        key: &IdentityKey,
    ) -> Result<(), StoreError> {
        let mut gone: Vec<PersonKey> = self
            .drafts
            .iter()
            .map(|d| d.person)
            .filter(|person| !current.users.contains_key(person))
            .collect();
        gone.sort();
        gone.dedup();
        if gone.is_empty() {
            return Ok(());
        }
        let mut unnamed: HashSet<PersonKey> = HashSet::new();
        for person in tx.persons(&gone).await? {
            match last_user(tx, &person.user_number, key).await {
                Ok(_) => {}
                Err(CaptureError::Key(_)) => {
                    unnamed.insert(person.key);
                }
                Err(CaptureError::Store(e)) => return Err(e),
                Err(e) => return Err(StoreError::Corrupt(e.to_string())),
            }
        }
        if unnamed.is_empty() {
            return Ok(());
        }
        let held = self.hold_back(&unnamed)?;
        tracing::warn!(
            persons = unnamed.len(),
            services = held,
            "held back: persons the EPJ no longer lists, whose identity number is sealed under an identity key that is no longer there"
        );
        self.summary.unnamed_persons = unnamed.len();
        self.summary.unnamed_services = held;
        self.summary.held_services += held;
        Ok(())
    }

    /// Holds back everything of `persons` today — their drafts, their new baseline rows,
    /// their services' removal — so that the next capture finds the same changes again;
    /// gives how many services.
    fn hold_back(&mut self, persons: &HashSet<PersonKey>) -> Result<usize, StoreError> {
        let mut held: HashSet<(String, String)> = HashSet::new();
        self.drafts.retain(|d| {
            let keep = !persons.contains(&d.person);
            if !keep {
                held.insert((d.source.clone(), d.local_id.clone()));
            }
            keep
        });
        let mut kept = Vec::with_capacity(self.services_out.len());
        for row in std::mem::take(&mut self.services_out) {
            let state: ServiceState = parse(&row.state, &row.source)?;
            if persons.contains(&state.person) {
                held.insert((row.source.clone(), row.local_id.clone()));
            } else {
                kept.push(row);
            }
        }
        self.services_out = kept;
        self.deletes.retain(|(source, local_id, person)| {
            let keep = !persons.contains(person);
            if !keep {
                held.insert((source.clone(), local_id.clone()));
            }
            keep
        });
        Ok(held.len())
    }
}

/// A changed service whose person key changed.
struct Rekeyed {
    row: BaselineService,
    old: ServiceState,
    new: ServiceState,
    text: String,
    hash: i64,
}

/// Whether a service still runs on `day`, or ended the day before (an old EPJ that closed
/// its services on its last day).
fn is_open_at(state: &ServiceState, day: NaiveDate) -> bool {
    let day_before = day.checked_sub_days(Days::new(1)).unwrap_or(day);
    state.end.is_none_or(|end| end >= day_before)
}

/// Whether a service was over before `cutoff`: recorded, not reported.
fn is_history(state: &ServiceState, cutoff: NaiveDate) -> bool {
    state.end.is_some_and(|end| end < cutoff)
}
