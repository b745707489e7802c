//! A TLS listener in front of the loopback RabbitMQ, as a broker's `amqps://` port: it ends
//! TLS with the test broker certificate (`ops/make-test-certs.sh`'s `broker.crt`, for
//! localhost) and passes the bytes to 127.0.0.1:5672. Its TLS versions are the test's choice,
//! so that one listener speaks TLS 1.2 and 1.3 and another only 1.1.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslStream, SslVersion};

use super::amqp::cert;

/// The listener's port; it serves until the test process ends.
pub fn listener(min: SslVersion, max: SslVersion) -> u16 {
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    acceptor
        .set_private_key_file(cert("broker.key"), SslFiletype::PEM)
        .unwrap();
    acceptor
        .set_certificate_chain_file(cert("broker.crt"))
        .unwrap();
    acceptor.set_min_proto_version(Some(min)).unwrap();
    acceptor.set_max_proto_version(Some(max)).unwrap();
    if min == SslVersion::TLS1 || min == SslVersion::TLS1_1 {
        // OpenSSL 3 allows TLS below 1.2 only at security level 0.
        acceptor.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
    }
    let acceptor = acceptor.build();
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in socket.incoming().flatten() {
            let acceptor = acceptor.clone();
            std::thread::spawn(move || {
                let _ = client.set_read_timeout(Some(Duration::from_millis(20)));
                if let Ok(tls) = acceptor.accept(client) {
                    relay(tls);
                }
            });
        }
    });
    port
}

/// Passes bytes both ways between a client's TLS stream and the broker until either ends.
fn relay(tls: SslStream<TcpStream>) {
    let Ok(broker) = TcpStream::connect("127.0.0.1:5672") else {
        return;
    };
    let tls = Arc::new(Mutex::new(tls));
    let (mut to_broker, mut from_broker) = (broker.try_clone().unwrap(), broker);
    let back = tls.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(n) = from_broker.read(&mut buffer) {
            if n == 0 || back.lock().unwrap().write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        let _ = back.lock().unwrap().shutdown();
    });
    let mut buffer = [0u8; 16 * 1024];
    loop {
        // A short read timeout lets the other direction write between reads.
        let read = tls.lock().unwrap().read(&mut buffer);
        match read {
            Ok(0) => break,
            Ok(n) => {
                if to_broker.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = to_broker.shutdown(std::net::Shutdown::Both);
}
