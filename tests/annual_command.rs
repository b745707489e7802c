//! `kpr-bridge annual` as an operator runs it: a dry run, the refusals that protect the
//! register, and a real send over RabbitMQ to the local KPR test receiver, which answers
//! both shipments — with a second send refused while their receipts are pending.

mod support;

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use kpr_bridge::message::ident;
use kpr_bridge::message::iplos37::{self, FAGMELDING, IDENTMELDING};
use kpr_bridge::message::schema::Schemas;
use kpr_bridge::shipping::Shipping;
use kpr_bridge::store::outbox::State;
use support::amqp;
use support::daily::ident_number;
use support::municipality::{Municipality, annual};
use tokio::sync::watch;

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
    let contacts: Vec<(&str, &str)> = fagmelding
        .contacts
        .iter()
        .map(|(kind, name)| (kind.as_str(), name.as_str()))
        .collect();
    assert_eq!(contacts, [("16", "Ida IPLOS"), ("17", "Ida IPLOS")]);
    assert_eq!(
        fagmelding.running_number,
        Some(1),
        "a dry run shows the next number"
    );
    let identities = ident::read_ide(&ide).unwrap();
    assert_eq!(identities.persons.len(), 3);
    assert_eq!(identities.contact_types, ["16", "17"]);
    assert_eq!(
        identities.institution, "964338531",
        "the municipality's orgnr"
    );
    assert!(
        identities
            .persons
            .iter()
            .all(|(_, fid, _)| *fid != ident_number(4))
    );
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
fn a_message_larger_than_the_network_takes_is_refused_before_the_outbox() {
    let test = Municipality::new("annual-size", "test");
    test.set("[delivery]", "max_message_bytes = 2048");
    let output = test.annual(&["--year", "2025", "--target", "validation", "--yes"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let said = text(&output);
    assert!(
        said.contains("KPR_IDE packed is ")
            && said.contains("more than delivery.max_message_bytes (2048 bytes)")
            && said.contains("nothing was sent"),
        "{said}"
    );
    support::block_on(|| async {
        let shipping = Shipping::open(test.config()).await.unwrap();
        assert!(shipping.store.entries().await.unwrap().is_empty());
        let outbox = test.path("state").join("outbox");
        let left = std::fs::read_dir(&outbox).map_or(0, |d| d.count());
        assert_eq!(left, 0, "no packed file is left in {}", outbox.display());
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
            iplos37::namespace(2025)
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
