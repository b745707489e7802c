//! Only KPR can say "delivered", on the real broker: receipts that say OK for our message
//! but are signed by anyone but KPR, or come from another address, leave it `sent` and are
//! kept as anomalies; KPR's own receipt then delivers it. (The same through the receipts
//! spool: the bad-input corpus, `tests/data/bad/cases.toml`.)

mod support;

use chrono::Utc;
use kpr_bridge::inbox::Taken;
use kpr_bridge::message::apprec::{self, Status};
use kpr_bridge::model::register::Target;
use kpr_bridge::receiver;
use kpr_bridge::shipping::Shipping;
use kpr_bridge::store::outbox::State;
use kpr_bridge::transport::amqp::Amqp;
use kpr_bridge::transport::properties::Properties;
use support::amqp;
use support::delivery::{PAYLOAD, answered, municipality_config, repo};
use support::forged;

#[test]
fn only_kpr_s_signature_from_kpr_s_address_delivers_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let queues = amqp::queues("trust");
    support::block_on(|| async {
        amqp::declare(&queues).await;
        let config = municipality_config(dir.path(), &amqp::broker_url(), &queues);
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = shipping
            .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
            .await
            .unwrap();
        assert_eq!(shipping.flush().await.unwrap(), 1);

        // Forged OK receipts, each on our receipt queue as KPR's would arrive.
        let amqp_link = Amqp::connect(&amqp::broker(), "forger").await.unwrap();
        let publisher = amqp_link.publisher("").await.unwrap();
        let forgeries = [
            ("municipality", "171479", "untrusted-signer"),
            ("enterprise", "171479", "untrusted-signer"),
            ("kpr-encryption", "171479", "untrusted-signer"),
            ("stranger", "171479", "untrusted-signer"),
            ("kpr", "99999", "sender-mismatch"),
        ];
        for (how, from_her_id, _) in forgeries {
            let receipt = receiver::receipt(
                &msg_id,
                "KPR_IPL",
                "171479",
                "67890",
                Status::Ok,
                Vec::new(),
            );
            let body = forged::pack(how, &apprec::write(&receipt));
            let properties = Properties {
                message_id: uuid::Uuid::new_v4().to_string(),
                correlation_id: msg_id.clone(),
                subject: "AppRec".into(),
                to: queues.receipts.clone(),
                reply_to: String::new(),
                from_her_id: from_her_id.into(),
                to_her_id: "67890".into(),
                application_timestamp: Utc::now(),
                cpa_id: None,
            };
            publisher
                .publish(&queues.receipts, &body, properties.to_amqp())
                .await
                .unwrap();
        }
        amqp_link.close().await;

        let collected = shipping.collect().await.unwrap();
        let kinds: Vec<String> = collected
            .taken
            .iter()
            .map(|taken| match taken {
                Taken::Anomaly { kind } => kind.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        let wanted: Vec<&str> = forgeries.iter().map(|(_, _, kind)| *kind).collect();
        assert_eq!(kinds, wanted);
        assert_eq!(
            shipping.store.state(&msg_id).await.unwrap(),
            Some(State::Sent)
        );
        assert!(shipping.store.receipts(&msg_id).await.unwrap().is_empty());
        let anomalies = shipping.store.anomalies().await.unwrap();
        let details: Vec<&str> = anomalies.iter().map(|a| a.detail.as_str()).collect();
        // Each names who signed: subject and organisation number.
        for (detail, organisation) in details.iter().zip([
            "BERGEN KOMMUNE",
            "ANNEN VIRKSOMHET AS",
            "FOLKEHELSEINSTITUTTET",
            "FOLKEHELSEINSTITUTTET",
        ]) {
            assert!(detail.contains(organisation), "{detail}");
        }
        assert!(
            details[0].contains("organisation number 964338531"),
            "{}",
            details[0]
        );
        assert!(
            details[1].contains("organisation number 910000006"),
            "{}",
            details[1]
        );
        assert!(details[2].contains("nonRepudiation"), "{}", details[2]);
        assert!(
            details[4].contains("comes from HER-id 99999") && details[4].contains(&msg_id),
            "{}",
            details[4]
        );

        // KPR's own answer, from the test receiver that signs with KPR's pinned pair.
        let state = answered(&shipping, dir.path(), &queues, &msg_id).await;
        amqp::delete(&queues).await;
        assert_eq!(state, State::Delivered);
    });
}
