//! `ops/make-test-certs.sh`: the pairs it makes have the key usages the register's packing
//! needs, private keys only their owner can read, and they sign, encrypt, decrypt and verify
//! with the `openssl cms` tool as KPR's packing does (sign, then encrypt with AES-256-CBC).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

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

fn script() -> String {
    format!("{}/ops/make-test-certs.sh", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn makes_pairs_with_the_right_usages_that_pack_and_unpack_like_kpr() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    run(&script(), &[dir.to_str().unwrap(), "30"], dir);

    for (name, usage) in [
        ("kommune-sign", "Non Repudiation"),
        ("kommune-enc", "Key Encipherment"),
        ("kpr-sign", "Non Repudiation"),
        ("kpr-enc", "Key Encipherment"),
    ] {
        let text = run(
            "openssl",
            &[
                "x509",
                "-in",
                &format!("{name}.crt"),
                "-noout",
                "-ext",
                "keyUsage",
            ],
            dir,
        );
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.contains(usage), "{name}: {text}");
        run(
            "openssl",
            &["verify", "-CAfile", "ca.crt", &format!("{name}.crt")],
            dir,
        );
        let mode = std::fs::metadata(dir.join(format!("{name}.key")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{name}.key is readable by group or others");
    }

    std::fs::write(dir.join("payload.xml"), "<MsgHead>test</MsgHead>").unwrap();
    let sign = [
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-outform",
        "DER",
        "-in",
        "payload.xml",
        "-signer",
        "kommune-sign.crt",
        "-inkey",
        "kommune-sign.key",
        "-out",
        "signed.der",
    ];
    run("openssl", &sign, dir);
    let encrypt = [
        "cms",
        "-encrypt",
        "-binary",
        "-aes-256-cbc",
        "-inform",
        "DER",
        "-outform",
        "DER",
        "-in",
        "signed.der",
        "-out",
        "packed.der",
        "kpr-enc.crt",
    ];
    run("openssl", &encrypt, dir);
    let decrypt = [
        "cms",
        "-decrypt",
        "-inform",
        "DER",
        "-outform",
        "DER",
        "-in",
        "packed.der",
        "-recip",
        "kpr-enc.crt",
        "-inkey",
        "kpr-enc.key",
        "-out",
        "opened.der",
    ];
    run("openssl", &decrypt, dir);
    let verify = [
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        "opened.der",
        "-CAfile",
        "ca.crt",
        "-out",
        "verified.xml",
    ];
    run("openssl", &verify, dir);
    assert_eq!(
        std::fs::read_to_string(dir.join("verified.xml")).unwrap(),
        "<MsgHead>test</MsgHead>"
    );
}

#[test]
fn refuses_bad_arguments_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec![], vec!["x", "many"]] {
        let out = Command::new(script())
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
}
