//! The `[daily]` part of a configuration: which services the daily flow reports, how its
//! messages are split and typed, and where the key that seals identity numbers at rest is.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::register::DEFAULT_MSG_TYPE;

/// The 9151 codes the 56.0.0 code list keeps in force (it marks 6, 14, 23, 24, 26, 27 and
/// 28 withdrawn, and has no 10, 12, 13 or 16): the daily scope unless configured.
pub const DEFAULT_SERVICE_TYPES: [u8; 18] = [
    1, 2, 3, 4, 5, 7, 8, 9, 11, 15, 17, 18, 19, 20, 21, 22, 25, 29,
];

/// HIS 1135's "first" scope (2021), for a municipality that starts there.
pub const FIRST_SCOPE: [u8; 5] = [18, 19, 20, 21, 29];

/// Notifications per message unless configured: some 7 MB of XML, well under the
/// Tjenestebuss's 30 MB, and quick to validate and pack.
pub const DEFAULT_MAX_NOTIFICATIONS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Daily {
    /// 9151 main numbers the daily flow reports; a service of another type sends nothing.
    pub service_types: Vec<u8>,
    /// The most notifications in one message; a day with more goes in parts.
    pub max_notifications: usize,
    /// MsgHead `MsgInfo/Type` of the daily message (no public name exists).
    pub msg_type: String,
    /// The key that seals identity numbers in the state store.
    pub identity_key_file: PathBuf,
}

impl Daily {
    pub fn in_scope(&self, main: u8) -> bool {
        self.service_types.contains(&main)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDaily {
    service_types: Option<Vec<u8>>,
    max_notifications: Option<usize>,
    msg_type: Option<String>,
    identity_key_file: Option<PathBuf>,
}

pub(super) fn daily(
    raw: Option<RawDaily>,
    base: &Path,
    data_dir: &Path,
    problems: &mut Vec<String>,
) -> Daily {
    let raw = raw.unwrap_or_default();
    let service_types = raw
        .service_types
        .unwrap_or_else(|| DEFAULT_SERVICE_TYPES.to_vec());
    if service_types.is_empty() {
        problems.push(format!(
            "daily.service_types is empty, so nothing would be reported daily; leave it out for every type in force ({DEFAULT_SERVICE_TYPES:?}) or start with HIS 1135's first scope {FIRST_SCOPE:?}"
        ));
    }
    for code in &service_types {
        if !DEFAULT_SERVICE_TYPES.contains(code) {
            problems.push(format!(
                "daily.service_types: {code} is not a service type the register's 56.0.0 code list keeps in force ({DEFAULT_SERVICE_TYPES:?})"
            ));
        }
    }
    let max_notifications = raw.max_notifications.unwrap_or(DEFAULT_MAX_NOTIFICATIONS);
    if max_notifications == 0 {
        problems.push(format!(
            "daily.max_notifications must be at least 1; the default is {DEFAULT_MAX_NOTIFICATIONS}"
        ));
    }
    let msg_type = raw.msg_type.unwrap_or_else(|| DEFAULT_MSG_TYPE.to_string());
    if msg_type.trim().is_empty() || msg_type.contains(char::is_whitespace) {
        problems.push(format!(
            "daily.msg_type: '{msg_type}' is not a MsgHead message type (one word, such as {})",
            DEFAULT_MSG_TYPE
        ));
    }
    Daily {
        service_types,
        max_notifications,
        msg_type,
        identity_key_file: raw
            .identity_key_file
            .map_or_else(|| data_dir.join("identity.key"), |file| base.join(file)),
    }
}
