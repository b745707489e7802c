//! The diff: what the register was told of a service and what the EPJ says now → the events
//! to send, by HIS 1135's triggers.
//!
//! - a start date seen for the first time → `TjenesteStart` N; a changed start date or
//!   service type → M; a start date removed → C (a service without a start date sends
//!   nothing until it has one);
//! - an end date set → `TjenesteSlutt` N; changed → M; removed → C;
//! - a new provider (orgnr) of a reported service → `TjenesteutforerEndret` N;
//! - a stop → `MidlertidigStoppFra` N, its last day → `MidlertidigStoppTil` N (changed → M,
//!   removed → C); a stop that is gone → C for both;
//! - a service gone from the EPJ → C for each of its N originals.
//!
//! Every M and C refers to the N original it corrects. A correction with no original to
//! refer to (the register never heard of it) becomes an N; an annulment with none sends
//! nothing. Pure: the same states and originals always give the same changes, so a second
//! run over an unchanged source gives none. GUIDs, numbers and times are added by
//! [`crate::daily::capture`].

use chrono::NaiveDate;
use uuid::Uuid;

use crate::daily::state::{Original, Originals, ServiceState};
use crate::message::ipl56::{EventKind, Status};
use crate::model::Pause;

/// One change, before it becomes a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: EventKind,
    pub status: Status,
    /// `hendelseDato`.
    pub day: NaiveDate,
    /// For M and C: the N original.
    pub corrects: Option<Uuid>,
    /// The stop's first day, for stop events.
    pub stop: Option<NaiveDate>,
}

/// How two service states are compared.
#[derive(Clone, Copy, Debug)]
pub struct Compare {
    /// The reporting date: the day a change of provider takes effect.
    pub today: NaiveDate,
    /// A service continued in a new EPJ: its start there is the migration's, not a
    /// correction, so the start date is not compared.
    pub continued: bool,
    /// The initial load's start date: stops over before it are not sent.
    pub since: Option<NaiveDate>,
}

fn change(kind: EventKind, status: Status, day: NaiveDate, corrects: Option<Uuid>) -> Change {
    Change {
        kind,
        status,
        day,
        corrects,
        stop: None,
    }
}

/// An event whose value moved: N when there is no original, M when there is one.
fn replaced(kind: EventKind, day: NaiveDate, original: Option<Original>) -> Change {
    match original {
        None => change(kind, Status::Original, day, None),
        Some(o) => change(kind, Status::Replaces, day, Some(o.guid)),
    }
}

/// The C of an original.
fn cancelled(kind: EventKind, original: Original) -> Change {
    change(kind, Status::Cancels, original.day, Some(original.guid))
}

/// The changes from `old` to `new` for one service; `None` is "not there".
pub fn diff_service(
    old: Option<&ServiceState>,
    new: Option<&ServiceState>,
    originals: &Originals,
    how: Compare,
) -> Vec<Change> {
    match new {
        None => cancel_all(originals),
        Some(new) => {
            // Until the register has a start, it has heard nothing of the service: all it
            // holds is new to it.
            let old = old.filter(|_| originals.start.is_some());
            changed(old, new, originals, how)
        }
    }
}

/// A C for each original, the latest first.
fn cancel_all(originals: &Originals) -> Vec<Change> {
    let mut changes = Vec::new();
    if let Some(end) = originals.end {
        changes.push(cancelled(EventKind::End, end));
    }
    for stop in originals.stops.iter().rev() {
        if let Some(until) = stop.until {
            changes.push(stop_change(
                cancelled(EventKind::StopUntil, until),
                stop.first_day,
            ));
        }
        changes.push(stop_change(
            cancelled(EventKind::StopFrom, stop.from),
            stop.first_day,
        ));
    }
    for provider in originals.providers.iter().rev() {
        changes.push(cancelled(EventKind::ProviderChanged, *provider));
    }
    if let Some(start) = originals.start {
        changes.push(cancelled(EventKind::Start, start));
    }
    changes
}

fn stop_change(mut change: Change, first_day: NaiveDate) -> Change {
    change.stop = Some(first_day);
    change
}

fn changed(
    old: Option<&ServiceState>,
    new: &ServiceState,
    originals: &Originals,
    how: Compare,
) -> Vec<Change> {
    let mut changes = Vec::new();
    let Some(start) = new.start else {
        // A start removed annuls it; nothing else is said without a start.
        if let Some(original) = originals.start {
            changes.push(cancelled(EventKind::Start, original));
        }
        return changes;
    };
    let start_moved = match old {
        None => true,
        Some(old) => (!how.continued && old.start != new.start) || old.code != new.code,
    };
    if start_moved {
        changes.push(replaced(EventKind::Start, start, originals.start));
    }
    // A reported service's new provider; a new service's start names its provider.
    if let Some(old) = old
        && new.orgnr.is_some()
        && new.orgnr != old.orgnr
    {
        changes.push(change(
            EventKind::ProviderChanged,
            Status::Original,
            how.today,
            None,
        ));
    }
    let no_pauses = Vec::new();
    changes.extend(stop_changes(
        old.map_or(&no_pauses, |o| &o.pauses),
        &new.pauses,
        originals,
        how.since,
    ));
    match (old.and_then(|o| o.end), new.end) {
        (before, Some(end)) if before != Some(end) => {
            changes.push(replaced(EventKind::End, end, originals.end));
        }
        (Some(_), None) => {
            if let Some(original) = originals.end {
                changes.push(cancelled(EventKind::End, original));
            }
        }
        _ => {}
    }
    changes
}

/// Stops are matched by their first day: a stop whose first day moved is annulled and
/// sent again.
fn stop_changes(
    old: &[Pause],
    new: &[Pause],
    originals: &Originals,
    since: Option<NaiveDate>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for before in old {
        if new.iter().any(|p| p.from == before.from) {
            continue;
        }
        if let Some(stop) = originals.stop(before.from) {
            if let Some(until) = stop.until {
                changes.push(stop_change(
                    cancelled(EventKind::StopUntil, until),
                    stop.first_day,
                ));
            }
            changes.push(stop_change(
                cancelled(EventKind::StopFrom, stop.from),
                stop.first_day,
            ));
        }
    }
    for now in new {
        let reported = originals.stop(now.from);
        let before = old.iter().find(|p| p.from == now.from);
        if reported.is_none() {
            // Known before but never sent: over before the initial load's start date.
            let history =
                before.is_some() || since.is_some_and(|since| now.to.is_some_and(|to| to < since));
            if history {
                continue;
            }
            changes.push(stop_change(
                change(EventKind::StopFrom, Status::Original, now.from, None),
                now.from,
            ));
        }
        let until = reported.and_then(|r| r.until);
        match (
            before.and_then(|b| b.to).filter(|_| reported.is_some()),
            now.to,
        ) {
            (was, Some(to)) if was != Some(to) => changes.push(stop_change(
                replaced(EventKind::StopUntil, to, until),
                now.from,
            )),
            (Some(_), None) => {
                if let Some(original) = until {
                    changes.push(stop_change(
                        cancelled(EventKind::StopUntil, original),
                        now.from,
                    ));
                }
            }
            _ => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daily::state::{PersonKey, StopOriginals};
    use crate::model::ServiceCode;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn service(start: Option<u32>, end: Option<u32>) -> ServiceState {
        ServiceState {
            person: PersonKey([1; 16]),
            code: ServiceCode::new(18, 0),
            start: start.map(day),
            end: end.map(day),
            orgnr: Some("974760673".into()),
            pauses: Vec::new(),
        }
    }

    fn how() -> Compare {
        Compare {
            today: day(20),
            continued: false,
            since: None,
        }
    }

    fn original(d: u32) -> Original {
        Original {
            guid: Uuid::new_v4(),
            day: day(d),
        }
    }

    fn kinds(changes: &[Change]) -> Vec<(EventKind, Status)> {
        changes.iter().map(|c| (c.kind, c.status)).collect()
    }

    #[test]
    fn a_service_without_a_start_sends_nothing_until_it_has_one() {
        let none = Originals::default();
        assert!(diff_service(None, Some(&service(None, Some(9))), &none, how()).is_empty());
        // The start arrives: everything the register has not heard of goes.
        let changes = diff_service(
            Some(&service(None, Some(9))),
            Some(&service(Some(2), Some(9))),
            &none,
            how(),
        );
        assert_eq!(
            kinds(&changes),
            [
                (EventKind::Start, Status::Original),
                (EventKind::End, Status::Original)
            ]
        );
    }

    #[test]
    fn corrections_refer_to_their_n_original() {
        let start = original(2);
        let end = original(9);
        let originals = Originals {
            start: Some(start),
            end: Some(end),
            ..Originals::default()
        };
        let old = service(Some(2), Some(9));
        let changes = diff_service(
            Some(&old),
            Some(&service(Some(3), Some(10))),
            &originals,
            how(),
        );
        assert_eq!(changes[0].corrects, Some(start.guid));
        assert_eq!(changes[0].status, Status::Replaces);
        assert_eq!(changes[1].corrects, Some(end.guid));
        assert_eq!(changes[1].day, day(10));
        let removed = diff_service(Some(&old), Some(&service(Some(2), None)), &originals, how());
        assert_eq!(kinds(&removed), [(EventKind::End, Status::Cancels)]);
        assert_eq!(removed[0].corrects, Some(end.guid));
    }

    #[test]
    fn a_service_gone_cancels_every_original() {
        let originals = Originals {
            start: Some(original(2)),
            end: Some(original(9)),
            providers: vec![original(5)],
            stops: vec![StopOriginals {
                first_day: day(3),
                id: "s".into(),
                from: original(3),
                until: Some(original(4)),
            }],
        };
        let changes = diff_service(Some(&service(Some(2), Some(9))), None, &originals, how());
        assert_eq!(changes.len(), 5);
        assert!(changes.iter().all(|c| c.status == Status::Cancels));
        assert!(changes.iter().all(|c| c.corrects.is_some()));
    }

    #[test]
    fn a_new_provider_of_a_reported_service_is_an_original() {
        let originals = Originals {
            start: Some(original(2)),
            ..Originals::default()
        };
        let mut new = service(Some(2), None);
        new.orgnr = Some("999000010".into());
        let changes = diff_service(Some(&service(Some(2), None)), Some(&new), &originals, how());
        assert_eq!(
            kinds(&changes),
            [(EventKind::ProviderChanged, Status::Original)]
        );
        assert_eq!(changes[0].day, day(20));
    }

    #[test]
    fn stops_go_as_from_and_until_and_stops_over_before_the_initial_load_do_not() {
        let mut new = service(Some(1), None);
        new.pauses = vec![
            Pause {
                from: day(2),
                to: Some(day(3)),
            },
            Pause {
                from: day(10),
                to: None,
            },
        ];
        let initial = Compare {
            since: Some(day(5)),
            ..how()
        };
        let changes = diff_service(None, Some(&new), &Originals::default(), initial);
        assert_eq!(
            kinds(&changes),
            [
                (EventKind::Start, Status::Original),
                (EventKind::StopFrom, Status::Original)
            ]
        );
        assert_eq!(changes[1].stop, Some(day(10)));
    }
}
