//! Delivery under faults: the broker connection dropped in the middle of a burst, and
//! whatever hostile or broken bytes can arrive on our receipt queue.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kpr_bridge::config::delivery::Queues;
use kpr_bridge::crypto::{CertificateFiles, Keys};
use kpr_bridge::inbox::{self, Taken};
use kpr_bridge::message::apprec::{self, AppRec, Status};
use kpr_bridge::model::register::Target;
use kpr_bridge::receiver::{self, Stats};
use kpr_bridge::shipping::Shipping;
use kpr_bridge::store::outbox::State;
use kpr_bridge::transport::amqp::Amqp;
use kpr_bridge::transport::link::Link;
use kpr_bridge::transport::properties::Properties;
use kpr_bridge::transport::sender::{self, Origin};
use support::amqp::{self, Proxy};
use tokio::sync::{Notify, watch};

use support::delivery as setup;

#[test]
fn a_dropped_connection_mid_burst_loses_nothing_and_keeps_every_msg_id() {
    const BURST: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let queues = amqp::queues("burst");
    support::block_on(|| async move {
        amqp::declare(&queues).await;
        let receiver = setup::receiver(
            dir.path(),
            &queues,
            "tests/data/payload/test-payload.xsd",
            "",
        );
        let (stop, shutdown) = watch::channel(false);
        let receiving = tokio::spawn({
            let receiver = receiver.clone();
            let shutdown = shutdown.clone();
            async move { receiver.run(shutdown).await }
        });
        // The municipality's connections go through a proxy that cuts them all once about a
        // third of the burst has gone up.
        let probe = setup::municipality_config(dir.path(), &amqp::broker_url(), &queues);
        let shipping = Shipping::open(probe).await.unwrap();
        let payload = std::fs::read(setup::repo(setup::PAYLOAD)).unwrap();
        let mut ids = Vec::new();
        for _ in 0..BURST {
            let message = shipping
                .pack(&payload, "KPR_IPL", Target::Validation, "report.xml")
                .unwrap();
            ids.push(message.msg_id.clone());
            shipping
                .store
                .enqueue(&message, chrono::Utc::now())
                .await
                .unwrap();
        }
        let packed_size = shipping.store.pending(1).await.unwrap()[0]
            .bytes()
            .unwrap()
            .len();
        let proxy = Proxy::start(packed_size * BURST / 3).await;
        let through_proxy = amqp::broker_at(&proxy.url());
        let origin = Origin {
            her_id: "67890".into(),
            queues: queues.clone(),
        };
        let sending = tokio::spawn(sender::run(
            shipping.store.clone(),
            through_proxy.clone(),
            origin,
            Arc::new(Notify::new()),
            Duration::from_millis(200),
            Link::default(),
            shutdown.clone(),
        ));
        let taking = tokio::spawn(inbox::run(
            shipping.inbox(),
            through_proxy,
            queues.clone(),
            Link::default(),
            shutdown.clone(),
        ));

        let started = Instant::now();
        loop {
            let entries = shipping.store.entries().await.unwrap();
            let delivered = entries
                .iter()
                .filter(|e| e.state == State::Delivered)
                .count();
            if delivered == BURST {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "only {delivered} of {BURST} delivered after 120 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = stop.send(true);
        let _ = tokio::join!(sending, taking, receiving);

        assert!(
            proxy.cuts.load(std::sync::atomic::Ordering::SeqCst) >= 1,
            "the connection was never cut"
        );
        let entries = shipping.store.entries().await.unwrap();
        assert_eq!(entries.len(), BURST, "no message under a new MsgId");
        let mut stored: Vec<&str> = entries.iter().map(|e| e.msg_id.as_str()).collect();
        stored.sort_unstable();
        ids.sort_unstable();
        assert_eq!(stored, ids);
        let published_twice = entries.iter().filter(|e| e.publish_count > 1).count();
        let received = Stats::count(&receiver.stats.received);
        let duplicates = Stats::count(&receiver.stats.duplicates);
        assert_eq!(received - duplicates, BURST, "the receiver saw every MsgId");
        eprintln!(
            "burst of {BURST}: {published_twice} published more than once; the receiver got {received} messages, {duplicates} of them duplicates"
        );
        amqp::delete(&queues).await;
    });
}

/// Publishes raw bytes to our receipt queue as KPR would.
async fn publish_to_receipts(queues: &Queues, body: &[u8], message_id: &str) {
    let amqp = Amqp::connect(&amqp::broker(), "test").await.unwrap();
    let publisher = amqp.publisher("").await.unwrap();
    let properties = Properties {
        message_id: message_id.into(),
        correlation_id: message_id.into(),
        subject: "AppRec".into(),
        to: queues.receipts.clone(),
        reply_to: queues.kpr.clone(),
        from_her_id: "171479".into(),
        to_her_id: "67890".into(),
        application_timestamp: chrono::Utc::now(),
        cpa_id: None,
    };
    publisher
        .publish(&queues.receipts, body, properties.to_amqp())
        .await
        .unwrap();
    amqp.close().await;
}

/// KPR's keys (for packing receipts to the municipality), from `certs` (another CA's, maybe).
fn kpr_keys(certs: &Path) -> Keys {
    let files = CertificateFiles {
        signing_certificate: certs.join("kpr-sign.crt"),
        signing_key: certs.join("kpr-sign.key"),
        encryption_certificate: certs.join("kpr-enc.crt"),
        encryption_key: certs.join("kpr-enc.key"),
        previous_encryption: None,
        peer_encryption_certificate: amqp::cert("kommune-enc.crt"),
        trust: vec![certs.join("ca.crt")],
        pinned_signers: Vec::new(),
    };
    Keys::load(&files).unwrap().keys
}

fn receipt_for(msg_id: &str) -> AppRec {
    receiver::receipt(msg_id, "KPR_IPL", "171479", "67890", Status::Ok, Vec::new())
}

#[test]
fn hostile_and_broken_input_on_the_receipt_queue_ends_as_anomalies() {
    let dir = tempfile::tempdir().unwrap();
    let queues = amqp::queues("hostile");
    support::block_on(|| async move {
        amqp::declare(&queues).await;
        let shipping = Shipping::open(setup::municipality_config(
            dir.path(),
            &amqp::broker_url(),
            &queues,
        ))
        .await
        .unwrap();
        let kpr = kpr_keys(amqp::certs());

        // 1. A well-made receipt for a MsgId we never sent.
        let unknown = kpr
            .pack(&apprec::write(&receipt_for(
                "4e8a1f0c-0000-4000-8000-000000000000",
            )))
            .unwrap();
        publish_to_receipts(&queues, &unknown, "r-unknown").await;
        // 2. A receipt signed by a certificate from a CA we do not trust.
        let stranger_dir = tempfile::tempdir().unwrap();
        amqp::make_certs(stranger_dir.path());
        let forged = kpr_keys(stranger_dir.path())
            .pack(&apprec::write(&receipt_for("x")))
            .unwrap();
        publish_to_receipts(&queues, &forged, "r-forged").await;
        // 3. Garbage.
        publish_to_receipts(&queues, b"\x00\xffnot a CMS message at all", "r-garbage").await;
        // 4. An entity bomb, properly signed and encrypted: the XML itself is the attack.
        let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE AppRec [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<AppRec xmlns="http://www.kith.no/xmlstds/apprec/2004-11-21"><MsgType V="&e;"/></AppRec>"#;
        let packed_bomb = kpr.pack(bomb).unwrap();
        publish_to_receipts(&queues, &packed_bomb, "r-bomb").await;
        // 5. 100 MB.
        let huge = vec![0x30u8; 100 * 1024 * 1024];
        publish_to_receipts(&queues, &huge, "r-huge").await;

        let started = Instant::now();
        let collected = shipping.collect().await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(60));
        let kinds: Vec<String> = collected
            .taken
            .iter()
            .map(|t| match t {
                Taken::Anomaly { kind } => kind.clone(),
                other => panic!("not an anomaly: {other:?}"),
            })
            .collect();
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        assert_eq!(kinds[0], "unknown-msg-id");
        assert_eq!(kinds[4], "too-large");
        let stored = shipping.store.anomalies().await.unwrap();
        assert_eq!(stored.len(), 5);
        for (anomaly, id) in
            stored
                .iter()
                .zip(["r-unknown", "r-forged", "r-garbage", "r-bomb", "r-huge"])
        {
            assert!(!anomaly.detail.is_empty());
            assert!(
                anomaly.detail.contains(&queues.receipts),
                "{}",
                anomaly.detail
            );
            if id != "r-unknown" {
                assert_eq!(anomaly.msg_id.as_deref(), Some(id));
            }
        }
        assert!(
            stored[1].detail.to_lowercase().contains("trust") || stored[1].kind.contains("signer"),
            "{:?}",
            stored[1]
        );
        assert_eq!(stored[4].size, 100 * 1024 * 1024);
        // Everything was acknowledged after it was stored: the queue is empty.
        let again = shipping.collect().await.unwrap();
        assert!(again.taken.is_empty());
        amqp::delete(&queues).await;
    });
}
