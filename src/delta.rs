//! The diff: what was reported before and what the EPJ says now → the changes to report,
//! after the KPR minimelding design.
//!
//! Per service: `start` (or `refused`), `pause_from`, `pause_until`, `end`,
//! `provider_changed`. Corrections carry a status from code system 7316: `M` replaces (a
//! changed start, type, decision or hours), `T` supplements (a field that was empty is now
//! filled), `C` annuls (what vanished without an end was registered in error). Per person:
//! residence (municipality, district, household), assessment, diagnoses, attributes.
//!
//! Pure functions of two states: the same pair always gives the same changes, so a second
//! run over an unchanged source gives none. GUIDs, links and times are added by
//! [`crate::daily::capture`], which also decides what counts as new and what as history.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::daily::event::{EventKind, PersonFact, Status};
use crate::daily::state::{AttributeSpan, PersonState, ServiceState};
use crate::model::{Decision, Pause};

/// One change, before it becomes an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: EventKind,
    pub status: Status,
    pub effective_on: NaiveDate,
    pub said: Said,
}

/// What the change says beyond its kind: service changes carry the pause they concern (the
/// service's facts are added from its state); person changes carry their fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Said {
    Service { pause: Option<Pause> },
    Person(PersonFact),
}

/// How two service states are compared.
#[derive(Clone, Copy, Debug)]
pub struct Compare {
    /// The reporting date: the day changes without a date of their own take effect.
    pub today: NaiveDate,
    /// A service continued in a new EPJ: its start there is the migration's, not a
    /// correction, so the start date is not compared.
    pub continued: bool,
}

fn change(kind: EventKind, status: Status, effective_on: NaiveDate) -> Change {
    Change {
        kind,
        status,
        effective_on,
        said: Service { pause: None },
    }
}

use Said::Service;
use Status::{Annuls, Original, Replaces, Supplements};

/// The kind that says what a service is: `start` when granted, `refused` when not.
fn base_kind(state: &ServiceState) -> EventKind {
    match state.decision {
        Decision::Granted => EventKind::Start,
        Decision::Refused => EventKind::Refused,
    }
}

/// The day a service's base event takes effect.
fn base_day(state: &ServiceState, today: NaiveDate) -> NaiveDate {
    match state.decision {
        Decision::Granted => state.start.or(state.decided_on),
        Decision::Refused => state.decided_on.or(state.start),
    }
    .unwrap_or(today)
}

/// How an optional field changed: `None` unchanged, else replaced (`M`) or filled (`T`).
fn field<T: PartialEq>(old: &Option<T>, new: &Option<T>) -> Option<Status> {
    match (old, new) {
        (a, b) if a == b => None,
        (None, Some(_)) => Some(Supplements),
        _ => Some(Replaces),
    }
}

/// How an optional value moved between two states.
enum Moved<T> {
    Same,
    /// Was empty, now has this value.
    Filled(T),
    /// Had a value, now this other one.
    Changed(T),
    /// Had this value, now empty.
    Emptied(T),
}

fn moved<T: PartialEq>(old: Option<T>, new: Option<T>) -> Moved<T> {
    match (old, new) {
        (a, b) if a == b => Moved::Same,
        (None, Some(b)) => Moved::Filled(b),
        (Some(_), Some(b)) => Moved::Changed(b),
        (Some(a), None) => Moved::Emptied(a),
        (None, None) => Moved::Same,
    }
}

/// The changes from `old` to `new` for one service; `None` is "not there".
pub fn diff_service(
    old: Option<&ServiceState>,
    new: Option<&ServiceState>,
    how: Compare,
) -> Vec<Change> {
    let today = how.today;
    match (old, new) {
        (None, None) => Vec::new(),
        (None, Some(new)) => new_service(new, today),
        (Some(old), None) => vec![change(base_kind(old), Annuls, base_day(old, today))],
        (Some(old), Some(new)) => changed_service(old, new, how),
    }
}

fn new_service(new: &ServiceState, today: NaiveDate) -> Vec<Change> {
    let mut changes = vec![change(base_kind(new), Original, base_day(new, today))];
    for pause in &new.pauses {
        changes.extend(pause_started(pause));
    }
    if let Some(end) = new.end {
        changes.push(change(EventKind::End, Original, end));
    }
    changes
}

fn pause_change(kind: EventKind, status: Status, day: NaiveDate, pause: &Pause) -> Change {
    Change {
        kind,
        status,
        effective_on: day,
        said: Service {
            pause: Some(*pause),
        },
    }
}

/// A pause seen for the first time: its start, and its end when known.
fn pause_started(pause: &Pause) -> Vec<Change> {
    let mut changes = vec![pause_change(
        EventKind::PauseFrom,
        Original,
        pause.from,
        pause,
    )];
    if let Some(to) = pause.to {
        changes.push(pause_change(EventKind::PauseUntil, Original, to, pause));
    }
    changes
}

fn changed_service(old: &ServiceState, new: &ServiceState, how: Compare) -> Vec<Change> {
    let mut changes = Vec::new();
    let start = if how.continued {
        None
    } else {
        field(&old.start, &new.start)
    };
    let base = [
        (old.person != new.person || old.code != new.code || old.decision != new.decision)
            .then_some(Replaces),
        field(&old.decided_on, &new.decided_on),
        start,
        field(&old.hours, &new.hours),
    ];
    let status = if base.contains(&Some(Replaces)) {
        Some(Replaces)
    } else if base.contains(&Some(Supplements)) {
        Some(Supplements)
    } else {
        None
    };
    if let Some(status) = status {
        changes.push(change(base_kind(new), status, base_day(new, how.today)));
    }
    let provider = match moved(old.orgnr.as_ref(), new.orgnr.as_ref()) {
        Moved::Same => None,
        Moved::Filled(_) => Some(Supplements),
        Moved::Changed(_) => Some(Original),
        Moved::Emptied(_) => Some(Annuls),
    };
    if let Some(status) = provider {
        changes.push(change(EventKind::ProviderChanged, status, how.today));
    }
    changes.extend(pause_changes(&old.pauses, &new.pauses));
    match moved(old.end, new.end) {
        Moved::Same => {}
        Moved::Filled(end) => changes.push(change(EventKind::End, Original, end)),
        Moved::Changed(end) => changes.push(change(EventKind::End, Replaces, end)),
        Moved::Emptied(end) => changes.push(change(EventKind::End, Annuls, end)),
    }
    changes
}

/// Pauses are matched by their first day: a pause whose first day moved is annulled and
/// started again.
fn pause_changes(old: &[Pause], new: &[Pause]) -> Vec<Change> {
    let old: BTreeMap<NaiveDate, &Pause> = old.iter().map(|p| (p.from, p)).collect();
    let new: BTreeMap<NaiveDate, &Pause> = new.iter().map(|p| (p.from, p)).collect();
    let mut changes = Vec::new();
    for (from, before) in &old {
        if !new.contains_key(from) {
            changes.push(pause_change(EventKind::PauseFrom, Annuls, *from, before));
        }
    }
    for (from, now) in &new {
        match old.get(from) {
            None => changes.extend(pause_started(now)),
            Some(before) => {
                let (status, day) = match moved(before.to, now.to) {
                    Moved::Same => continue,
                    Moved::Filled(to) => (Original, to),
                    Moved::Changed(to) => (Replaces, to),
                    Moved::Emptied(to) => (Annuls, to),
                };
                changes.push(pause_change(EventKind::PauseUntil, status, day, now));
            }
        }
    }
    changes
}

fn person_change(kind: EventKind, status: Status, day: NaiveDate, fact: PersonFact) -> Change {
    Change {
        kind,
        status,
        effective_on: day,
        said: Said::Person(fact),
    }
}

/// The changes from `old` to `new` for one person; `None` is "not there". A person who is
/// no longer known gets one annulment of their residence, which withdraws them.
pub fn diff_person(
    old: Option<&PersonState>,
    new: Option<&PersonState>,
    today: NaiveDate,
) -> Vec<Change> {
    let empty = PersonState::default();
    let (old_state, new_state) = match (old, new) {
        (None, None) => return Vec::new(),
        (Some(old), None) => {
            return vec![person_change(
                EventKind::ResidenceChanged,
                Annuls,
                today,
                PersonFact::Residence(old.residence.clone()),
            )];
        }
        (old, Some(new)) => (old.unwrap_or(&empty), new),
    };
    let mut changes = Vec::new();
    if old.is_none() || old_state.residence != new_state.residence {
        changes.push(person_change(
            EventKind::ResidenceChanged,
            Original,
            today,
            PersonFact::Residence(new_state.residence.clone()),
        ));
    }
    let before = old_state.assessment.as_ref();
    match moved(before, new_state.assessment.as_ref()) {
        Moved::Same => {}
        Moved::Filled(now) | Moved::Changed(now) => {
            // The same assessment corrected, or a new one.
            let status = match before {
                Some(before) if before.assessed_on == now.assessed_on => Replaces,
                _ => Original,
            };
            changes.push(person_change(
                EventKind::AssessmentChanged,
                status,
                now.assessed_on.unwrap_or(today),
                PersonFact::Assessment(Some(now.clone())),
            ));
        }
        Moved::Emptied(before) => changes.push(person_change(
            EventKind::AssessmentChanged,
            Annuls,
            before.assessed_on.unwrap_or(today),
            PersonFact::Assessment(None),
        )),
    }
    for (system, code) in old_state.diagnoses.difference(&new_state.diagnoses) {
        changes.push(person_change(
            EventKind::DiagnosisRemoved,
            Original,
            today,
            PersonFact::Diagnosis {
                system: *system,
                code: code.clone(),
            },
        ));
    }
    for (system, code) in new_state.diagnoses.difference(&old_state.diagnoses) {
        changes.push(person_change(
            EventKind::DiagnosisAdded,
            Original,
            today,
            PersonFact::Diagnosis {
                system: *system,
                code: code.clone(),
            },
        ));
    }
    changes.extend(attribute_changes(
        &old_state.attributes,
        &new_state.attributes,
        today,
    ));
    changes
}

/// Attributes are matched by kind and first day, like pauses.
fn attribute_changes(
    old: &[AttributeSpan],
    new: &[AttributeSpan],
    today: NaiveDate,
) -> Vec<Change> {
    let key = |a: &&AttributeSpan| (a.kind, a.from);
    let old: BTreeMap<_, &AttributeSpan> = old.iter().map(|a| (key(&a), a)).collect();
    let new: BTreeMap<_, &AttributeSpan> = new.iter().map(|a| (key(&a), a)).collect();
    let fact = |a: &AttributeSpan| PersonFact::Attribute(*a);
    let mut changes = Vec::new();
    for (k, before) in &old {
        if !new.contains_key(k) {
            let day = before.from.unwrap_or(today);
            changes.push(person_change(
                EventKind::AttributeStarted,
                Annuls,
                day,
                fact(before),
            ));
        }
    }
    for (k, now) in &new {
        let before_to = match old.get(k) {
            None => {
                let day = now.from.unwrap_or(today);
                changes.push(person_change(
                    EventKind::AttributeStarted,
                    Original,
                    day,
                    fact(now),
                ));
                None
            }
            Some(before) => before.to,
        };
        let (status, day) = match moved(before_to, now.to) {
            Moved::Same => continue,
            Moved::Filled(to) => (Original, to),
            Moved::Changed(to) => (Replaces, to),
            Moved::Emptied(to) => (Annuls, to),
        };
        changes.push(person_change(
            EventKind::AttributeEnded,
            status,
            day,
            fact(now),
        ));
    }
    changes
}
