//! What a long-running loop knows about its broker connection, so that `/health` can say
//! whether the broker is reachable without opening a connection of its own.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected yet.
    Connecting,
    Up {
        since: DateTime<Utc>,
    },
    /// The last attempt failed, and why; the loop is waiting to try again.
    Down {
        since: DateTime<Utc>,
        why: String,
    },
}

/// Shared between the loop that writes it and whoever reads it.
#[derive(Clone, Debug)]
pub struct Link(Arc<Mutex<LinkState>>);

impl Default for Link {
    fn default() -> Link {
        Link(Arc::new(Mutex::new(LinkState::Connecting)))
    }
}

impl Link {
    pub fn up(&self) {
        self.set(|state| match state {
            LinkState::Up { .. } => None,
            _ => Some(LinkState::Up { since: Utc::now() }),
        });
    }

    pub fn down(&self, why: &dyn std::fmt::Display) {
        let why = why.to_string();
        self.set(|state| match state {
            LinkState::Down { since, .. } => Some(LinkState::Down { since: *since, why }),
            _ => Some(LinkState::Down {
                since: Utc::now(),
                why,
            }),
        });
    }

    pub fn state(&self) -> LinkState {
        self.0
            .lock()
            .map(|state| state.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn set(&self, change: impl FnOnce(&LinkState) -> Option<LinkState>) {
        let mut state = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(new) = change(&state) {
            *state = new;
        }
    }
}
