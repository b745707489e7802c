//! Measures sends per second with publisher confirms: N small packed messages are put in a
//! fresh outbox (SQLite in a temporary directory), then the outbox is drained to a RabbitMQ
//! queue, each message marked `sent` only on its confirm. `benches/send.sh` runs it.
//!
//! ```sh
//! cargo run --release --example send_rate -- CERT_DIR AMQP_URL [N]
//! ```

use std::process::ExitCode;
use std::time::Instant;

use chrono::Utc;
use kpr_bridge::config::delivery::{Broker, Queues};
use kpr_bridge::crypto::{CertificateFiles, Keys};
use kpr_bridge::store::Store;
use kpr_bridge::store::outbox::NewMessage;
use kpr_bridge::transport::amqp::Amqp;
use kpr_bridge::transport::sender::{self, Origin};

const DOCUMENT: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"><MsgInfo><Type V="KPR_IPL"/></MsgInfo><Document><Content><Hendelse><Tjeneste>15</Tjeneste><Dato>2026-01-05</Dato></Hendelse></Content></Document></MsgHead>"#;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (certs, url, count) = match &args[..] {
        [certs, url] => (certs.clone(), url.clone(), 2000),
        [certs, url, n] => match n.parse() {
            Ok(n) => (certs.clone(), url.clone(), n),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    let certs = std::path::PathBuf::from(certs);
    let keys = match Keys::load(&CertificateFiles {
        signing_certificate: certs.join("kommune-sign.crt"),
        signing_key: certs.join("kommune-sign.key"),
        encryption_certificate: certs.join("kommune-enc.crt"),
        encryption_key: certs.join("kommune-enc.key"),
        previous_encryption: None,
        peer_encryption_certificate: certs.join("kpr-enc.crt"),
        trust: vec![certs.join("ca.crt")],
        pinned_signers: Vec::new(),
    }) {
        Ok(loaded) => loaded.keys,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(None, dir.path())
        .await
        .expect("a fresh SQLite store");
    let body = keys.pack(DOCUMENT).expect("packing");
    for _ in 0..count {
        let message = NewMessage {
            msg_id: uuid::Uuid::new_v4().to_string(),
            msg_type: "KPR_IPL".into(),
            target: "validation".into(),
            to_her_id: "171479".into(),
            body: body.clone(),
            body_file: None,
        };
        store.enqueue(&message, Utc::now()).await.expect("enqueue");
    }
    let queue = format!("kpr_bench_{}", std::process::id());
    let broker = Broker {
        url,
        exchange: String::new(),
        ca_file: None,
        client_identity: None,
        client_identity_password: None,
        interop: Default::default(),
    };
    let amqp = Amqp::connect(&broker, "kpr-bridge bench")
        .await
        .expect("the broker");
    amqp.declare_queue(&queue).await.expect("declare");
    let origin = Origin {
        her_id: "67890".into(),
        queues: Queues {
            kpr: queue.clone(),
            validation: None,
            receipts: format!("{queue}_async"),
            errors: format!("{queue}_error"),
        },
    };
    let started = Instant::now();
    let sent = sender::send_once(&store, &broker, &origin)
        .await
        .expect("sending");
    let seconds = started.elapsed().as_secs_f64();
    amqp.delete_queue(&queue).await.expect("delete");
    amqp.close().await;
    println!(
        "{sent} messages of {} bytes sent with confirms in {seconds:.2} s: {:.0} per second",
        body.len(),
        sent as f64 / seconds
    );
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: send_rate CERT_DIR AMQP_URL [N]");
    ExitCode::from(2)
}
