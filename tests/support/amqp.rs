//! The real broker for tests: RabbitMQ on loopback (as `ops/services.sh` starts it), queues
//! named uniquely per test and deleted at the end, test certificates, and a TCP proxy whose
//! connections a test can cut to drop the broker connection mid-burst.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use kpr_bridge::config::delivery::{Broker, Queues};
use kpr_bridge::transport::amqp::Amqp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub fn broker_url() -> String {
    std::env::var("KPR_TEST_AMQP")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

pub fn broker() -> Broker {
    broker_at(&broker_url())
}

pub fn broker_at(url: &str) -> Broker {
    Broker {
        url: url.to_string(),
        exchange: String::new(),
        ca_file: None,
        client_identity: None,
        client_identity_password: None,
        interop: Default::default(),
    }
}

/// Queue names no other test uses: `<test>_<pid>_<n>_kpr`, `…_async`, `…_error`.
pub fn queues(test: &str) -> Queues {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = format!(
        "kprtest_{test}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    Queues {
        kpr: format!("{base}_kpr_async"),
        validation: None,
        receipts: format!("{base}_async"),
        errors: format!("{base}_error"),
    }
}

/// Declares the queues; `delete` removes them again.
pub async fn declare(queues: &Queues) {
    let amqp = Amqp::connect(&broker(), "kpr-bridge test")
        .await
        .expect("RabbitMQ on 127.0.0.1:5672 (ops/services.sh starts it)");
    for queue in [&queues.kpr, &queues.receipts, &queues.errors] {
        amqp.declare_queue(queue).await.unwrap();
    }
    amqp.close().await;
}

pub async fn delete(queues: &Queues) {
    if let Ok(amqp) = Amqp::connect(&broker(), "kpr-bridge test cleanup").await {
        for queue in [&queues.kpr, &queues.receipts, &queues.errors] {
            let _ = amqp.delete_queue(queue).await;
        }
        amqp.close().await;
    }
}

/// Makes a set of test certificates (its own CA) in `dir` with `ops/make-test-certs.sh`.
pub fn make_certs(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/make-test-certs.sh");
    let status = std::process::Command::new(script)
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "ops/make-test-certs.sh failed");
}

/// Test certificates made once per test binary.
pub fn certs() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        make_certs(dir.path());
        dir
    })
    .path()
}

/// The `[certificates]` section of a municipality's configuration, with the test
/// certificates, and its IPLOS contacts (types 16 and 17), which every sending configuration
/// needs.
pub fn municipality_certificates() -> String {
    format!(
        r#"[[contact]]
type = 16
name = "Ida IPLOS"
email = "iplos@example.invalid"
[[contact]]
type = 17
name = "Ida IPLOS"
email = "iplos@example.invalid"
[certificates]
signing_certificate = "{certs}/kommune-sign.crt"
signing_key = "{certs}/kommune-sign.key"
encryption_certificate = "{certs}/kommune-enc.crt"
encryption_key = "{certs}/kommune-enc.key"
kpr_encryption_certificate = "{certs}/kpr-enc.crt"
trust = ["{certs}/ca.crt"]
kpr_signing_certificates = ["{certs}/kpr-sign.crt"]
"#,
        certs = certs().display()
    )
}

pub fn cert(name: &str) -> PathBuf {
    certs().join(name)
}

/// A TCP proxy to the broker that drops every connection through it once `cut_after` bytes
/// have gone from clients to the broker — a network failure in the middle of a burst. New
/// connections pass again afterwards.
pub struct Proxy {
    pub addr: SocketAddr,
    /// How many times connections were cut.
    pub cuts: Arc<AtomicU32>,
    accepting: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(cut_after: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let upstream = broker_url()
            .split_once('@')
            .map(|(_, rest)| rest.split('/').next().unwrap().to_string())
            .unwrap_or_else(|| "127.0.0.1:5672".into());
        let forwarded = Arc::new(AtomicUsize::new(0));
        let cut = Arc::new(Notify::new());
        let cuts = Arc::new(AtomicU32::new(0));
        let accepting = tokio::spawn({
            let cuts = cuts.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        continue;
                    };
                    let (forwarded, cut, cuts) = (forwarded.clone(), cut.clone(), cuts.clone());
                    tokio::spawn(async move {
                        let (mut client_read, mut client_write) = client.into_split();
                        let (mut server_read, mut server_write) = server.into_split();
                        let upward = async {
                            let mut buffer = vec![0u8; 64 * 1024];
                            loop {
                                let n = client_read.read(&mut buffer).await?;
                                if n == 0 {
                                    return Ok::<(), std::io::Error>(());
                                }
                                server_write.write_all(&buffer[..n]).await?;
                                let before = forwarded.fetch_add(n, Ordering::SeqCst);
                                if before < cut_after && before + n >= cut_after {
                                    cuts.fetch_add(1, Ordering::SeqCst);
                                    cut.notify_waiters();
                                    return Ok(());
                                }
                            }
                        };
                        let downward = tokio::io::copy(&mut server_read, &mut client_write);
                        tokio::select! {
                            _ = upward => {}
                            _ = downward => {}
                            _ = cut.notified() => {}
                        }
                        // Dropping both halves of both sockets closes the connection.
                    });
                }
            }
        });
        Proxy {
            addr,
            cuts,
            accepting,
        }
    }

    /// The broker URL through this proxy.
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
