//! Decrypt, then verify: what arrives from the other side (receipts, or shipments at the
//! test receiver).
//!
//! Each way a message can fail is its own error, so the receipt can say which (AppRec code
//! system 8221: S01 signature, S02 certificate, T01 unreadable, X99 other).

use std::ffi::c_int;

use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::error::ErrorStack;
use openssl::stack::{Stack, StackRef};
use openssl::x509::{X509, X509KeyUsage, X509Ref, X509StoreContext, X509VerifyResult};
use thiserror::Error;

use super::{Keys, der, describe};

/// `X509_V_ERR_CERT_HAS_EXPIRED` (x509_vfy.h); the openssl crate names only `OK`.
const CERT_HAS_EXPIRED: c_int = 10;

/// A message opened: its content as signed, and who signed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpacked {
    pub content: Vec<u8>,
    /// The signer certificate's subject: `C=NO, O=…, serialNumber=<orgnr>, CN=…`.
    pub signer_subject: String,
    /// Encrypted to the encryption certificate we replaced: the sender has not yet taken
    /// our new one.
    pub decrypted_with_previous_key: bool,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum UnpackError {
    #[error("the message is not CMS EnvelopedData (DER) as KPR's messages are: it {0}")]
    NotCms(String),
    #[error("the message is not encrypted for us: {0}")]
    NotForUs(String),
    #[error("the message is encrypted for us but does not decrypt: {0}")]
    Undecryptable(String),
    #[error("the decrypted message is not CMS SignedData: it {0}")]
    NotSigned(String),
    #[error("the message's signature does not verify: {0}")]
    BadSignature(String),
    #[error("the message's signer is not accepted: {0}")]
    UntrustedSigner(String),
    #[error("the message's signer certificate has expired: {0}")]
    ExpiredSigner(String),
    /// openssl failed at something that does not depend on the message (out of memory).
    #[error("openssl failed while checking the message: {0}")]
    Openssl(String),
}

impl UnpackError {
    /// A short, stable name for the anomaly this becomes when it arrives on our queues.
    pub fn kind(&self) -> &'static str {
        match self {
            UnpackError::NotCms(_) => "not-cms",
            UnpackError::NotForUs(_) => "not-for-us",
            UnpackError::Undecryptable(_) => "undecryptable",
            UnpackError::NotSigned(_) => "not-signed",
            UnpackError::BadSignature(_) => "bad-signature",
            UnpackError::UntrustedSigner(_) => "untrusted-signer",
            UnpackError::ExpiredSigner(_) => "expired-signer",
            UnpackError::Openssl(_) => "openssl-failure",
        }
    }

    /// The AppRec error code (code system 8221) for a receipt refusing this message.
    pub fn apprec_code(&self) -> &'static str {
        match self {
            // "Ikke XML / ikke 'well formed' / uleselig": unreadable.
            UnpackError::NotCms(_) | UnpackError::Undecryptable(_) => "T01",
            // "Feil på signatur".
            UnpackError::NotSigned(_) | UnpackError::BadSignature(_) => "S01",
            // "Ugyldig sertifikat".
            UnpackError::UntrustedSigner(_) | UnpackError::ExpiredSigner(_) => "S02",
            // "Annen feil": sent to the wrong party, or to a certificate we no longer hold.
            UnpackError::NotForUs(_) | UnpackError::Openssl(_) => "X99",
        }
    }
}

impl Keys {
    /// Decrypts `der` with our encryption key (then the previous one, if configured) and
    /// verifies its signature, signer chain and signer key usage.
    pub fn unpack(&self, der: &[u8]) -> Result<Unpacked, UnpackError> {
        let m = &self.material;
        // Its bytes are not quoted: the text could hold an identity number (invariant 4).
        for (start, kind) in [(&b"<"[..], "XML"), (&b"-----BEGIN"[..], "PEM")] {
            if der.starts_with(start) {
                return Err(UnpackError::NotCms(format!(
                    "is {kind} text, not DER: it was sent without being packed"
                )));
            }
        }
        let recipients = der::recipients(der).map_err(|e| UnpackError::NotCms(e.0))?;
        let envelope = CmsContentInfo::from_der(der).map_err(|e| {
            UnpackError::NotCms(format!("cannot be read by openssl: {}", reasons(&e)))
        })?;
        let keys = std::iter::once((&m.encryption, false))
            .chain(m.previous_encryption.as_ref().map(|pair| (pair, true)));
        for (pair, previous) in keys {
            let listed = recipients.iter().any(|r| r.names(&pair.certificate));
            match envelope.decrypt(&pair.key, &pair.certificate) {
                Ok(signed) => {
                    // Messages can be large: no copy is kept longer than needed.
                    drop(envelope);
                    let (content, signer_subject) = self.verify(signed)?;
                    return Ok(Unpacked {
                        content,
                        signer_subject,
                        decrypted_with_previous_key: previous,
                    });
                }
                Err(e) if listed => {
                    return Err(UnpackError::Undecryptable(format!(
                        "it names our {}encryption certificate ({}, serial {}), but decrypting it with our key fails: {}; the message was damaged on the way, or encrypted with another key",
                        if previous { "previous " } else { "" },
                        describe::subject(&pair.certificate),
                        describe::serial(&pair.certificate),
                        reasons(&e)
                    )));
                }
                // openssl may still match a recipient that the listing missed; if not, the
                // next key is tried.
                Err(_) => {}
            }
        }
        let listed: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
        let ours = |certificate: &X509| {
            format!(
                "serial {} issued by {}",
                describe::serial(certificate),
                describe::name(certificate.issuer_name())
            )
        };
        let previous = m
            .previous_encryption
            .as_ref()
            .map(|pair| format!(" (previous: {})", ours(&pair.certificate)))
            .unwrap_or_default();
        Err(UnpackError::NotForUs(format!(
            "it is encrypted to {}, and our encryption certificate is {}{previous}; the sender must encrypt to our current encryption certificate, as published in NHN's address register",
            if listed.is_empty() {
                "no certificate this bridge can name".to_string()
            } else {
                listed.join(" and ")
            },
            ours(&m.encryption.certificate)
        )))
    }

    /// Verifies a SignedData: its signers first (chain, dates, nonRepudiation), so that a
    /// failure says what is wrong, then the signature itself. Returns the content as openssl
    /// verified it (never as read by `der.rs`) and the signers' subjects.
    fn verify(&self, signed: Vec<u8>) -> Result<(Vec<u8>, String), UnpackError> {
        let mut cms = CmsContentInfo::from_der(&signed).map_err(|e| {
            UnpackError::NotSigned(format!("cannot be read by openssl: {}", reasons(&e)))
        })?;
        let subjects = self.check_signers(&signed)?;
        drop(signed);
        let mut content = Vec::new();
        cms.verify(
            None,
            Some(&self.material.trust),
            None,
            Some(&mut content),
            CMSOptions::BINARY,
        )
        .map_err(|e| {
            UnpackError::BadSignature(format!(
                "signed by {subjects}: {}; the message was changed after it was signed, or signed with a key that is not its certificate's",
                reasons(&e)
            ))
        })?;
        Ok((content, subjects))
    }

    /// Finds each signer's certificate in the SignedData `signed` and checks it; returns
    /// their subjects.
    fn check_signers(&self, signed: &[u8]) -> Result<String, UnpackError> {
        let found = der::signed_data(signed).map_err(|e| UnpackError::NotSigned(e.0))?;
        if found.signers.is_empty() {
            return Err(UnpackError::NotSigned("has no signer".into()));
        }
        let carried: Vec<X509> = found
            .certificates
            .iter()
            .filter_map(|der| X509::from_der(der).ok())
            .collect();
        let mut untrusted = Stack::new().map_err(|e| openssl_failed(&e))?;
        for certificate in &carried {
            untrusted
                .push(certificate.clone())
                .map_err(|e| openssl_failed(&e))?;
        }
        let mut subjects = Vec::new();
        for signer in &found.signers {
            let Some(certificate) = carried.iter().find(|c| signer.names(c)) else {
                return Err(UnpackError::UntrustedSigner(format!(
                    "the message does not carry the certificate of its signer ({signer}), so the signer cannot be checked; the sender must include its signing certificate"
                )));
            };
            self.check_signer(certificate, &untrusted)?;
            self.check_pinned(certificate)?;
            subjects.push(describe::subject(certificate));
        }
        Ok(subjects.join("; "))
    }

    fn check_signer(
        &self,
        certificate: &X509Ref,
        untrusted: &StackRef<X509>,
    ) -> Result<(), UnpackError> {
        let subject = describe::subject(certificate);
        let (result, depth) = X509StoreContext::new()
            .and_then(|mut context| {
                context.init(&self.material.trust, certificate, untrusted, |c| {
                    c.verify_cert()?;
                    Ok((c.error(), c.error_depth()))
                })
            })
            .map_err(|e| openssl_failed(&e))?;
        if result.as_raw() == CERT_HAS_EXPIRED && depth == 0 {
            return Err(UnpackError::ExpiredSigner(format!(
                "{subject} (serial {}) expired on {}; the sender must sign with its renewed certificate",
                describe::serial(certificate),
                describe::day(certificate.not_after())
            )));
        }
        if result != X509VerifyResult::OK {
            let place = if depth == 0 {
                "its certificate".to_string()
            } else {
                format!("its issuer {depth} step(s) up the chain")
            };
            return Err(UnpackError::UntrustedSigner(format!(
                "{subject} (serial {}, issued by {}): {place}: {}; if this sender is expected, add the CA certificate that issues its certificates to the trust files",
                describe::serial(certificate),
                describe::name(certificate.issuer_name()),
                result.error_string()
            )));
        }
        let usage = certificate.key_usage();
        if !usage.is_some_and(|u| u.contains(X509KeyUsage::NON_REPUDIATION)) {
            return Err(UnpackError::UntrustedSigner(format!(
                "{subject} has {} but a signer must have nonRepudiation; the sender signs with the wrong half of its enterprise certificate",
                describe::usages(usage)
            )));
        }
        Ok(())
    }
}

impl Keys {
    /// With pinned signers configured (KPR's signing certificates), a signer must be one of
    /// them: the trusted CAs issue certificates to every Norwegian enterprise, and only KPR
    /// may say that KPR received a message.
    fn check_pinned(&self, certificate: &X509Ref) -> Result<(), UnpackError> {
        let pinned = &self.material.pinned_signers;
        if pinned.is_empty() {
            return Ok(());
        }
        let der = certificate.to_der().map_err(|e| openssl_failed(&e))?;
        if pinned
            .iter()
            .any(|p| p.to_der().is_ok_and(|pinned| pinned == der))
        {
            return Ok(());
        }
        let known: Vec<String> = pinned
            .iter()
            .map(|p| format!("serial {}", describe::serial(p)))
            .collect();
        Err(UnpackError::UntrustedSigner(format!(
            "{} (serial {}, organisation number {}) is not one of KPR's signing certificates in certificates.kpr_signing_certificates ({}); only KPR's signature counts: if KPR has rotated its certificate, add the new one from NHN's address register; otherwise someone else made this message, and it is not believed",
            describe::subject(certificate),
            describe::serial(certificate),
            describe::organisation_number(certificate).unwrap_or_else(|| "not given".into()),
            known.join(", ")
        )))
    }
}

/// openssl's reasons, without its file and line noise: `bad decrypt`.
pub(super) fn reasons(errors: &ErrorStack) -> String {
    let mut said: Vec<String> = Vec::new();
    for error in errors.errors() {
        let text = match (error.reason(), error.data()) {
            (Some(reason), Some(data)) if !data.is_empty() => format!("{reason} ({data})"),
            (Some(reason), _) => reason.to_string(),
            (None, _) => error.to_string(),
        };
        if !said.contains(&text) {
            said.push(text);
        }
    }
    if said.is_empty() {
        "openssl gave no reason".into()
    } else {
        said.join("; ")
    }
}

fn openssl_failed(errors: &ErrorStack) -> UnpackError {
    UnpackError::Openssl(reasons(errors))
}
