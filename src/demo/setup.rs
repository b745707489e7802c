//! The demo's files besides the data: the sample mapping (compiled in, since the binary may
//! run far from the repository), the municipality's configuration and the test receiver's,
//! with paths relative to the demo directory so that it can be moved and looked at.

use std::path::{Path, PathBuf};

/// `mappings/sample-epj.toml`, which maps what `generate` writes.
const SAMPLE_MAPPING: &str = include_str!("../../mappings/sample-epj.toml");

/// Where things are in the demo directory, relative to it.
pub const CERTIFICATES: &str = "certs";
pub const EXTRACT: &str = "extract";
pub const REPORT: &str = "report.html";
/// Where the demo's EPJ writes its IPLOS 3.7 extract each night (`demo --iplos`).
pub const IPLOS_EXPORT: &str = "iplos-export";
const OUTGOING: &str = "spool/out";
const RECEIPTS: &str = "spool/in";

/// The municipality's configuration: test mode, SQLite in `state/`, the extract as its one
/// source, the spool both ways, the test certificates.
const MUNICIPALITY: &str = r#"# kpr-bridge demo: the municipality's configuration (test mode, synthetic data only).
# Every option is described in ops/examples/kpr-bridge.toml.
mode = "test"
data_dir = "state"
mapping = "mappings/sample-epj.toml"

[municipality]
number = "4601"
name = "Bergen"
orgnr = "964338531"

[her_id]
municipality = "12345"
service_unit = "67890"

[[contact]]
type = 16
name = "IPLOS-kontakt (demo)"
email = "iplos@example.invalid"

[[contact]]
type = 17
name = "IPLOS-innsending (demo)"
email = "iplos@example.invalid"

[[source]]
name = "sample-epj"
kind = "extract"
path = "extract"
product = "Sample EPJ"
version = "1.0"

[delivery]
transport = "spool"
spool_dir = "spool/out"
spool_receipts_dir = "spool/in"

[certificates]
signing_certificate = "certs/kommune-sign.crt"
signing_key = "certs/kommune-sign.key"
encryption_certificate = "certs/kommune-enc.crt"
encryption_key = "certs/kommune-enc.key"
kpr_encryption_certificate = "certs/kpr-enc.crt"
trust = ["certs/ca.crt"]
kpr_signing_certificates = ["certs/kpr-sign.crt"]
"#;

/// The local KPR test receiver's: KPR's test pairs, answering the municipality's spool.
const RECEIVER: &str = r#"# kpr-bridge demo: the local KPR test receiver (`kpr-bridge receiver --config receiver.toml`).
# Every option is described in ops/examples/receiver.toml.
[spool]
in = "spool/out"
out = "spool/in"

[certificates]
signing_certificate = "certs/kpr-sign.crt"
signing_key = "certs/kpr-sign.key"
encryption_certificate = "certs/kpr-enc.crt"
encryption_key = "certs/kpr-enc.key"
municipality_encryption_certificate = "certs/kommune-enc.crt"
trust = ["certs/ca.crt"]
"#;

/// The configuration files written.
pub struct Written {
    pub municipality: PathBuf,
    /// The same municipality reading its EPJ's IPLOS extract instead (`demo --iplos`).
    pub iplos: PathBuf,
    pub receiver: PathBuf,
}

/// The municipality's configuration with the IPLOS directory as its one source.
fn iplos_configuration() -> String {
    MUNICIPALITY.replace(
        "kind = \"extract\"\npath = \"extract\"",
        &format!("kind = \"iplos\"\npath = \"{IPLOS_EXPORT}\"\n# The demo's EPJ writes each file whole at once.\nsettle_seconds = 0"),
    )
}

/// Writes the mapping and both configurations into `dir`, and makes the spool directories.
pub fn write(dir: &Path) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir.join("mappings"))?;
    std::fs::write(dir.join("mappings/sample-epj.toml"), SAMPLE_MAPPING)?;
    for spool in [OUTGOING, RECEIPTS] {
        std::fs::create_dir_all(dir.join(spool))?;
    }
    let written = Written {
        municipality: dir.join("kpr-bridge.toml"),
        iplos: dir.join("kpr-bridge-iplos.toml"),
        receiver: dir.join("receiver.toml"),
    };
    std::fs::write(&written.municipality, MUNICIPALITY)?;
    std::fs::write(&written.iplos, iplos_configuration())?;
    std::fs::write(&written.receiver, RECEIVER)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::delivery::Transport;
    use crate::config::receiver::{ReceiverConfig, ReceiverTransport};

    #[test]
    fn both_configurations_load_and_meet_at_the_spool() {
        let dir = tempfile::tempdir().unwrap();
        let written = write(dir.path()).unwrap();
        let municipality = Config::load(&written.municipality).unwrap();
        let receiver = ReceiverConfig::load(&written.receiver).unwrap();
        let Some(Transport::Spool {
            dir: out,
            receipts: Some(receipts),
        }) = municipality.delivery.map(|d| d.transport)
        else {
            panic!("the demo delivers through the spool both ways");
        };
        assert_eq!(
            receiver.transport,
            ReceiverTransport::Spool {
                incoming: out,
                answers: receipts
            }
        );
        assert!(
            municipality.sources[0]
                .mapping
                .as_ref()
                .is_some_and(|m| m.is_file())
        );
    }
}
