//! The agent's HTTP face: `/health` for a load balancer or a monitor, `/metrics` for
//! Prometheus, `/status` for a person or a script. Loopback only unless configured otherwise:
//! what it shows names no person, but it is the municipality's business.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

use super::health::Health;
use super::status_cache::StatusCache;
use crate::status::metrics;

#[derive(Clone)]
pub struct Http {
    pub health: Arc<Health>,
    pub status: Arc<StatusCache>,
}

/// Binds `address` now (so that a port in use is an error at start-up), and serves until
/// `shutdown` turns true.
pub async fn serve(
    address: SocketAddr,
    http: Http,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
        format!("cannot listen on {address}: {e}; choose another agent.listen, or \"off\"")
    })?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(prometheus))
        .route("/status", get(status))
        .with_state(http);
    let task = tokio::spawn(async move {
        let stopped = async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!("the HTTP server on {bound} stopped: {e}");
        }
    });
    Ok((bound, task))
}

async fn health(State(http): State<Http>) -> Response {
    let report = http.health.report().await;
    let status = if report.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(report)).into_response()
}

/// `/metrics`: the status as Prometheus text; 503 when the state store cannot be read.
async fn prometheus(State(http): State<Http>) -> Response {
    match http.status.get().await {
        Ok(status) => (
            [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
            metrics::metrics(&status),
        )
            .into_response(),
        Err(e) => unavailable(&e),
    }
}

/// `/status`: what `kpr-bridge status --json` prints.
async fn status(State(http): State<Http>) -> Response {
    match http.status.get().await {
        Ok(status) => axum::Json(status.as_ref()).into_response(),
        Err(e) => unavailable(&e),
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the state store cannot be read: {error}\n"),
    )
        .into_response()
}
