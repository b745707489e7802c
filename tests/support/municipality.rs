//! A municipality of the tests as an operator sets one up: a configuration sending over
//! RabbitMQ to queues of its own, and a small extract (three persons and the test user Donald
//! Duck), for the tests that run the built `kpr-bridge` as a command.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kpr_bridge::config::Config;
use kpr_bridge::config::delivery::Queues;

use super::amqp;
use super::daily::{MAPPING, ORGNR, ident_number};

pub struct Municipality {
    pub dir: tempfile::TempDir,
    pub queues: Queues,
}

impl Municipality {
    /// A municipality in `mode` sending over RabbitMQ to queues of its own.
    pub fn new(test: &str, mode: &str) -> Municipality {
        let dir = tempfile::tempdir().unwrap();
        let queues = amqp::queues(test);
        let root = dir.path();
        std::fs::write(root.join("mapping.toml"), MAPPING).unwrap();
        let config = format!(
            r#"
mode = "{mode}"
data_dir = "{root}/state"
mapping = "{root}/mapping.toml"
[municipality]
number = "4601"
name = "Bergen"
orgnr = "964338531"
[her_id]
municipality = "12345"
service_unit = "67890"
[[source]]
name = "epj"
kind = "extract"
path = "{root}/extract"
product = "Test-EPJ"
version = "1.0"
[delivery]
transport = "amqp"
[amqp]
url = "{url}"
exchange = ""
kpr_queue = "{kpr}"
receipt_queue = "{receipts}"
error_queue = "{errors}"
{certificates}"#,
            root = root.display(),
            url = amqp::broker_url(),
            kpr = queues.kpr,
            receipts = queues.receipts,
            errors = queues.errors,
            certificates = amqp::municipality_certificates(),
        );
        std::fs::write(root.join("kpr-bridge.toml"), config).unwrap();
        let municipality = Municipality { dir, queues };
        municipality.extract(&[
            "s1;p1;MATOMBR;granted;2024-09-20;2024-10-01;2025-02-28;;;;",
            &format!("s2;p2;PRAKT;granted;2025-01-10;2025-01-15;;7.5;{ORGNR};;"),
            "s3;p3;TRYGGH;refused;2025-05-01;;;;;;",
        ]);
        municipality
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the extract: three persons, one of them the test user Donald Duck, and
    /// `services` as rows after the header.
    pub fn extract(&self, services: &[&str]) {
        let dir = self.path("extract");
        std::fs::create_dir_all(&dir).unwrap();
        let persons = format!(
            "person_id;ident;name;birth_year;gender;municipality;district;household\n\
             p1;{};;1940;K;4601;;\np2;{};;1941;M;4601;;\np3;{};;1950;K;4601;;\n\
             p4;{};Donald Duck;1934;M;4601;;\n",
            ident_number(1),
            ident_number(2),
            ident_number(3),
            ident_number(4),
        );
        std::fs::write(dir.join("persons.csv"), persons).unwrap();
        let mut rows = String::from(
            "service_id;person_id;local_type;decision;decided_on;start_date;end_date;hours_per_week;provider_orgnr;pause_from;pause_to\n",
        );
        for row in services
            .iter()
            .copied()
            .chain(["s4;p4;MATOMBR;granted;;2025-01-01;;;;;"])
        {
            rows.push_str(row);
            rows.push('\n');
        }
        std::fs::write(dir.join("services.csv"), rows).unwrap();
        std::fs::write(dir.join("READY"), "").unwrap();
    }

    /// `kpr-bridge daily` with this configuration and `args`.
    pub fn daily(&self, args: &[&str]) -> Output {
        command("daily", &self.path("kpr-bridge.toml"), args)
    }

    /// Adds `line` to `section` (such as `[delivery]`) of the configuration.
    pub fn set(&self, section: &str, line: &str) {
        let file = self.path("kpr-bridge.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        let edited = text.replacen(&format!("{section}\n"), &format!("{section}\n{line}\n"), 1);
        assert_ne!(edited, text, "{section} is in the configuration");
        std::fs::write(&file, edited).unwrap();
    }

    pub fn annual(&self, args: &[&str]) -> Output {
        annual(&self.path("kpr-bridge.toml"), args)
    }

    pub fn config(&self) -> Config {
        Config::load(&self.path("kpr-bridge.toml")).unwrap()
    }
}

/// `kpr-bridge annual` with `config`, without a terminal.
pub fn annual(config: &Path, args: &[&str]) -> Output {
    command("annual", config, args)
}

/// `kpr-bridge <name> --config <config> <args>`, without a terminal.
fn command(name: &str, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
        .arg(name)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}
