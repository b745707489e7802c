//! The daily rhythm: capture on an interval and whenever a new extract arrives, and run
//! each reporting date once the schedule closes it.
//!
//! Architecture Invariant: captures are always stamped with the oldest reporting date not
//! yet shipped, and that date is run (captured once more and shipped) once the schedule has
//! closed it. So stamps never go backwards, every date is shipped exactly once, a change
//! seen after a date's run goes with the next date, and a date missed while the agent or the
//! EPJ was down is run as soon as it can be, before any later one (invariants 3 and 7).

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;
use tokio::sync::{Notify, watch};

use super::clock::Clock;
use crate::config::schedule::Schedule;

/// The work behind the rhythm; [`super::daily_work::DailyWork`] does it against the
/// sources and the state store, a test records it.
pub trait Reporter {
    /// The latest reporting date shipped; `None` before daily reporting began.
    fn last_shipped(&mut self) -> impl Future<Output = Result<Option<NaiveDate>, String>> + Send;

    /// Reads, captures and ships `date`; `Err` (and nothing shipped) when it cannot yet.
    fn run_day(
        &mut self,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Reads and captures under `date`; ships nothing.
    fn capture(
        &mut self,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// How the rhythm is paced.
pub struct Pace<'a> {
    pub schedule: &'a Schedule,
    pub clock: &'a dyn Clock,
    pub capture_every: Duration,
    /// Woken when a new extract is complete: capture now.
    pub extract_arrived: &'a Notify,
}

/// The pause after a failure: short at first, then up to the capture interval.
const FIRST_RETRY: Duration = Duration::from_secs(30);

/// Keeps the rhythm until `shutdown` turns true. Returns once the step in progress is done.
pub async fn keep(
    reporter: &mut impl Reporter,
    pace: Pace<'_>,
    shutdown: &mut watch::Receiver<bool>,
) {
    let mut next_capture = pace.clock.now();
    let mut retry = FIRST_RETRY;
    // After a failure nothing is tried again before this, however often the loop wakes.
    let mut not_before = next_capture;
    let mut said_no_baseline = false;
    while !*shutdown.borrow() {
        let now = pace.clock.now();
        let wait_until = if now < not_before {
            not_before
        } else {
            match reporter.last_shipped().await {
                Err(why) => {
                    tracing::error!("{why}; trying again in {} s", retry.as_secs());
                    not_before = now + retry;
                    retry = (retry * 2).min(pace.capture_every);
                    not_before
                }
                Ok(None) => {
                    if !said_no_baseline {
                        tracing::error!(
                            "daily reporting has not begun: run `kpr-bridge daily --config FILE --initial` once (see docs/runbook.md); waiting for it"
                        );
                        said_no_baseline = true;
                    }
                    now + pace.capture_every.min(Duration::from_secs(60))
                }
                Ok(Some(last)) => {
                    said_no_baseline = false;
                    let Some(open) = last.checked_add_days(Days::new(1)) else {
                        return;
                    };
                    if pace
                        .schedule
                        .closed_date(now)
                        .is_some_and(|closed| open <= closed)
                    {
                        match reporter.run_day(open, now).await {
                            Ok(()) => {
                                retry = FIRST_RETRY;
                                next_capture = now + pace.capture_every;
                                continue;
                            }
                            Err(why) => {
                                tracing::error!(
                                    "the daily run for {open} cannot go yet: {why}; trying again in {} s",
                                    retry.as_secs()
                                );
                                not_before = now + retry;
                                retry = (retry * 2).min(pace.capture_every);
                                not_before
                            }
                        }
                    } else {
                        if now >= next_capture && open <= now.with_timezone(&Oslo).date_naive() {
                            next_capture = match reporter.capture(open, now).await {
                                Ok(()) => now + pace.capture_every,
                                Err(why) => {
                                    tracing::error!("capture for {open}: {why}");
                                    now + FIRST_RETRY.min(pace.capture_every)
                                }
                            };
                        }
                        let run = pace.schedule.next_after(now).unwrap_or(next_capture);
                        next_capture.min(run)
                    }
                }
            }
        };
        let now = pace.clock.now();
        let pause = (wait_until - now)
            .to_std()
            .unwrap_or_default()
            .min(pace.clock.recheck());
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = pace.extract_arrived.notified() => next_capture = pace.clock.now(),
            _ = shutdown.changed() => {}
        }
    }
}
