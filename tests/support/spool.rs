//! A municipality of the tests that delivers through the spool: a configuration, an extract
//! of two persons, and `kpr-bridge daily` and `resend` run as commands.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::daily::{MAPPING, ident_number};

pub struct Municipality {
    pub dir: tempfile::TempDir,
}

impl Municipality {
    pub fn new() -> Municipality {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("mapping.toml"), MAPPING).unwrap();
        let config = format!(
            r#"
mode = "test"
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
transport = "spool"
spool_dir = "{root}/spool"
{certificates}"#,
            root = root.display(),
            certificates = super::amqp::municipality_certificates(),
        );
        std::fs::write(root.join("kpr-bridge.toml"), config).unwrap();
        Municipality { dir }
    }

    /// Appends to the configuration.
    pub fn config_line(&self, text: &str) {
        let file = self.path("kpr-bridge.toml");
        let config = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, format!("{config}\n{text}")).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the extract: `services` as CSV rows after the header.
    pub fn extract(&self, services: &[&str]) {
        let dir = self.path("extract");
        std::fs::create_dir_all(&dir).unwrap();
        let persons = format!(
            "person_id;ident;name;birth_year;gender;municipality;district;household\np1;{};;1940;K;4601;;\np2;{};;1941;M;4601;;\n",
            ident_number(1),
            ident_number(2)
        );
        std::fs::write(dir.join("persons.csv"), persons).unwrap();
        let mut rows = String::from(
            "service_id;person_id;local_type;decision;decided_on;start_date;end_date;hours_per_week;provider_orgnr;pause_from;pause_to\n",
        );
        for row in services {
            rows.push_str(row);
            rows.push('\n');
        }
        std::fs::write(dir.join("services.csv"), rows).unwrap();
        std::fs::write(dir.join("READY"), "").unwrap();
    }

    pub fn daily(&self, args: &[&str], failpoint: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"));
        command
            .arg("daily")
            .arg("--config")
            .arg(self.path("kpr-bridge.toml"))
            .args(args);
        if let Some(name) = failpoint {
            command.env("KPR_BRIDGE_FAILPOINT", name);
        }
        command.output().unwrap()
    }

    /// Messages in the spool (each is a `.p7m` with its `.json` properties).
    pub fn spooled(&self) -> usize {
        std::fs::read_dir(self.path("spool")).map_or(0, |dir| {
            dir.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "p7m")
            })
            .count()
        })
    }

    pub fn dump(&self) -> Vec<String> {
        let file = self.path("state").join(kpr_bridge::store::SQLITE_FILE);
        let mut rows = Vec::new();
        super::block_on(|| async {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            rows = super::daily::dump(&pool).await;
            pool.close().await;
        });
        rows
    }
}

impl Municipality {
    /// Runs `kpr-bridge resend` with `args`.
    pub fn resend(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
            .arg("resend")
            .arg("--config")
            .arg(self.path("kpr-bridge.toml"))
            .args(args)
            .output()
            .unwrap()
    }
}
