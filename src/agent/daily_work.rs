//! The agent's daily work against the real sources and state store: what
//! [`super::reporting`] paces.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::Notify;

use super::reporting::Reporter;
use crate::checks::Severity;
use crate::config::Config;
use crate::daily::day::{self, DayOptions, DayOutcome, DayRead, Destination};
use crate::shipping::Shipping;
use crate::transport::link::Link;

pub struct DailyWork {
    pub config: Arc<Config>,
    pub shipping: Arc<Shipping>,
    /// Each source's reachability, by name, for `/health`.
    pub sources: HashMap<String, Link>,
    /// Woken when messages were queued, so that the sender goes at once.
    pub queued: Arc<Notify>,
    /// What the last capture held back, so that a capture every few minutes says it once.
    pub held: String,
}

impl DailyWork {
    /// Reads the sources in use on `date` off the runtime (reading is blocking work), and
    /// notes for `/health` which could be read.
    async fn read(&self, date: NaiveDate) -> Result<DayRead, String> {
        let config = self.config.clone();
        let read = tokio::task::spawn_blocking(move || DayRead::read(&config, date))
            .await
            .map_err(|e| format!("reading the sources failed: {e}"))?;
        for source in read.sources() {
            let Some(link) = self.sources.get(&source.name) else {
                continue;
            };
            match unusable(source) {
                Some(why) => link.down(&why),
                None => link.up(),
            }
        }
        Ok(read)
    }

    async fn run(
        &self,
        date: NaiveDate,
        now: DateTime<Utc>,
        read: DayRead,
        destination: Destination<'_>,
    ) -> Result<DayOutcome, String> {
        let options = DayOptions {
            date,
            initial: None,
            now,
        };
        day::run_read(
            &self.config,
            &self.shipping.store,
            destination,
            options,
            read,
        )
        .await
        .map_err(|e| e.to_string())
    }
}

impl Reporter for DailyWork {
    fn last_shipped(&mut self) -> impl Future<Output = Result<Option<NaiveDate>, String>> + Send {
        let store = self.shipping.store.clone();
        async move {
            store
                .last_shipped_date()
                .await
                .map_err(|e| format!("the state store cannot tell the last daily run: {e}"))
        }
    }

    /// Runs `date` only when every source in use on it could be read: a date is shipped
    /// once, so it waits for an EPJ that is down rather than go without its changes.
    async fn run_day(&mut self, date: NaiveDate, now: DateTime<Utc>) -> Result<(), String> {
        let read = self.read(date).await?;
        let down: Vec<String> = read.sources().filter_map(unusable).collect();
        if !down.is_empty() {
            return Err(down.join("; "));
        }
        let outcome = self
            .run(date, now, read, Destination::Outbox(&self.shipping))
            .await?;
        match outcome.shipped.as_ref().filter(|s| !s.messages.is_empty()) {
            Some(shipped) => {
                tracing::info!(
                    %date,
                    notifications = shipped.notifications,
                    messages = %shipped.messages.join(", "),
                    "daily run: notifications shipped in {} message(s)",
                    shipped.messages.len()
                );
                self.queued.notify_one();
            }
            None => tracing::info!(%date, "daily run: no changes to ship (recorded)"),
        }
        if let Some(held) = held_back(&outcome) {
            tracing::warn!(%date, "{held}");
        }
        Ok(())
    }

    async fn capture(&mut self, date: NaiveDate, now: DateTime<Utc>) -> Result<(), String> {
        let read = self.read(date).await?;
        let outcome = self.run(date, now, read, Destination::CaptureOnly).await?;
        let capture = &outcome.capture;
        let held = held_back(&outcome).unwrap_or_default();
        if !held.is_empty() && held != self.held {
            tracing::warn!(%date, "{held}");
        }
        self.held = held;
        if capture.notifications > 0 {
            tracing::info!(
                %date,
                notifications = capture.notifications,
                "captured; they go with the daily run for {date}"
            );
        } else {
            tracing::debug!(%date, "captured: no changes");
        }
        Ok(())
    }
}

/// What was held back for errors, by rule (the rules' ids and counts name no one).
fn held_back(outcome: &DayOutcome) -> Option<String> {
    let capture = &outcome.capture;
    if capture.held_services + capture.held_persons == 0 {
        return None;
    }
    let rules: Vec<String> = outcome
        .report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} ({})", f.rule, f.count))
        .collect();
    Some(format!(
        "{} service(s) and {} person(s) held back until fixed in the EPJ: {}; `kpr-bridge check` lists where",
        capture.held_services,
        capture.held_persons,
        rules.join(", ")
    ))
}

/// Why a source could not be read as a whole, if it could not, starting with its name.
fn unusable(source: &crate::check_run::SourceRun) -> Option<String> {
    let named = format!("source '{}'", source.name);
    match &source.unusable {
        Some(why) if why.starts_with(&named) => Some(why.clone()),
        Some(why) => Some(format!("{named}: {why}")),
        None => source.is_unusable().then(|| {
            format!(
                "{named}: part of {} could not be read; `kpr-bridge check` names what",
                source.origin
            )
        }),
    }
}
