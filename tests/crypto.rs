//! Packing and unpacking with real certificates from `ops/make-test-certs.sh`: the
//! municipality packs, KPR's side unpacks; the `openssl cms` tool reads what we pack and we
//! read what it packs; rotation, foreign signers and recipients, damaged input; and the
//! start-up checks of the certificate and key files.

mod support;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use chrono::{Duration, Utc};
use kpr_bridge::crypto::{CertificateFiles, Keys, PackError, UnpackError};
use proptest::prelude::*;

const DOCUMENT: &[u8] =
    b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<MsgHead>\r\n  <Dok>\xc3\xa6\xc3\xb8\xc3\xa5 \x00 bytes as they are</Dok>\n</MsgHead>";

fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} — is it installed?"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn make_certs(dir: &Path, days: &str) {
    let script = format!("{}/ops/make-test-certs.sh", env!("CARGO_MANIFEST_DIR"));
    run(&script, &[dir.to_str().unwrap(), days], dir);
}

/// A set of test certificates made once and kept under the target directory, so that
/// runs (and the tests of one run) share it; named by month and by the script's contents,
/// so it is never near expiry and changes with the script. Only ever read by tests.
fn shared(which: &'static str) -> &'static Path {
    static A: OnceLock<PathBuf> = OnceLock::new();
    static B: OnceLock<PathBuf> = OnceLock::new();
    let cell = if which == "a" { &A } else { &B };
    cell.get_or_init(|| {
        let script = std::fs::read(format!(
            "{}/ops/make-test-certs.sh",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut hasher = DefaultHasher::new();
        script.hash(&mut hasher);
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = parent.join(format!(
            "crypto-certs-{which}-{}-{:016x}",
            Utc::now().format("%Y-%m"),
            hasher.finish()
        ));
        if !dir.join("kpr-enc.key").exists() {
            let fresh = tempfile::tempdir_in(parent).unwrap();
            make_certs(fresh.path(), "365");
            let fresh = fresh.keep();
            // Another test process may have got there first; then its set is used.
            if std::fs::rename(&fresh, &dir).is_err() {
                std::fs::remove_dir_all(&fresh).unwrap();
            }
        }
        dir
    })
}

/// The municipality: signs with kommune-sign, encrypts to `peer`.
fn municipality(set: &Path, peer: PathBuf) -> CertificateFiles {
    CertificateFiles {
        signing_certificate: set.join("kommune-sign.crt"),
        signing_key: set.join("kommune-sign.key"),
        encryption_certificate: set.join("kommune-enc.crt"),
        encryption_key: set.join("kommune-enc.key"),
        previous_encryption: None,
        peer_encryption_certificate: peer,
        trust: vec![set.join("ca.crt")],
        pinned_signers: Vec::new(),
    }
}

/// KPR's side: decrypts with kpr-enc, trusts `set`'s CA.
fn kpr(set: &Path) -> CertificateFiles {
    CertificateFiles {
        signing_certificate: set.join("kpr-sign.crt"),
        signing_key: set.join("kpr-sign.key"),
        encryption_certificate: set.join("kpr-enc.crt"),
        encryption_key: set.join("kpr-enc.key"),
        previous_encryption: None,
        peer_encryption_certificate: set.join("kommune-enc.crt"),
        trust: vec![set.join("ca.crt")],
        pinned_signers: Vec::new(),
    }
}

fn load(files: &CertificateFiles) -> Keys {
    let loaded = Keys::load(files).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    loaded.keys
}

fn problems(files: &CertificateFiles) -> String {
    match Keys::load(files) {
        Ok(_) => panic!("loaded, but should not have"),
        Err(e) => e.to_string(),
    }
}

/// Packed by the municipality of set A for KPR of set A.
fn packed() -> Vec<u8> {
    let a = shared("a");
    load(&municipality(a, a.join("kpr-enc.crt")))
        .pack(DOCUMENT)
        .unwrap()
}

/// Issues a certificate from `set`'s CA into `dir` as `name.crt`/`name.key`, with the
/// extensions of `section` (below) and valid `days` (negative: already expired).
fn issue(set: &Path, dir: &Path, name: &str, section: &str, days: &str) {
    std::fs::write(
        dir.join("extensions.cnf"),
        "[req]\ndistinguished_name = dn\n[dn]\n\
         [sign]\nkeyUsage = critical, nonRepudiation, digitalSignature\n\
         extendedKeyUsage = clientAuth, emailProtection\nsubjectKeyIdentifier = hash\n\
         [client_only]\nkeyUsage = critical, nonRepudiation, digitalSignature\n\
         extendedKeyUsage = clientAuth\nsubjectKeyIdentifier = hash\n\
         [enc]\nkeyUsage = critical, keyEncipherment, dataEncipherment\n\
         subjectKeyIdentifier = hash\n",
    )
    .unwrap();
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let subject = format!("/C=NO/O=BERGEN KOMMUNE/serialNumber=964338531/CN=TEST {name}");
    run(
        "openssl",
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-config",
            "extensions.cnf",
            "-subj",
            &subject,
            "-keyout",
            &key,
            "-out",
            &csr,
        ],
        dir,
    );
    std::fs::set_permissions(dir.join(&key), std::fs::Permissions::from_mode(0o600)).unwrap();
    let ca = set.join("ca.crt");
    let ca_key = set.join("ca.key");
    // A serial of its own, without a serial file in the shared set.
    let serial = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_string();
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            ca.to_str().unwrap(),
            "-CAkey",
            ca_key.to_str().unwrap(),
            "-set_serial",
            &serial,
            "-days",
            days,
            "-sha256",
            "-extfile",
            "extensions.cnf",
            "-extensions",
            section,
            "-out",
            &format!("{name}.crt"),
        ],
        dir,
    );
}

/// Signs `DOCUMENT` and encrypts it with the `openssl cms` tool, as KPR's own packing
/// would; `sign_extra`/`encrypt_extra` add options (`-keyid`, `-stream`).
fn openssl_pack(
    dir: &Path,
    signer: (&Path, &Path),
    recipient: &Path,
    sign_extra: &[&str],
    encrypt_extra: &[&str],
) -> Vec<u8> {
    let mut sign = vec![
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-outform",
        "DER",
        "-signer",
        signer.0.to_str().unwrap(),
        "-inkey",
        signer.1.to_str().unwrap(),
    ];
    sign.extend_from_slice(sign_extra);
    let signed = support::openssl::with_input(&sign, dir, DOCUMENT);
    let mut encrypt = vec![
        "cms",
        "-encrypt",
        "-binary",
        "-aes-256-cbc",
        "-outform",
        "DER",
    ];
    encrypt.extend_from_slice(encrypt_extra);
    encrypt.push(recipient.to_str().unwrap());
    support::openssl::with_input(&encrypt, dir, &signed)
}

#[test]
fn what_the_municipality_packs_kpr_unpacks_to_the_same_bytes() {
    let a = shared("a");
    let message = packed();
    let opened = load(&kpr(a)).unpack(&message).unwrap();
    assert_eq!(opened.content, DOCUMENT);
    assert!(
        opened.signer_subject.contains("O=BERGEN KOMMUNE")
            && opened
                .signer_subject
                .contains("CN=BERGEN KOMMUNE - TEST sign"),
        "{}",
        opened.signer_subject
    );
    assert!(!opened.decrypted_with_previous_key);

    // And back: KPR's answer to the municipality.
    let kpr_keys = load(&kpr(a));
    let answer = kpr_keys.pack(b"<AppRec/>").unwrap();
    let opened = load(&municipality(a, a.join("kpr-enc.crt")))
        .unpack(&answer)
        .unwrap();
    assert_eq!(opened.content, b"<AppRec/>");
    assert!(opened.signer_subject.contains("FOLKEHELSEINSTITUTTET"));
}

#[test]
fn the_openssl_tool_decrypts_and_verifies_what_we_pack() {
    let a = shared("a");
    let signed = support::openssl::with_input(
        &[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-recip",
            "kpr-enc.crt",
            "-inkey",
            "kpr-enc.key",
        ],
        a,
        &packed(),
    );
    let content = support::openssl::with_input(
        &[
            "cms", "-verify", "-inform", "DER", "-CAfile", "ca.crt", "-purpose", "any",
        ],
        a,
        &signed,
    );
    assert_eq!(content, DOCUMENT);
    // Encrypted with AES-256-CBC, the recipient named by issuer and serial.
    let structure = support::openssl::with_input(
        &["cms", "-cmsout", "-print", "-inform", "DER"],
        a,
        &packed(),
    );
    let structure = String::from_utf8_lossy(&structure);
    assert!(structure.contains("aes-256-cbc"), "{structure}");
    assert!(structure.contains("issuerAndSerialNumber"), "{structure}");
    assert!(structure.contains("rsaEncryption"), "{structure}");
}

#[test]
fn we_unpack_what_the_openssl_tool_packs_by_serial_by_key_id_and_streamed() {
    let a = shared("a");
    let keys = load(&kpr(a));
    let (certificate, key) = (a.join("kommune-sign.crt"), a.join("kommune-sign.key"));
    for (sign_extra, encrypt_extra) in [
        (&[][..], &[][..]),
        (&["-keyid"][..], &["-keyid"][..]),
        (&["-stream"][..], &["-stream"][..]),
    ] {
        let message = openssl_pack(
            a,
            (&certificate, &key),
            &a.join("kpr-enc.crt"),
            sign_extra,
            encrypt_extra,
        );
        let opened = keys
            .unpack(&message)
            .unwrap_or_else(|e| panic!("{sign_extra:?}: {e}"));
        assert_eq!(opened.content, DOCUMENT, "{sign_extra:?}");
        assert!(opened.signer_subject.contains("BERGEN KOMMUNE"));
    }
}

/// `document` packed with `pack_file` by the municipality of set A for KPR of set A, in a
/// directory of its own: the packed bytes, and the names of what the directory holds after.
fn packed_from_file(document: &[u8]) -> (Vec<u8>, Vec<String>) {
    let a = shared("a");
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (
        dir.path().join("document.xml"),
        dir.path().join("packed.p7m"),
    );
    std::fs::write(&input, document).unwrap();
    let size = load(&municipality(a, a.join("kpr-enc.crt")))
        .pack_file(&input, &output)
        .unwrap();
    let packed = std::fs::read(&output).unwrap();
    assert_eq!(size, packed.len() as u64);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (packed, names)
}

#[test]
fn what_pack_file_packs_kpr_unpacks_to_the_same_bytes_small_and_20_mb() {
    let keys = load(&kpr(shared("a")));
    // Every byte value, line ends of both kinds: binary, never canonicalised.
    let mut large: Vec<u8> = DOCUMENT.to_vec();
    while large.len() < 20 << 20 {
        large.extend((0..=255u8).chain(*b"\r\n\n<Dok>\r\n"));
    }
    for document in [DOCUMENT, &large[..]] {
        let (packed, left) = packed_from_file(document);
        assert_eq!(
            left,
            ["document.xml", "packed.p7m"],
            "the signed file is removed"
        );
        // Streamed: BER, the outer SEQUENCE of indefinite length.
        assert_eq!(packed[..2], [0x30, 0x80]);
        let opened = keys.unpack(&packed).unwrap();
        assert!(
            opened.content == document,
            "{} bytes differ",
            document.len()
        );
        assert!(
            opened
                .signer_subject
                .contains("CN=BERGEN KOMMUNE - TEST sign"),
            "{}",
            opened.signer_subject
        );
    }
}

#[test]
fn the_openssl_tool_decrypts_and_verifies_what_pack_file_packs() {
    let a = shared("a");
    let (packed, _) = packed_from_file(DOCUMENT);
    let signed = support::openssl::with_input(
        &[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-recip",
            "kpr-enc.crt",
            "-inkey",
            "kpr-enc.key",
        ],
        a,
        &packed,
    );
    let content = support::openssl::with_input(
        &[
            "cms", "-verify", "-inform", "DER", "-CAfile", "ca.crt", "-purpose", "any",
        ],
        a,
        &signed,
    );
    assert_eq!(content, DOCUMENT);
    let structure =
        support::openssl::with_input(&["cms", "-cmsout", "-print", "-inform", "DER"], a, &packed);
    let structure = String::from_utf8_lossy(&structure);
    assert!(structure.contains("aes-256-cbc"), "{structure}");
    assert!(structure.contains("issuerAndSerialNumber"), "{structure}");
}

#[test]
fn pack_file_names_the_file_it_cannot_read_or_write_and_leaves_nothing() {
    let a = shared("a");
    let keys = load(&municipality(a, a.join("kpr-enc.crt")));
    let dir = tempfile::tempdir().unwrap();
    let (missing, output) = (
        dir.path().join("missing.xml"),
        dir.path().join("packed.p7m"),
    );
    let error = keys.pack_file(&missing, &output).unwrap_err();
    let shown = error.to_string();
    assert!(matches!(error, PackError::File { .. }), "{shown}");
    assert!(
        shown.starts_with(&format!("cannot read {}: No such file", missing.display())),
        "{shown}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let document = dir.path().join("document.xml");
    std::fs::write(&document, DOCUMENT).unwrap();
    let nowhere = dir.path().join("no such directory").join("packed.p7m");
    let shown = keys.pack_file(&document, &nowhere).unwrap_err().to_string();
    assert!(
        shown.starts_with(&format!(
            "cannot write in {}:",
            dir.path().join("no such directory").display()
        )),
        "{shown}"
    );
    // A directory is no document: reading it fails part of the way, not as an empty one.
    let shown = keys.pack_file(dir.path(), &output).unwrap_err().to_string();
    assert!(
        shown.contains(&format!("cannot read {}", dir.path().display())),
        "{shown}"
    );
    assert!(!output.exists());
}

#[test]
fn a_message_to_the_previous_encryption_certificate_still_unpacks() {
    let (a, b) = (shared("a"), shared("b"));
    // The municipality still encrypts to KPR's old certificate (set B's).
    let message = load(&municipality(a, b.join("kpr-enc.crt")))
        .pack(DOCUMENT)
        .unwrap();

    let mut files = kpr(a);
    assert!(matches!(
        load(&files).unpack(&message),
        Err(UnpackError::NotForUs(_))
    ));
    files.previous_encryption = Some((b.join("kpr-enc.crt"), b.join("kpr-enc.key")));
    let keys = load(&files);
    let opened = keys.unpack(&message).unwrap();
    assert_eq!(opened.content, DOCUMENT);
    assert!(opened.decrypted_with_previous_key);
    // The current certificate comes first and is not marked.
    assert!(!keys.unpack(&packed()).unwrap().decrypted_with_previous_key);
}

#[test]
fn a_signer_from_another_ca_is_untrusted() {
    let (a, b) = (shared("a"), shared("b"));
    // Set B's municipality, with its own CA, packs for set A's KPR.
    let message = load(&municipality(b, a.join("kpr-enc.crt")))
        .pack(DOCUMENT)
        .unwrap();
    let error = load(&kpr(a)).unpack(&message).unwrap_err();
    assert!(matches!(error, UnpackError::UntrustedSigner(_)), "{error}");
    assert_eq!(error.apprec_code(), "S02");
    let text = error.to_string();
    assert!(text.contains("BERGEN KOMMUNE - TEST sign"), "{text}");
    assert!(
        text.contains("unable to get local issuer certificate"),
        "{text}"
    );
    assert!(text.contains("trust files"), "{text}");
}

#[test]
fn a_signer_with_extended_key_usage_client_auth_only_is_accepted() {
    // openssl's default purpose for CMS (S/MIME) would refuse it; the trust store's purpose
    // "any" must not.
    let a = shared("a");
    let dir = tempfile::tempdir().unwrap();
    issue(a, dir.path(), "client-only", "client_only", "365");
    let mut files = municipality(a, a.join("kpr-enc.crt"));
    files.signing_certificate = dir.path().join("client-only.crt");
    files.signing_key = dir.path().join("client-only.key");
    let message = load(&files).pack(DOCUMENT).unwrap();
    let opened = load(&kpr(a)).unpack(&message).unwrap();
    assert!(opened.signer_subject.contains("CN=TEST client-only"));
}

#[test]
fn a_signer_without_non_repudiation_is_refused() {
    let a = shared("a");
    // Signed with the encryption certificate, which the openssl tool allows.
    let message = openssl_pack(
        a,
        (&a.join("kommune-enc.crt"), &a.join("kommune-enc.key")),
        &a.join("kpr-enc.crt"),
        &[],
        &[],
    );
    let error = load(&kpr(a)).unpack(&message).unwrap_err();
    assert!(matches!(error, UnpackError::UntrustedSigner(_)), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("keyUsage keyEncipherment, dataEncipherment")
            && text.contains("must have nonRepudiation"),
        "{text}"
    );
}

#[test]
fn an_expired_signer_is_refused_as_expired() {
    let a = shared("a");
    let dir = tempfile::tempdir().unwrap();
    issue(a, dir.path(), "expired-sign", "sign", "-1");
    let message = openssl_pack(
        dir.path(),
        (
            &dir.path().join("expired-sign.crt"),
            &dir.path().join("expired-sign.key"),
        ),
        &a.join("kpr-enc.crt"),
        &[],
        &[],
    );
    let error = load(&kpr(a)).unpack(&message).unwrap_err();
    assert!(matches!(error, UnpackError::ExpiredSigner(_)), "{error}");
    assert_eq!(error.apprec_code(), "S02");
    let yesterday = (Utc::now() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let text = error.to_string();
    assert!(
        text.contains("CN=TEST expired-sign") && text.contains(&yesterday),
        "{text}"
    );
}

#[test]
fn a_message_encrypted_to_someone_else_is_not_for_us() {
    let a = shared("a");
    // The municipality encrypts to its own encryption certificate, not KPR's.
    let message = load(&municipality(a, a.join("kommune-enc.crt")))
        .pack(DOCUMENT)
        .unwrap();
    let error = load(&kpr(a)).unpack(&message).unwrap_err();
    assert!(matches!(error, UnpackError::NotForUs(_)), "{error}");
    assert_eq!(error.apprec_code(), "X99");
    let serial = run(
        "openssl",
        &["x509", "-in", "kommune-enc.crt", "-noout", "-serial"],
        a,
    );
    let serial = String::from_utf8(serial.stdout).unwrap();
    let serial = serial.trim().trim_start_matches("serial=");
    let text = error.to_string();
    assert!(text.contains(serial), "{serial}: {text}");
    assert!(text.contains("address register"), "{text}");
}

#[test]
fn damaged_input_is_an_error_and_never_altered_content() {
    let a = shared("a");
    let keys = load(&kpr(a));
    let message = packed();

    for (input, code) in [
        (&b""[..], "T01"),
        (&b"<MsgHead>not packed</MsgHead>"[..], "T01"),
        (&b"-----BEGIN CMS-----"[..], "T01"),
        (&message[..message.len() / 2], "T01"),
    ] {
        let error = keys.unpack(input).unwrap_err();
        assert!(matches!(error, UnpackError::NotCms(_)), "{error}");
        assert_eq!(error.apprec_code(), code);
    }
    let text = keys.unpack(b"<MsgHead/>").unwrap_err().to_string();
    assert!(text.contains("is XML text, not DER"), "{text}");
    for length in (0..message.len()).step_by(97) {
        assert!(keys.unpack(&message[..length]).is_err(), "cut at {length}");
    }
    // Content-encryption is not authenticated, so a changed byte may land where nothing
    // reads it; but what comes out is then the signed original, never something else.
    for at in (0..message.len()).step_by(41) {
        let mut damaged = message.clone();
        damaged[at] ^= 0x10;
        if let Ok(opened) = keys.unpack(&damaged) {
            assert_eq!(opened.content, DOCUMENT, "byte {at} changed");
        }
    }
    // A changed byte in the last block of ciphertext: the padding or the signature breaks.
    let mut damaged = message.clone();
    let last = damaged.len() - 20;
    damaged[last] ^= 0x01;
    assert!(keys.unpack(&damaged).is_err());

    // A signed but unencrypted message names what it is.
    let signed_only = support::openssl::with_input(
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-outform",
            "DER",
            "-signer",
            "kommune-sign.crt",
            "-inkey",
            "kommune-sign.key",
        ],
        a,
        DOCUMENT,
    );
    let text = keys.unpack(&signed_only).unwrap_err().to_string();
    assert!(text.contains("signed, not encrypted"), "{text}");

    // A large blob is refused at its first bytes.
    let huge = vec![0x5a; 64 << 20];
    assert!(matches!(keys.unpack(&huge), Err(UnpackError::NotCms(_))));
    let mut huge_header = vec![0x30, 0x84, 0x7f, 0xff, 0xff, 0xff];
    huge_header.extend_from_slice(&huge[..1 << 20]);
    assert!(matches!(
        keys.unpack(&huge_header),
        Err(UnpackError::NotCms(_))
    ));
}

#[test]
fn a_broken_signature_is_a_bad_signature() {
    // Encrypted properly, but the signed content was changed after signing.
    let a = shared("a");
    let dir = tempfile::tempdir().unwrap();
    let signed = support::openssl::with_input(
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-outform",
            "DER",
            "-signer",
            a.join("kommune-sign.crt").to_str().unwrap(),
            "-inkey",
            a.join("kommune-sign.key").to_str().unwrap(),
        ],
        dir.path(),
        DOCUMENT,
    );
    let at = signed
        .windows(7)
        .position(|w| w == b"MsgHead")
        .expect("the content is inside");
    let mut changed = signed.clone();
    changed[at] = b'X';
    let message = support::openssl::with_input(
        &[
            "cms",
            "-encrypt",
            "-binary",
            "-aes-256-cbc",
            "-outform",
            "DER",
            a.join("kpr-enc.crt").to_str().unwrap(),
        ],
        dir.path(),
        &changed,
    );
    let error = load(&kpr(a)).unpack(&message).unwrap_err();
    assert!(matches!(error, UnpackError::BadSignature(_)), "{error}");
    assert_eq!(error.apprec_code(), "S01");
    assert!(error.to_string().contains("BERGEN KOMMUNE"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        let keys = KEYS.get_or_init(|| load(&kpr(shared("a"))));
        prop_assert!(keys.unpack(&bytes).is_err());
    }

    #[test]
    fn random_damage_to_a_real_message_never_panics(
        changes in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        static KEYS: OnceLock<(Keys, Vec<u8>)> = OnceLock::new();
        let (keys, message) = KEYS.get_or_init(|| (load(&kpr(shared("a"))), packed()));
        let mut damaged = message.clone();
        for (at, value) in changes {
            let at = at % damaged.len();
            damaged[at] = value;
        }
        damaged.truncate(1 + cut % damaged.len());
        if let Ok(opened) = keys.unpack(&damaged) {
            prop_assert_eq!(opened.content, DOCUMENT);
        }
    }
}

// Start-up checks.

/// A copy of set A that a test may change.
fn copy_of_a() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(shared("a")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

#[test]
fn a_key_readable_by_others_is_refused_with_the_chmod_hint() {
    let dir = copy_of_a();
    let key = dir.path().join("kommune-sign.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = problems(&municipality(dir.path(), dir.path().join("kpr-enc.crt")));
    assert!(text.starts_with("1 problem(s)"), "{text}");
    assert!(text.contains("(mode 644)"), "{text}");
    assert!(
        text.contains(&format!("`chmod 600 {}`", key.display())),
        "{text}"
    );
}

#[test]
fn certificates_in_the_wrong_roles_are_refused_naming_file_and_subject() {
    let a = shared("a");
    let files = CertificateFiles {
        signing_certificate: a.join("kommune-enc.crt"),
        signing_key: a.join("kommune-enc.key"),
        encryption_certificate: a.join("kommune-sign.crt"),
        encryption_key: a.join("kommune-sign.key"),
        previous_encryption: None,
        peer_encryption_certificate: a.join("kpr-sign.crt"),
        trust: vec![a.join("ca.crt")],
        pinned_signers: Vec::new(),
    };
    let error = Keys::load(&files).unwrap_err();
    assert_eq!(error.problems.len(), 3, "{error}");
    let [signing, encryption, peer] = &error.problems[..] else {
        unreachable!()
    };
    for (problem, file, subject, needed) in [
        (
            signing,
            "kommune-enc.crt",
            "CN=BERGEN KOMMUNE - TEST enc",
            "must have nonRepudiation",
        ),
        (
            encryption,
            "kommune-sign.crt",
            "CN=BERGEN KOMMUNE - TEST sign",
            "must have keyEncipherment",
        ),
        (
            peer,
            "kpr-sign.crt",
            "CN=FOLKEHELSEINSTITUTTET - TEST sign",
            "must have keyEncipherment",
        ),
    ] {
        assert!(
            problem.contains(&a.join(file).display().to_string())
                && problem.contains(subject)
                && problem.contains(needed),
            "{problem}"
        );
    }
}

#[test]
fn every_file_problem_is_reported_at_once() {
    let dir = copy_of_a();
    let d = dir.path();
    std::fs::write(d.join("not-pem.crt"), b"\x30\x82\x01\x00 DER, not PEM").unwrap();
    std::fs::write(d.join("empty-trust.pem"), b"nothing here\n").unwrap();
    let encrypted = d.join("encrypted.key");
    run(
        "openssl",
        &[
            "pkey",
            "-in",
            "kommune-enc.key",
            "-aes256",
            "-passout",
            "pass:secret",
            "-out",
            "encrypted.key",
        ],
        d,
    );
    std::fs::set_permissions(&encrypted, std::fs::Permissions::from_mode(0o600)).unwrap();
    let files = CertificateFiles {
        signing_certificate: d.join("missing.crt"),
        signing_key: d.join("kommune-sign.key"),
        encryption_certificate: d.join("kommune-enc.crt"),
        // Not the key of kommune-enc.
        encryption_key: d.join("kpr-sign.key"),
        previous_encryption: Some((d.join("kpr-enc.crt"), encrypted.clone())),
        peer_encryption_certificate: d.join("not-pem.crt"),
        trust: vec![d.join("empty-trust.pem")],
        pinned_signers: Vec::new(),
    };
    let error = Keys::load(&files).unwrap_err();
    let text = error.to_string();
    assert_eq!(error.problems.len(), 5, "{text}");
    let expected = [
        format!(
            "cannot read the signing certificate {}: No such file or directory",
            d.join("missing.crt").display()
        ),
        format!(
            "the encryption key {} does not belong to the encryption certificate {} (C=NO, O=BERGEN KOMMUNE",
            d.join("kpr-sign.key").display(),
            d.join("kommune-enc.crt").display()
        ),
        format!(
            "the previous encryption key {} is protected by a passphrase",
            encrypted.display()
        ),
        format!(
            "the other side's encryption certificate {} is not a PEM certificate (PEM expected",
            d.join("not-pem.crt").display()
        ),
        format!(
            "the trust file {} holds no PEM certificate",
            d.join("empty-trust.pem").display()
        ),
    ];
    for (problem, expected) in error.problems.iter().zip(&expected) {
        assert!(problem.starts_with(expected.as_str()), "{problem}");
    }

    let mut files = kpr(shared("a"));
    files.trust.clear();
    assert!(problems(&files).contains("no trust file is configured"));
}

#[test]
fn an_expired_certificate_is_an_error_and_one_expiring_soon_a_warning() {
    let a = shared("a");
    let dir = tempfile::tempdir().unwrap();
    issue(a, dir.path(), "expired-sign", "sign", "-1");
    let mut files = municipality(a, a.join("kpr-enc.crt"));
    files.signing_certificate = dir.path().join("expired-sign.crt");
    files.signing_key = dir.path().join("expired-sign.key");
    let text = problems(&files);
    let yesterday = (Utc::now() - Duration::days(1)).format("%Y-%m-%d");
    assert!(text.starts_with("1 problem(s)"), "{text}");
    assert!(
        text.contains(&format!(
            "the signing certificate {} (C=NO, O=BERGEN KOMMUNE, serialNumber=964338531, CN=TEST expired-sign) expired on {yesterday}",
            files.signing_certificate.display()
        )),
        "{text}"
    );

    // An expired previous encryption certificate is only a reminder to remove it.
    issue(a, dir.path(), "old-enc", "enc", "-1");
    let mut files = kpr(a);
    files.previous_encryption = Some((
        dir.path().join("old-enc.crt"),
        dir.path().join("old-enc.key"),
    ));
    let loaded = Keys::load(&files).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("remove it from the configuration"));

    let soon = tempfile::tempdir().unwrap();
    make_certs(soon.path(), "10");
    let loaded = Keys::load(&municipality(soon.path(), soon.path().join("kpr-enc.crt"))).unwrap();
    // Signing, encryption, the other side's encryption certificate, and the CA.
    assert_eq!(loaded.warnings.len(), 4, "{:?}", loaded.warnings);
    let days = |n| {
        (Utc::now() + Duration::days(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    for warning in &loaded.warnings {
        assert!(
            warning.contains("(9 days left)")
                && (warning.contains(&days(10)) || warning.contains(&days(9))),
            "{warning}"
        );
    }
    assert!(loaded.warnings[0].starts_with(&format!(
        "the signing certificate {} (C=NO, O=BERGEN KOMMUNE, serialNumber=964338531, CN=BERGEN KOMMUNE - TEST sign) expires on",
        soon.path().join("kommune-sign.crt").display()
    )));
}

#[test]
fn keys_are_shared_between_threads_and_never_shown() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Keys>();
    let a = shared("a");
    let keys = load(&kpr(a));
    let shown = format!("{keys:?}");
    assert!(
        shown.contains("FOLKEHELSEINSTITUTTET - TEST enc"),
        "{shown}"
    );
    assert!(
        !shown.contains("PRIVATE") && !shown.contains("key:"),
        "{shown}"
    );

    let message = packed();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (keys, message) = (keys.clone(), message.clone());
            std::thread::spawn(move || keys.unpack(&message).unwrap().content)
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), DOCUMENT);
    }
}

#[test]
fn kpr_s_signing_certificates_are_checked_at_load_and_only_they_sign_what_counts() {
    let (a, b) = (shared("a"), shared("b"));
    // KPR's encryption half, and a signing certificate from a CA we do not trust.
    let mut files = municipality(a, a.join("kpr-enc.crt"));
    files.pinned_signers = vec![a.join("kpr-enc.crt"), b.join("kpr-sign.crt")];
    let error = Keys::load(&files).unwrap_err();
    assert_eq!(error.problems.len(), 2, "{error}");
    assert!(
        error.problems[0].contains("KPR signing certificate")
            && error.problems[0].contains("kpr-enc.crt")
            && error.problems[0].contains("must have nonRepudiation"),
        "{}",
        error.problems[0]
    );
    assert!(
        error.problems[1].contains("does not chain to a CA certificate in certificates.trust")
            && error.problems[1].contains(&b.join("kpr-sign.crt").display().to_string()),
        "{}",
        error.problems[1]
    );

    // Pinned to KPR's signing certificate: KPR's message opens, the municipality's own
    // signature (trusted CA, nonRepudiation) does not.
    files.pinned_signers = vec![a.join("kpr-sign.crt")];
    let ours = load(&files);
    let from_kpr = load(&kpr(a)).pack(b"<AppRec/>").unwrap();
    assert_eq!(ours.unpack(&from_kpr).unwrap().content, b"<AppRec/>");
    let mut forger = municipality(a, a.join("kommune-enc.crt"));
    forger.pinned_signers = Vec::new();
    let forged = load(&forger).pack(b"<AppRec/>").unwrap();
    let refused = ours.unpack(&forged).unwrap_err();
    assert_eq!(refused.kind(), "untrusted-signer");
    let text = refused.to_string();
    assert!(
        text.contains("BERGEN KOMMUNE") && text.contains("organisation number 964338531"),
        "{text}"
    );
}
