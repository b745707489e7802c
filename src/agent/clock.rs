//! Where the agent reads the time. Production reads the system clock; tests and rehearsals
//! drive the days themselves, so the schedule can be walked across daylight-saving changes
//! without waiting for them.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Names a file that holds the current instant (RFC 3339); for tests and rehearsals only.
pub const CLOCK_FILE_ENV: &str = "KPR_BRIDGE_CLOCK_FILE";

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// The longest the agent sleeps before reading the clock again: a wall clock can jump
    /// (NTP, a suspended virtual machine), so a sleep is never trusted for long.
    fn recheck(&self) -> Duration;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn recheck(&self) -> Duration {
        Duration::from_secs(30)
    }
}

/// A clock that reads the instant from a file, written by whoever drives the days. An
/// unreadable file reads as the system's time.
pub struct FileClock {
    pub file: PathBuf,
}

impl Clock for FileClock {
    fn now(&self) -> DateTime<Utc> {
        std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|text| DateTime::parse_from_rfc3339(text.trim()).ok())
            .map_or_else(Utc::now, |at| at.with_timezone(&Utc))
    }

    fn recheck(&self) -> Duration {
        Duration::from_millis(200)
    }
}

/// A clock that starts at a given instant and moves with tokio's time, so a test with
/// paused time walks days in milliseconds.
pub struct TokioClock {
    start: DateTime<Utc>,
    started: tokio::time::Instant,
}

impl TokioClock {
    pub fn starting_at(start: DateTime<Utc>) -> TokioClock {
        TokioClock {
            start,
            started: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        self.start + elapsed
    }

    fn recheck(&self) -> Duration {
        Duration::from_secs(24 * 3600)
    }
}

/// The system clock, or the file clock when [`CLOCK_FILE_ENV`] names a file.
pub fn from_environment() -> Box<dyn Clock> {
    match std::env::var_os(CLOCK_FILE_ENV) {
        Some(file) if !file.is_empty() => {
            tracing::warn!(
                "the time is read from {} ({CLOCK_FILE_ENV}): for tests and rehearsals only",
                PathBuf::from(&file).display()
            );
            Box::new(FileClock { file: file.into() })
        }
        _ => Box::new(SystemClock),
    }
}
