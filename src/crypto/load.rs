//! The certificate and key files, read and checked once at start-up, so that a wrong file
//! stops the bridge with a clear sentence instead of a message the register rejects days
//! later. Every problem is reported at once, each naming the file, the certificate's
//! subject, what is wrong, and what to do.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::{X509, X509KeyUsage, X509PurposeId, X509Ref};

use super::{Keys, Material, Pair, describe};

/// A certificate expiring within this many days is warned about at every start.
pub const WARN_DAYS: i64 = 30;

/// Paths of the certificate and key files, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFiles {
    /// Ours, with keyUsage nonRepudiation: we sign with it.
    pub signing_certificate: PathBuf,
    pub signing_key: PathBuf,
    /// Ours, with keyUsage keyEncipherment: the other side encrypts to it.
    pub encryption_certificate: PathBuf,
    pub encryption_key: PathBuf,
    /// (certificate, key) of the encryption pair we replaced, kept while messages encrypted
    /// to it may still arrive.
    pub previous_encryption: Option<(PathBuf, PathBuf)>,
    /// The other side's encryption certificate (keyEncipherment): we encrypt to it.
    pub peer_encryption_certificate: PathBuf,
    /// PEM files (each may hold several certificates) of the CA certificates that issue the
    /// certificates of those who sign to us.
    pub trust: Vec<PathBuf>,
    /// The only signing certificates whose messages count (KPR's, from NHN's
    /// Adresseregister; several while KPR rotates). A trusted CA issues certificates to
    /// every enterprise, so a chain to it says nothing about *who* signed. Empty for the
    /// test receiver, which takes any municipality its CAs vouch for.
    pub pinned_signers: Vec<PathBuf>,
}

/// Keys ready for use, and what should be seen to soon (certificates about to expire).
#[derive(Debug)]
pub struct Loaded {
    pub keys: Keys,
    pub warnings: Vec<String>,
}

/// Everything wrong with the configured certificates and keys.
#[derive(Debug)]
pub struct CertificateError {
    pub problems: Vec<String>,
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} problem(s) with the certificates and keys",
            self.problems.len()
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CertificateError {}

impl Keys {
    /// Loads every file and runs the start-up checks, reporting all problems at once.
    pub fn load(files: &CertificateFiles) -> Result<Loaded, CertificateError> {
        let mut check = Check {
            now: Utc::now(),
            problems: Vec::new(),
            warnings: Vec::new(),
        };
        let signing = check.pair(
            Role::Signing,
            &files.signing_certificate,
            &files.signing_key,
        );
        let encryption = check.pair(
            Role::Encryption,
            &files.encryption_certificate,
            &files.encryption_key,
        );
        let previous_encryption = files
            .previous_encryption
            .as_ref()
            .map(|(certificate, key)| check.pair(Role::PreviousEncryption, certificate, key));
        let peer_encryption =
            check.certificate(Role::PeerEncryption, &files.peer_encryption_certificate);
        let trust = check.trust(&files.trust);
        let pinned_signers = check.pinned_signers(&files.pinned_signers, trust.as_ref());

        match (
            signing,
            encryption,
            previous_encryption,
            peer_encryption,
            trust,
        ) {
            (Some(signing), Some(encryption), previous, Some(peer_encryption), Some(trust))
                if check.problems.is_empty() =>
            {
                Ok(Loaded {
                    keys: Keys {
                        material: Arc::new(Material {
                            signing,
                            encryption,
                            previous_encryption: previous.flatten(),
                            peer_encryption,
                            trust,
                            pinned_signers,
                        }),
                    },
                    warnings: check.warnings,
                })
            }
            _ => Err(CertificateError {
                problems: check.problems,
            }),
        }
    }
}

/// What a certificate is configured as; decides the usage it needs and the advice given.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Signing,
    Encryption,
    PreviousEncryption,
    PeerEncryption,
    PinnedSigner,
}

impl Role {
    fn certificate(self) -> &'static str {
        match self {
            Role::Signing => "signing certificate",
            Role::Encryption => "encryption certificate",
            Role::PreviousEncryption => "previous encryption certificate",
            Role::PeerEncryption => "other side's encryption certificate",
            Role::PinnedSigner => "KPR signing certificate",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Role::Signing => "signing key",
            Role::Encryption => "encryption key",
            Role::PreviousEncryption => "previous encryption key",
            // The other side's key is never ours to hold.
            Role::PeerEncryption | Role::PinnedSigner => "key",
        }
    }

    fn usage(self) -> (X509KeyUsage, &'static str) {
        match self {
            Role::Signing | Role::PinnedSigner => (X509KeyUsage::NON_REPUDIATION, "nonRepudiation"),
            _ => (X509KeyUsage::KEY_ENCIPHERMENT, "keyEncipherment"),
        }
    }

    fn wrong_usage_fix(self) -> &'static str {
        match self {
            Role::Signing => {
                "configure the signing half of the enterprise certificate (the one with nonRepudiation) here"
            }
            Role::Encryption | Role::PreviousEncryption => {
                "configure the encryption half of the enterprise certificate (the one with keyEncipherment) here"
            }
            Role::PeerEncryption => {
                "configure the other side's encryption certificate (keyEncipherment), as published in NHN's address register"
            }
            Role::PinnedSigner => {
                "configure KPR's signing certificate (nonRepudiation), as published in NHN's address register, not its encryption certificate"
            }
        }
    }

    fn renew_fix(self) -> &'static str {
        match self {
            Role::PeerEncryption => "ask the other side for their new encryption certificate",
            Role::PinnedSigner => {
                "add KPR's new signing certificate from NHN's address register to certificates.kpr_signing_certificates"
            }
            _ => "order its successor and install the new certificate and key",
        }
    }
}

struct Check {
    now: DateTime<Utc>,
    problems: Vec<String>,
    warnings: Vec<String>,
}

impl Check {
    fn read(&mut self, what: &str, path: &Path) -> Option<Vec<u8>> {
        match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                self.problems.push(format!(
                    "cannot read the {what} {}: {e}; check the path in the configuration and that kpr-bridge's user may read the file",
                    path.display()
                ));
                None
            }
        }
    }

    /// A certificate and its key, checked against each other.
    fn pair(&mut self, role: Role, certificate_path: &Path, key_path: &Path) -> Option<Pair> {
        let certificate = self.certificate(role, certificate_path);
        let key = self.key(role, key_path);
        let (certificate, key) = (certificate?, key?);
        let matches = certificate
            .public_key()
            .is_ok_and(|public| public.public_eq(&key));
        if !matches {
            self.problems.push(format!(
                "the {} {} does not belong to the {} {} ({}): their public keys differ; configure the key that was made together with this certificate",
                role.key(),
                key_path.display(),
                role.certificate(),
                certificate_path.display(),
                describe::subject(&certificate)
            ));
            return None;
        }
        Some(Pair { certificate, key })
    }

    /// One certificate: readable PEM, the usage its role needs, RSA where RSA key transport
    /// needs it, and valid now.
    fn certificate(&mut self, role: Role, path: &Path) -> Option<X509> {
        let what = role.certificate();
        let pem = self.read(what, path)?;
        let certificate = match X509::from_pem(&pem) {
            Ok(certificate) => certificate,
            Err(_) => {
                self.problems.push(format!(
                    "the {what} {} is not a PEM certificate (PEM expected: a file that begins with -----BEGIN CERTIFICATE-----); convert a DER file with `openssl x509 -inform DER -in {0} -out {0}.pem`",
                    path.display()
                ));
                return None;
            }
        };
        let subject = describe::subject(&certificate);
        let (needed, needed_name) = role.usage();
        let usage = certificate.key_usage();
        if !usage.is_some_and(|usage| usage.contains(needed)) {
            self.problems.push(format!(
                "the {what} {} ({subject}) has {} but must have {needed_name}; {}",
                path.display(),
                describe::usages(usage),
                role.wrong_usage_fix()
            ));
        }
        if !matches!(role, Role::Signing | Role::PinnedSigner) {
            let id = certificate.public_key().map(|key| key.id());
            if id.as_ref().ok() != Some(&Id::RSA) {
                self.problems.push(format!(
                    "the {what} {} ({subject}) does not hold an RSA key; messages to KPR are encrypted with RSA key transport, so {}",
                    path.display(),
                    role.wrong_usage_fix()
                ));
            }
        }
        self.validity(role, path, &certificate, &subject);
        Some(certificate)
    }

    fn validity(&mut self, role: Role, path: &Path, certificate: &X509Ref, subject: &str) {
        let what = role.certificate();
        let (Some(not_before), Some(not_after)) = (
            describe::utc(certificate.not_before()),
            describe::utc(certificate.not_after()),
        ) else {
            self.problems.push(format!(
                "the {what} {} ({subject}) has validity dates that cannot be read; {}",
                path.display(),
                role.renew_fix()
            ));
            return;
        };
        let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
        if not_after <= self.now {
            let sentence = format!(
                "the {what} {} ({subject}) expired on {}",
                path.display(),
                day(not_after)
            );
            if matches!(role, Role::PreviousEncryption | Role::PinnedSigner) {
                // Nobody encrypts to, or signs with, an expired certificate: dead weight.
                // (Without a valid KPR signing certificate at all, `pinned_signers` refuses.)
                self.warnings.push(format!(
                    "{sentence}; it is no longer used: remove it from the configuration"
                ));
            } else {
                self.problems
                    .push(format!("{sentence}; {}", role.renew_fix()));
            }
        } else if not_before > self.now {
            self.problems.push(format!(
                "the {what} {} ({subject}) is not valid until {}; keep the current certificate until then, or check the machine's clock",
                path.display(),
                day(not_before)
            ));
        } else if role != Role::PreviousEncryption {
            let left = (not_after - self.now).num_days();
            if left < WARN_DAYS {
                self.warnings.push(format!(
                    "the {what} {} ({subject}) expires on {} ({left} days left); {} before then",
                    path.display(),
                    day(not_after),
                    role.renew_fix()
                ));
            }
        }
    }

    /// A private key: readable by its owner only, PEM, not protected by a passphrase.
    fn key(&mut self, role: Role, path: &Path) -> Option<PKey<Private>> {
        let what = role.key();
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode());
        if let Ok(mode) = mode
            && mode & 0o077 != 0
        {
            self.problems.push(format!(
                    "the {what} {} can be read by group or others (mode {:o}); a private key must be readable by its owner only: run `chmod 600 {0}`",
                    path.display(),
                    mode & 0o777
                ));
        }
        let pem = self.read(what, path)?;
        if pem.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED") {
            self.problems.push(format!(
                "the {what} {} is protected by a passphrase, which kpr-bridge, running unattended, cannot type; store it without one, readable by kpr-bridge's user only: `(umask 077 && openssl pkey -in {0} -out {0}.plain)`, and configure that file",
                path.display()
            ));
            return None;
        }
        // The callback refuses any passphrase, so openssl never prompts on a terminal.
        match PKey::private_key_from_pem_callback(&pem, |_| Ok(0)) {
            Ok(key) => Some(key),
            Err(_) => {
                self.problems.push(format!(
                    "the {what} {} is not a PEM private key (PEM expected: a file that begins with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----); configure the key file that belongs to the certificate",
                    path.display()
                ));
                None
            }
        }
    }

    /// KPR's signing certificates: each one a signing certificate that chains to a trusted
    /// CA (a receipt signed with one that does not could never be verified), and at least
    /// one valid now.
    fn pinned_signers(&mut self, paths: &[PathBuf], trust: Option<&X509Store>) -> Vec<X509> {
        let now = self.now;
        let valid_now = |c: &X509Ref| {
            describe::utc(c.not_before()).is_some_and(|t| t <= now)
                && describe::utc(c.not_after()).is_some_and(|t| t > now)
        };
        let mut pinned = Vec::new();
        for path in paths {
            let Some(certificate) = self.certificate(Role::PinnedSigner, path) else {
                continue;
            };
            // An expired one is only warned about (`validity`): its chain is not at issue.
            if let (Some(trust), true) = (trust, valid_now(&certificate))
                && let Err(why) = chains_to(trust, &certificate)
            {
                self.problems.push(format!(
                        "the KPR signing certificate {} ({}) does not chain to a CA certificate in certificates.trust: {why}; add the CA certificate that issued it (Buypass or Commfides) to the trust files",
                        path.display(),
                        describe::subject(&certificate)
                    ));
            }
            pinned.push(certificate);
        }
        if !pinned.is_empty() && !pinned.iter().any(|c| valid_now(c)) {
            self.problems.push(
                "no KPR signing certificate in certificates.kpr_signing_certificates is valid now, so no receipt could count; add KPR's current signing certificate from NHN's address register".into(),
            );
        }
        pinned
    }

    /// The CA certificates that issue the certificates of those who sign to us.
    ///
    /// The store's purpose is "any": enterprise certificates may carry extended key usage
    /// clientAuth only, which openssl's default purpose for CMS (S/MIME signing) refuses.
    /// That purpose is about e-mail, not about us; the chain and dates are still verified,
    /// and nonRepudiation is checked on the signer (`unpack.rs`).
    fn trust(&mut self, paths: &[PathBuf]) -> Option<X509Store> {
        if paths.is_empty() {
            self.problems.push(
                "no trust file is configured, so no incoming message could be verified; configure the PEM file(s) with the CA certificates that issue the other side's certificates".into(),
            );
            return None;
        }
        let store = X509StoreBuilder::new().and_then(|mut store| {
            store.set_purpose(X509PurposeId::ANY)?;
            Ok(store)
        });
        let mut store = match store {
            Ok(store) => store,
            Err(e) => {
                self.problems
                    .push(format!("openssl cannot make a trust store: {e}"));
                return None;
            }
        };
        for path in paths {
            let Some(pem) = self.read("trust file", path) else {
                continue;
            };
            let certificates = X509::stack_from_pem(&pem).unwrap_or_default();
            if certificates.is_empty() {
                self.problems.push(format!(
                    "the trust file {} holds no PEM certificate (PEM expected: -----BEGIN CERTIFICATE----- blocks); configure the CA certificates that issue the other side's certificates",
                    path.display()
                ));
                continue;
            }
            for certificate in certificates {
                let subject = describe::subject(&certificate);
                if let Some(not_after) = describe::utc(certificate.not_after()) {
                    let left = (not_after - self.now).num_days();
                    if not_after <= self.now {
                        self.warnings.push(format!(
                            "the trust file {} holds a CA certificate ({subject}) that expired on {}; no signer it issued is accepted: remove it, or replace it with the CA's new certificate",
                            path.display(),
                            not_after.format("%Y-%m-%d")
                        ));
                    } else if left < WARN_DAYS {
                        self.warnings.push(format!(
                            "the trust file {} holds a CA certificate ({subject}) that expires on {} ({left} days left); add the CA's new certificate before then",
                            path.display(),
                            not_after.format("%Y-%m-%d")
                        ));
                    }
                }
                if let Err(e) = store.add_cert(certificate) {
                    self.problems.push(format!(
                        "the trust file {} holds a certificate ({subject}) that openssl cannot add to the trust store: {e}",
                        path.display()
                    ));
                }
            }
        }
        Some(store.build())
    }
}

/// Whether `certificate` chains to a CA in `trust` (dates included); openssl's reason if not.
fn chains_to(trust: &X509Store, certificate: &X509Ref) -> Result<(), String> {
    let untrusted = openssl::stack::Stack::new().map_err(|e| e.to_string())?;
    let result = openssl::x509::X509StoreContext::new()
        .and_then(|mut context| {
            context.init(trust, certificate, &untrusted, |c| {
                c.verify_cert()?;
                Ok(c.error())
            })
        })
        .map_err(|e| e.to_string())?;
    if result == openssl::x509::X509VerifyResult::OK {
        Ok(())
    } else {
        Err(result.error_string().to_string())
    }
}
