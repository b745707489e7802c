//! Every service diffed: the baseline's hashes walked beside today's states in id order, the
//! changed and the gone read back and diffed; a retired EPJ's services continued by the new
//! one's or ended on its last day; what is left as it is, and why.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};

use super::Left;
use super::run::{Rekeyed, Run, Subject, parse, parse_originals};
use crate::crypto::at_rest::IdentityKey;
use crate::daily::current::{Current, SourceInput};
use crate::daily::delta;
use crate::daily::state::{Originals, ServiceState, Stored};
use crate::store::StoreError;
use crate::store::daily::{BaselineService, DailyTx, SourceHashes};

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

impl Run {
    /// Diffs every service.
    pub(super) async fn services(
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
