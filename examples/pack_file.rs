//! Packs one file as the municipality sends it to KPR (or unpacks one as KPR receives it),
//! with the test certificates of `ops/make-test-certs.sh`, and prints how long the packing
//! itself took. `benches/pack.sh` runs it against the `openssl cms` tool.
//!
//! ```sh
//! cargo run --release --example pack_file -- pack CERT_DIR document.xml packed.der
//! cargo run --release --example pack_file -- unpack CERT_DIR packed.der document.xml
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use kpr_bridge::crypto::{CertificateFiles, Keys};

/// The municipality packs to KPR; KPR unpacks from the municipality.
fn files(certs: &Path, side: &str, other: &str) -> CertificateFiles {
    let file = |name: String| certs.join(name);
    CertificateFiles {
        signing_certificate: file(format!("{side}-sign.crt")),
        signing_key: file(format!("{side}-sign.key")),
        encryption_certificate: file(format!("{side}-enc.crt")),
        encryption_key: file(format!("{side}-enc.key")),
        previous_encryption: None,
        peer_encryption_certificate: file(format!("{other}-enc.crt")),
        trust: vec![file("ca.crt".into())],
        pinned_signers: Vec::new(),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [direction, certs, input, output] = &args[..] else {
        eprintln!("usage: pack_file pack|unpack CERT_DIR IN OUT");
        return ExitCode::from(2);
    };
    let certs = PathBuf::from(certs);
    let files = match direction.as_str() {
        "pack" => files(&certs, "kommune", "kpr"),
        "unpack" => files(&certs, "kpr", "kommune"),
        _ => {
            eprintln!("pack_file: '{direction}' is neither pack nor unpack");
            return ExitCode::from(2);
        }
    };
    let keys = match Keys::load(&files) {
        Ok(loaded) => loaded.keys,
        Err(e) => {
            eprintln!("pack_file: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(input) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("pack_file: cannot read {input}: {e}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let result = if direction == "pack" {
        keys.pack(&bytes).map_err(|e| e.to_string())
    } else {
        keys.unpack(&bytes)
            .map(|opened| opened.content)
            .map_err(|e| e.to_string())
    };
    let seconds = start.elapsed().as_secs_f64();
    let result = match result {
        Ok(result) => result,
        Err(e) => {
            eprintln!("pack_file: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(output, &result) {
        eprintln!("pack_file: cannot write {output}: {e}");
        return ExitCode::FAILURE;
    }
    // The document's size either way, so that both directions are rated alike.
    let document = if direction == "pack" {
        bytes.len()
    } else {
        result.len()
    };
    println!(
        "{direction} {document} bytes {seconds:.4} s {:.1} MB/s",
        document as f64 / 1e6 / seconds
    );
    ExitCode::SUCCESS
}
