//! `amqps://` as NHN requires it: TLS 1.2 and 1.3 connect, anything older is refused, and a
//! refused broker certificate is named. The listener ends TLS with the test broker
//! certificate in front of the loopback RabbitMQ (`support::tls`).

mod support;

use kpr_bridge::transport::amqp::Amqp;
use openssl::ssl::SslVersion;
use support::amqp::{self, cert};
use support::tls;

fn broker(port: u16, ca_file: std::path::PathBuf) -> kpr_bridge::config::delivery::Broker {
    let mut broker = amqp::broker_at(&format!("amqps://guest:guest@localhost:{port}/%2f"));
    broker.ca_file = Some(ca_file);
    broker
}

#[test]
fn tls_1_2_and_1_3_connect_and_older_or_unknown_brokers_are_refused_by_name() {
    let modern = tls::listener(SslVersion::TLS1_2, SslVersion::TLS1_3);
    let tls_1_2 = tls::listener(SslVersion::TLS1_2, SslVersion::TLS1_2);
    let old = tls::listener(SslVersion::TLS1, SslVersion::TLS1_1);
    let stranger = tempfile::tempdir().unwrap();
    amqp::make_certs(stranger.path());
    support::block_on(|| async {
        // TLS 1.3, then 1.2: the AMQP connection works through it (a queue made and removed).
        for port in [modern, tls_1_2] {
            let amqp = Amqp::connect(&broker(port, cert("ca.crt")), "kpr-bridge tls test")
                .await
                .unwrap_or_else(|e| panic!("port {port}: {e}"));
            let queue = format!("kprtest_tls_{}_{port}", std::process::id());
            amqp.declare_queue(&queue).await.unwrap();
            amqp.delete_queue(&queue).await.unwrap();
            amqp.close().await;
        }

        // A broker that speaks TLS 1.1 at most is refused, saying why.
        let error = Amqp::connect(&broker(old, cert("ca.crt")), "kpr-bridge tls test")
            .await
            .err()
            .expect("TLS 1.1 is refused")
            .to_string();
        assert!(
            error.contains(&format!("localhost:{old}"))
                && error.contains("no TLS 1.2 or 1.3")
                && error.contains("NHN"),
            "{error}"
        );

        // A broker certificate from a CA not in amqp.ca_file: its subject is named.
        let error = Amqp::connect(&broker(modern, stranger.path().join("ca.crt")), "tls test")
            .await
            .err()
            .expect("an unknown CA is refused")
            .to_string();
        assert!(
            error.contains(&format!("localhost:{modern}"))
                && error.contains("CN=kpr-bridge TEST BROKER")
                && error.contains("was refused")
                && error.contains("amqp.ca_file"),
            "{error}"
        );
    });
}
