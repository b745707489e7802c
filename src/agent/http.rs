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
use super::replica_view::View;
use super::status_cache::StatusCache;
use crate::status::{Status, metrics};

/// What the endpoints answer for: one municipality (`run --config`), or a replica of a
/// multi-municipality deployment (`run --tenants`) and the municipalities it serves.
#[derive(Clone)]
pub enum Http {
    Single {
        health: Arc<Health>,
        status: Arc<StatusCache>,
    },
    Replica(Arc<View>),
}

impl Http {
    pub fn single(health: Arc<Health>, status: Arc<StatusCache>) -> Http {
        Http::Single { health, status }
    }
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
    let (healthy, body) = match &http {
        Http::Single { health, .. } => {
            let report = health.report().await;
            (report.healthy, serde_json::to_value(report))
        }
        Http::Replica(view) => {
            let report = view.health().await;
            (report.healthy, serde_json::to_value(report))
        }
    };
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    match body {
        Ok(body) => (status, axum::Json(body)).into_response(),
        Err(e) => unavailable(&e),
    }
}

/// `/metrics`: the status as Prometheus text (each series labelled by municipality on a
/// replica); 503 when the state store cannot be read.
async fn prometheus(State(http): State<Http>) -> Response {
    let text = match &http {
        Http::Single { status, .. } => match status.get().await {
            Ok(status) => metrics::metrics(&status),
            Err(e) => return unavailable(&e),
        },
        Http::Replica(view) => {
            let statuses = view.statuses().await;
            let labelled: Vec<(Option<&str>, &Status)> = statuses
                .iter()
                .map(|(municipality, status)| (Some(municipality.as_str()), status.as_ref()))
                .collect();
            metrics::exposition(&labelled)
        }
    };
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

/// `/status`: what `kpr-bridge status --json` prints; on a replica, the leases and the status
/// of each municipality it serves.
async fn status(State(http): State<Http>) -> Response {
    match &http {
        Http::Single { status, .. } => match status.get().await {
            Ok(status) => axum::Json(status.as_ref()).into_response(),
            Err(e) => unavailable(&e),
        },
        Http::Replica(view) => match view.status().await {
            Ok(status) => axum::Json(status).into_response(),
            Err(e) => unavailable(&e),
        },
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the state store cannot be read: {error}\n"),
    )
        .into_response()
}
