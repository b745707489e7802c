//! Capture: sources → today's states → the diff against the baseline → events and the new
//! baseline, written in one state-store transaction (invariant 1). Run as often as wanted:
//! an unchanged source gives no events (invariant 3), because the baseline moves with the
//! events it caused.
//!
//! Reading the whole baseline would cost more than the diff, so only each service's hash is
//! read; the stored state is read back only for what changed.
//!
//! Which baseline services are compared with what:
//! - a source that speaks for the date and was read: each service diffed; one that left the
//!   EPJ without an end is annulled — but only if every row of the source could be read;
//! - a source whose `to` has passed (an EPJ change): its open services are *continued* by
//!   the new EPJ's services of the same person and code, so that the register sees no
//!   annulment and no restart; those not continued are ended on the old source's last day,
//!   once a source that takes over is configured;
//! - a source that could not be read, is not in use yet, or is no longer configured: left
//!   exactly as it is, and said so.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;
use thiserror::Error;
use uuid::Uuid;

use super::current::{self, Current, Pseudonyms, SourceInput};
use super::event::{About, Event, ServiceFacts};
use super::state::{PersonKey, PersonState, ServiceState, Stored};
use crate::checks::CheckOptions;
use crate::delta::{self, Change, Compare, Said};
use crate::model::Decision;
use crate::store::StoreError;
use crate::store::daily::{BaselinePerson, BaselineService, DailyState, DailyTx, SourceHashes};

#[derive(Clone, Copy, Debug)]
pub struct CaptureOptions {
    /// The reporting date: the day whose changes these are.
    pub date: NaiveDate,
    /// The first run: record the baseline as of `date`; report only what is active then.
    pub initial: bool,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error(
        "the state store has no baseline yet: the first daily run needs --initial (kpr-bridge daily --config FILE --initial --date YYYY-MM-DD), which records what the EPJ holds on that date and reports only what is active then"
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a capture found, for the operator and the `daily_captures` table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaptureSummary {
    pub events: usize,
    pub new_services: usize,
    pub changed_services: usize,
    pub annulled_services: usize,
    /// Services of a retired EPJ taken over by the new one without annulment or restart.
    pub continued_services: usize,
    /// Services of a retired EPJ that the new one did not take over: ended on its last day.
    pub ended_at_switch: usize,
    /// Services that ended before reporting began: recorded, not reported.
    pub history: usize,
    pub changed_persons: usize,
    pub held_services: usize,
    pub held_persons: usize,
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
    pub events: Vec<Event>,
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
    options: CaptureOptions,
) -> Result<Captured, CaptureError> {
    let pseudonyms = open(tx, options).await?;
    let current = current::build(sources, options.date, checks, &pseudonyms);
    diff_and_commit(tx, sources, current, options).await
}

/// Reads the daily state, or makes it on the initial run, and gives the person keys' secret.
pub async fn open(tx: &mut DailyTx, options: CaptureOptions) -> Result<Pseudonyms, CaptureError> {
    let state = match (tx.state().await?, options.initial) {
        (None, false) => return Err(CaptureError::NoBaseline),
        (Some(state), true) => return Err(CaptureError::AlreadyStarted(state.initial_date)),
        (Some(state), false) => state,
        (None, true) => {
            let state = DailyState {
                pseudonym_secret: new_secret(),
                initial_date: options.date,
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
    Ok(Pseudonyms::new(&state.pseudonym_secret))
}

/// Diffs today's states against the baseline and writes the events and the new baseline,
/// all inside `tx` (the caller commits).
pub async fn diff_and_commit(
    tx: &mut DailyTx,
    sources: &[SourceInput<'_>],
    current: Current,
    options: CaptureOptions,
) -> Result<Captured, CaptureError> {
    let mut run = Run {
        options,
        events: Vec::new(),
        services_out: Vec::new(),
        persons_out: Vec::new(),
        summary: CaptureSummary {
            held_services: current.held_services.len(),
            held_persons: current.held_persons.len(),
            ..CaptureSummary::default()
        },
        reported_persons: HashSet::new(),
    };
    run.services(tx, sources, &current).await?;
    run.persons(tx, &current).await?;

    let mut identities: Vec<(PersonKey, &str)> = run
        .events
        .iter()
        .map(|e| e.person)
        .collect::<HashSet<_>>()
        .into_iter()
        .filter_map(|key| Some((key, current.idents.get(&key)?.expose())))
        .collect();
    identities.sort();
    tx.upsert_services(&run.services_out).await?;
    tx.upsert_persons(&run.persons_out).await?;
    tx.insert_events(options.date, &run.events).await?;
    tx.upsert_identities(&identities).await?;
    run.summary.events = run.events.len();
    tx.record_capture(&crate::store::daily::CaptureRecord {
        reporting_date: options.date,
        at: options.now,
        events: run.events.len() as i64,
        held: (run.summary.held_services + run.summary.held_persons) as i64,
        summary: serde_json::to_string(&run.summary).expect("the summary serializes"),
        findings: current
            .report
            .findings
            .iter()
            .map(|f| crate::store::daily::FindingCount {
                rule: f.rule.to_string(),
                severity: f.severity,
                count: f.count,
            })
            .collect(),
    })
    .await?;
    crate::failpoint::hit("daily.capture.before-commit");
    Ok(Captured {
        events: run.events,
        summary: run.summary,
        current,
    })
}

/// One capture's work in progress.
struct Run {
    options: CaptureOptions,
    events: Vec<Event>,
    services_out: Vec<BaselineService>,
    persons_out: Vec<BaselinePerson>,
    summary: CaptureSummary,
    /// Persons with a reported service in this capture (an initial run reports only them).
    reported_persons: HashSet<PersonKey>,
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

impl Run {
    fn compare(&self, continued: bool) -> Compare {
        Compare {
            today: self.options.date,
            continued,
        }
    }

    /// Turns a service's changes into events linked to its previous event; returns the new
    /// last event.
    fn service_events(
        &mut self,
        service_ref: &str,
        last_event: Option<String>,
        state: &ServiceState,
        changes: Vec<Change>,
    ) -> Result<Option<String>, StoreError> {
        let service = guid(service_ref)?;
        let mut previous = last_event.as_deref().map(guid).transpose()?;
        if !changes.is_empty() {
            self.reported_persons.insert(state.person);
        }
        for change in changes {
            let pause = match change.said {
                Said::Service { pause } => pause,
                Said::Person(_) => None,
            };
            let id = Uuid::new_v4();
            self.events.push(Event {
                id,
                previous,
                kind: change.kind,
                status: change.status,
                effective_on: change.effective_on,
                registered_at: self.options.now,
                person: state.person,
                about: About::Service {
                    service,
                    facts: facts(state),
                    pause,
                },
            });
            previous = Some(id);
        }
        Ok(previous.map(|id| id.to_string()).or(last_event))
    }

    /// Diffs every service.
    async fn services(
        &mut self,
        tx: &mut DailyTx,
        sources: &[SourceInput<'_>],
        current: &Current,
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
                let changes = delta::diff_service(Some(&old), Some(state), self.compare(false));
                let last =
                    self.service_events(&row.service_ref, row.last_event.clone(), state, changes)?;
                self.summary.changed_services += 1;
                self.services_out.push(BaselineService {
                    last_event: last,
                    hash,
                    state: text,
                    ..row.clone()
                });
            }
            for id in gone {
                let row = &rows[id];
                let old: ServiceState = parse(&row.state, name)?;
                let changes = delta::diff_service(Some(&old), None, self.compare(false));
                self.service_events(&row.service_ref, row.last_event.clone(), &old, changes)?;
                self.summary.annulled_services += 1;
                tx.delete_service(name, id).await?;
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
                        && old.decision == Decision::Granted
                        && state.decision == Decision::Granted
                        && is_open_at(old, source.from.unwrap_or(date))
                        && !taken.contains(&(row.source.clone(), row.local_id.clone()))
                })
                .max_by_key(|(_, old, _)| old.start);
            if let Some((row, old, _)) = continued {
                taken.insert((row.source.clone(), row.local_id.clone()));
                let changes = delta::diff_service(Some(old), Some(state), self.compare(true));
                let last =
                    self.service_events(&row.service_ref, row.last_event.clone(), state, changes)?;
                tx.delete_service(&row.source, &row.local_id).await?;
                self.summary.continued_services += 1;
                self.services_out.push(BaselineService {
                    source: name.to_string(),
                    local_id: id.to_string(),
                    service_ref: row.service_ref.clone(),
                    last_event: last,
                    hash,
                    state: text,
                });
                continue;
            }
            let service_ref = Uuid::new_v4().to_string();
            let cutoff = match (self.options.initial, source.from) {
                (true, from) => Some(from.map_or(date, |f| f.max(date))),
                (false, from) => from,
            };
            let last = if cutoff.is_some_and(|cutoff| is_history(state, cutoff)) {
                self.summary.history += 1;
                None
            } else {
                self.summary.new_services += 1;
                let changes = delta::diff_service(None, Some(state), self.compare(false));
                self.service_events(&service_ref, None, state, changes)?
            };
            self.services_out.push(BaselineService {
                source: name.to_string(),
                local_id: id.to_string(),
                service_ref,
                last_event: last,
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
            if old.decision == Decision::Granted && old.end.is_none_or(|end| end > last_day) {
                let ended = ServiceState {
                    end: Some(last_day),
                    ..old.clone()
                };
                let changes = delta::diff_service(Some(old), Some(&ended), self.compare(false));
                self.service_events(&row.service_ref, row.last_event.clone(), &ended, changes)?;
                self.summary.ended_at_switch += 1;
            }
            tx.delete_service(&row.source, &row.local_id).await?;
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
        Ok(())
    }

    /// Diffs every person the EPJ knows today. A person who is no longer there keeps their
    /// baseline and gets no event: leaving an EPJ is not an error to annul, their services
    /// say what ended, and if they return the diff starts from what was reported.
    async fn persons(&mut self, tx: &mut DailyTx, current: &Current) -> Result<(), StoreError> {
        let today = self.options.date;
        let hashes = tx.person_hashes().await?;
        let mut changed: Vec<(PersonKey, Option<&PersonState>, String, i64)> = Vec::new();
        for ((key, state), hash) in current.persons.iter().zip(self::hashes(&current.persons)) {
            if hashes.get(key) != Some(hash) {
                changed.push((*key, Some(state), state.to_text(), hash));
            }
        }
        let wanted: Vec<PersonKey> = changed
            .iter()
            .filter(|c| hashes.contains_key(&c.0))
            .map(|c| c.0)
            .collect();
        let rows: HashMap<PersonKey, BaselinePerson> = tx
            .persons(&wanted)
            .await?
            .into_iter()
            .map(|row| (row.key, row))
            .collect();
        for (key, state, text, hash) in changed {
            let row = rows.get(&key);
            let old: Option<PersonState> = row.map(|r| parse(&r.state, "a person")).transpose()?;
            let quiet =
                old.is_none() && self.options.initial && !self.reported_persons.contains(&key);
            let changes = if quiet {
                Vec::new()
            } else {
                delta::diff_person(old.as_ref(), state, today)
            };
            if !changes.is_empty() {
                self.summary.changed_persons += 1;
            }
            let last = self.person_events(key, row.and_then(|r| r.last_event.clone()), changes)?;
            self.persons_out.push(BaselinePerson {
                key,
                last_event: last,
                hash,
                state: text,
            });
        }
        Ok(())
    }

    fn person_events(
        &mut self,
        person: PersonKey,
        last_event: Option<String>,
        changes: Vec<Change>,
    ) -> Result<Option<String>, StoreError> {
        let mut previous = last_event.as_deref().map(guid).transpose()?;
        for change in changes {
            let Said::Person(fact) = change.said else {
                continue;
            };
            let id = Uuid::new_v4();
            self.events.push(Event {
                id,
                previous,
                kind: change.kind,
                status: change.status,
                effective_on: change.effective_on,
                registered_at: self.options.now,
                person,
                about: About::Person(fact),
            });
            previous = Some(id);
        }
        Ok(previous.map(|id| id.to_string()).or(last_event))
    }
}

/// A GUID as stored in the baseline; anything else means the store was changed by hand.
fn guid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("GUID '{text}' in the baseline")))
}

fn facts(state: &ServiceState) -> ServiceFacts {
    ServiceFacts {
        code: state.code,
        decision: state.decision,
        decided_on: state.decided_on,
        start: state.start,
        end: state.end,
        hours: state.hours,
        orgnr: state.orgnr.clone(),
    }
}

/// Whether a service still runs on `day`, or ended the day before (an old EPJ that closed
/// its services on its last day).
fn is_open_at(state: &ServiceState, day: NaiveDate) -> bool {
    let day_before = day.checked_sub_days(Days::new(1)).unwrap_or(day);
    state.end.is_none_or(|end| end >= day_before)
}

/// Whether a service was over before `cutoff`: recorded, not reported.
fn is_history(state: &ServiceState, cutoff: NaiveDate) -> bool {
    match state.decision {
        Decision::Granted => state.end.is_some_and(|end| end < cutoff),
        Decision::Refused => state.decided_on.is_some_and(|day| day < cutoff),
    }
}
