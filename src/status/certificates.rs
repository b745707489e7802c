//! The configured certificates and how long each still holds. Read from the files on every
//! status, so that a renewed certificate shows without a restart; a file that cannot be read
//! is shown with the reason, never a failure of the whole status.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::crypto::{CertificateFiles, read_expiry};

/// One certificate file, by the role it has in the configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Certificate {
    /// `signing`, `encryption`, `previous_encryption`, `kpr_encryption`, `kpr_signing`: the
    /// metric label.
    pub role: &'static str,
    /// The role in words.
    pub name: &'static str,
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

    /// What to do when it ends.
    pub fn renew(&self) -> &'static str {
        match self.role {
            "kpr_encryption" => {
                "ask KPR (FHI) for their new encryption certificate, or fetch it from NHN's address register, and configure it"
            }
            "kpr_signing" => {
                "fetch KPR's new signing certificate from NHN's address register, add it to certificates.kpr_signing_certificates, and remove the old one once it has ended"
            }
            _ => {
                "order the successor of the municipality's enterprise certificate and install the new certificate and key"
            }
        }
    }
}

/// Each certificate of the configuration, in a fixed order.
pub fn read(files: &CertificateFiles, now: DateTime<Utc>) -> Vec<Certificate> {
    let mut roles = vec![
        (
            "signing",
            "our signing certificate",
            &files.signing_certificate,
        ),
        (
            "encryption",
            "our encryption certificate",
            &files.encryption_certificate,
        ),
    ];
    if let Some((certificate, _key)) = &files.previous_encryption {
        roles.push((
            "previous_encryption",
            "our previous encryption certificate",
            certificate,
        ));
    }
    roles.push((
        "kpr_encryption",
        "KPR's encryption certificate",
        &files.peer_encryption_certificate,
    ));
    for file in &files.pinned_signers {
        roles.push(("kpr_signing", "KPR's signing certificate", file));
    }
    roles
        .into_iter()
        .map(|(role, name, file)| {
            let read = read_expiry(file);
            let (subject, not_after, problem) = match read {
                Ok(expiry) => (Some(expiry.subject), Some(expiry.not_after), None),
                Err(problem) => (None, None, Some(problem)),
            };
            Certificate {
                role,
                name,
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
