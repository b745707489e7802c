//! `/health`: whether the agent can do its work now — the state store answers, the broker
//! is reachable, every source could be read — and, when not, which part and why.

use std::time::Duration;

use serde::Serialize;

use crate::store::Store;
use crate::transport::link::{Link, LinkState};

/// What the agent depends on, each with what knows whether it is reachable.
pub struct Health {
    pub store: Store,
    /// `broker (sending)`, `broker (receipts)`, `source <name>`, …
    pub links: Vec<(String, Link)>,
}

#[derive(Debug, Serialize)]
pub struct HealthReport {
    pub healthy: bool,
    pub checks: Vec<Check>,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// Since when it is as it is (RFC 3339), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Health {
    pub async fn report(&self) -> HealthReport {
        let mut checks = Vec::with_capacity(self.links.len() + 1);
        let store = tokio::time::timeout(Duration::from_secs(5), self.store.ping()).await;
        checks.push(Check {
            name: "state store".into(),
            ok: matches!(store, Ok(Ok(()))),
            since: None,
            problem: match store {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("the state store did not answer within 5 s".into()),
            },
        });
        for (name, link) in &self.links {
            let (ok, since, problem) = match link.state() {
                LinkState::Up { since } => (true, Some(since), None),
                LinkState::Connecting => (false, None, Some("not reached yet".to_string())),
                LinkState::Down { since, why } => (false, Some(since), Some(why)),
            };
            checks.push(Check {
                name: name.clone(),
                ok,
                since: since.map(|at| at.to_rfc3339()),
                problem,
            });
        }
        HealthReport {
            healthy: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}
