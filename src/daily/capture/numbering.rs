//! The drafts a capture made, numbered after the last notification and chained to it, their
//! users named (a pasientGUID chosen once, the first brukerNr kept), each identity number
//! sealed, and written some thousands at a time.

use std::collections::HashMap;

use uuid::Uuid;

use super::{CaptureError, CaptureOptions, oslo};
use crate::crypto::at_rest::IdentityKey;
use crate::daily::current::Current;
use crate::daily::delta::Change;
use crate::daily::state::PersonKey;
use crate::message::ident::type_id;
use crate::message::ipl56::{FIRST_PREVIOUS, Notification, ServiceEvent, User};
use crate::model::Ident;
use crate::store::StoreError;
use crate::store::daily::{DailyTx, Param, StoredNotification, StoredPerson};

/// A notification before it has its number: one change of one service.
pub(super) struct Draft {
    pub(super) guid: Uuid,
    pub(super) change: Change,
    pub(super) stop_id: Option<String>,
    pub(super) service_id: String,
    pub(super) service_type: u8,
    pub(super) orgnr: Option<String>,
    pub(super) person: PersonKey,
    pub(super) source: String,
    pub(super) local_id: String,
}

/// Notifications written per statement batch: the rest wait as drafts, a quarter the size.
const WRITE_EVERY: usize = 10_000;

/// Numbers the drafts after the last notification, chains them, names their users (a person
/// new to the register gets a pasientGUID and keeps this brukerNr for good), seals each
/// identity number and writes them, some thousands at a time; gives the first and last
/// number.
pub(super) async fn number(
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
pub(super) async fn last_user(
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
