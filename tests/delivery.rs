//! Delivery end to end on the real broker: the municipality sends, the local KPR test
//! receiver answers, and the outbox ends where KPR's answer says — with real certificates,
//! real CMS, real XSD validation and RabbitMQ on loopback. Each test has its own queues,
//! certificates, state directory and receiver.

mod support;

use std::time::Duration;

use chrono::Utc;
use kpr_bridge::config::delivery::Queues;
use kpr_bridge::model::register::Target;
use kpr_bridge::receiver::Receiver;
use kpr_bridge::shipping::Shipping;
use kpr_bridge::store::outbox::State;
use kpr_bridge::transport::amqp::Amqp;
use support::amqp::{self, cert};
use support::delivery::{PAYLOAD, municipality_config, municipality_spool_config, receiver, repo};
use tokio::sync::watch;

/// Runs `scenario` with fresh queues and a running receiver; cleans up after.
fn with_receiver<F, Fut>(name: &str, xsd: &'static str, rules: &'static str, scenario: F)
where
    F: FnOnce(Shipping, Receiver, Queues) -> Fut + Send,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let queues = amqp::queues(name);
    let dir_path = dir.path().to_path_buf();
    support::block_on(|| async move {
        amqp::declare(&queues).await;
        let receiver = receiver(&dir_path, &queues, xsd, rules);
        let (stop, shutdown) = watch::channel(false);
        let running = tokio::spawn({
            let receiver = receiver.clone();
            async move { receiver.run(shutdown).await }
        });
        let config = municipality_config(&dir_path, &amqp::broker_url(), &queues);
        let shipping = Shipping::open(config).await.unwrap();
        scenario(shipping, receiver, queues.clone()).await;
        let _ = stop.send(true);
        let _ = running.await;
        amqp::delete(&queues).await;
    });
}

/// Collects receipts until `msg_id` leaves `sent`, or fails after 30 s.
async fn wait_for_answer(shipping: &Shipping, msg_id: &str) -> State {
    for _ in 0..300 {
        shipping.collect().await.unwrap();
        let state = shipping.store.state(msg_id).await.unwrap().unwrap();
        if state != State::Sent && state != State::Queued {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no answer for {msg_id} within 30 s");
}

#[test]
fn an_accepted_shipment_ends_delivered() {
    with_receiver(
        "ok",
        "tests/data/payload/test-payload.xsd",
        "",
        |shipping, _, _| async move {
            let msg_id = shipping
                .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
                .await
                .unwrap();
            assert_eq!(shipping.flush().await.unwrap(), 1);
            assert_eq!(wait_for_answer(&shipping, &msg_id).await, State::Delivered);
            let steps: Vec<State> = shipping
                .store
                .transitions(&msg_id)
                .await
                .unwrap()
                .iter()
                .map(|t| t.to)
                .collect();
            assert_eq!(steps, [State::Queued, State::Sent, State::Delivered]);
            let receipts = shipping.store.receipts(&msg_id).await.unwrap();
            assert_eq!((receipts[0].status, receipts[0].errors.len()), (1, 0));
        },
    );
}

#[test]
fn a_payload_the_receivers_schema_refuses_ends_rejected_with_t02() {
    // The receiver's schema is stricter than ours (every Service needs Hours): KPR's answer.
    with_receiver(
        "t02",
        "tests/data/payload/test-payload-strict.xsd",
        "",
        |shipping, _, _| async move {
            let msg_id = shipping
                .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
                .await
                .unwrap();
            shipping.flush().await.unwrap();
            assert_eq!(wait_for_answer(&shipping, &msg_id).await, State::Rejected);
            let receipt = &shipping.store.receipts(&msg_id).await.unwrap()[0];
            assert_eq!(receipt.status, 2);
            assert_eq!(receipt.errors[0].code, "T02");
            assert!(
                receipt.errors[0].text.contains("Hours"),
                "{:?}",
                receipt.errors
            );
        },
    );
}

#[test]
fn a_rule_answers_ok_with_errors_in_parts_and_the_message_counts_as_delivered() {
    with_receiver(
        "partly",
        "tests/data/payload/test-payload.xsd",
        "[[rule]]\ncontains = \"<Code>10</Code>\"\nstatus = 3\ncode = \"E35\"\ntext = \"Pasient ukjent\"\n",
        |shipping, _, _| async move {
            let msg_id = shipping
                .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
                .await
                .unwrap();
            shipping.flush().await.unwrap();
            assert_eq!(wait_for_answer(&shipping, &msg_id).await, State::Delivered);
            let receipt = &shipping.store.receipts(&msg_id).await.unwrap()[0];
            assert_eq!(receipt.status, 3);
            assert_eq!(
                (
                    receipt.errors[0].code.as_str(),
                    receipt.errors[0].text.as_str()
                ),
                ("E35", "Pasient ukjent")
            );
        },
    );
}

#[test]
fn a_message_without_the_required_properties_comes_back_on_our_error_queue() {
    with_receiver(
        "props",
        "tests/data/payload/test-payload.xsd",
        "",
        |shipping, _, queues| async move {
            let msg_id = shipping
                .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
                .await
                .unwrap();
            // Published by hand without toHerId and applicationTimeStamp, as a broken client would.
            let pending = shipping.store.pending(1).await.unwrap().remove(0);
            let amqp = Amqp::connect(&amqp::broker(), "test").await.unwrap();
            let publisher = amqp.publisher("").await.unwrap();
            let properties = lapin::BasicProperties::default()
                .with_message_id(msg_id.as_str().into())
                .with_reply_to(queues.receipts.as_str().into())
                .with_content_type(kpr_bridge::transport::properties::CONTENT_TYPE.into());
            publisher
                .publish(&queues.kpr, &pending.bytes().unwrap(), properties)
                .await
                .unwrap();
            shipping
                .store
                .transition(&msg_id, State::Sent, None, Utc::now())
                .await
                .unwrap();
            amqp.close().await;
            assert_eq!(wait_for_answer(&shipping, &msg_id).await, State::Error);
            let last = shipping
                .store
                .transitions(&msg_id)
                .await
                .unwrap()
                .pop()
                .unwrap();
            let detail = last.detail.unwrap();
            assert!(
                detail.starts_with("transport:invalid-field-value"),
                "{detail}"
            );
            assert!(
                detail.contains("toHerId") && detail.contains("applicationTimeStamp"),
                "{detail}"
            );
        },
    );
}

#[test]
fn a_packed_message_decrypts_and_verifies_with_the_openssl_tool() {
    let dir = tempfile::tempdir().unwrap();
    let queues = amqp::queues("cli");
    let config = municipality_config(dir.path(), &amqp::broker_url(), &queues);
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let payload = std::fs::read(repo(PAYLOAD)).unwrap();
        let message = shipping
            .pack(&payload, "KPR_IPL", Target::Validation, "report.xml")
            .unwrap();
        let packed = dir.path().join("message.p7m");
        std::fs::write(&packed, &message.body).unwrap();
        let signed = dir.path().join("signed.der");
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        run(&[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            packed.to_str().unwrap(),
            "-recip",
            cert("kpr-enc.crt").to_str().unwrap(),
            "-inkey",
            cert("kpr-enc.key").to_str().unwrap(),
            "-out",
            signed.to_str().unwrap(),
        ]);
        let document = run(&[
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            signed.to_str().unwrap(),
            "-CAfile",
            cert("ca.crt").to_str().unwrap(),
            "-purpose",
            "any",
        ]);
        let text = String::from_utf8(document).unwrap();
        assert!(
            text.contains(&format!("<MsgId>{}</MsgId>", message.msg_id)),
            "{text}"
        );
        assert!(text.contains("<Code>Helse &amp; omsorg</Code>"), "{text}");
        assert!(text.contains("171479"), "KPR Validering's HER-id in {text}");
    });
}

#[test]
fn a_payload_that_does_not_validate_never_enters_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let queues = amqp::queues("invalid");
    let config = municipality_config(dir.path(), &amqp::broker_url(), &queues);
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(repo(PAYLOAD))
            .unwrap()
            .replace("<Year>2025</Year>", "<Year>twenty</Year>"),
    )
    .unwrap();
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let error = shipping
            .enqueue_file(&bad, "KPR_IPL", Target::Validation)
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("bad.xml") && text.contains("T02"), "{text}");
        assert_eq!(error.exit_code(), 2);
        let unknown = shipping
            .enqueue_file(&repo(PAYLOAD), "KPR_XYZ", Target::Validation)
            .await
            .unwrap_err();
        assert!(unknown.to_string().contains("T10"), "{unknown}");
        assert!(shipping.store.entries().await.unwrap().is_empty());
    });
}

#[test]
fn a_message_to_a_missing_queue_stays_queued_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut queues = amqp::queues("missing");
    queues.kpr = format!("{}_never_declared", queues.kpr);
    let config = municipality_config(dir.path(), &amqp::broker_url(), &queues);
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = shipping
            .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
            .await
            .unwrap();
        let error = shipping.flush().await.unwrap_err();
        assert_eq!(error.exit_code(), 1);
        assert!(error.to_string().contains(&queues.kpr), "{error}");
        let entry = &shipping.store.entries().await.unwrap()[0];
        assert_eq!(
            (entry.msg_id.as_str(), entry.state),
            (msg_id.as_str(), State::Queued)
        );
        assert!(
            entry
                .last_problem
                .as_deref()
                .unwrap()
                .contains("Adresseregister")
        );
    });
}

#[test]
fn a_message_for_kpr_validering_goes_to_its_own_queue_when_the_register_s_is_another() {
    let dir = tempfile::tempdir().unwrap();
    let queues = amqp::queues("two-targets");
    let validation = format!("{}_validering", queues.kpr);
    let config = municipality_config(dir.path(), &amqp::broker_url(), &queues);
    support::block_on(|| async move {
        amqp::declare(&queues).await;
        let broker = amqp::broker();
        let connection = Amqp::connect(&broker, "test").await.unwrap();
        connection.declare_queue(&validation).await.unwrap();
        let shipping = Shipping::open(config).await.unwrap();
        let mut origin = shipping.origin();
        origin.queues.validation = Some(validation.clone());
        let mut sent = Vec::new();
        for target in [Target::Production, Target::Validation] {
            sent.push(
                shipping
                    .enqueue_file(&repo(PAYLOAD), "KPR_IPL", target)
                    .await
                    .unwrap(),
            );
        }
        let confirmed = kpr_bridge::transport::sender::send_once(&shipping.store, &broker, &origin)
            .await
            .unwrap();
        assert_eq!(confirmed, 2);
        let channel = connection.channel().await.unwrap();
        for (queue, msg_id) in [(&queues.kpr, &sent[0]), (&validation, &sent[1])] {
            let message = connection.get(&channel, queue).await.unwrap().unwrap();
            let id = message
                .delivery
                .properties
                .message_id()
                .as_ref()
                .unwrap()
                .to_string();
            assert_eq!(&id, msg_id, "{queue}");
            assert!(
                connection.get(&channel, queue).await.unwrap().is_none(),
                "{queue}"
            );
        }
        let _ = connection.delete_queue(&validation).await;
        connection.close().await;
        amqp::delete(&queues).await;
    });
}

/// The names of the files in `dir`, sorted; none if it is not there.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_payload_packed_from_its_file_is_delivered_and_leaves_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    with_receiver(
        "file",
        "tests/data/payload/test-payload.xsd",
        "",
        |shipping, _, _| async move {
            let message = shipping
                .pack_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation, "report.xml")
                .unwrap();
            let data = std::path::absolute(&shipping.config.data_dir).unwrap();
            let file = data.join("outbox").join(format!("{}.p7m", message.msg_id));
            assert_eq!(message.body_file.as_deref(), Some(file.as_path()));
            assert!(message.body.is_empty());
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the packed file is the bridge's own");
            assert_eq!(
                files_in(&data.join("outbox")),
                [format!("{}.p7m", message.msg_id)]
            );
            assert!(files_in(&data.join("staging")).is_empty());

            shipping.store.enqueue(&message, Utc::now()).await.unwrap();
            assert_eq!(shipping.flush().await.unwrap(), 1);
            assert_eq!(
                wait_for_answer(&shipping, &message.msg_id).await,
                State::Delivered
            );
        },
    );
}

#[test]
fn a_message_kept_in_a_file_goes_to_the_spool_as_its_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let config = municipality_spool_config(dir.path());
    let spool = dir.path().join("spool");
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(repo(PAYLOAD))
            .unwrap()
            .replace("<Year>2025</Year>", "<Year>twenty</Year>"),
    )
    .unwrap();
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let message = shipping
            .pack_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation, "report.xml")
            .unwrap();
        let file = message.body_file.clone().unwrap();
        let packed = std::fs::read(&file).unwrap();
        shipping.store.enqueue(&message, Utc::now()).await.unwrap();
        let entry = &shipping.store.entries().await.unwrap()[0];
        assert_eq!(entry.size, packed.len() as i64);
        assert_eq!(shipping.flush().await.unwrap(), 1);
        let spooled = std::fs::read(spool.join(format!("{}.p7m", message.msg_id))).unwrap();
        assert!(spooled == packed, "the spooled message is the packed file");
        assert_eq!(
            shipping.store.state(&message.msg_id).await.unwrap(),
            Some(State::Sent)
        );

        // KPR opens it to the whole message, the payload inside.
        let kpr = kpr_bridge::crypto::Keys::load(&kpr_bridge::crypto::CertificateFiles {
            signing_certificate: cert("kpr-sign.crt"),
            signing_key: cert("kpr-sign.key"),
            encryption_certificate: cert("kpr-enc.crt"),
            encryption_key: cert("kpr-enc.key"),
            previous_encryption: None,
            peer_encryption_certificate: cert("kommune-enc.crt"),
            trust: vec![cert("ca.crt")],
            pinned_signers: Vec::new(),
        })
        .unwrap()
        .keys;
        let opened = kpr.unpack(&spooled).unwrap();
        let (envelope, payload) = kpr_bridge::message::msghead::read(&opened.content).unwrap();
        assert_eq!(envelope.msg_id, message.msg_id);
        assert_eq!(payload, std::fs::read(repo(PAYLOAD)).unwrap());

        // A payload that does not validate, or one that validates but cannot be copied into
        // its envelope unchanged, leaves nothing behind.
        let error = shipping
            .pack_file(&bad, "KPR_IPL", Target::Validation, "bad.xml")
            .unwrap_err();
        assert!(
            error.to_string().contains("bad.xml") && error.to_string().contains("T02"),
            "{error}"
        );
        let prefixed = bad.with_file_name("prefixed.xml");
        std::fs::write(
            &prefixed,
            "<p:Report xmlns:p=\"urn:kpr-bridge:test-payload\">\n\
             <p:Municipality>4601</p:Municipality><p:Year>2025</p:Year></p:Report>\n",
        )
        .unwrap();
        let error = shipping
            .pack_file(&prefixed, "KPR_IPL", Target::Validation, "prefixed.xml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("without a default namespace declaration"),
            "{error}"
        );
        let data = &shipping.config.data_dir;
        assert_eq!(
            files_in(&data.join("outbox")),
            [format!("{}.p7m", message.msg_id)]
        );
        assert!(files_in(&data.join("staging")).is_empty());
    });
}
