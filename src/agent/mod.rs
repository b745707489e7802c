//! The unattended agent, `kpr-bridge run`: one process that watches the extracts, captures
//! changes, ships each reporting date once on the schedule, sends and resends the outbox,
//! takes the receipts, expires what waited too long, answers HTTP, and stops cleanly.
//!
//! Each duty is a task of its own that only meets the others in the state store (and a
//! wake-up or two): a broker outage stops the sender, not the captures; an EPJ outage stops
//! the captures, not the receipts. Every task ends when the shutdown signal turns true.

pub mod clock;
pub mod daily_work;
pub mod health;
pub mod http;
pub mod replica_view;
pub mod reporting;
pub mod status_cache;
pub mod watcher;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::delivery::Transport;
use crate::config::{Config, SourceKind};
use crate::shipping::{Shipping, ShippingError};
use crate::store::StoreError;
use crate::transport::link::Link;
use crate::transport::{sender, spool};
use crate::{alerts, inbox};
use clock::Clock;
use daily_work::DailyWork;
use health::Health;
use reporting::Pace;
use status_cache::StatusCache;
use watcher::Watched;

/// How often the sender looks at the outbox without being woken (resends, a restart).
const SEND_POLL: Duration = Duration::from_secs(30);

/// How often receipts that waited too long are marked expired and alerts are raised.
const HOUSEKEEPING: Duration = Duration::from_secs(60);

/// How long a step in progress may take to finish after the signal; then it is dropped,
/// which rolls its transaction back. Leaves time to close connections within 10 s.
pub const GRACE: Duration = Duration::from_secs(7);

/// A page started beside the duties on a listener of its own: its task, `None` when it is
/// not served (nobody may sign in), or why it cannot start.
pub type Beside = BoxFuture<'static, Result<Option<JoinHandle<()>>, String>>;

/// The administration page, served beside one municipality's duties. It sits above the
/// agent, so `kpr-bridge run` hands it in: called once the duties run, with them.
pub type Pages = Box<dyn FnOnce(&Duties, watch::Receiver<bool>) -> Beside + Send>;

/// Runs the agent, with the administration page `pages` beside it, until `shutdown` turns
/// true. `Err` only for what keeps it from starting: configuration, certificates, schemas,
/// the HTTP address (exit code in the error).
pub async fn run(
    config: Config,
    clock: Arc<dyn Clock>,
    pages: Pages,
    shutdown: watch::Receiver<bool>,
) -> Result<(), (u8, String)> {
    let Some(shipping) = open(&config, &shutdown).await? else {
        return Ok(());
    };
    let duties = Duties::start(shipping, clock, shutdown.clone());
    let config = duties.config.clone();
    let mut extra = Vec::new();
    if let Some(address) = config.agent.listen {
        let http = http::Http::single(duties.health.clone(), duties.status.clone());
        let (bound, task) = http::serve(address, http, shutdown.clone())
            .await
            .map_err(|e| (2, e))?;
        tracing::info!("HTTP on http://{bound}: /health, /metrics, /status");
        extra.push(task);
    }
    if let Some(task) = pages(&duties, shutdown.clone()).await.map_err(|e| (2, e))? {
        extra.push(task);
    }
    tracing::info!(
        schedule = config.agent.schedule.text(),
        "kpr-bridge runs: captures every {} min, ships each date after the schedule closes it",
        config.agent.capture_every.as_secs() / 60
    );

    let mut signal = shutdown.clone();
    while !*signal.borrow() {
        if signal.changed().await.is_err() {
            break;
        }
    }
    tracing::info!(
        "stopping: finishing the step in progress (at most {} s)",
        GRACE.as_secs()
    );
    duties.stop(extra).await;
    tracing::info!("stopped");
    Ok(())
}

/// One municipality's duties, running: what `run` serves alone, and what a replica of a
/// multi-municipality deployment runs for each municipality it holds the lease of.
pub struct Duties {
    pub config: Arc<Config>,
    pub shipping: Arc<Shipping>,
    pub health: Arc<Health>,
    pub status: Arc<StatusCache>,
    /// Wakes the sender when something was queued.
    pub queued: Arc<Notify>,
    reporting: JoinHandle<()>,
    tasks: Vec<JoinHandle<()>>,
}

impl Duties {
    /// Spawns one task per duty; each ends when `shutdown` turns true.
    pub fn start(
        shipping: Shipping,
        clock: Arc<dyn Clock>,
        shutdown: watch::Receiver<bool>,
    ) -> Duties {
        let shipping = Arc::new(shipping);
        for warning in &shipping.warnings {
            tracing::warn!("{warning}");
        }
        let config = Arc::new(shipping.config.clone());
        if config.agent.schedule.touches_dst_hour() {
            tracing::warn!(
                "agent.schedule '{}' may fire between 02:00 and 03:00, which daylight saving skips or repeats; each date still goes once, but 04:00 is safer",
                config.agent.schedule.text()
            );
        }
        let queued = Arc::new(Notify::new());
        let mut links: Vec<(String, Link)> = Vec::new();
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();

        match &shipping.delivery.transport {
            Transport::Amqp { broker, queues } => {
                let sending = Link::default();
                let receiving = Link::default();
                links.push(("broker (sending)".into(), sending.clone()));
                links.push(("broker (receipts)".into(), receiving.clone()));
                tasks.push(tokio::spawn(sender::run(
                    shipping.store.clone(),
                    broker.clone(),
                    shipping.origin(),
                    queued.clone(),
                    SEND_POLL,
                    sending,
                    shutdown.clone(),
                )));
                tasks.push(tokio::spawn(inbox::run(
                    shipping.inbox(),
                    broker.clone(),
                    queues.clone(),
                    receiving,
                    shutdown.clone(),
                )));
            }
            Transport::Spool { dir, receipts } => {
                let spooling = Link::default();
                links.push((format!("spool {}", dir.display()), spooling.clone()));
                tasks.push(tokio::spawn(keep_spooled(
                    shipping.clone(),
                    dir.clone(),
                    receipts.clone(),
                    queued.clone(),
                    spooling,
                    shutdown.clone(),
                )));
            }
        }
        let status = Arc::new(StatusCache::new(
            config.clone(),
            shipping.store.clone(),
            clock.clone(),
        ));
        tasks.push(tokio::spawn(housekeeping(
            shipping.clone(),
            status.clone(),
            shutdown.clone(),
        )));

        let sources: HashMap<String, Link> = config
            .sources
            .iter()
            .map(|s| (s.name.clone(), Link::default()))
            .collect();
        for source in &config.sources {
            links.push((
                format!("source {}", source.name),
                sources[&source.name].clone(),
            ));
        }
        let health = Arc::new(Health {
            store: shipping.store.clone(),
            links,
        });

        let arrived = Arc::new(Notify::new());
        let extracts = config
            .sources
            .iter()
            .filter_map(|s| match &s.kind {
                SourceKind::Extract { path } => Some(Watched::Extract(path.clone())),
                SourceKind::Iplos { path, settle, .. } => Some(Watched::Iplos {
                    dir: path.clone(),
                    settle: *settle,
                }),
                SourceKind::Database { .. } => None,
            })
            .collect();
        tasks.push(tokio::spawn(watcher::run(
            extracts,
            config.agent.watch,
            config.agent.scan_every,
            arrived.clone(),
            shutdown.clone(),
        )));

        let mut work = DailyWork {
            config: config.clone(),
            shipping: shipping.clone(),
            sources,
            queued: queued.clone(),
            held: String::new(),
        };
        let reporting = {
            let config = config.clone();
            let mut shutdown = shutdown.clone();
            tokio::spawn(async move {
                let pace = Pace {
                    schedule: &config.agent.schedule,
                    clock: clock.as_ref(),
                    capture_every: config.agent.capture_every,
                    extract_arrived: &arrived,
                };
                reporting::keep(&mut work, pace, &mut shutdown).await;
            })
        };
        Duties {
            config,
            shipping,
            health,
            status,
            queued,
            reporting,
            tasks,
        }
    }

    /// After the shutdown signal: gives the step in progress `GRACE` to finish, then drops
    /// it (its transaction rolls back), and closes the store. `extra` are tasks of the
    /// caller's (HTTP) that end on the same signal.
    pub async fn stop(self, extra: Vec<JoinHandle<()>>) {
        let deadline = tokio::time::Instant::now() + GRACE;
        let mut reporting = self.reporting;
        if tokio::time::timeout_at(deadline, &mut reporting)
            .await
            .is_err()
        {
            reporting.abort();
            tracing::warn!(
                municipality = self.config.municipality,
                "the step in progress did not finish in time: rolled back; it runs again at the next start"
            );
        }
        for mut task in self.tasks.into_iter().chain(extra) {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
            }
        }
        // A step that never yielded still holds its connection: closing does not wait for
        // it, and the database rolls its transaction back when the process ends.
        let _ = tokio::time::timeout(Duration::from_secs(1), self.shipping.store.close()).await;
    }
}

/// Opens keys, schemas and the store; waits for a state store that is down (a PostgreSQL
/// server restarting), but not for a configuration that cannot work. `None` on shutdown.
async fn open(
    config: &Config,
    shutdown: &watch::Receiver<bool>,
) -> Result<Option<Shipping>, (u8, String)> {
    let mut shutdown = shutdown.clone();
    let mut backoff = crate::transport::backoff::Backoff::default();
    loop {
        match Shipping::open(config.clone()).await {
            Ok(shipping) => return Ok(Some(shipping)),
            Err(e @ ShippingError::Store(StoreError::Open { .. })) => {
                backoff.after(&e, &mut shutdown).await;
                if *shutdown.borrow() {
                    return Ok(None);
                }
            }
            Err(e) => return Err((e.exit_code().max(2), e.to_string())),
        }
    }
}

/// The spool transport: writes what is queued, and takes the receipts that came back, when
/// woken and on an interval.
async fn keep_spooled(
    shipping: Arc<Shipping>,
    dir: PathBuf,
    receipts: Option<PathBuf>,
    queued: Arc<Notify>,
    link: Link,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match spool::drain(&shipping.store, &dir, &shipping.origin()).await {
            Ok(written) => {
                link.up();
                if written > 0 {
                    tracing::info!(written, "written to the spool {}", dir.display());
                }
            }
            Err(e) => {
                tracing::warn!("{e}; trying again in {} s", SEND_POLL.as_secs());
                link.down(&e);
            }
        }
        if let Some(receipts) = &receipts
            && let Err(e) = inbox::spool::collect(&shipping.inbox(), receipts).await
        {
            tracing::warn!("{e}; trying again in {} s", SEND_POLL.as_secs());
        }
        tokio::select! {
            _ = queued.notified() => {}
            _ = tokio::time::sleep(SEND_POLL) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Marks sent messages expired once they waited longer than the receipt timeout, and raises
/// the alerts the status calls for (each once: the store remembers what was told).
async fn housekeeping(
    shipping: Arc<Shipping>,
    status: Arc<StatusCache>,
    mut shutdown: watch::Receiver<bool>,
) {
    let timeout = chrono::Duration::hours(i64::from(shipping.delivery.receipt_timeout_hours));
    while !*shutdown.borrow() {
        match shipping.store.expire(timeout, chrono::Utc::now()).await {
            Ok(expired) => {
                for msg_id in expired {
                    tracing::error!(
                        %msg_id,
                        "no receipt within {} h: marked expired; see docs/runbook.md",
                        timeout.num_hours()
                    );
                }
            }
            Err(e) => tracing::warn!("cannot mark expired receipts: {e}"),
        }
        match status.fresh().await {
            Ok(now) => {
                let due = alerts::due(&now, status.clock.now(), status.config.language);
                if let Err(e) = alerts::raise(&status.config, &shipping.store, &due).await {
                    tracing::warn!("cannot record the alerts raised: {e}");
                }
            }
            Err(e) => tracing::warn!("cannot gather the status for alerts: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(HOUSEKEEPING) => {}
            _ = shutdown.changed() => {}
        }
    }
}
