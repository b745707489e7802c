//! A lost identity key (docs/runbook.md, "A lost identity key"). Every stored notification
//! keeps its identity number sealed under `[daily] identity_key_file` (`crypto::at_rest`);
//! without that key no notification sealed under it can be written again, since `Bruker`
//! needs the number. What kpr-bridge does about it:
//!
//! - **The daily flow goes on with a new key.** A capture makes the key file when it is
//!   missing. That is never taken for a first run: the state store knows every key it has
//!   seen by its fingerprint (`store::identity_keys`, a hash of the key, never the key) and
//!   which key sealed each notification, so a key it has not seen, met while it holds
//!   notifications, is a *new key* — logged as a warning, said by `daily` (exit 1), and
//!   shown by `status` with the notifications sealed under a key that is no longer there
//!   (*sealed away*).
//! - **Sealed away and sent: never sent again.** `resend` and the page refuse them by
//!   number, with what to do; they are not sealed again from today's EPJ, because a re-send
//!   is the notification exactly as it was sent, and the EPJ today need not say what it
//!   said then.
//! - **Sealed away and not yet sent** (captured before the key was lost, shipped after):
//!   every later notification waits for them, so each is sealed again under the new key when
//!   today's EPJ lists its person — the person key is the pseudonym of the identity number,
//!   so it is the number the notification was made with, or the one the EPJ corrected it
//!   to. One whose person the EPJ no longer lists cannot be, and the ship refuses, naming it.
//! - **A person the EPJ no longer lists** is named in their notifications as the register
//!   last heard of them, from their latest notification. When that one is sealed away,
//!   everything of the person today is held back (finding [`RULE`]) and the next capture
//!   tries again; everyone else's changes go.
//! - **A key found again** goes beside the key file as `<key file>.previous`: it opens what
//!   it sealed (and is marked present again here), while the new key goes on sealing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::current::Current;
use super::state::PersonKey;
use crate::config::daily::Daily;
use crate::crypto::at_rest::{IdentityKey, KeyError};
use crate::store::StoreError;
use crate::store::daily::DailyTx;
use crate::store::identity_keys::KeyRow;

/// The finding a capture records for the services of persons it could not name.
pub const RULE: &str = "identity-key-lost";

/// What [`record`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The key file's key (`None`: the file is missing).
    pub current: Option<i64>,
    /// The key file's key was first seen now, and the store already held notifications.
    pub new_key: bool,
}

/// Opens the identity key for a capture — made when the file is missing — and records it
/// with the earlier keys beside it.
pub async fn open_for_capture(
    tx: &mut DailyTx,
    daily: &Daily,
    now: DateTime<Utc>,
) -> Result<IdentityKey, KeyOrStore> {
    let key = IdentityKey::open(&daily.identity_key_file, true)?;
    let recorded = record(tx, Some(&key), now).await?;
    if recorded.new_key {
        tracing::warn!(
            file = %key.file().display(),
            fingerprint = %key.fingerprint(),
            "the identity key is new to the state store: the notifications sealed before it can no longer be sent again unless the earlier key file is put back beside it as {}.previous (docs/runbook.md, \"A lost identity key\")",
            key.file().display()
        );
    }
    Ok(key)
}

/// Opens the identity key for a re-send, which never makes one: `None` when the file is
/// missing. The keys found are recorded in `tx`.
pub async fn open_for_resend(
    tx: &mut DailyTx,
    daily: &Daily,
    now: DateTime<Utc>,
) -> Result<Option<IdentityKey>, KeyOrStore> {
    let key = match IdentityKey::open(&daily.identity_key_file, false) {
        Ok(key) => Some(key),
        Err(KeyError::Missing { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    record(tx, key.as_ref(), now).await?;
    Ok(key)
}

/// A key file that cannot be used, or a store that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyOrStore {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records which keys a run has — `key` with the earlier keys beside it, or none — in the
/// store: the key file's key the first time it is seen, which key sealed the notifications
/// from before keys were recorded, and which keys are present.
pub async fn record(
    tx: &mut DailyTx,
    key: Option<&IdentityKey>,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let rows = tx.identity_keys().await?;
    let fingerprints = key.map(IdentityKey::fingerprints).unwrap_or_default();
    let mut ids: HashMap<String, i64> = rows
        .iter()
        .filter_map(|r| r.fingerprint.clone().map(|f| (f, r.id)))
        .collect();
    let mut next_id = rows.iter().map(|r| r.id).max().unwrap_or(0) + 1;
    let mut insert = async |tx: &mut DailyTx,
                            fingerprint: Option<String>,
                            first_number: i64,
                            present: bool|
           -> Result<i64, StoreError> {
        let id = next_id;
        next_id += 1;
        tx.insert_identity_key(&KeyRow {
            id,
            fingerprint,
            first_number,
            first_seen: now,
            last_seen: now,
            current: false,
            present,
        })
        .await?;
        Ok(id)
    };

    // Notifications sealed before keys were recorded (the first record after migration 0012;
    // from then on every notification is stamped with the current key): whichever key opens
    // the latest of them sealed them all, or one no file here has.
    let unrecorded = match rows.is_empty() {
        true => tx.latest_sealed_under(None).await?,
        false => None,
    };
    if let Some((_, guid, sealed)) = unrecorded {
        let opener = key.and_then(|k| k.which_opens(&sealed, &guid));
        let id = match opener.as_ref().and_then(|f| ids.get(f)) {
            Some(&id) => id,
            None => {
                let id = insert(tx, opener.clone(), 1, opener.is_some()).await?;
                if let Some(fingerprint) = opener {
                    ids.insert(fingerprint, id);
                }
                id
            }
        };
        tx.record_unrecorded_key(id).await?;
    }

    // The key file's key, recorded the first time it is seen; the store's numbering goes on
    // after its last notification, all of which other keys sealed.
    let mut new_key = false;
    let current = match fingerprints.first() {
        Some(fingerprint) => Some(match ids.get(fingerprint) {
            Some(&id) => id,
            None => {
                let next = tx.last_notification().await?.map_or(1, |(n, _)| n + 1);
                let id = insert(tx, Some(fingerprint.clone()), next, true).await?;
                ids.insert(fingerprint.clone(), id);
                new_key = next > 1;
                id
            }
        }),
        None => None,
    };

    // A key recorded without its fingerprint is named once a key here opens what it sealed.
    if let Some(key) = key {
        for row in rows.iter().filter(|r| r.fingerprint.is_none()) {
            let Some((_, guid, sealed)) = tx.latest_sealed_under(Some(row.id)).await? else {
                continue;
            };
            if let Some(fingerprint) = key
                .which_opens(&sealed, &guid)
                .filter(|f| !ids.contains_key(f))
            {
                tx.name_identity_key(row.id, &fingerprint).await?;
                ids.insert(fingerprint, row.id);
            }
        }
    }

    let present: Vec<i64> = fingerprints
        .iter()
        .filter_map(|f| ids.get(f).copied())
        .collect();
    tx.note_identity_keys(current, &present, now).await?;
    Ok(Recorded { current, new_key })
}

/// Whether the key file's key is new and has sealed nothing yet, while the store holds
/// notifications sealed under keys that are no longer there: how many, for the capture's
/// summary. `None` otherwise.
pub async fn new_key_note(tx: &mut DailyTx) -> Result<Option<i64>, StoreError> {
    let rows = tx.identity_keys().await?;
    let Some(current) = rows.iter().find(|r| r.current) else {
        return Ok(None);
    };
    if current.first_number <= 1 || tx.latest_sealed_under(Some(current.id)).await?.is_some() {
        return Ok(None);
    }
    let away = tx.sealed_away_count().await?;
    Ok((away > 0).then_some(away))
}

/// Seals again, under the key file's key, the notifications not yet sent whose key is no
/// longer there, when today's EPJ lists their person (one person of their `brukerNr`);
/// gives how many, and how many are left that cannot be.
pub async fn reseal_unsent(
    tx: &mut DailyTx,
    current: &Current,
    key: &IdentityKey,
) -> Result<(usize, usize), StoreError> {
    let rows = tx.unsent_sealed_away().await?;
    if rows.is_empty() {
        return Ok((0, 0));
    }
    let mut persons: Vec<(i64, String, Vec<String>)> = Vec::new();
    for (number, guid, person) in rows {
        match persons.last_mut() {
            Some((last, _, keys)) if *last == number => keys.extend(person),
            _ => persons.push((number, guid, person.into_iter().collect())),
        }
    }
    let mut sealed = Vec::new();
    let mut left = 0;
    for (number, guid, mut keys) in persons {
        keys.sort();
        keys.dedup();
        let user = match keys.as_slice() {
            [one] => one
                .parse::<PersonKey>()
                .ok()
                .and_then(|person| current.users.get(&person)),
            _ => None,
        };
        match user {
            Some(user) => sealed.push((number, key.seal(user.ident.expose(), &guid))),
            None => left += 1,
        }
    }
    tx.reseal(&sealed).await?;
    if !sealed.is_empty() {
        tracing::warn!(
            notifications = sealed.len(),
            left,
            "notifications not yet sent were sealed under an identity key that is no longer there: sealed again under the new key from today's EPJ"
        );
    }
    Ok((sealed.len(), left))
}

/// Numbers as ranges: `1–4, 7, 9–12`.
pub fn ranges(numbers: &[i64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut at = 0;
    while at < numbers.len() {
        let start = numbers[at];
        let mut end = start;
        while at + 1 < numbers.len() && numbers[at + 1] == end + 1 {
            at += 1;
            end = numbers[at];
        }
        parts.push(range(start, end));
        at += 1;
    }
    parts.join(", ")
}

/// One range of numbers: `4`, or `1–4`.
pub fn range(first: i64, last: i64) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}–{last}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 4, 7, 9, 10]), "1–4, 7, 9–10");
        assert_eq!(ranges(&[5]), "5");
        assert_eq!(ranges(&[]), "");
    }
}
