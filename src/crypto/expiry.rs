//! A certificate file's subject and end of validity, for `kpr-bridge status`: read afresh on
//! every call, so that a renewed certificate shows at once without a restart. A file that
//! cannot be read is an answer with the file and what to do, not a failure of the status.

use std::path::Path;

use chrono::{DateTime, Utc};
use openssl::x509::X509;

use super::describe;

/// Whose certificate it is, and until when it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// As a certificate viewer shows it: `C=NO, O=BERGEN KOMMUNE, serialNumber=…, CN=…`.
    /// Enterprise certificates name the organisation, never a person.
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

/// Reads the first certificate of a PEM (or DER) file.
pub fn read_expiry(path: &Path) -> Result<Expiry, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "cannot read {}: {e}; check the path in the configuration and that this user may read it",
            path.display()
        )
    })?;
    let certificate = X509::from_pem(&bytes)
        .or_else(|_| X509::from_der(&bytes))
        .map_err(|_| {
            format!(
                "{} is not a certificate (PEM expected, beginning with -----BEGIN CERTIFICATE-----); configure the certificate file, not the key",
                path.display()
            )
        })?;
    let not_after = describe::utc(certificate.not_after()).ok_or_else(|| {
        format!(
            "{} has an end date that cannot be read ({}); replace the certificate",
            path.display(),
            certificate.not_after()
        )
    })?;
    Ok(Expiry {
        subject: describe::subject(&certificate),
        not_after,
    })
}
