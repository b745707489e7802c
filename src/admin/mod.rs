//! The administration page HIS 1135 asks for: the IPLOS submitter's web interface, served by
//! the agent on `[admin] listen` (loopback by default), rendered on the server as plain HTML
//! with no external assets and no script needed.
//!
//! - `auth.rs`: passwords, tokens, the sign-in throttle.
//! - `session.rs`: sign-in, sign-out, and the [`session::Session`] every page requires.
//! - `chrome.rs`: the frame around every signed-in page.
//! - `view.rs`: rendering, error pages, the style sheet, the headers on every answer.
//! - `overview.rs`, `message.rs`, `resend.rs`, `runs.rs`, `quality.rs`, `settings.rs`,
//!   `audit.rs`: one page each.
//! - `tls.rs`: the page's own TLS, when it is not behind a reverse proxy.
//!
//! Every page reads the state store and the configuration, as `kpr-bridge status` does; the
//! re-send form calls the same library as `kpr-bridge resend`. No page, URL or log line names
//! a person: notifications are shown by the EPJ's ids and the register's person number.

// A page's refusal is its whole response, made once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

mod audit;
pub mod auth;
pub mod chrome;
mod message;
mod overview;
pub mod portal;
mod quality;
mod resend;
mod runs;
pub mod session;
pub mod settings;
mod tls;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::{Notify, watch};

use crate::agent::clock::Clock;
use crate::agent::{Beside, Duties};
use crate::config::Config;
use crate::shipping::Shipping;
use crate::store::Store;

/// What every page may use.
pub struct Admin {
    pub config: Arc<Config>,
    pub shipping: Arc<Shipping>,
    pub clock: Arc<dyn Clock>,
    /// Woken when a re-send has put messages in the outbox, so that the sender goes now.
    pub queued: Arc<Notify>,
    pub throttle: auth::Throttle,
    /// Where this municipality's pages are: empty alone, `/m/NNNN` behind the page of a
    /// multi-municipality deployment (`portal.rs`), which then signs in and out for all.
    pub base: String,
    pub portal: bool,
}

impl Admin {
    /// One municipality's page, served alone at the root.
    pub fn single(
        config: Arc<Config>,
        shipping: Arc<Shipping>,
        clock: Arc<dyn Clock>,
        queued: Arc<Notify>,
    ) -> Admin {
        Admin {
            config,
            shipping,
            clock,
            queued,
            throttle: auth::Throttle::default(),
            base: String::new(),
            portal: false,
        }
    }

    fn store(&self) -> &Store {
        &self.shipping.store
    }
}

pub type Shared = Arc<Admin>;

/// The pages of one municipality; alone, with signing in and out and the style sheet.
pub fn router(admin: Shared) -> Router {
    let pages = Router::new()
        .route("/", get(overview::page))
        .route("/messages/{msg_id}", get(message::page))
        .route("/resend", get(resend::form))
        .route("/resend/preview", post(resend::preview))
        .route("/resend/confirm", post(resend::confirm))
        .route("/runs", get(runs::page))
        .route("/quality", get(quality::page))
        .route("/quality/report", get(quality::report))
        .route("/settings", get(settings::page))
        .route("/settings/contacts", post(settings::save_contacts))
        .route("/audit", get(audit::page));
    let pages = if admin.portal {
        pages
    } else {
        pages
            .route(
                "/sign-in",
                get(session::sign_in_page).post(session::sign_in),
            )
            .route("/sign-out", post(session::sign_out))
            .route("/language", post(session::choose_language))
            .route("/style.css", get(view::style))
    };
    let language = admin.config.language;
    pages
        .fallback(move || async move { view::not_found_in(language) })
        .layer(axum::middleware::map_response(view::security_headers))
        .with_state(admin)
}

/// One municipality's page beside its `duties` (`run --config`), when `[[admin.user]]` names
/// someone who may sign in: what `kpr-bridge run` hands the agent.
pub fn beside(duties: &Duties, clock: Arc<dyn Clock>, shutdown: watch::Receiver<bool>) -> Beside {
    let config = duties.config.clone();
    let admin = config.admin.enabled().then(|| {
        Arc::new(Admin::single(
            config.clone(),
            duties.shipping.clone(),
            clock,
            duties.queued.clone(),
        ))
    });
    Box::pin(async move {
        let Some(admin) = admin else {
            tracing::info!("no administration page: [[admin.user]] names nobody who may sign in");
            return Ok(None);
        };
        let (bound, task) = serve(admin, shutdown).await?;
        let scheme = if config.admin.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!("the administration page on {scheme}://{bound}/");
        Ok(Some(task))
    })
}

/// Binds `[admin] listen` now (a port in use is an error at start-up) and serves the pages
/// until `shutdown` turns true; over TLS when `[admin] tls_certificate` is given.
pub async fn serve(
    admin: Shared,
    shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let settings = admin.config.admin.clone();
    serve_app(router(admin), &settings, shutdown).await
}

/// Serves `app` as `settings` say: where, and whether over TLS of its own.
pub async fn serve_app(
    app: Router,
    settings: &crate::config::admin::Admin,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let address = settings.listen;
    if !address.ip().is_loopback() && !settings.over_tls() {
        tracing::warn!(
            "the administration page listens on {address}, which is not loopback, without TLS: passwords and sessions cross the network in clear; give [admin] tls_certificate and tls_key, or put it behind a reverse proxy with TLS and set behind_tls_proxy = true"
        );
    }
    let acceptor = match &settings.tls {
        Some(files) => Some(tls::acceptor(files)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
        format!("cannot listen on {address} for the administration page: {e}; choose another [admin] listen")
    })?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let stopped = async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
    };
    let task = match acceptor {
        None => tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<session::Peer>();
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!("the administration page on {bound} stopped: {e}");
            }
        }),
        Some(acceptor) => tokio::spawn(async move {
            let listener = tls::TlsListener::new(listener, acceptor);
            let app = app.into_make_service_with_connect_info::<session::Peer>();
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!("the administration page on {bound} stopped: {e}");
            }
        }),
    };
    Ok((bound, task))
}
