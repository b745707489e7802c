//! Sign, then encrypt: what KPR takes as an AMQP body.

use chrono::Utc;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::error::ErrorStack;
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::X509Ref;
use thiserror::Error;

use super::{Keys, describe};

#[derive(Debug, Error)]
pub enum PackError {
    /// The bridge runs for months; a certificate can expire after it was loaded.
    #[error("{0}")]
    Expired(String),
    #[error("signing with the signing certificate ({subject}) failed: {source}")]
    Sign { subject: String, source: ErrorStack },
    #[error("encrypting to the other side's encryption certificate ({subject}) failed: {source}")]
    Encrypt { subject: String, source: ErrorStack },
}

impl Keys {
    /// Signs `document` (the whole MsgHead XML) and encrypts the signed DER to the other
    /// side's encryption certificate. Returns the DER to send.
    pub fn pack(&self, document: &[u8]) -> Result<Vec<u8>, PackError> {
        let m = &self.material;
        still_valid("signing certificate", &m.signing.certificate)?;
        still_valid("other side's encryption certificate", &m.peer_encryption)?;

        let sign_failed = |source| PackError::Sign {
            subject: describe::subject(&m.signing.certificate),
            source,
        };
        // BINARY: the XML's bytes are signed as they are, not as MIME text with CRLFs.
        // Neither DETACHED nor STREAM: the content is inside, and the DER is definite.
        let signed = CmsContentInfo::sign(
            Some(&m.signing.certificate),
            Some(&m.signing.key),
            None,
            Some(document),
            CMSOptions::BINARY,
        )
        .and_then(|cms| cms.to_der())
        .map_err(sign_failed)?;

        let encrypt_failed = |source| PackError::Encrypt {
            subject: describe::subject(&m.peer_encryption),
            source,
        };
        // RSA recipients get PKCS#1 v1.5 key transport and are named by issuer and serial
        // unless asked otherwise (KEY_PARAM, USE_KEYID), which is what KPR expects.
        let mut recipients = Stack::new().map_err(encrypt_failed)?;
        recipients
            .push(m.peer_encryption.clone())
            .map_err(encrypt_failed)?;
        let enveloped = CmsContentInfo::encrypt(
            &recipients,
            &signed,
            Cipher::aes_256_cbc(),
            CMSOptions::BINARY,
        )
        .map_err(encrypt_failed)?;
        // Messages can be large: no copy is kept longer than needed.
        drop(signed);
        enveloped.to_der().map_err(encrypt_failed)
    }
}

fn still_valid(what: &str, certificate: &X509Ref) -> Result<(), PackError> {
    match describe::utc(certificate.not_after()) {
        Some(not_after) if not_after <= Utc::now() => Err(PackError::Expired(format!(
            "the {what} ({}) expired on {} after kpr-bridge started; install its successor and restart kpr-bridge",
            describe::subject(certificate),
            not_after.format("%Y-%m-%d")
        ))),
        _ => Ok(()),
    }
}
