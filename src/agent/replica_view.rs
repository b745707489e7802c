//! What the HTTP endpoints of a replica of a multi-municipality deployment (`run --tenants`)
//! read: the leases, and the municipalities it serves now, each one's health and status as
//! its [`Duties`](super::Duties) keep them. The replica (`cluster::replica`) says which it
//! serves; `http.rs` answers from it.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;

use super::health::{Health, HealthReport};
use super::status_cache::StatusCache;
use crate::status::Status;
use crate::store::StoreError;
use crate::store::leases::{LeaseRow, Leases};

/// What the replica's HTTP endpoints read: the municipalities it serves now.
pub struct View {
    pub replica: String,
    pub leases: Leases,
    served: RwLock<BTreeMap<String, Served>>,
}

/// One municipality served: what `/health` and `/metrics` read of it.
#[derive(Clone)]
struct Served {
    health: Arc<Health>,
    status: Arc<StatusCache>,
}

/// The replica's `/health`: healthy while it reaches the leases; each municipality's own
/// checks beside (a municipality's broker being down is that municipality's trouble, not a
/// reason to restart the replica that serves the others).
#[derive(Serialize)]
pub struct ReplicaHealth {
    pub healthy: bool,
    pub replica: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub municipalities: BTreeMap<String, HealthReport>,
}

/// The replica's `/status`: every lease, and the status of each municipality served here.
#[derive(Serialize)]
pub struct ReplicaStatus {
    pub replica: String,
    pub leases: Vec<LeaseRow>,
    pub municipalities: BTreeMap<String, Arc<Status>>,
}

impl View {
    /// A replica serving no municipality yet.
    pub fn new(replica: String, leases: Leases) -> View {
        View {
            replica,
            leases,
            served: RwLock::new(BTreeMap::new()),
        }
    }

    /// From now on the endpoints show `municipality`, as its duties' `health` and `status`.
    pub fn serve(&self, municipality: String, health: Arc<Health>, status: Arc<StatusCache>) {
        if let Ok(mut served) = self.served.write() {
            served.insert(municipality, Served { health, status });
        }
    }

    /// The endpoints no longer show `municipality`: its duties stop.
    pub fn stop_serving(&self, municipality: &str) {
        if let Ok(mut served) = self.served.write() {
            served.remove(municipality);
        }
    }

    fn served(&self) -> BTreeMap<String, Served> {
        self.served.read().map(|s| s.clone()).unwrap_or_default()
    }

    pub async fn health(&self) -> ReplicaHealth {
        let problem =
            match tokio::time::timeout(Duration::from_secs(5), self.leases.live_replicas()).await {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("the lease database did not answer within 5 s".into()),
            };
        let mut municipalities = BTreeMap::new();
        for (municipality, served) in self.served() {
            municipalities.insert(municipality, served.health.report().await);
        }
        ReplicaHealth {
            healthy: problem.is_none(),
            replica: self.replica.clone(),
            problem,
            municipalities,
        }
    }

    /// Each served municipality's status (one that cannot be read is left out and logged).
    pub async fn statuses(&self) -> BTreeMap<String, Arc<Status>> {
        let mut statuses = BTreeMap::new();
        for (municipality, served) in self.served() {
            match served.status.get().await {
                Ok(status) => {
                    statuses.insert(municipality, status);
                }
                Err(e) => tracing::warn!(municipality, "cannot gather the status: {e}"),
            }
        }
        statuses
    }

    pub async fn status(&self) -> Result<ReplicaStatus, StoreError> {
        Ok(ReplicaStatus {
            replica: self.replica.clone(),
            leases: self.leases.all().await?,
            municipalities: self.statuses().await,
        })
    }
}
