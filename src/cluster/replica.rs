//! One replica of a multi-municipality deployment: every [`BEAT`] it says it is alive, renews
//! the leases it holds, and takes or gives back leases until it holds its share
//! (⌈municipalities / live replicas⌉). For each lease held it runs the agent's duties
//! against the municipality's schema, through a store fenced by the lease's token; a lease
//! found lost stops them at once (and the fence has refused their writes since it was taken).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::tenants::Tenants;
use crate::agent::clock::Clock;
use crate::agent::replica_view::View;
use crate::agent::{Beside, Duties, http};
use crate::config::Config;
use crate::shipping::Shipping;
use crate::store::Store;
use crate::store::leases::{BEAT, Lease, Leases, TTL};
use crate::transport::backoff::Backoff;

/// How often the directory of configurations is read again (a municipality added, removed
/// or changed).
const RELOAD: Duration = Duration::from_secs(30);

/// How a replica names itself and where it answers HTTP.
#[derive(Clone, Debug)]
pub struct ReplicaOptions {
    pub name: String,
    pub listen: Option<SocketAddr>,
    /// Where and how the administration page for every municipality is served; `None`: not.
    /// The page sits beside the replica, not in it: `kpr-bridge run` starts it from this
    /// ([`Pages`]).
    pub admin: Option<crate::config::admin::Admin>,
}

/// The administration page of every municipality, served beside the replica on a listener
/// of its own. It sits above the replica, so `kpr-bridge run` hands it in: called once the
/// leases can be reached, it starts serving and gives back its task, or `None` when nobody
/// may sign in.
pub type Pages = Box<dyn FnOnce(watch::Receiver<bool>) -> Beside + Send>;

impl ReplicaOptions {
    /// The host's name and the process id: unique among the replicas, and telling the
    /// operator where to look.
    /// Whether a name can be a replica's: it travels in every connection's start-up options
    /// and in logs, so plain characters only.
    pub fn valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    }

    pub fn default_name() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "replica".into());
        format!("{host}-{}", std::process::id())
    }
}

/// A lease held and the task serving it.
struct Serving {
    lease: Lease,
    municipality: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Runs the replica until `shutdown`, with the administration page `pages` beside it; then
/// stops every municipality's duties, gives their leases back and leaves. `Err` (exit code,
/// why) only when it cannot start.
pub async fn run(
    mut tenants: Tenants,
    options: ReplicaOptions,
    clock: Arc<dyn Clock>,
    pages: Pages,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), (u8, String)> {
    let dir = tenants.dir.clone();
    for problem in &tenants.problems {
        tracing::error!("{problem}");
    }
    let mut modified = modification_times(&tenants);
    let mut backoff = Backoff::default();
    let leases = loop {
        match Leases::open(&tenants.url, &options.name).await {
            Ok(leases) => break leases,
            Err(e) => {
                backoff.after(&e, &mut shutdown).await;
                if *shutdown.borrow() {
                    return Ok(());
                }
            }
        }
    };
    let view = Arc::new(View::new(options.name.clone(), leases.clone()));
    let mut http_task = None;
    if let Some(address) = options.listen {
        let (bound, task) =
            http::serve(address, http::Http::Replica(view.clone()), shutdown.clone())
                .await
                .map_err(|e| (2, e))?;
        tracing::info!("HTTP on http://{bound}: /health, /metrics, /status");
        http_task = Some(task);
    }
    let admin_task = pages(shutdown.clone()).await.map_err(|e| (2, e))?;
    tracing::info!(
        replica = options.name,
        municipalities = tenants.configs.len(),
        "replica runs: {} municipalities configured in {}",
        tenants.configs.len(),
        dir.display()
    );
    if let Err(e) = leases.enrol(&tenants.enrolment()).await {
        tracing::warn!("cannot enrol the municipalities: {e}");
    }

    let mut serving: BTreeMap<String, Serving> = BTreeMap::new();
    let mut stopping: Vec<JoinHandle<()>> = Vec::new();
    let mut reloaded = tokio::time::Instant::now();
    let mut last_pruned = tokio::time::Instant::now();
    loop {
        if let Err(e) = leases.heartbeat().await {
            tracing::warn!("cannot reach the lease database: {e}");
        }
        // Renew first: a lease found lost stops its duties before anything else.
        let mut lost = Vec::new();
        for (tenant, served) in &serving {
            match leases.renew(&served.lease).await {
                Ok(true) => {}
                Ok(false) => lost.push(tenant.clone()),
                Err(e) => tracing::warn!(
                    municipality = served.municipality,
                    "cannot renew the lease: {e}; the duties go on, fenced by its token"
                ),
            }
        }
        for tenant in lost {
            let served = serving.remove(&tenant).expect("listed above");
            tracing::error!(
                municipality = served.municipality,
                token = served.lease.token,
                "the lease was taken over by another replica (this one paused or lost the database for longer than the lease): its duties stop here"
            );
            let _ = served.stop.send(true);
            stopping.push(served.task);
        }
        stopping.retain(|task| !task.is_finished());

        if reloaded.elapsed() >= RELOAD {
            reloaded = tokio::time::Instant::now();
            match Tenants::load(&dir) {
                Ok(fresh) => {
                    let now = modification_times(&fresh);
                    for (tenant, served) in &serving {
                        if now.get(tenant) != modified.get(tenant) {
                            tracing::info!(
                                municipality = served.municipality,
                                "its configuration was changed or removed: its duties stop, and start again with the new one"
                            );
                            let _ = served.stop.send(true);
                        }
                    }
                    for problem in fresh
                        .problems
                        .iter()
                        .filter(|p| !tenants.problems.contains(p))
                    {
                        tracing::error!("{problem}");
                    }
                    tenants = fresh;
                    modified = now;
                    if let Err(e) = leases.enrol(&tenants.enrolment()).await {
                        tracing::warn!("cannot enrol the municipalities: {e}");
                    }
                }
                Err(e) => tracing::error!("{e}; the municipalities served go on as configured"),
            }
            let ended: Vec<String> = serving
                .iter()
                .filter(|(_, s)| *s.stop.borrow())
                .map(|(t, _)| t.clone())
                .collect();
            for tenant in ended {
                stopping.push(serving.remove(&tenant).expect("listed").task);
            }
        }

        // The share: every configured municipality over the replicas alive now.
        let live = leases.live_replicas().await.unwrap_or(1);
        let share = tenants.configs.len().div_ceil(live);
        if serving.len() < share {
            let wanted: Vec<String> = tenants
                .configs
                .keys()
                .filter(|t| !serving.contains_key(*t))
                .cloned()
                .collect();
            match leases.free(&wanted).await {
                Ok(free) => {
                    for tenant in free {
                        if serving.len() >= share {
                            break;
                        }
                        match leases.take(&tenant).await {
                            Ok(Some(lease)) => {
                                let config = tenants.configs[&tenant].clone();
                                tracing::info!(
                                    municipality = config.municipality,
                                    token = lease.token,
                                    "lease taken: serving municipality {}",
                                    config.municipality
                                );
                                let served =
                                    start(config, lease, &tenants.url, view.clone(), clock.clone());
                                serving.insert(tenant, served);
                            }
                            Ok(None) => {}
                            Err(e) => tracing::warn!("cannot take a lease: {e}"),
                        }
                    }
                }
                Err(e) => tracing::warn!("cannot read the leases: {e}"),
            }
        } else if serving.len() > share {
            // Another replica joined: give back what is over the share.
            let extra: Vec<String> = serving
                .iter()
                .rev()
                .take(serving.len() - share)
                .map(|(t, _)| t.clone())
                .collect();
            for tenant in extra {
                let served = serving.remove(&tenant).expect("listed");
                tracing::info!(
                    municipality = served.municipality,
                    "giving the lease back: {live} replicas share the work now"
                );
                let _ = served.stop.send(true);
                stopping.push(served.task);
            }
        }
        if last_pruned.elapsed() >= Duration::from_secs(3600) {
            last_pruned = tokio::time::Instant::now();
            if let Err(e) = leases.prune_writes(7).await {
                tracing::warn!("cannot prune the write log: {e}");
            }
        }

        tokio::select! {
            _ = tokio::time::sleep(BEAT) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }

    tracing::info!(
        "stopping: each municipality's step in progress gets at most {} s; then the leases are given back",
        crate::agent::GRACE.as_secs()
    );
    for served in serving.values() {
        let _ = served.stop.send(true);
    }
    for task in serving.into_values().map(|s| s.task).chain(stopping) {
        let _ = task.await;
    }
    for task in http_task.into_iter().chain(admin_task) {
        let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
    }
    if let Err(e) = leases.leave().await {
        tracing::warn!(
            "cannot say this replica left: {e}; the others notice in {} s",
            TTL.as_secs()
        );
    }
    leases.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Starts serving one municipality under `lease`: opens its store (fenced by the lease),
/// keys and schemas, runs its duties until told to stop, then gives the lease back.
fn start(
    config: Config,
    lease: Lease,
    url: &str,
    view: Arc<View>,
    clock: Arc<dyn Clock>,
) -> Serving {
    let (stop, mut stopped) = watch::channel(false);
    let municipality = config.municipality.clone();
    let url = url.to_string();
    let held = lease.clone();
    let task = tokio::spawn(async move {
        let mut backoff = Backoff::default();
        let shipping = loop {
            let store = Store::open_postgres_in(&url, &lease.tenant, Some(&lease));
            match Shipping::open_with(config.clone(), store).await {
                Ok(shipping) => break shipping,
                Err(e) => {
                    let failure = format!(
                        "municipality {}: cannot start its duties: {e}",
                        config.municipality
                    );
                    backoff.after(&failure, &mut stopped).await;
                    if *stopped.borrow() {
                        let _ = view.leases.release(&lease, "given back").await;
                        return;
                    }
                }
            }
        };
        let duties = Duties::start(shipping, clock, stopped.clone());
        let municipality = config.municipality.clone();
        view.serve(
            municipality.clone(),
            duties.health.clone(),
            duties.status.clone(),
        );
        while !*stopped.borrow() {
            if stopped.changed().await.is_err() {
                break;
            }
        }
        view.stop_serving(&municipality);
        duties.stop(Vec::new()).await;
        if let Err(e) = view.leases.release(&lease, "given back").await {
            tracing::warn!(
                municipality,
                "cannot give the lease back: {e}; it expires by itself"
            );
        }
    });
    Serving {
        lease: held,
        municipality,
        stop,
        task,
    }
}

fn modification_times(tenants: &Tenants) -> BTreeMap<String, Option<SystemTime>> {
    tenants
        .configs
        .iter()
        .map(|(schema, config)| {
            let modified = std::fs::metadata(&config.file)
                .and_then(|m| m.modified())
                .ok();
            (schema.clone(), modified)
        })
        .collect()
}
