//! Identity numbers at rest: the daily flow must keep each notification's identity number
//! so that a re-send can rebuild the message, and the state store must never hold one in
//! plain text. Each is sealed with AES-256-GCM under a key kept in a file of its own
//! (`[daily] identity_key_file`, mode 0600), bound to what it belongs to (the associated
//! data), so a sealed value moved to another row does not open.
//!
//! A key file, not the municipality's encryption certificate: a million notifications are
//! sealed in one capture, and one RSA operation each would cost minutes; the certificate
//! also changes every few years. The file must be backed up with the state store (README).
//!
//! A lost key file is made anew by the next daily run, so that reporting goes on; the
//! state store knows each key by its [fingerprint](IdentityKey::fingerprint) (a hash of
//! the key, never the key) and which key sealed each notification (`daily::sealed`), so
//! that the notifications sealed under a key that is no longer there are named, not
//! mistaken for a decryption fault. A key restored from its backup after a new one was
//! made is put beside the key file as `<key file>.previous` (any name that begins so):
//! such keys are never used to seal, only to open what they sealed.

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
        "{file}: the identity key file is missing; restore it from the backup taken with the state store (without it, the notifications sealed under it cannot be sent again)"
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

/// The key, read once per run, with the earlier keys kept beside it.
pub struct IdentityKey {
    file: PathBuf,
    key: [u8; KEY_BYTES],
    /// Earlier keys (`<file>.previous…`): they open what they sealed, and seal nothing.
    previous: Vec<[u8; KEY_BYTES]>,
    /// Made by this [`IdentityKey::open`]: the file did not exist.
    made: bool,
}

/// What [`IdentityKey::open`] prefixes to a key before hashing it into its fingerprint, so
/// that the fingerprint is no hash anything else makes of the key.
const FINGERPRINT_DOMAIN: &[u8] = b"kpr-bridge identity key fingerprint\0";

/// A key's fingerprint: the first 16 bytes of SHA-256 over a fixed prefix and the key, in
/// hex. It tells keys apart and says nothing of the key.
fn fingerprint_of(key: &[u8; KEY_BYTES]) -> String {
    let mut data = FINGERPRINT_DOMAIN.to_vec();
    data.extend_from_slice(key);
    hex::encode(&openssl::sha::sha256(&data)[..16])
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityKey")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl IdentityKey {
    /// Reads the key, and the earlier keys beside it (`<file>.previous…`); makes a new key
    /// when the file does not exist and `may_create`. The daily flow may always create one
    /// (`daily::sealed` then records it as a new key); a re-send never does.
    pub fn open(file: &Path, may_create: bool) -> Result<IdentityKey, KeyError> {
        let mut key = IdentityKey::open_current(file, may_create)?;
        key.previous = previous_keys(file)?
            .into_iter()
            .filter(|previous| *previous != key.key)
            .collect();
        key.previous.dedup();
        Ok(key)
    }

    fn open_current(file: &Path, may_create: bool) -> Result<IdentityKey, KeyError> {
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
                    return IdentityKey::open_current(file, false);
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
                previous: Vec::new(),
                made: true,
            });
        }
        Ok(IdentityKey {
            file: file.to_path_buf(),
            key: read_key(file)?,
            previous: Vec::new(),
            made: false,
        })
    }

    /// The key file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Whether this open made the key file (it did not exist).
    pub fn made(&self) -> bool {
        self.made
    }

    /// The key's fingerprint (see [`fingerprint_of`]): what the state store knows it by.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.key)
    }

    /// The fingerprints of the key and of every earlier key beside it, the key's first.
    pub fn fingerprints(&self) -> Vec<String> {
        std::iter::once(&self.key)
            .chain(&self.previous)
            .map(fingerprint_of)
            .collect()
    }

    /// The fingerprint of the key that opens `sealed` for `context`, if one here does.
    pub fn which_opens(&self, sealed: &str, context: &str) -> Option<String> {
        std::iter::once(&self.key)
            .chain(&self.previous)
            .find(|key| open_with(key, sealed, context).is_some())
            .map(fingerprint_of)
    }
}

/// Reads one key file: mode 0600 or stricter, 32 bytes in hex.
fn read_key(file: &Path) -> Result<[u8; KEY_BYTES], KeyError> {
    let unusable = |reason: String| KeyError::Unusable {
        file: file.to_path_buf(),
        reason,
    };
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
    hex::decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; KEY_BYTES]>::try_from(bytes).ok())
        .ok_or_else(|| unusable(format!("is not {KEY_BYTES} bytes in hex")))
}

/// The earlier key files beside `file`: every file in its directory whose name begins with
/// the key file's name and `.previous`, in name order. `backup` copies them with the key.
pub fn previous_key_files(file: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.previous", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn previous_keys(file: &Path) -> Result<Vec<[u8; KEY_BYTES]>, KeyError> {
    previous_key_files(file)
        .iter()
        .map(|file| read_key(file))
        .collect()
}

/// `sealed` opened with `key` for `context`, or `None`.
fn open_with(key: &[u8; KEY_BYTES], sealed: &str, context: &str) -> Option<String> {
    let bytes = hex::decode(sealed).ok()?;
    if bytes.len() < NONCE_BYTES + TAG_BYTES {
        return None;
    }
    let (nonce, rest) = bytes.split_at(NONCE_BYTES);
    let (data, tag) = rest.split_at(rest.len() - TAG_BYTES);
    let plain = decrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(nonce),
        context.as_bytes(),
        data,
        tag,
    )
    .ok()?;
    String::from_utf8(plain).ok()
}

impl IdentityKey {
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

    /// What [`IdentityKey::seal`] sealed for `context`, under this key or an earlier one.
    pub fn open_sealed(&self, sealed: &str, context: &str) -> Result<String, KeyError> {
        std::iter::once(&self.key)
            .chain(&self.previous)
            .find_map(|key| open_with(key, sealed, context))
            .ok_or_else(|| KeyError::Sealed {
                file: self.file.clone(),
                what: context.to_string(),
            })
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
    fn a_new_key_has_another_fingerprint_and_an_earlier_one_beside_it_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("identity.key");
        let first = IdentityKey::open(&file, true).unwrap();
        assert!(first.made());
        let fingerprint = first.fingerprint();
        assert_eq!(fingerprint.len(), 32);
        assert_eq!(
            IdentityKey::open(&file, false).unwrap().fingerprint(),
            fingerprint
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(&fingerprint),
            "the fingerprint is not the key"
        );
        let sealed = first.seal("13816199926", "n-1");

        std::fs::rename(&file, dir.path().join("lost")).unwrap();
        let second = IdentityKey::open(&file, true).unwrap();
        assert_ne!(second.fingerprint(), fingerprint);
        assert_eq!(second.fingerprints(), [second.fingerprint()]);
        assert!(second.open_sealed(&sealed, "n-1").is_err());
        assert_eq!(second.which_opens(&sealed, "n-1"), None);

        // The lost key found again, put beside the new one: it opens what it sealed, and
        // the new one still seals.
        std::fs::rename(
            dir.path().join("lost"),
            dir.path().join("identity.key.previous"),
        )
        .unwrap();
        let both = IdentityKey::open(&file, false).unwrap();
        assert_eq!(both.fingerprint(), second.fingerprint());
        assert_eq!(
            both.fingerprints(),
            [second.fingerprint(), fingerprint.clone()]
        );
        assert_eq!(both.open_sealed(&sealed, "n-1").unwrap(), "13816199926");
        assert_eq!(both.which_opens(&sealed, "n-1"), Some(fingerprint));
        let new = both.seal("13816199926", "n-2");
        assert_eq!(second.open_sealed(&new, "n-2").unwrap(), "13816199926");
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
