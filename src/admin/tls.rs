//! The page's own TLS through OpenSSL, for a municipality without a reverse proxy. Each
//! handshake runs in a task of its own with a time limit, so a client that stalls in it
//! holds up nobody else.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use openssl::ssl::{Ssl, SslAcceptor, SslFiletype, SslMethod};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_openssl::SslStream;

use crate::config::admin::Tls;

/// How long a client may take over its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The acceptor for `[admin] tls_certificate` (PEM chain, the page's certificate first) and
/// `tls_key` (PEM), with Mozilla's intermediate settings (TLS 1.2 and 1.3).
pub fn acceptor(files: &Tls) -> Result<Arc<SslAcceptor>, String> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls())
        .map_err(|e| format!("cannot set up TLS for the administration page: {e}"))?;
    builder
        .set_certificate_chain_file(&files.certificate)
        .map_err(|e| {
            format!(
                "admin.tls_certificate {}: cannot read it as a PEM certificate chain ({e}); give the page's certificate followed by its intermediates",
                files.certificate.display()
            )
        })?;
    builder
        .set_private_key_file(&files.key, SslFiletype::PEM)
        .map_err(|e| {
            format!(
                "admin.tls_key {}: cannot read it as a PEM private key ({e})",
                files.key.display()
            )
        })?;
    builder.check_private_key().map_err(|e| {
        format!(
            "admin.tls_key {} is not the key of admin.tls_certificate {} ({e}); give the pair that belongs together",
            files.key.display(),
            files.certificate.display()
        )
    })?;
    Ok(Arc::new(builder.build()))
}

/// Connections whose handshake has completed, for `axum::serve`.
pub struct TlsListener {
    ready: mpsc::Receiver<(SslStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `listener` until the server drops this listener.
    pub fn new(listener: TcpListener, acceptor: Arc<SslAcceptor>) -> TlsListener {
        let local = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (sender, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    () = sender.closed() => return,
                };
                let (tcp, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!("the administration page cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let sender = sender.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, handshake(&acceptor, tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = sender.send((stream, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {peer} took too long"),
                    }
                });
            }
        });
        TlsListener { ready, local }
    }
}

async fn handshake(acceptor: &SslAcceptor, tcp: TcpStream) -> io::Result<SslStream<TcpStream>> {
    let ssl = Ssl::new(acceptor.context()).map_err(io::Error::other)?;
    let mut stream = SslStream::new(ssl, tcp).map_err(io::Error::other)?;
    Pin::new(&mut stream)
        .accept()
        .await
        .map_err(io::Error::other)?;
    Ok(stream)
}

impl axum::serve::Listener for TlsListener {
    type Io = SslStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task is gone only when this listener is: nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
