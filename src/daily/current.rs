//! What the EPJ says today, in the shape the baseline keeps: the records of every source
//! that speaks for the reporting date, test users left out, services mapped to their
//! national codes and kept when their type is in the daily scope, persons merged across
//! sources under their pseudonymous key, and what a check marks as an error (or a person
//! without an identity number, whom `Bruker` cannot name) set aside (held) so that its
//! baseline stays as it was.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use compact_str::CompactString;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::state::{PersonKey, ServiceState};
use crate::checks::{CheckOptions, CheckReport, SourceRecords, check};
use crate::config::daily::Daily;
use crate::mapping::{Mapping, Resolution, reporting_day};
use crate::model::{Decision, Ident};
use crate::source::iplos::fagmelding::{fallback_service_id, is_placeholder_id};
use crate::source::{LocalIds, Snapshot};

/// One configured source as read for the daily capture.
pub struct SourceInput<'a> {
    pub name: &'a str,
    /// `None` when the source was not read: not in use on the date, or unreadable.
    pub records: Option<&'a Snapshot>,
    /// Present whenever `records` is.
    pub mapping: Option<&'a Mapping>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Every row could be read: only then does a missing record mean it left the EPJ.
    pub complete: bool,
    pub ids: LocalIds,
}

impl SourceInput<'_> {
    /// Whether the source is the municipality's EPJ on `day`.
    pub fn speaks_for(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|from| from <= day) && self.to.is_none_or(|to| day <= to)
    }
}

/// Today's states, and what is held back.
#[derive(Default)]
pub struct Current {
    /// Per source, its services sorted by local id (byte order), one per id: the last the
    /// source lists. Sorted lists rather than maps: the diff walks them beside the baseline
    /// in the same order, and at a million services a map costs twice the memory.
    pub services: HashMap<String, Vec<(CompactString, ServiceState)>>,
    /// What a notification's `Bruker` says of each person with a service in scope.
    pub users: HashMap<PersonKey, UserFacts>,
    /// `(source, local id)` of services in the EPJ whose changes are held back by an error.
    pub held_services: HashSet<(String, String)>,
    pub held_persons: HashSet<PersonKey>,
    /// Services left out because their type is not in `[daily] service_types`.
    pub out_of_scope: usize,
    /// The checks' findings, for the operator.
    pub report: CheckReport,
}

/// A person as the register's `Bruker` names them, from the first source that knows them.
pub struct UserFacts {
    pub ident: Ident,
    /// The EPJ's person id (`brukerNr`, until the store has one for the person).
    pub person_id: String,
    pub district: Option<String>,
}

impl Current {
    /// One source's services, sorted by local id.
    pub fn services_of(&self, source: &str) -> &[(CompactString, ServiceState)] {
        self.services.get(source).map_or(&[], Vec::as_slice)
    }
}

/// Derives person keys: HMAC-SHA256 with the municipality's secret, so the key is stable
/// across days and EPJs but cannot be computed from an identity number by anyone else. The
/// keyed state is made once; each key clones it.
pub struct Pseudonyms {
    mac: Hmac<Sha256>,
}

impl Pseudonyms {
    pub fn new(secret: &str) -> Pseudonyms {
        Pseudonyms::keyed(secret.as_bytes())
    }

    fn keyed(secret: &[u8]) -> Pseudonyms {
        Pseudonyms {
            mac: Hmac::new_from_slice(secret).expect("HMAC takes a key of any length"),
        }
    }

    pub fn key(&self, text: &str) -> PersonKey {
        self.key_of(text.as_bytes())
    }

    /// The first 16 bytes of the MAC (RFC 2104 allows truncation to half the hash).
    fn key_of(&self, bytes: &[u8]) -> PersonKey {
        let mut mac = self.mac.clone();
        mac.update(bytes);
        let full = mac.finalize().into_bytes();
        PersonKey(full[..16].try_into().expect("SHA-256 gives 32 bytes"))
    }
}

/// Reads the sources that speak for `date` into today's states: granted services of the
/// types in `scope` (a refusal has no event in 56.0.0).
pub fn build(
    sources: &[SourceInput],
    date: NaiveDate,
    options: &CheckOptions,
    scope: &Daily,
    pseudonyms: &Pseudonyms,
) -> Current {
    let active: Vec<(&SourceInput, &Snapshot, &Mapping)> = sources
        .iter()
        .filter(|s| s.speaks_for(date))
        .filter_map(|s| Some((s, s.records?, s.mapping?)))
        .collect();
    let records: Vec<SourceRecords> = active
        .iter()
        .map(|(s, records, mapping)| SourceRecords {
            name: s.name,
            records,
            mapping,
            from: s.from,
            to: s.to,
        })
        .collect();
    let report = check(&records, options);
    let mut current = Current::default();
    let year = date.year();
    for (source, records, mapping) in &active {
        let name = source.name;
        // This source's errors and test users, to look up without building a key each time.
        let errors: HashSet<(&str, &str)> = report
            .errors
            .iter()
            .filter(|(source, _, _)| source == name)
            .map(|(_, record, id)| (*record, id.as_str()))
            .collect();
        let error = |record: &'static str, id: &str| errors.contains(&(record, id));
        let test_users: HashSet<&str> = report
            .test_users
            .iter()
            .filter(|(source, _)| source == name)
            .map(|(_, id)| id.as_str())
            .collect();
        // The persons the daily flow can name: an identity number is what `Bruker` needs.
        let mut keys: HashMap<&str, Option<PersonKey>> =
            HashMap::with_capacity(records.persons.len());
        for person in &records.persons {
            if test_users.contains(person.person_id.as_str()) {
                continue;
            }
            let Some(ident) = &person.ident else {
                keys.insert(&person.person_id, None);
                continue;
            };
            let key = pseudonyms.key(ident.expose());
            keys.insert(&person.person_id, Some(key));
            if error("person", &person.person_id) {
                current.held_persons.insert(key);
                continue;
            }
            current.users.entry(key).or_insert_with(|| UserFacts {
                ident: ident.clone(),
                // A number local to one extract cannot be the person's brukerNr for good.
                person_id: match source.ids {
                    LocalIds::Lasting => person.person_id.to_string(),
                    LocalIds::PerExtract => key.to_string(),
                },
                district: person.district.as_ref().map(|d| d.to_string()),
            });
        }
        let services = current.services.entry(name.to_string()).or_default();
        services.reserve(records.services.len());
        for service in &records.services {
            if service.decision != Decision::Granted {
                continue;
            }
            let Some(&key) = keys.get(service.person_id.as_str()) else {
                continue;
            };
            let held = key.is_none_or(|key| current.held_persons.contains(&key));
            if held || error("service", &service.service_id) {
                current
                    .held_services
                    .insert((name.to_string(), service.service_id.to_string()));
                continue;
            }
            let Some(key) = key else { continue };
            let day = reporting_day(service, year);
            if let Resolution::Service(code) = mapping.resolve(&service.local_type, day) {
                if !scope.in_scope(code.main()) {
                    current.out_of_scope += 1;
                    continue;
                }
                let mut pauses = service.pauses.clone();
                pauses.sort();
                pauses.dedup_by_key(|p| p.from);
                let id = if source.ids == LocalIds::PerExtract
                    && is_placeholder_id(&service.service_id)
                {
                    fallback_service_id(
                        &key.to_string(),
                        &code.to_string(),
                        service.start,
                        service.provider_orgnr.as_deref(),
                    )
                    .into()
                } else {
                    service.service_id.clone()
                };
                services.push((
                    id,
                    ServiceState {
                        person: key,
                        code,
                        start: service.start,
                        end: service.end,
                        orgnr: service.provider_orgnr.clone(),
                        pauses,
                    },
                ));
            }
        }
    }
    for services in current.services.values_mut() {
        sort_keeping_last(services);
    }
    current.report = report;
    current
}

/// Sorts by id in byte order and keeps, of several with the same id, the last one listed
/// (as inserting them into a map one after the other would). Sorts positions rather than
/// the items themselves and then moves each item once, so that a million large items need
/// no second buffer.
fn sort_keeping_last<K: Ord, T>(items: &mut Vec<(K, T)>) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_unstable_by(|&a, &b| items[a].0.cmp(&items[b].0).then(a.cmp(&b)));
    // Position `i` takes the item at `order[i]`: follow each cycle of the permutation,
    // marking a position done by pointing it at itself.
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != start {
            let from = order[at];
            items.swap(at, from);
            order[at] = at;
            at = from;
        }
        order[at] = at;
    }
    // Equal ids are now together, in the order they were listed: keep each run's last.
    let mut kept = 0;
    for at in 0..items.len() {
        if at + 1 < items.len() && items[at].0 == items[at + 1].0 {
            continue;
        }
        items.swap(kept, at);
        kept += 1;
    }
    items.truncate(kept);
}

#[cfg(test)]
mod tests {
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::sign::Signer;

    use super::*;

    /// HMAC-SHA256 as openssl computes it.
    fn openssl_hmac(secret: &[u8], text: &[u8]) -> Vec<u8> {
        let key = PKey::hmac(secret).unwrap();
        let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
        signer.sign_oneshot_to_vec(text).unwrap()
    }

    #[test]
    fn person_keys_are_openssls_hmac_sha256() {
        let long = "k".repeat(200);
        let block = "b".repeat(64);
        for secret in ["x", "0123456789abcdef0123456789abcdef", &block, &long] {
            let pseudonyms = Pseudonyms::new(secret);
            for text in ["", "01810112332", "local:epj:p1", &"t".repeat(1000)] {
                let mac = openssl_hmac(secret.as_bytes(), text.as_bytes());
                assert_eq!(
                    pseudonyms.key(text).0[..],
                    mac[..16],
                    "secret of {} bytes, text of {} bytes",
                    secret.len(),
                    text.len()
                );
            }
        }
    }

    #[test]
    fn sorting_keeps_the_last_of_equal_ids() {
        let mut items: Vec<(String, u32)> = ["c", "a", "b", "a", "d", "c", "a", "e", "b"]
            .iter()
            .enumerate()
            .map(|(i, id)| (id.to_string(), i as u32))
            .collect();
        sort_keeping_last(&mut items);
        let expected: Vec<(String, u32)> = [("a", 6), ("b", 8), ("c", 5), ("d", 4), ("e", 7)]
            .iter()
            .map(|(id, i)| (id.to_string(), *i))
            .collect();
        assert_eq!(items, expected);

        // Many permutations: the same as a map that each item is inserted into in turn.
        let mut seed = 7u64;
        for len in 0..200 {
            let mut items: Vec<(String, usize)> = (0..len)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (format!("s{}", (seed >> 33) % (len as u64 / 2 + 1)), i)
                })
                .collect();
            let map: std::collections::BTreeMap<String, usize> = items.iter().cloned().collect();
            sort_keeping_last(&mut items);
            assert_eq!(items, map.into_iter().collect::<Vec<_>>());
        }
    }

    /// RFC 4231's test cases for HMAC-SHA-256 (the first 16 bytes of each MAC, which case 5
    /// gives whole: truncation to 128 bits).
    #[test]
    fn person_keys_are_rfc_4231_s_hmac_sha256() {
        let long_key = [0xaa; 131];
        let cases: [(&[u8], &[u8], &str); 7] = [
            (&[0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b"),
            (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c7"),
            (&[0xaa; 20], &[0xdd; 50], "773ea91e36800e46854db8ebd09181a7"),
            (
                &[
                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                    23, 24, 25,
                ],
                &[0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a",
            ),
            (&[0x0c; 20], b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
            (
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f",
            ),
            (
                &long_key,
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944",
            ),
        ];
        for (n, (key, data, expected)) in cases.iter().enumerate() {
            let got = Pseudonyms::keyed(key).key_of(data);
            assert_eq!(got.to_string(), *expected, "RFC 4231 test case {}", n + 1);
        }
    }
}
