//! A person's identity number changed in the EPJ: a D-number replaced by a fødselsnummer, or a
//! wrong number corrected. The person key is made from the identity number, so the EPJ's
//! services of that person come back under a new key. HIS 1135 asks that what the register
//! holds of the person be sent again with the new number: an M for each live N original.
//!
//! The EPJ's own person id (`brukerNr`) tells a correction from anything else: the services
//! of one EPJ person id, whose old number is no longer in use and whose new one the register
//! has never heard of, are the same person with a corrected number. Everything else where a
//! service's person key changed and the EPJ person id says the register knew that person —
//! two persons swapping numbers, a number that now belongs to another person id, an old number
//! still in use by someone else — is never merged: both persons are held back, named by their
//! EPJ person ids, until the EPJ is put right. Sources whose person ids last one extract only
//! (the IPLOS file) cannot tell this; their persons are matched by identity number as before.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::current::Current;
use super::state::{Original, Originals, PersonKey};
use crate::daily::delta::Change;
use crate::message::ipl56::{EventKind, Status};
use crate::store::daily::StoredPerson;

/// The rule a mix-up of identity numbers is recorded under (`checks::rules`).
pub const RULE: &str = "identity-conflict";

/// What became of one change of person key (old → new) seen on a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The same EPJ person with a corrected identity number: the register's person (its
    /// pasientGUID and brukerNr) goes on under the new key, and its live originals are sent
    /// again with the new number.
    Corrected,
    /// Two EPJ persons' numbers are mixed up: both are held back.
    Conflict(IdentityConflict),
    /// Not the register's person under another number (say, a service moved to another
    /// person in the EPJ): the service is compared as any other.
    Unrelated,
}

/// Two EPJ persons whose identity numbers kpr-bridge will not sort out by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdentityConflict {
    /// The EPJ person id whose service now carries the other's number.
    pub person: String,
    /// The EPJ person id the register knows under that number, or that still uses the old
    /// number.
    pub other: String,
}

/// Judges each pair `(old, new)` of person keys seen on a changed service. `stored` holds
/// the register's persons among the keys of the pairs; `current` what the EPJ says today.
pub fn judge(
    pairs: &HashSet<(PersonKey, PersonKey)>,
    stored: &HashMap<PersonKey, StoredPerson>,
    current: &Current,
) -> HashMap<(PersonKey, PersonKey), Verdict> {
    // A new key reached from two old ones, or an old one leading to two new ones, is no
    // correction of one person.
    let mut from_old: HashMap<PersonKey, usize> = HashMap::new();
    let mut to_new: HashMap<PersonKey, usize> = HashMap::new();
    for (old, new) in pairs {
        *from_old.entry(*old).or_default() += 1;
        *to_new.entry(*new).or_default() += 1;
    }
    pairs
        .iter()
        .map(|&(old, new)| {
            let verdict = match (stored.get(&old), current.users.get(&new)) {
                (Some(known), Some(today)) if known.user_number == today.person_id => {
                    let other = if let Some(taken) = stored.get(&new) {
                        Some(taken.user_number.clone())
                    } else if let Some(still) = current.users.get(&old) {
                        Some(still.person_id.clone())
                    } else if from_old[&old] > 1 || to_new[&new] > 1 {
                        Some(known.user_number.clone())
                    } else {
                        None
                    };
                    match other {
                        None => Verdict::Corrected,
                        Some(other) => Verdict::Conflict(IdentityConflict {
                            person: today.person_id.clone(),
                            other,
                        }),
                    }
                }
                _ => Verdict::Unrelated,
            };
            ((old, new), verdict)
        })
        .collect()
}

/// An M for each live N original of a service that `changes` does not already correct or
/// annul: what the register holds, sent again so that it hears the new number.
pub fn again(originals: &Originals, changes: &[Change]) -> Vec<Change> {
    let replaces = |kind: EventKind, original: &Original, stop| Change {
        kind,
        status: Status::Replaces,
        day: original.day,
        corrects: Some(original.guid),
        stop,
    };
    let mut again = Vec::new();
    if let Some(start) = &originals.start {
        again.push(replaces(EventKind::Start, start, None));
    }
    for provider in &originals.providers {
        again.push(replaces(EventKind::ProviderChanged, provider, None));
    }
    for stop in &originals.stops {
        again.push(replaces(
            EventKind::StopFrom,
            &stop.from,
            Some(stop.first_day),
        ));
        if let Some(until) = &stop.until {
            again.push(replaces(EventKind::StopUntil, until, Some(stop.first_day)));
        }
    }
    if let Some(end) = &originals.end {
        again.push(replaces(EventKind::End, end, None));
    }
    again.retain(|change| !changes.iter().any(|c| c.corrects == change.corrects));
    again
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::daily::current::UserFacts;
    use crate::model::Ident;

    fn key(n: u8) -> PersonKey {
        PersonKey([n; 16])
    }

    fn stored(n: u8, user_number: &str) -> (PersonKey, StoredPerson) {
        (
            key(n),
            StoredPerson {
                key: key(n),
                patient_guid: Uuid::new_v4(),
                user_number: user_number.into(),
            },
        )
    }

    fn today(users: &[(u8, &str)]) -> Current {
        let mut current = Current::default();
        for &(n, person_id) in users {
            current.users.insert(
                key(n),
                UserFacts {
                    ident: Ident::new(format!("{n:011}")),
                    person_id: person_id.into(),
                    district: None,
                },
            );
        }
        current
    }

    fn verdict(pair: (u8, u8), stored: &[(PersonKey, StoredPerson)], current: &Current) -> Verdict {
        let pairs = HashSet::from([(key(pair.0), key(pair.1))]);
        let stored = stored.iter().cloned().collect();
        judge(&pairs, &stored, current)[&(key(pair.0), key(pair.1))].clone()
    }

    #[test]
    fn the_same_epj_person_with_a_new_number_is_a_correction() {
        let current = today(&[(2, "p1")]);
        assert_eq!(
            verdict((1, 2), &[stored(1, "p1")], &current),
            Verdict::Corrected
        );
    }

    #[test]
    fn a_swap_or_a_number_in_use_is_held_back_naming_both() {
        // p1 had number 1 and p2 number 2; now p1 has 2 and p2 has 1.
        let current = today(&[(2, "p1"), (1, "p2")]);
        let known = [stored(1, "p1"), stored(2, "p2")];
        let pairs = HashSet::from([(key(1), key(2)), (key(2), key(1))]);
        let register: HashMap<_, _> = known.iter().cloned().collect();
        let verdicts = judge(&pairs, &register, &current);
        assert_eq!(
            verdicts[&(key(1), key(2))],
            Verdict::Conflict(IdentityConflict {
                person: "p1".into(),
                other: "p2".into()
            })
        );
        assert!(matches!(verdicts[&(key(2), key(1))], Verdict::Conflict(_)));

        // p1's new number still belongs to p3 in the register, though p3 has gone.
        let current = today(&[(3, "p1")]);
        assert_eq!(
            verdict((1, 3), &[stored(1, "p1"), stored(3, "p3")], &current),
            Verdict::Conflict(IdentityConflict {
                person: "p1".into(),
                other: "p3".into()
            })
        );

        // p1's old number is in use by p4 today.
        let current = today(&[(2, "p1"), (1, "p4")]);
        assert_eq!(
            verdict((1, 2), &[stored(1, "p1")], &current),
            Verdict::Conflict(IdentityConflict {
                person: "p1".into(),
                other: "p4".into()
            })
        );
    }

    #[test]
    fn a_service_moved_to_another_epj_person_is_not_a_correction() {
        let current = today(&[(2, "p2")]);
        assert_eq!(
            verdict((1, 2), &[stored(1, "p1")], &current),
            Verdict::Unrelated
        );
        // Never reported: nothing to correct at the register.
        assert_eq!(verdict((1, 2), &[], &current), Verdict::Unrelated);
    }
}
