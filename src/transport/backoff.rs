//! The pause between reconnection attempts: one second, doubling to a minute, back to one
//! second once work succeeds again. Shared by every loop that keeps a broker connection.

use std::fmt::Display;
use std::time::Duration;

use tokio::sync::watch;

const FIRST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { next: FIRST }
    }
}

impl Backoff {
    /// Work succeeded: the next failure waits the shortest pause again.
    pub fn reset(&mut self) {
        self.next = FIRST;
    }

    /// Logs `failure` with the pause, waits it out (or until shutdown), and doubles it.
    pub async fn after(
        &mut self,
        failure: &(dyn Display + Sync),
        shutdown: &mut watch::Receiver<bool>,
    ) {
        tracing::warn!("{failure}; trying again in {} s", self.next.as_secs());
        tokio::select! {
            _ = tokio::time::sleep(self.next) => {}
            _ = shutdown.changed() => {}
        }
        self.next = (self.next * 2).min(LONGEST);
    }
}
