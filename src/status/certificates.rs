//! The configured certificates and how long each still holds. Read from the files on every
//! status, so that a renewed certificate shows without a restart; a file that cannot be read
//! is shown with the reason, never a failure of the whole status.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::crypto::{CertificateFiles, read_expiry};
use crate::i18n::Language;

/// One certificate file, by the role it has in the configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Certificate {
    /// `signing`, `encryption`, `previous_encryption`, `kpr_encryption`, `kpr_signing`: the
    /// metric label.
    pub role: &'static str,
    /// The role in words, in the status's language ([`Certificate::role_name`] in another).
    pub name: String,
    pub file: String,
    pub subject: Option<String>,
    pub not_after: Option<DateTime<Utc>>,
    /// Whole days until it ends; negative once it has ended.
    pub days_left: Option<i64>,
    /// Why the file could not be read, and what to do.
    pub problem: Option<String>,
}

impl Certificate {
    /// Whether someone must act: it cannot be read, or it ends within `days`. The previous
    /// encryption certificate is on its way out and only needs action when unreadable.
    pub fn needs_action(&self, days: i64) -> bool {
        if self.problem.is_some() {
            return true;
        }
        self.role != "previous_encryption" && self.days_left.is_some_and(|left| left < days)
    }

    /// The role in words: "our signing certificate".
    pub fn role_name(&self, lang: Language) -> String {
        role_name(self.role, lang)
    }

    /// What to do when it ends.
    pub fn renew(&self, lang: Language) -> String {
        match self.role {
            "kpr_encryption" => crate::t!(lang, "certificate-renew-kpr-encryption"),
            "kpr_signing" => crate::t!(lang, "certificate-renew-kpr-signing"),
            _ => crate::t!(lang, "certificate-renew-ours"),
        }
    }
}

fn role_name(role: &str, lang: Language) -> String {
    match role {
        "signing" => crate::t!(lang, "certificate-signing"),
        "encryption" => crate::t!(lang, "certificate-encryption"),
        "previous_encryption" => crate::t!(lang, "certificate-previous-encryption"),
        "kpr_encryption" => crate::t!(lang, "certificate-kpr-encryption"),
        _ => crate::t!(lang, "certificate-kpr-signing"),
    }
}

/// Each certificate of the configuration, in a fixed order.
pub fn read(files: &CertificateFiles, now: DateTime<Utc>, lang: Language) -> Vec<Certificate> {
    let mut roles = vec![
        ("signing", &files.signing_certificate),
        ("encryption", &files.encryption_certificate),
    ];
    if let Some((certificate, _key)) = &files.previous_encryption {
        roles.push(("previous_encryption", certificate));
    }
    roles.push(("kpr_encryption", &files.peer_encryption_certificate));
    for file in &files.pinned_signers {
        roles.push(("kpr_signing", file));
    }
    roles
        .into_iter()
        .map(|(role, file)| {
            let read = read_expiry(file);
            let (subject, not_after, problem) = match read {
                Ok(expiry) => (Some(expiry.subject), Some(expiry.not_after), None),
                Err(problem) => (None, None, Some(problem)),
            };
            Certificate {
                role,
                name: role_name(role, lang),
                file: file.display().to_string(),
                subject,
                // Whole days, rounded down: a certificate ending in 12 hours has 0 days left.
                days_left: not_after.map(|end| (end - now).num_seconds().div_euclid(86_400)),
                not_after,
                problem,
            }
        })
        .collect()
}
