//! Receipts packed as KPR packs them, or as someone else might: signed by another party,
//! tampered with, unsigned, or encrypted to the wrong certificate. For the tests of what the
//! inbox believes.

use std::fs;
use std::path::PathBuf;

use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::PKey;
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::X509;

use super::amqp;

/// Packs `document` (an AppRec) to the municipality the way `how` says:
/// - `kpr`: signed with KPR's signing certificate, as KPR does;
/// - `municipality`: signed with the municipality's own signing certificate;
/// - `enterprise`: signed by another enterprise whose certificate the same trusted CA issued;
/// - `kpr-encryption`: signed with KPR's encryption half (no nonRepudiation);
/// - `stranger`: signed under a CA the municipality does not trust;
/// - `tampered`: KPR's signature, one byte of the content changed after signing;
/// - `unsigned`: encrypted but never signed;
/// - `not-for-us`: encrypted to KPR's certificate instead of ours;
/// - `raw`: the document's bytes as they are.
pub fn pack(how: &str, document: &[u8]) -> Vec<u8> {
    let certs = amqp::certs();
    let stranger;
    let (signer_dir, signer) = match how {
        "stranger" => {
            stranger = tempfile::tempdir().unwrap();
            amqp::make_certs(stranger.path());
            (stranger.path().to_path_buf(), "kpr-sign")
        }
        "municipality" => (certs.to_path_buf(), "kommune-sign"),
        "enterprise" => (certs.to_path_buf(), "annen-sign"),
        "kpr-encryption" => (certs.to_path_buf(), "kpr-enc"),
        _ => (certs.to_path_buf(), "kpr-sign"),
    };
    let read = |path: PathBuf| fs::read(path).unwrap();
    let key = PKey::private_key_from_pem(&read(signer_dir.join(format!("{signer}.key")))).unwrap();
    let signer = X509::from_pem(&read(signer_dir.join(format!("{signer}.crt")))).unwrap();
    let recipient = if how == "not-for-us" {
        "kpr-enc.crt"
    } else {
        "kommune-enc.crt"
    };
    let recipient = X509::from_pem(&read(certs.join(recipient))).unwrap();
    let signed = match how {
        "raw" => return document.to_vec(),
        "unsigned" => document.to_vec(),
        _ => {
            let mut der = CmsContentInfo::sign(
                Some(&signer),
                Some(&key),
                None,
                Some(document),
                CMSOptions::BINARY,
            )
            .unwrap()
            .to_der()
            .unwrap();
            if how == "tampered" {
                // One byte of the signed content changed after signing.
                let at = der
                    .windows(6)
                    .position(|w| w == b"AppRec")
                    .expect("the content is in the SignedData");
                der[at] = b'B';
            }
            der
        }
    };
    let mut recipients = Stack::new().unwrap();
    recipients.push(recipient).unwrap();
    CmsContentInfo::encrypt(
        &recipients,
        &signed,
        Cipher::aes_256_cbc(),
        CMSOptions::BINARY,
    )
    .unwrap()
    .to_der()
    .unwrap()
}
