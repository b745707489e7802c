//! `kpr-bridge annual` as an operator runs it: a dry run, the refusals that protect the
//! register, and a real send over RabbitMQ to the local KPR test receiver, which answers
//! both shipments — with a second send refused while their receipts are pending.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kpr_bridge::config::Config;
use kpr_bridge::config::delivery::Queues;
use kpr_bridge::message::iplos37::{self, FAGMELDING, IDENTMELDING};
use kpr_bridge::message::schema::Schemas;
use kpr_bridge::shipping::Shipping;
use kpr_bridge::store::outbox::State;
use support::amqp;
use support::daily::{MAPPING, ORGNR, ident_number};
use tokio::sync::watch;

struct Municipality {
    dir: tempfile::TempDir,
    queues: Queues,
}

impl Municipality {
    /// A municipality in `mode` sending over RabbitMQ to queues of its own.
    fn new(test: &str, mode: &str) -> Municipality {
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
[contact]
name = "Ida IPLOS"
email = "iplos@example.no"
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

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the extract: three persons, one of them the test user Donald Duck, and
    /// `services` as rows after the header.
    fn extract(&self, services: &[&str]) {
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

    fn annual(&self, args: &[&str]) -> Output {
        annual(&self.path("kpr-bridge.toml"), args)
    }

    fn config(&self) -> Config {
        Config::load(&self.path("kpr-bridge.toml")).unwrap()
    }
}

/// `kpr-bridge annual` with `config`, without a terminal.
fn annual(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
        .arg("annual")
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_dry_run_writes_both_messages_validated_and_sends_nothing() {
    let municipality = Municipality::new("annual-dry", "test");
    let out = municipality.path("out");
    let output = municipality.annual(&[
        "--year",
        "2025",
        "--target",
        "validation",
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let file = |prefix: &str| {
        let name = files
            .iter()
            .find(|f| f.file_name().unwrap().to_str().unwrap().starts_with(prefix))
            .unwrap();
        std::fs::read(name).unwrap()
    };
    let (ipl, ide) = (file("KPR_IPL-2025-"), file("KPR_IDE-2025-"));
    let schemas = Schemas::load(&[]).unwrap();
    schemas.validate_payload(FAGMELDING, &ipl).unwrap();
    schemas.validate_payload(IDENTMELDING, &ide).unwrap();
    let fagmelding = iplos37::read_ipl(&ipl).unwrap();
    // Persons 1 (clipped service), 2 and 3 (a refusal); the test user is not there.
    assert_eq!(fagmelding.persons.len(), 3);
    assert_eq!(fagmelding.header.contact.unwrap().name, "Ida IPLOS");
    let (_, identities) = iplos37::read_ide(&ide).unwrap();
    assert_eq!(identities.len(), 3);
    assert!(identities.iter().all(|(_, i)| *i != ident_number(4)));
    for n in 1..=4 {
        assert!(!String::from_utf8_lossy(&ipl).contains(&ident_number(n)));
    }
    // Nothing in the store: no state directory was even needed.
    assert!(!municipality.path("state").join("outbox").exists());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let persons = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("persons"))
        .map(str::trim);
    assert_eq!(persons, Some("3"), "{stdout}");
}

#[test]
fn the_register_is_protected_from_what_it_must_not_get() {
    let test = Municipality::new("annual-refuse", "test");
    // The register takes no annual data after 2025.
    let output = test.annual(&["--year", "2026", "--target", "production", "--yes"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("no annual data after 2025"));
    // Test data does not go to production.
    let output = test.annual(&["--year", "2025", "--target", "production", "--yes"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("mode is \"test\""));
    // Without a terminal to ask on, only --yes sends.
    let output = test.annual(&["--year", "2025", "--target", "validation"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--yes"));
    // Errors stop the send and are listed; nothing enters the outbox.
    test.extract(&["s1;p1;PRAKT;granted;;2025-01-01;;3;;;"]);
    let output = test.annual(&["--year", "2025", "--target", "validation", "--yes"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("orgnr-missing"), "{}", text(&output));
    assert!(text(&output).contains("--allow-errors"));
    support::block_on(|| async {
        let shipping = Shipping::open(test.config()).await.unwrap();
        assert!(shipping.store.entries().await.unwrap().is_empty());
        shipping.store.close().await;
    });
}

#[test]
fn both_shipments_are_delivered_and_a_second_send_waits_for_their_receipts() {
    let municipality = Municipality::new("annual-send", "test");
    let dir = municipality.path("receiver");
    std::fs::create_dir_all(&dir).unwrap();
    support::block_on(|| async {
        let queues = municipality.queues.clone();
        amqp::declare(&queues).await;
        let receiver = support::delivery::receiver(&dir, &queues, "", "");
        let (stop, shutdown) = watch::channel(false);
        let running = tokio::spawn(async move { receiver.run(shutdown).await });

        // The receiver runs on this thread's runtime: the command runs beside it.
        let config = municipality.path("kpr-bridge.toml");
        let run = |args: &'static [&'static str]| {
            let config = config.clone();
            async move {
                tokio::task::spawn_blocking(move || annual(&config, args))
                    .await
                    .unwrap()
            }
        };
        let first = run(&["--year", "2025", "--target", "validation", "--yes"]).await;
        assert_eq!(first.status.code(), Some(0), "{}", text(&first));
        assert!(text(&first).contains("2 message(s) handed to the transport"));

        // Until their receipts are checked, the year is not sent again …
        let again = run(&["--year", "2025", "--target", "validation", "--yes"]).await;
        assert_eq!(again.status.code(), Some(1), "{}", text(&again));
        assert!(
            text(&again).contains("awaits its receipt"),
            "{}",
            text(&again)
        );

        // … unless forced, which says what it overrides.
        let forced = run(&[
            "--year",
            "2025",
            "--target",
            "validation",
            "--yes",
            "--force",
        ])
        .await;
        assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
        assert!(
            text(&forced).contains("--force: sending although 2 earlier message(s) of 2025 to validation await their receipts"),
            "{}",
            text(&forced)
        );

        let shipping = Shipping::open(municipality.config()).await.unwrap();
        let sent = shipping
            .store
            .annual_sent(2025, "validation")
            .await
            .unwrap();
        let types: Vec<&str> = sent.iter().map(|s| s.msg_type.as_str()).collect();
        assert_eq!(
            types,
            [IDENTMELDING, FAGMELDING, IDENTMELDING, FAGMELDING],
            "the identity message goes first"
        );
        assert_eq!(sent[0].shipment, sent[1].shipment);
        assert_ne!(sent[1].shipment, sent[2].shipment);
        for message in &sent {
            let mut state = State::Sent;
            for _ in 0..300 {
                shipping.collect().await.unwrap();
                state = shipping
                    .store
                    .state(&message.msg_id)
                    .await
                    .unwrap()
                    .unwrap();
                if state != State::Sent && state != State::Queued {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(
                state,
                State::Delivered,
                "{} {}",
                message.msg_type,
                message.msg_id
            );
        }
        shipping.store.close().await;

        let _ = stop.send(true);
        let _ = running.await;
        amqp::delete(&queues).await;
    });
}

#[test]
fn an_official_schema_given_on_the_command_line_replaces_the_built_in_one() {
    let municipality = Municipality::new("annual-schema", "test");
    // A stand-in for an official XSD that wants the fagmelding otherwise: here, empty.
    let xsd = municipality.path("official-ipl.xsd");
    std::fs::write(
        &xsd,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{}"
           elementFormDefault="qualified">
  <xs:element name="Fagmelding"><xs:complexType/></xs:element>
</xs:schema>"#,
            iplos37::NAMESPACE
        ),
    )
    .unwrap();
    let out = municipality.path("out");
    let output = municipality.annual(&[
        "--year",
        "2025",
        "--target",
        "validation",
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
        "--schema-ipl",
        xsd.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("does not validate"),
        "{}",
        text(&output)
    );
    assert!(text(&output).contains("KPR_IPL"), "{}", text(&output));
}
