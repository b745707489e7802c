//! Test certificates made in-process, like `ops/make-test-certs.sh` makes them with the
//! `openssl` tool: for demos, dry runs against the local test receiver, and tests — **never
//! for production**. The CA is a throwaway one that nobody else trusts, and its key is
//! written next to its certificate.
//!
//! The pairs imitate Norwegian enterprise certificates (virksomhetssertifikater), so that
//! [`Keys::load`](super::Keys::load) accepts them as it would the real ones: a signing pair
//! with keyUsage nonRepudiation and digitalSignature, and an encryption pair with
//! keyEncipherment and dataEncipherment (both critical; extended key usage clientAuth and
//! emailProtection), for the municipality and for KPR. Private keys are written readable by
//! their owner only.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Name};

/// The files [`make`] writes into its directory, as `ops/make-test-certs.sh` names them.
pub const CA: &str = "ca";
pub const MUNICIPALITY_SIGNING: &str = "kommune-sign";
pub const MUNICIPALITY_ENCRYPTION: &str = "kommune-enc";
pub const KPR_SIGNING: &str = "kpr-sign";
pub const KPR_ENCRYPTION: &str = "kpr-enc";
/// Another enterprise's signing pair from the same CA: what anyone holds who might forge a
/// receipt. For tests of who may sign one.
pub const OTHER_SIGNING: &str = "annen-sign";

/// The organisations the test pairs are made out to.
const MUNICIPALITY: (&str, &str) = ("BERGEN KOMMUNE", "964338531");
const KPR: (&str, &str) = ("FOLKEHELSEINSTITUTTET", "983744516");
const OTHER: (&str, &str) = ("ANNEN VIRKSOMHET AS", "910000006");

/// Why the certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TestCertificateError {
    #[error("openssl cannot make the test certificates: {0}")]
    Openssl(#[from] ErrorStack),
    #[error(
        "cannot write {}: {source}; check that the directory exists and may be written to",
        file.display()
    )]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

/// What a pair is for; decides its key usages, as in the script's `[sign]` and `[enc]`.
#[derive(Clone, Copy)]
enum Use {
    Sign,
    Enc,
}

impl Use {
    fn name(self) -> &'static str {
        match self {
            Use::Sign => "sign",
            Use::Enc => "enc",
        }
    }
}

/// Makes a test CA and the five pairs in `dir` (made if missing), valid for `days` days
/// from now: `ca.crt`/`ca.key` and `kommune-sign`, `kommune-enc`, `kpr-sign`, `kpr-enc`,
/// `annen-sign`, each
/// `.crt` and `.key`. Files already there are replaced.
pub fn make(dir: &Path, days: u32) -> Result<(), TestCertificateError> {
    fs::create_dir_all(dir).map_err(|source| TestCertificateError::Write {
        file: dir.to_path_buf(),
        source,
    })?;
    let (ca, ca_key) = certificate_authority(days)?;
    write(dir, CA, &ca, &ca_key)?;
    for (name, (organisation, orgnr), usage) in [
        (MUNICIPALITY_SIGNING, MUNICIPALITY, Use::Sign),
        (MUNICIPALITY_ENCRYPTION, MUNICIPALITY, Use::Enc),
        (KPR_SIGNING, KPR, Use::Sign),
        (KPR_ENCRYPTION, KPR, Use::Enc),
        (OTHER_SIGNING, OTHER, Use::Sign),
    ] {
        let (certificate, key) = pair(&ca, &ca_key, organisation, orgnr, usage, days)?;
        write(dir, name, &certificate, &key)?;
    }
    Ok(())
}

fn certificate_authority(days: u32) -> Result<(X509, PKey<Private>), ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(3072)?)?;
    let name = name(&[
        ("C", "NO"),
        ("O", "kpr-bridge TEST CA"),
        ("CN", "kpr-bridge test CA - not for production"),
    ])?;
    let mut builder = builder(&name, &name, &key, days)?;
    builder.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let subject_key_id = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(subject_key_id)?;
    builder.sign(&key, MessageDigest::sha256())?;
    Ok((builder.build(), key))
}

fn pair(
    ca: &X509,
    ca_key: &PKey<Private>,
    organisation: &str,
    orgnr: &str,
    usage: Use,
    days: u32,
) -> Result<(X509, PKey<Private>), ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let common_name = format!("{organisation} - TEST {}", usage.name());
    let subject = name(&[
        ("C", "NO"),
        ("O", organisation),
        ("serialNumber", orgnr),
        ("CN", &common_name),
    ])?;
    let mut builder = builder(&subject, ca.subject_name(), &key, days)?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    let mut key_usage = KeyUsage::new();
    key_usage.critical();
    match usage {
        Use::Sign => key_usage.non_repudiation().digital_signature(),
        Use::Enc => key_usage.key_encipherment().data_encipherment(),
    };
    builder.append_extension(key_usage.build()?)?;
    builder.append_extension(
        ExtendedKeyUsage::new()
            .client_auth()
            .email_protection()
            .build()?,
    )?;
    let subject_key_id =
        SubjectKeyIdentifier::new().build(&builder.x509v3_context(Some(ca), None))?;
    builder.append_extension(subject_key_id)?;
    let authority_key_id = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(Some(ca), None))?;
    builder.append_extension(authority_key_id)?;
    builder.sign(ca_key, MessageDigest::sha256())?;
    Ok((builder.build(), key))
}

fn name(entries: &[(&str, &str)]) -> Result<X509Name, ErrorStack> {
    let mut name = X509Name::builder()?;
    for (field, value) in entries {
        name.append_entry_by_text(field, value)?;
    }
    Ok(name.build())
}

/// A version 3 certificate for `key`, valid from now for `days` days, with a random serial.
fn builder(
    subject: &openssl::x509::X509NameRef,
    issuer: &openssl::x509::X509NameRef,
    key: &PKey<Private>,
    days: u32,
) -> Result<X509Builder, ErrorStack> {
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = Asn1Integer::from_bn(&serial)?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_issuer_name(issuer)?;
    builder.set_pubkey(key)?;
    let (not_before, not_after) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(days)?);
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    Ok(builder)
}

/// `<name>.crt` (mode 644) and `<name>.key` (PKCS#8 PEM, mode 600 from its creation).
fn write(
    dir: &Path,
    name: &str,
    certificate: &X509,
    key: &PKey<Private>,
) -> Result<(), TestCertificateError> {
    let key_file = dir.join(format!("{name}.key"));
    let certificate_file = dir.join(format!("{name}.crt"));
    let failed = |file: &Path| {
        let file = file.to_path_buf();
        move |source| TestCertificateError::Write { file, source }
    };
    let key_pem = key.private_key_to_pem_pkcs8()?;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&key_file)
        .and_then(|mut file| {
            // An earlier file keeps its mode when it is replaced: make it the owner's only.
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
            file.write_all(&key_pem)?;
            file.sync_all()
        })
        .map_err(failed(&key_file))?;
    fs::write(&certificate_file, certificate.to_pem()?)
        .and_then(|()| fs::set_permissions(&certificate_file, fs::Permissions::from_mode(0o644)))
        .map_err(failed(&certificate_file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{CertificateFiles, Keys};
    use openssl::x509::X509VerifyResult;

    fn files(dir: &Path, ours: &str, theirs: &str, peer: &str) -> CertificateFiles {
        let file = |name: &str, extension: &str| dir.join(format!("{name}.{extension}"));
        CertificateFiles {
            signing_certificate: file(&format!("{ours}-sign"), "crt"),
            signing_key: file(&format!("{ours}-sign"), "key"),
            encryption_certificate: file(&format!("{ours}-enc"), "crt"),
            encryption_key: file(&format!("{ours}-enc"), "key"),
            previous_encryption: None,
            peer_encryption_certificate: file(&format!("{theirs}-enc"), "crt"),
            trust: vec![file(peer, "crt")],
            pinned_signers: Vec::new(),
        }
    }

    #[test]
    fn the_pairs_load_as_enterprise_certificates_and_pack_and_unpack_both_ways() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        make(dir, 365).unwrap();

        let municipality = Keys::load(&files(dir, "kommune", "kpr", CA)).unwrap();
        let kpr = Keys::load(&files(dir, "kpr", "kommune", CA)).unwrap();
        assert!(
            municipality.warnings.is_empty(),
            "{:?}",
            municipality.warnings
        );
        assert!(kpr.warnings.is_empty(), "{:?}", kpr.warnings);

        let message = "<MsgHead>ÆØÅ test</MsgHead>".as_bytes();
        let packed = municipality.keys.pack(message).unwrap();
        let opened = kpr.keys.unpack(&packed).unwrap();
        assert_eq!(opened.content, message);
        assert!(
            opened.signer_subject.contains("BERGEN KOMMUNE"),
            "{}",
            opened.signer_subject
        );
        let answer = kpr.keys.pack(b"<AppRec/>").unwrap();
        assert_eq!(
            municipality.keys.unpack(&answer).unwrap().content,
            b"<AppRec/>"
        );
    }

    #[test]
    fn usages_subjects_chain_and_key_modes_are_those_of_the_script() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        make(dir, 365).unwrap();
        let read = |name: &str| {
            X509::from_pem(&fs::read(dir.join(format!("{name}.crt"))).unwrap()).unwrap()
        };
        let ca = read(CA);
        for name in [
            MUNICIPALITY_SIGNING,
            MUNICIPALITY_ENCRYPTION,
            KPR_SIGNING,
            KPR_ENCRYPTION,
            OTHER_SIGNING,
        ] {
            let certificate = read(name);
            assert_eq!(ca.issued(&certificate), X509VerifyResult::OK, "{name}");
            assert!(certificate.verify(&ca.public_key().unwrap()).unwrap());
            let text = String::from_utf8(certificate.to_text().unwrap()).unwrap();
            let (wanted, unwanted) = if name.ends_with("sign") {
                ("Digital Signature, Non Repudiation", "Key Encipherment")
            } else {
                ("Key Encipherment, Data Encipherment", "Non Repudiation")
            };
            assert!(text.contains(wanted), "{name}: {text}");
            assert!(!text.contains(unwanted), "{name}: {text}");
            assert!(
                text.contains("TLS Web Client Authentication, E-mail Protection"),
                "{name}: {text}"
            );
            assert!(text.contains("X509v3 Key Usage: critical"), "{name}");
            assert!(text.contains("CA:FALSE"), "{name}");
            let subject = crate::crypto::describe::subject(&certificate);
            assert!(subject.contains("TEST"), "{name}: {subject}");
            let mode = fs::metadata(dir.join(format!("{name}.key")))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}.key");
        }
        let mode = fs::metadata(dir.join("ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
