//! NHN's receivers are AMQP 1.0 clients. An independent AMQP 1.0 peer —
//! `tests/peer/kpr_peer.py`, on python-qpid-proton, a stack that shares nothing with ours —
//! reads from RabbitMQ (with its AMQP 1.0 plugin) what `kpr-bridge daily` and `annual`
//! publish, and answers as KPR and NHN would, over AMQP 1.0.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use chrono::Utc;
use kpr_bridge::config::delivery::{Interop, Transport};
use kpr_bridge::message::apprec::{self, Status};
use kpr_bridge::model::register::Target;
use kpr_bridge::receiver;
use kpr_bridge::shipping::Shipping;
use kpr_bridge::store::outbox::State;
use serde::Deserialize;
use support::amqp;
use support::delivery::{PAYLOAD, answered, municipality_config, repo};
use support::forged;
use support::municipality::Municipality;

/// One message as the peer saw it.
#[derive(Debug, Deserialize)]
struct Seen {
    message_id: String,
    to: Option<String>,
    subject: Option<String>,
    reply_to: Option<String>,
    content_type: Option<String>,
    creation_time: Option<i64>,
    application_properties: BTreeMap<String, String>,
    body_length: usize,
}

/// The peer's `command` with `args`, on the loopback broker.
fn peer(command: &str, args: &[&str]) -> Output {
    Command::new("python3")
        .arg(repo("tests/peer/kpr_peer.py"))
        .args([command, "--url", "amqp://guest:guest@127.0.0.1:5672"])
        .args(args)
        .output()
        .expect("python3 runs (ops/services.sh installs python-qpid-proton)")
}

fn said(output: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The peer sends one message to `queue` over AMQP 1.0, with string application properties.
fn peer_send(queue: &str, body: &Path, message_id: &str, subject: &str, props: &[(&str, &str)]) {
    let props: Vec<String> = props.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut args = vec![
        "--queue",
        queue,
        "--body-file",
        body.to_str().unwrap(),
        "--message-id",
        message_id,
        "--subject",
        subject,
        "--to",
        queue,
        "--reply-to",
        "171479_async",
        "--correlation-id",
        message_id,
        "--content-type",
        kpr_bridge::transport::properties::CONTENT_TYPE,
    ];
    for prop in &props {
        args.extend(["--prop", prop.as_str()]);
    }
    let output = peer("send", &args);
    assert_eq!(output.status.code(), Some(0), "{}", said(&output));
}

#[test]
fn an_amqp10_peer_sees_every_property_and_its_answers_are_taken() {
    let municipality = Municipality::new("peer10", "test");
    let queues = municipality.queues.clone();
    support::block_on(|| async {
        amqp::declare(&queues).await;
        let daily = municipality.daily(&["--initial", "--date", "2026-01-05"]);
        assert!(
            matches!(daily.status.code(), Some(0 | 1)),
            "{}",
            said(&daily)
        );
        let annual = municipality.annual(&["--year", "2025", "--target", "validation", "--yes"]);
        assert_eq!(annual.status.code(), Some(0), "{}", said(&annual));

        let shipping = Shipping::open(municipality.config()).await.unwrap();
        let entries = shipping.store.entries().await.unwrap();
        let types: Vec<&str> = entries.iter().map(|e| e.msg_type.as_str()).collect();
        assert_eq!(entries.len(), 3, "{types:?}");

        let count = entries.len().to_string();
        let received = peer(
            "receive",
            &["--queue", &queues.kpr, "--count", &count, "--timeout", "30"],
        );
        assert_eq!(received.status.code(), Some(0), "{}", said(&received));
        let seen: Vec<Seen> = String::from_utf8(received.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(seen.len(), entries.len());
        let mut subjects = Vec::new();
        for message in &seen {
            let entry = entries
                .iter()
                .find(|e| e.msg_id == message.message_id)
                .unwrap_or_else(|| panic!("{message:?} is not in the outbox"));
            assert_eq!(message.subject.as_deref(), Some(entry.msg_type.as_str()));
            assert_eq!(message.to.as_deref(), Some(queues.kpr.as_str()));
            assert_eq!(message.reply_to.as_deref(), Some(queues.receipts.as_str()));
            assert!(
                message
                    .content_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("application/pkcs7-mime")),
                "{message:?}"
            );
            let app = &message.application_properties;
            assert_eq!(app.get("fromHerId").map(String::as_str), Some("67890"));
            assert_eq!(app.get("toHerId").map(String::as_str), Some("171479"));
            let stamp = chrono::DateTime::parse_from_rfc3339(&app["applicationTimeStamp"])
                .expect("applicationTimeStamp is an RFC 3339 time");
            assert_eq!(message.creation_time, Some(stamp.timestamp_millis()));
            assert_eq!(message.body_length as i64, entry.size, "{message:?}");
            subjects.push(entry.msg_type.clone());
        }
        subjects.sort();
        assert_eq!(subjects, ["KPR_IDE", "KPR_IPL", "KPR_KTT"]);

        // KPR answers the fagmelding with an AppRec (status 1), over AMQP 1.0 …
        let ipl = entries.iter().find(|e| e.msg_type == "KPR_IPL").unwrap();
        let ide = entries.iter().find(|e| e.msg_type == "KPR_IDE").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let receipt = receiver::receipt(
            &ipl.msg_id,
            "KPR_IPL",
            "171479",
            "67890",
            Status::Ok,
            vec![],
        );
        let body = dir.path().join("apprec.p7m");
        std::fs::write(&body, forged::pack("kpr", &apprec::write(&receipt))).unwrap();
        let stamp = Utc::now().to_rfc3339();
        peer_send(
            &queues.receipts,
            &body,
            &uuid::Uuid::new_v4().to_string(),
            "AppRec",
            &[
                ("fromHerId", "171479"),
                ("toHerId", "67890"),
                ("applicationTimeStamp", &stamp),
            ],
        );
        // … and NHN reports the identity message undeliverable, on our error queue.
        peer_send(
            &queues.errors,
            Path::new("/dev/null"),
            &uuid::Uuid::new_v4().to_string(),
            "",
            &[
                ("errorCondition", "transport:invalid-certificate"),
                ("errorDescription", "the certificate is not the receiver's"),
                ("originalMessageId", &ide.msg_id),
                ("fromHerId", "171479"),
                ("toHerId", "67890"),
                ("applicationTimeStamp", &stamp),
            ],
        );
        let collected = shipping.collect().await.unwrap();
        assert_eq!(collected.taken.len(), 2, "{:?}", collected.taken);
        let state = |msg_id: String| {
            let store = shipping.store.clone();
            async move { store.state(&msg_id).await.unwrap() }
        };
        assert_eq!(state(ipl.msg_id.clone()).await, Some(State::Delivered));
        assert_eq!(state(ide.msg_id.clone()).await, Some(State::Error));
        let last = shipping
            .store
            .transitions(&ide.msg_id)
            .await
            .unwrap()
            .pop()
            .unwrap();
        assert!(
            last.detail
                .unwrap()
                .starts_with("transport:invalid-certificate"),
        );
        amqp::delete(&queues).await;
    });
}

#[test]
fn the_test_receiver_refuses_what_an_amqp10_receiver_would_not_see() {
    let dir = tempfile::tempdir().unwrap();
    let queues = amqp::queues("plain");
    support::block_on(|| async {
        amqp::declare(&queues).await;
        let mut config = municipality_config(dir.path(), &amqp::broker_url(), &queues);
        let Some(Transport::Amqp { broker, .. }) =
            config.delivery.as_mut().map(|d| &mut d.transport)
        else {
            panic!("the test configuration sends over AMQP");
        };
        broker.interop = Interop::Plain;
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = shipping
            .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
            .await
            .unwrap();
        assert_eq!(shipping.flush().await.unwrap(), 1);

        let state = answered(&shipping, dir.path(), &queues, &msg_id).await;
        amqp::delete(&queues).await;
        assert_eq!(state, State::Error);
        let detail = shipping
            .store
            .transitions(&msg_id)
            .await
            .unwrap()
            .pop()
            .unwrap()
            .detail
            .unwrap();
        assert!(
            detail.starts_with("transport:invalid-field-value")
                && detail.contains("fromHerId is missing")
                && detail.contains("x-amqp-1.0-app-properties"),
            "{detail}"
        );
    });
}
