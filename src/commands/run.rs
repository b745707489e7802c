//! `kpr-bridge run`: the agent (or a replica of a multi-municipality deployment), on a
//! runtime of its own, until SIGTERM or SIGINT, with the administration page beside it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::admin::{self, portal};
use crate::agent::{self, clock};
use crate::cluster::replica::{self, ReplicaOptions};
use crate::cluster::tenants::Tenants;
use crate::config::Config;

/// Runs the agent; the exit code is 0 after a clean stop, 2 when it could not start.
pub fn run(config: Config) -> u8 {
    until_signal(move |clock, shutdown| {
        let page_clock = clock.clone();
        let pages: agent::Pages =
            Box::new(move |duties, shutdown| admin::beside(duties, page_clock, shutdown));
        agent::run(config, clock, pages, shutdown)
    })
}

/// Runs one replica of a multi-municipality deployment (`run --tenants DIR`).
pub fn run_tenants(tenants: Tenants, options: ReplicaOptions) -> u8 {
    until_signal(move |clock, shutdown| {
        let pages: replica::Pages = match options.admin.clone() {
            Some(settings) => {
                let configs = tenants.configs.values().cloned().collect();
                let page_clock = clock.clone();
                Box::new(move |shutdown| portal::beside(configs, page_clock, settings, shutdown))
            }
            None => Box::new(|_| Box::pin(async { Ok(None) })),
        };
        replica::run(tenants, options, clock, pages, shutdown)
    })
}

/// Runs `work` on a runtime of its own until it ends; SIGTERM or SIGINT ask it to stop.
fn until_signal<F, W>(work: W) -> u8
where
    W: FnOnce(Arc<dyn clock::Clock>, watch::Receiver<bool>) -> F + Send + 'static,
    F: Future<Output = Result<(), (u8, String)>> + Send,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let code = runtime.block_on(async move {
        let (stop, shutdown) = watch::channel(false);
        tokio::spawn(async move {
            let signal = wait_for_signal().await;
            tracing::info!("{signal} received");
            let _ = stop.send(true);
        });
        let clock: Arc<dyn clock::Clock> = Arc::from(clock::from_environment());
        match work(clock, shutdown).await {
            Ok(()) => 0,
            Err((code, why)) => {
                tracing::error!("{why}");
                eprintln!("error: {why}");
                code
            }
        }
    });
    // A source still being read on a blocking thread is not waited for: its step was
    // rolled back, and it is read again at the next start.
    runtime.shutdown_timeout(Duration::from_millis(500));
    code
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(terminate) => terminate,
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM ({e}); stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
