//! TLS to the broker as NHN requires it: TLS 1.2 or 1.3 only, the broker's certificate
//! verified against `amqp.ca_file` (or the system's CAs) and its host name, and a client
//! identity (PKCS#12) when the broker asks for one. A failed handshake is told with the
//! broker, the certificate it showed and what failed — not only openssl's words.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lapin::tcp::{HandshakeResult, TcpStream};
use lapin::uri::{AMQPScheme, AMQPUri};
use openssl::pkcs12::Pkcs12;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509VerifyResult;

use crate::config::delivery::Broker;

/// What the broker's certificate check found, when it failed: the certificate's subject
/// and openssl's reason.
pub type Rejection = Arc<Mutex<Option<String>>>;

/// Makes the connection's opening function: plain TCP for `amqp://`, TLS 1.2+ for
/// `amqps://`; `rejection` learns why a broker certificate was refused. Errors name the file.
pub fn opener(
    broker: &Broker,
    timeout: Duration,
) -> Result<
    (
        impl Fn(&AMQPUri) -> HandshakeResult + Send + Sync + 'static,
        Rejection,
    ),
    String,
> {
    let rejection: Rejection = Arc::default();
    let connector = connector(broker, rejection.clone())?;
    let open = move |uri: &AMQPUri| -> HandshakeResult {
        let host = uri.authority.host.as_str();
        let stream = TcpStream::connect_timeout((host, uri.authority.port), timeout)?;
        let stream = match uri.scheme {
            AMQPScheme::AMQP => stream,
            AMQPScheme::AMQPS => stream.into_openssl(&connector, host)?,
        };
        stream.set_nonblocking(true)?;
        Ok(stream)
    };
    Ok((open, rejection))
}

/// The connector: TLS 1.2 at least, the configured CA and client identity; a refused
/// broker certificate is noted in `rejection` with its subject.
fn connector(broker: &Broker, rejection: Rejection) -> Result<SslConnector, String> {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
    builder
        .set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(|e| e.to_string())?;
    builder.set_verify_callback(SslVerifyMode::PEER, move |ok, context| {
        if !ok {
            let subject = context
                .current_cert()
                .map(crate::crypto::describe::subject)
                .unwrap_or_else(|| "(none shown)".into());
            *rejection.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!(
                "({subject}) was refused: {}",
                verify_reason(context.error())
            ));
        }
        ok
    });
    if let Some(ca_file) = &broker.ca_file {
        builder.set_ca_file(ca_file).map_err(|e| {
            format!(
                "{}: cannot be read as PEM CA certificates (amqp.ca_file): {e}",
                ca_file.display()
            )
        })?;
    }
    if let Some(file) = &broker.client_identity {
        let der = std::fs::read(file).map_err(|e| {
            format!(
                "{}: cannot read the client identity (amqp.client_identity): {e}",
                file.display()
            )
        })?;
        let password = broker.client_identity_password.as_deref().unwrap_or("");
        let identity = Pkcs12::from_der(&der)
            .and_then(|p| p.parse2(password))
            .map_err(|e| {
                format!(
                    "{}: not a PKCS#12 file that amqp.client_identity_password opens: {e}",
                    file.display()
                )
            })?;
        if let (Some(certificate), Some(key)) = (identity.cert, identity.pkey) {
            builder
                .set_certificate(&certificate)
                .and_then(|()| builder.set_private_key(&key))
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
        for extra in identity.ca.into_iter().flatten() {
            builder
                .add_extra_chain_cert(extra)
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
    }
    Ok(builder.build())
}

/// Why a certificate failed, in openssl's words, with what to check.
fn verify_reason(reason: X509VerifyResult) -> String {
    format!(
        "{} (openssl verify error {})",
        reason.error_string(),
        reason.as_raw()
    )
}

/// The advice for a failed TLS handshake, from what openssl said and what the certificate
/// check noted.
pub fn explain(reason: &str, rejection: Option<String>) -> Option<String> {
    let lower = reason.to_lowercase();
    if let Some(rejected) = rejection {
        return Some(format!(
            "the broker's certificate {rejected}; check amqp.ca_file (the CA that issued the broker's certificate) and that the host name in amqp.url is the one in the certificate"
        ));
    }
    if lower.contains("protocol version")
        || lower.contains("unsupported protocol")
        || lower.contains("no protocols available")
        || lower.contains("wrong version number")
    {
        return Some(
            "the broker offers no TLS 1.2 or 1.3, and kpr-bridge refuses older versions as NHN requires; the broker must be configured for TLS 1.2 or 1.3".into(),
        );
    }
    None
}
