//! Configurations for delivery tests: a municipality sending to unique queues, and a test
//! receiver answering on them, both with the test certificates.

use std::path::{Path, PathBuf};

use kpr_bridge::config::Config;
use kpr_bridge::config::delivery::{Queues, Transport};
use kpr_bridge::config::receiver::ReceiverConfig;
use kpr_bridge::receiver::Receiver;

use super::amqp;

pub const PAYLOAD: &str = "tests/data/payload/report.xml";

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The municipality's configuration, sending to `queues` through `url`.
pub fn municipality_config(dir: &Path, url: &str, queues: &Queues) -> Config {
    let text = format!(
        r#"
mode = "test"
data_dir = "{data}"
mapping = "{mapping}"
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
path = "{data}/extract"
[schemas]
KPR_IPL = "{xsd}"
[delivery]
transport = "amqp"
[amqp]
url = "{url}"
exchange = ""
kpr_queue = "{kpr}"
receipt_queue = "{receipts}"
error_queue = "{errors}"
{certificates}"#,
        data = dir.join("state").display(),
        mapping = repo("mappings/sample-epj.toml").display(),
        xsd = repo("tests/data/payload/test-payload.xsd").display(),
        certificates = amqp::municipality_certificates(),
        kpr = queues.kpr,
        receipts = queues.receipts,
        errors = queues.errors,
    );
    Config::parse(&text, &dir.join("kpr-bridge.toml")).unwrap()
}

/// The test receiver on `queues.kpr`, with the given schema for KPR_IPL (`""`: the built-in
/// ones only) and rules.
pub fn receiver(dir: &Path, queues: &Queues, xsd: &str, rules: &str) -> Receiver {
    let text = format!(
        r#"
[amqp]
url = "{url}"
queue = "{kpr}"
[certificates]
signing_certificate = "{certs}/kpr-sign.crt"
signing_key = "{certs}/kpr-sign.key"
encryption_certificate = "{certs}/kpr-enc.crt"
encryption_key = "{certs}/kpr-enc.key"
municipality_encryption_certificate = "{certs}/kommune-enc.crt"
trust = ["{certs}/ca.crt"]
{schemas}
{rules}
"#,
        url = amqp::broker_url(),
        kpr = queues.kpr,
        certs = amqp::certs().display(),
        schemas = if xsd.is_empty() {
            String::new()
        } else {
            format!("[schemas]\nKPR_IPL = \"{}\"", repo(xsd).display())
        },
    );
    let config = ReceiverConfig::parse(&text, &dir.join("receiver.toml")).unwrap();
    Receiver::open(config).unwrap().0
}

/// The municipality's configuration of [`municipality_config`], writing its messages to
/// `dir/spool` instead of to a broker, and taking receipts from `dir/receipts`.
pub fn municipality_spool_config(dir: &Path) -> Config {
    let queues = amqp::queues("spool");
    let mut config = municipality_config(dir, &amqp::broker_url(), &queues);
    let delivery = config.delivery.as_mut().expect("delivery is configured");
    delivery.transport = Transport::Spool {
        dir: dir.join("spool"),
        receipts: Some(dir.join("receipts")),
    };
    config
}

/// The test receiver on the spool of [`municipality_spool_config`]: it reads `dir/spool` and
/// answers into `dir/receipts`, with the test payload schema for KPR_IPL.
pub fn spool_receiver(dir: &Path) -> Receiver {
    spool_receiver_with_rules(dir, "")
}

/// [`spool_receiver`] with `[[rule]]` tables of its own.
pub fn spool_receiver_with_rules(dir: &Path, rules: &str) -> Receiver {
    let text = format!(
        r#"
[spool]
in = "{dir}/spool"
out = "{dir}/receipts"
[certificates]
signing_certificate = "{certs}/kpr-sign.crt"
signing_key = "{certs}/kpr-sign.key"
encryption_certificate = "{certs}/kpr-enc.crt"
encryption_key = "{certs}/kpr-enc.key"
municipality_encryption_certificate = "{certs}/kommune-enc.crt"
trust = ["{certs}/ca.crt"]
[schemas]
KPR_IPL = "{xsd}"
{rules}
"#,
        dir = dir.display(),
        certs = amqp::certs().display(),
        xsd = repo("tests/data/payload/test-payload.xsd").display(),
    );
    let config = ReceiverConfig::parse(&text, &dir.join("receiver.toml")).unwrap();
    Receiver::open(config).unwrap().0
}

/// Runs the test receiver on `queues` (with the test payload schema) until it has answered
/// `msg_id`, collecting receipts meanwhile; the message's state then, or `sent` after 30 s.
pub async fn answered(
    shipping: &kpr_bridge::shipping::Shipping,
    dir: &Path,
    queues: &Queues,
    msg_id: &str,
) -> kpr_bridge::store::outbox::State {
    use kpr_bridge::store::outbox::State;
    let kpr = receiver(dir, queues, "tests/data/payload/test-payload.xsd", "");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { kpr.run(shutdown).await });
    let mut state = State::Sent;
    for _ in 0..300 {
        shipping.collect().await.unwrap();
        state = shipping.store.state(msg_id).await.unwrap().unwrap();
        if state != State::Sent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let _ = running.await;
    state
}
