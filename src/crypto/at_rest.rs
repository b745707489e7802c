//! Identity numbers at rest: the daily flow must keep each notification's identity number
//! so that a re-send can rebuild the message, and the state store must never hold one in
//! plain text. Each is sealed with AES-256-GCM under a key kept in a file of its own
//! (`[daily] identity_key_file`, mode 0600), bound to what it belongs to (the associated
//! data), so a sealed value moved to another row does not open.
//!
//! A key file, not the municipality's encryption certificate: a million notifications are
//! sealed in one capture, and one RSA operation each would cost minutes; the certificate
//! also changes every few years. The file must be backed up with the state store (README).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use thiserror::Error;

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

#[derive(Debug, Error)]
pub enum KeyError {
    #[error(
        "{file}: the identity key file is missing, but the state store already holds sealed identity numbers; restore the file from the backup taken with the state store (without it, no notification can be re-sent)"
    )]
    Missing { file: PathBuf },
    #[error("{file}: {reason}")]
    Unusable { file: PathBuf, reason: String },
    #[error(
        "{file}: is readable by others (mode {mode:o}); it guards every identity number in the state store — run `chmod 600 {file}`"
    )]
    Open { file: PathBuf, mode: u32 },
    #[error(
        "a sealed identity number in the state store ({what}) does not open with the key in {file}: the file is not the one the store was sealed with, or the row was changed; restore the matching key file"
    )]
    Sealed { file: PathBuf, what: String },
}

/// The key, read once per run.
pub struct IdentityKey {
    file: PathBuf,
    key: [u8; KEY_BYTES],
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityKey")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl IdentityKey {
    /// Reads the key; makes a new one when the file does not exist and `may_create` (the
    /// store holds nothing sealed yet).
    pub fn open(file: &Path, may_create: bool) -> Result<IdentityKey, KeyError> {
        let unusable = |reason: String| KeyError::Unusable {
            file: file.to_path_buf(),
            reason,
        };
        if !file.exists() {
            if !may_create {
                return Err(KeyError::Missing {
                    file: file.to_path_buf(),
                });
            }
            let mut key = [0u8; KEY_BYTES];
            openssl::rand::rand_bytes(&mut key).map_err(|e| unusable(e.to_string()))?;
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| unusable(e.to_string()))?;
            }
            let mut out = match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file)
            {
                Ok(out) => out,
                // Another process made it first: that one is the key.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return IdentityKey::open(file, false);
                }
                Err(e) => return Err(unusable(format!("cannot be made: {e}"))),
            };
            out.write_all(hex::encode(key).as_bytes())
                .and_then(|()| out.sync_all())
                .map_err(|e| unusable(format!("cannot be written: {e}")))?;
            tracing::info!(file = %file.display(), "made the identity key file; back it up with the state store");
            return Ok(IdentityKey {
                file: file.to_path_buf(),
                key,
            });
        }
        let mode = std::fs::metadata(file)
            .map_err(|e| unusable(e.to_string()))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Open {
                file: file.to_path_buf(),
                mode,
            });
        }
        let text = std::fs::read_to_string(file).map_err(|e| unusable(e.to_string()))?;
        let key = hex::decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; KEY_BYTES]>::try_from(bytes).ok())
            .ok_or_else(|| unusable(format!("is not {KEY_BYTES} bytes in hex")))?;
        Ok(IdentityKey {
            file: file.to_path_buf(),
            key,
        })
    }

    /// `plain` sealed for `context`, as hex: nonce, ciphertext, tag.
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        openssl::rand::rand_bytes(&mut nonce).expect("the system's random source works");
        let mut tag = [0u8; TAG_BYTES];
        let sealed = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            context.as_bytes(),
            plain.as_bytes(),
            &mut tag,
        )
        .expect("AES-256-GCM with a 32-byte key and a 12-byte nonce works");
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len() + TAG_BYTES);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out.extend_from_slice(&tag);
        hex::encode(out)
    }

    /// What [`IdentityKey::seal`] sealed for `context`.
    pub fn open_sealed(&self, sealed: &str, context: &str) -> Result<String, KeyError> {
        let failed = || KeyError::Sealed {
            file: self.file.clone(),
            what: context.to_string(),
        };
        let bytes = hex::decode(sealed).map_err(|_| failed())?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return Err(failed());
        }
        let (nonce, rest) = bytes.split_at(NONCE_BYTES);
        let (data, tag) = rest.split_at(rest.len() - TAG_BYTES);
        let plain = decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(nonce),
            context.as_bytes(),
            data,
            tag,
        )
        .map_err(|_| failed())?;
        String::from_utf8(plain).map_err(|_| failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_number_opens_only_with_its_key_and_context() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys/identity.key");
        assert!(matches!(
            IdentityKey::open(&file, false),
            Err(KeyError::Missing { .. })
        ));
        let key = IdentityKey::open(&file, true).unwrap();
        let sealed = key.seal("13816199926", "n-1");
        assert!(!sealed.contains("13816199926"));
        assert_ne!(
            sealed,
            key.seal("13816199926", "n-1"),
            "a fresh nonce each time"
        );
        let again = IdentityKey::open(&file, false).unwrap();
        assert_eq!(again.open_sealed(&sealed, "n-1").unwrap(), "13816199926");
        assert!(again.open_sealed(&sealed, "n-2").is_err());
        std::fs::remove_file(&file).unwrap();
        let other = IdentityKey::open(&file, true).unwrap();
        assert!(matches!(
            other.open_sealed(&sealed, "n-1"),
            Err(KeyError::Sealed { .. })
        ));
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("identity.key");
        IdentityKey::open(&file, true).unwrap();
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = IdentityKey::open(&file, false).unwrap_err();
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }
}
