//! The operator's status for `/status`, `/metrics` and the alerts, gathered from the state
//! store at most every few seconds however often a monitor asks.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::clock::Clock;
use crate::config::Config;
use crate::status::{self, Status};
use crate::store::{Store, StoreError};

/// How long a gathered status is shown before it is gathered again.
const FRESH: Duration = Duration::from_secs(2);

pub struct StatusCache {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    last: Mutex<Option<(Instant, Arc<Status>)>>,
}

impl StatusCache {
    pub fn new(config: Arc<Config>, store: Store, clock: Arc<dyn Clock>) -> StatusCache {
        StatusCache {
            config,
            store,
            clock,
            last: Mutex::new(None),
        }
    }

    /// The status, gathered now unless it was within the last few seconds.
    pub async fn get(&self) -> Result<Arc<Status>, StoreError> {
        let mut last = self.last.lock().await;
        if let Some((at, status)) = last.as_ref()
            && at.elapsed() < FRESH
        {
            return Ok(status.clone());
        }
        self.gather(&mut last).await
    }

    /// The status gathered now, for a decision (the alerts) that must not see an old one.
    pub async fn fresh(&self) -> Result<Arc<Status>, StoreError> {
        let mut last = self.last.lock().await;
        self.gather(&mut last).await
    }

    async fn gather(
        &self,
        last: &mut Option<(Instant, Arc<Status>)>,
    ) -> Result<Arc<Status>, StoreError> {
        let status = Arc::new(status::gather(&self.config, &self.store, self.clock.now()).await?);
        *last = Some((Instant::now(), status.clone()));
        Ok(status)
    }
}
