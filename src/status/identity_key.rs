//! The identity key in the status: whether the key file is there, and which notifications
//! are sealed under a key that is no longer there (`daily::sealed`) — sent ones cannot be
//! sent again, unsent ones hold up the daily ship. From the store's record of the keys, as
//! the last run that read the key files left it, and whether the key file exists; the key
//! itself is never read here.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ACTION_DAYS;
use crate::config::Config;
use crate::i18n::Language;
use crate::store::{Store, StoreError};
use crate::t;

/// A range of notification numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Range {
    pub first: i64,
    pub last: i64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct IdentityKey {
    /// `[daily] identity_key_file`.
    pub file: String,
    /// The key file is missing while the store holds notifications: the next daily run
    /// makes a new key, and they can then no longer be sent again.
    pub file_missing: bool,
    /// How many notifications the store holds, counted when the key file is missing (0
    /// otherwise).
    pub notifications: i64,
    /// The fingerprint of the key that seals now (a hash of it, never the key), when the
    /// store first saw it, and the first number it sealed.
    pub fingerprint: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub first_number: Option<i64>,
    /// Sent notifications sealed under a key that is no longer there: they cannot be sent
    /// again. The first ranges (every one counted).
    pub cannot_resend: Vec<Range>,
    pub cannot_resend_count: i64,
    /// Notifications not yet sent, sealed under a key that is no longer there and not sealed
    /// again from the EPJ: every later notification waits for them.
    pub cannot_send: Vec<Range>,
    pub cannot_send_count: i64,
    /// Someone must act: the file is missing, something cannot be sent, or notifications
    /// became impossible to send again within the last [`ACTION_DAYS`] days.
    pub needs_action: bool,
}

/// Gathers the identity key's part of the status at `now`.
pub async fn gather(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<IdentityKey, StoreError> {
    let file = &config.daily.identity_key_file;
    let notifications = match file.exists() {
        true => 0,
        false => store.notification_count().await?,
    };
    let keys = store.identity_keys().await?;
    let current = keys.iter().find(|k| k.current);
    let away = if keys.iter().any(|k| !k.present) {
        store.sealed_away().await?
    } else {
        Default::default()
    };
    let ranges = |ranges: &[(i64, i64)]| {
        ranges
            .iter()
            .map(|&(first, last)| Range { first, last })
            .collect::<Vec<_>>()
    };
    let file_missing = notifications > 0 && !file.exists();
    let recent = current.is_some_and(|k| k.first_seen >= now - chrono::Duration::days(ACTION_DAYS));
    Ok(IdentityKey {
        file: file.display().to_string(),
        file_missing,
        notifications,
        fingerprint: current.and_then(|k| k.fingerprint.clone()),
        since: current.map(|k| k.first_seen),
        first_number: current.map(|k| k.first_number),
        cannot_resend: ranges(&away.sent),
        cannot_resend_count: away.sent_count,
        cannot_send: ranges(&away.unsent),
        cannot_send_count: away.unsent_count,
        needs_action: file_missing
            || away.unsent_count > 0
            || (away.sent_count > 0 && (recent || current.is_none())),
    })
}

/// Ranges in words: `1–4, 9`, and `…` when there are more than shown.
pub fn ranges(ranges: &[Range], count: i64) -> String {
    let shown: i64 = ranges.iter().map(|r| r.last - r.first + 1).sum();
    let mut text = ranges
        .iter()
        .map(|r| crate::daily::sealed::range(r.first, r.last))
        .collect::<Vec<_>>()
        .join(", ");
    if shown < count {
        text.push_str(", …");
    }
    text
}

/// What needs action, as paragraphs' lines (the first line first).
pub fn actions(key: &IdentityKey, lang: Language) -> Vec<Vec<String>> {
    let mut actions = Vec::new();
    if key.file_missing {
        actions.push(vec![
            t!(
                lang,
                "action-identity-key-missing",
                file = key.file.clone(),
                count = key.notifications
            ),
            t!(lang, "action-identity-key-missing.todo"),
        ]);
    }
    if key.cannot_send_count > 0 {
        actions.push(vec![
            t!(
                lang,
                "action-identity-key-unsent",
                count = key.cannot_send_count,
                numbers = ranges(&key.cannot_send, key.cannot_send_count)
            ),
            t!(
                lang,
                "action-identity-key-unsent.todo",
                file = key.file.clone()
            ),
        ]);
    }
    if key.needs_action && key.cannot_resend_count > 0 {
        actions.push(lost(key, lang));
    }
    actions
}

/// The sent notifications that cannot be sent again, in words.
fn lost(key: &IdentityKey, lang: Language) -> Vec<String> {
    vec![
        t!(
            lang,
            "action-identity-key-lost",
            count = key.cannot_resend_count,
            numbers = ranges(&key.cannot_resend, key.cannot_resend_count)
        ),
        t!(
            lang,
            "action-identity-key-lost.since",
            since = key
                .since
                .map_or_else(|| "?".to_string(), |at| lang.moment(at)),
            first = key.first_number.unwrap_or(0)
        ),
        t!(
            lang,
            "action-identity-key-lost.todo",
            file = key.file.clone()
        ),
    ]
}

/// A line for the quiet facts: notifications that cannot be sent again, once that no longer
/// needs action (older than [`ACTION_DAYS`] days).
pub fn quiet(key: &IdentityKey, lang: Language) -> Option<String> {
    (!key.needs_action && key.cannot_resend_count > 0).then(|| {
        t!(
            lang,
            "status-identity-key-lost",
            count = key.cannot_resend_count,
            numbers = ranges(&key.cannot_resend, key.cannot_resend_count),
            since = key
                .since
                .map_or_else(|| "?".to_string(), |at| lang.moment(at))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_say_when_there_are_more() {
        let shown = [Range { first: 1, last: 4 }, Range { first: 9, last: 9 }];
        assert_eq!(ranges(&shown, 5), "1–4, 9");
        assert_eq!(ranges(&shown, 7), "1–4, 9, …");
    }
}
