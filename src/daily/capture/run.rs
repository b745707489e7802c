//! One capture's work in progress (`Run`): the drafts, the new baseline rows, the services
//! whose person key changed and the deletions that wait; and how a service's changes join it,
//! each recorded among the service's originals so that a later M or C can name it.

use std::collections::HashSet;

use chrono::NaiveDate;
use uuid::Uuid;

use super::numbering::Draft;
use super::{CaptureOptions, CaptureSummary};
use crate::daily::delta::{Change, Compare};
use crate::daily::state::{Original, Originals, PersonKey, ServiceState, StopOriginals, Stored};
use crate::message::ipl56::{EventKind, Status};
use crate::store::StoreError;
use crate::store::daily::BaselineService;

/// One capture's work in progress.
pub(super) struct Run {
    pub(super) options: CaptureOptions,
    pub(super) drafts: Vec<Draft>,
    pub(super) services_out: Vec<BaselineService>,
    /// Changed services whose person key changed: judged once all are known.
    pub(super) rekeyed: Vec<Rekeyed>,
    /// Services to take out of the baseline, with their person: done once it is known whose
    /// changes are held back.
    pub(super) deletes: Vec<(String, String, PersonKey)>,
    pub(super) summary: CaptureSummary,
}

/// A changed service whose person key changed.
pub(super) struct Rekeyed {
    pub(super) row: BaselineService,
    pub(super) old: ServiceState,
    pub(super) new: ServiceState,
    pub(super) text: String,
    pub(super) hash: i64,
}

/// Where a service's notifications come from and what they name.
pub(super) struct Subject<'a> {
    pub(super) source: &'a str,
    pub(super) local_id: &'a str,
    pub(super) service_id: &'a str,
}

pub(super) fn parse<T: Stored>(text: &str, what: &str) -> Result<T, StoreError> {
    T::from_text(text).ok_or_else(|| StoreError::Corrupt(format!("baseline state of {what}")))
}

pub(super) fn parse_originals(text: &str, what: &str) -> Result<Originals, StoreError> {
    Originals::from_text(text)
        .ok_or_else(|| StoreError::Corrupt(format!("baseline originals of {what}")))
}

impl Run {
    pub(super) fn compare(&self, continued: bool, since: Option<NaiveDate>) -> Compare {
        Compare {
            today: self.options.date,
            continued,
            since,
        }
    }

    /// Turns a service's changes into drafts, recording each among its originals.
    pub(super) fn service_events(
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
                orgnr: state.orgnr.as_ref().map(|o| o.to_string()),
                person: state.person,
                source: subject.source.to_string(),
                local_id: subject.local_id.to_string(),
            });
        }
    }

    /// Holds back everything of `persons` today — their drafts, their new baseline rows,
    /// their services' removal — so that the next capture finds the same changes again;
    /// adds each service held (source, local id) to `held`.
    pub(super) fn hold_back(
        &mut self,
        persons: &HashSet<PersonKey>,
        held: &mut HashSet<(String, String)>,
    ) -> Result<(), StoreError> {
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
        Ok(())
    }
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
