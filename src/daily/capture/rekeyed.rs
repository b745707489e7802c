//! Services whose person key changed, judged together once all are known
//! (`identity_change.rs`): a corrected identity number goes on as the register's person; numbers
//! mixed up between EPJ persons hold back everything of both persons today.

use std::collections::{HashMap, HashSet};

use super::run::{Run, Subject, parse_originals};
use crate::daily::current::Current;
use crate::daily::delta;
use crate::daily::identity_change::{self, Verdict};
use crate::daily::state::PersonKey;
use crate::store::StoreError;
use crate::store::daily::{BaselineService, DailyTx, StoredPerson};

impl Run {
    /// Services whose person key changed: a corrected identity number goes on as the
    /// register's person with an M for each live original; numbers mixed up between EPJ
    /// persons hold back everything of both persons today (`identity_change.rs`).
    pub(super) async fn identities(
        &mut self,
        tx: &mut DailyTx,
        current: &Current,
    ) -> Result<(), StoreError> {
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
            self.hold_back(&conflicted, &mut held)?;
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
