//! Delivery through spool directories, both ways, with no broker: the municipality writes
//! its messages as pairs, the local KPR test receiver answers them as pairs into the
//! receipts directory, and `Shipping::collect` takes the answers — with real certificates,
//! real CMS and real XSD validation. What cannot be taken becomes an anomaly and the next
//! pair is taken all the same.

mod support;

use std::path::{Path, PathBuf};

use kpr_bridge::inbox::Taken;
use kpr_bridge::model::register::Target;
use kpr_bridge::shipping::Shipping;
use kpr_bridge::store::outbox::State;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::X509;
use support::amqp::{self, cert};
use support::delivery::{PAYLOAD, municipality_spool_config, repo, spool_receiver};

/// The names of the files directly in `dir` (no subdirectories), sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().unwrap().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Puts the test payload in the outbox and writes it to the spool; returns its MsgId.
async fn send(shipping: &Shipping) -> String {
    let msg_id = shipping
        .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
        .await
        .unwrap();
    assert_eq!(shipping.flush().await.unwrap(), 1);
    msg_id
}

fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("spool"), dir.join("receipts"))
}

#[test]
fn a_receipt_in_the_spool_is_taken_and_its_files_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, receipts) = paths(dir.path());
    let receiver = spool_receiver(dir.path());
    let config = municipality_spool_config(dir.path());
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = send(&shipping).await;
        assert_eq!(
            files(&spool),
            [format!("{msg_id}.json"), format!("{msg_id}.p7m")]
        );

        assert_eq!(receiver.answer_spool(&spool, &receipts).await.unwrap(), 1);
        assert!(files(&spool).is_empty(), "answered pairs move to taken/");
        assert_eq!(files(&spool.join("taken")).len(), 2);
        assert_eq!(files(&receipts).len(), 2, "an AppRec and its properties");
        assert_eq!(
            receiver.answer_spool(&spool, &receipts).await.unwrap(),
            0,
            "a pair is answered once"
        );

        let collected = shipping.collect().await.unwrap();
        assert!(
            matches!(&collected.taken[..], [Taken::Receipt { msg_id: id, .. }] if *id == msg_id),
            "{:?}",
            collected.taken
        );
        assert_eq!(
            shipping.store.state(&msg_id).await.unwrap(),
            Some(State::Delivered)
        );
        let receipt = &shipping.store.receipts(&msg_id).await.unwrap()[0];
        assert_eq!((receipt.status, receipt.errors.len()), (1, 0));
        assert!(files(&receipts).is_empty(), "stored, then removed");
        assert!(shipping.collect().await.unwrap().taken.is_empty());
    });
}

#[test]
fn garbage_in_the_receipts_directory_becomes_an_anomaly_and_the_next_pair_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, receipts) = paths(dir.path());
    let receiver = spool_receiver(dir.path());
    let config = municipality_spool_config(dir.path());
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = send(&shipping).await;
        receiver.answer_spool(&spool, &receipts).await.unwrap();

        // Named so that they come before the real answer (a UUID, which may begin with a digit).
        std::fs::write(receipts.join("!0-garbage.json"), b"\x00\xffnot JSON").unwrap();
        std::fs::write(receipts.join("!0-garbage.p7m"), b"whatever").unwrap();
        let properties = br#"{"message-id": "r-1", "subject": "AppRec", "content-type": "application/pkcs7-mime", "fromHerId": "171479", "toHerId": "67890", "applicationTimeStamp": "2026-01-05T02:00:00Z"}"#;
        std::fs::write(receipts.join("!1-not-cms.json"), properties).unwrap();
        std::fs::write(receipts.join("!1-not-cms.p7m"), b"\x00\xffnot CMS at all").unwrap();
        std::fs::write(receipts.join("!2-no-body.json"), properties).unwrap();
        // A body whose properties are not in place yet is not a pair: left alone.
        std::fs::write(receipts.join("!3-in-the-making.p7m"), b"half").unwrap();

        let collected = shipping.collect().await.unwrap();
        let kinds: Vec<String> = collected
            .taken
            .iter()
            .map(|t| match t {
                Taken::Anomaly { kind } => kind.clone(),
                Taken::Receipt { msg_id, .. } => format!("receipt {msg_id}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "not-properties".to_string(),
                "not-cms".to_string(),
                "missing-body".to_string(),
                format!("receipt {msg_id}"),
            ]
        );
        assert_eq!(
            shipping.store.state(&msg_id).await.unwrap(),
            Some(State::Delivered)
        );
        let anomalies = shipping.store.anomalies().await.unwrap();
        assert_eq!(anomalies.len(), 3);
        for anomaly in &anomalies {
            assert!(
                anomaly.detail.contains(&receipts.display().to_string()),
                "{}",
                anomaly.detail
            );
        }
        assert_eq!(files(&receipts), ["!3-in-the-making.p7m"]);
        assert_eq!(
            files(&receipts.join("anomalies")),
            [
                "!0-garbage.json",
                "!0-garbage.p7m",
                "!1-not-cms.json",
                "!1-not-cms.p7m",
                "!2-no-body.json"
            ]
        );
    });
}

#[test]
fn properties_the_receiver_cannot_read_come_back_as_an_error_report() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, receipts) = paths(dir.path());
    let receiver = spool_receiver(dir.path());
    let config = municipality_spool_config(dir.path());
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = send(&shipping).await;
        let json = spool.join(format!("{msg_id}.json"));
        let mut properties: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        properties.remove("toHerId").unwrap();
        std::fs::write(&json, serde_json::to_vec(&properties).unwrap()).unwrap();

        receiver.answer_spool(&spool, &receipts).await.unwrap();
        let answer = files(&receipts);
        assert_eq!(
            answer.len(),
            1,
            "an error report is a .json alone: {answer:?}"
        );
        let collected = shipping.collect().await.unwrap();
        assert!(
            matches!(&collected.taken[..], [Taken::ErrorReport { msg_id: id, .. }] if *id == msg_id),
            "{:?}",
            collected.taken
        );
        assert_eq!(
            shipping.store.state(&msg_id).await.unwrap(),
            Some(State::Error)
        );
        let last = shipping.store.transitions(&msg_id).await.unwrap().pop();
        let detail = last.and_then(|t| t.detail).unwrap_or_default();
        assert!(
            detail.contains("transport:invalid-field-value") && detail.contains("toHerId"),
            "{detail}"
        );
    });
}

#[test]
fn the_receiver_on_a_spool_answers_a_message_without_a_signature_with_avvist_s01() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, receipts) = paths(dir.path());
    let receiver = spool_receiver(dir.path());
    let config = municipality_spool_config(dir.path());
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = send(&shipping).await;
        // The same message encrypted to KPR, but never signed.
        let kpr = X509::from_pem(&std::fs::read(cert("kpr-enc.crt")).unwrap()).unwrap();
        let mut recipients = Stack::new().unwrap();
        recipients.push(kpr).unwrap();
        let unsigned = CmsContentInfo::encrypt(
            &recipients,
            b"<MsgHead/>",
            Cipher::aes_256_cbc(),
            CMSOptions::BINARY,
        )
        .unwrap()
        .to_der()
        .unwrap();
        std::fs::write(spool.join(format!("{msg_id}.p7m")), unsigned).unwrap();

        receiver.answer_spool(&spool, &receipts).await.unwrap();
        shipping.collect().await.unwrap();
        assert_eq!(
            shipping.store.state(&msg_id).await.unwrap(),
            Some(State::Rejected)
        );
        let receipt = &shipping.store.receipts(&msg_id).await.unwrap()[0];
        assert_eq!(receipt.status, 2, "Avvist");
        assert_eq!(receipt.errors[0].code, "S01");
    });
}

#[test]
fn the_receiver_on_a_spool_answers_a_signer_it_does_not_trust_with_avvist_s02() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, receipts) = paths(dir.path());
    let receiver = spool_receiver(dir.path());
    // The municipality signs with a certificate from a CA the receiver does not trust.
    let stranger = tempfile::tempdir().unwrap();
    amqp::make_certs(stranger.path());
    let mut config = municipality_spool_config(dir.path());
    let certificates = &mut config.delivery.as_mut().unwrap().certificates;
    certificates.signing_certificate = stranger.path().join("kommune-sign.crt");
    certificates.signing_key = stranger.path().join("kommune-sign.key");
    support::block_on(|| async move {
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = send(&shipping).await;
        receiver.answer_spool(&spool, &receipts).await.unwrap();
        shipping.collect().await.unwrap();
        assert_eq!(
            shipping.store.state(&msg_id).await.unwrap(),
            Some(State::Rejected)
        );
        let receipt = &shipping.store.receipts(&msg_id).await.unwrap()[0];
        assert_eq!(receipt.status, 2, "Avvist");
        assert_eq!(receipt.errors[0].code, "S02");
    });
}
