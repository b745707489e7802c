//! Sign, then encrypt: what KPR takes as an AMQP body. In memory ([`Keys::pack`]), or from
//! file to file ([`Keys::pack_file`]) for a message too large to hold.

use std::path::{Path, PathBuf};

use chrono::Utc;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::error::ErrorStack;
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::X509Ref;
use thiserror::Error;

use super::stream::{Cms, FileBio, StreamError};
use super::{Keys, describe, unpack};

#[derive(Debug, Error)]
pub enum PackError {
    /// The bridge runs for months; a certificate can expire after it was loaded.
    #[error("{0}")]
    Expired(String),
    #[error("signing with the signing certificate ({subject}) failed: {source}")]
    Sign { subject: String, source: ErrorStack },
    #[error("encrypting to the other side's encryption certificate ({subject}) failed: {source}")]
    Encrypt { subject: String, source: ErrorStack },
    #[error(
        "cannot {action} {}: {reason} — check that it is there, that kpr-bridge may {action} \
         it, and that its disk has room",
        file.display()
    )]
    File {
        file: PathBuf,
        action: &'static str,
        reason: String,
    },
    #[error(
        "signing {} with the signing certificate ({subject}) failed: {reason}",
        file.display()
    )]
    SignFile {
        file: PathBuf,
        subject: String,
        reason: String,
    },
    #[error(
        "encrypting {} to the other side's encryption certificate ({subject}) failed: {reason}",
        file.display()
    )]
    EncryptFile {
        file: PathBuf,
        subject: String,
        reason: String,
    },
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

impl Keys {
    /// [`Keys::pack`] from file to file, streamed, so that memory does not grow with the
    /// message: signs `document` into a temporary file next to `out` (removed again), then
    /// encrypts that to `out` (created or emptied; removed again on failure). Returns the size
    /// of `out`. The output is BER with indefinite lengths where `pack` writes DER; both
    /// unpack alike.
    pub fn pack_file(&self, document: &Path, out: &Path) -> Result<u64, PackError> {
        let m = &self.material;
        still_valid("signing certificate", &m.signing.certificate)?;
        still_valid("other side's encryption certificate", &m.peer_encryption)?;
        let dir = match out.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let signed = tempfile::Builder::new()
            .prefix(".signed-")
            .tempfile_in(dir)
            .map_err(|e| file_error(dir, "write in", e.to_string()))?;
        let packed = self.sign_then_encrypt(document, signed.path(), out);
        if packed.is_err() {
            // Best effort: a partial file is never left to look like a message.
            let _ = std::fs::remove_file(out);
        }
        packed?;
        std::fs::metadata(out)
            .map(|metadata| metadata.len())
            .map_err(|e| file_error(out, "read", e.to_string()))
    }

    fn sign_then_encrypt(
        &self,
        document: &Path,
        signed: &Path,
        out: &Path,
    ) -> Result<(), PackError> {
        let m = &self.material;
        let signer = describe::subject(&m.signing.certificate);
        let sign_failed = |reason| PackError::SignFile {
            file: document.to_path_buf(),
            subject: signer.clone(),
            reason,
        };
        let cms = Cms::signed(&m.signing.certificate, &m.signing.key)
            .map_err(|e| sign_failed(unpack::reasons(&e)))?;
        stream(&cms, document, signed).map_err(|e| e.into_pack_error(sign_failed))?;
        drop(cms);

        let recipient = describe::subject(&m.peer_encryption);
        let encrypt_failed = |reason| PackError::EncryptFile {
            file: document.to_path_buf(),
            subject: recipient.clone(),
            reason,
        };
        // As in `pack`: PKCS#1 v1.5 key transport, the recipient by issuer and serial.
        let mut recipients = Stack::new().map_err(|e| encrypt_failed(unpack::reasons(&e)))?;
        recipients
            .push(m.peer_encryption.clone())
            .map_err(|e| encrypt_failed(unpack::reasons(&e)))?;
        let cms = Cms::enveloped(&recipients).map_err(|e| encrypt_failed(unpack::reasons(&e)))?;
        stream(&cms, signed, out).map_err(|e| e.into_pack_error(encrypt_failed))
    }
}

/// Why one streaming step failed: a file that cannot be opened, read or written, or openssl.
enum StepError {
    File(PackError),
    Openssl(String),
}

impl StepError {
    fn into_pack_error(self, openssl: impl FnOnce(String) -> PackError) -> PackError {
        match self {
            StepError::File(e) => e,
            StepError::Openssl(reason) => openssl(reason),
        }
    }
}

/// `cms` written to `output`, its content read from `input`.
fn stream(cms: &Cms, input: &Path, output: &Path) -> Result<(), StepError> {
    let open = |file: &Path, mode, action| {
        FileBio::open(file, mode)
            .map_err(|e| StepError::File(file_error(file, action, e.to_string())))
    };
    let reader = open(input, c"rb", "read")?;
    let writer = open(output, c"wb", "write")?;
    cms.stream(&reader, &writer).map_err(|e| match e {
        StreamError::Openssl(errors) => StepError::Openssl(unpack::reasons(&errors)),
        StreamError::Read => StepError::File(file_error(
            input,
            "read",
            "reading failed part of the way".into(),
        )),
        StreamError::Write => StepError::File(file_error(
            output,
            "write",
            "writing failed part of the way".into(),
        )),
    })
}

fn file_error(file: &Path, action: &'static str, reason: String) -> PackError {
    PackError::File {
        file: file.to_path_buf(),
        action,
        reason,
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
