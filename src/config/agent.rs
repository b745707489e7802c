//! The `[agent]` and `[log]` parts of a configuration: how `kpr-bridge run` paces itself,
//! where it answers HTTP, and how it logs. Every key has a default, so a configuration that
//! `daily` accepts runs unattended as it is.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::config::schedule::Schedule;

/// The daily run after midnight, outside 02:00–03:00, which daylight saving skips or repeats.
pub const DEFAULT_SCHEDULE: &str = "0 0 4 * * *";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// When the day's events are shipped, in Europe/Oslo.
    pub schedule: Schedule,
    /// How often the sources are read and changes captured (databases; extracts as well,
    /// besides each new extract as it arrives).
    pub capture_every: Duration,
    /// How often the extract directories are scanned in full, whatever the watcher saw.
    pub scan_every: Duration,
    /// How the extract directories are watched.
    pub watch: Watch,
    /// Where `/health`, `/metrics` and `/status` answer; `None` turns HTTP off.
    pub listen: Option<SocketAddr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watch {
    /// The operating system tells (inotify): fast, but blind on network shares.
    Notify,
    /// Only the periodic scan, for network shares (NFS, SMB) where events never arrive.
    Poll,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per line, for a log collector.
    Json,
}

#[derive(Deserialize, Default)]
pub(super) struct RawAgent {
    schedule: Option<String>,
    capture_every_minutes: Option<u32>,
    scan_every_minutes: Option<u32>,
    watch: Option<String>,
    listen: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawLog {
    format: Option<String>,
}

pub(super) fn agent(raw: Option<RawAgent>, problems: &mut Vec<String>) -> Agent {
    let raw = raw.unwrap_or_default();
    let schedule_text = raw.schedule.as_deref().unwrap_or(DEFAULT_SCHEDULE);
    let schedule = Schedule::parse(schedule_text).unwrap_or_else(|why| {
        problems.push(format!("agent.schedule: {why}"));
        Schedule::parse(DEFAULT_SCHEDULE).expect("the default schedule parses")
    });
    let mut minutes = |value: Option<u32>, key: &str, default: u32| {
        let value = value.unwrap_or(default);
        if value == 0 {
            problems.push(format!(
                "agent.{key}: 0 is not a number of minutes; give 1 or more (default {default})"
            ));
        }
        Duration::from_secs(u64::from(value.max(1)) * 60)
    };
    let capture_every = minutes(raw.capture_every_minutes, "capture_every_minutes", 15);
    let scan_every = minutes(raw.scan_every_minutes, "scan_every_minutes", 5);
    let watch = match raw.watch.as_deref().unwrap_or("notify") {
        "notify" => Watch::Notify,
        "poll" => Watch::Poll,
        other => {
            problems.push(format!(
                "agent.watch: '{other}' is not a way to watch; use \"notify\", or \"poll\" for a network share"
            ));
            Watch::Notify
        }
    };
    let listen = match raw.listen.as_deref().map(str::trim) {
        None => Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        Some("" | "off") => None,
        Some(text) => match text.parse() {
            Ok(address) => Some(address),
            Err(_) => {
                problems.push(format!(
                    "agent.listen: '{text}' is not an address and port such as \"127.0.0.1:9464\"; \"off\" turns HTTP off"
                ));
                None
            }
        },
    };
    Agent {
        schedule,
        capture_every,
        scan_every,
        watch,
        listen,
    }
}

pub(super) fn log_format(raw: Option<RawLog>, problems: &mut Vec<String>) -> LogFormat {
    match raw.and_then(|raw| raw.format).as_deref() {
        None | Some("human") => LogFormat::Human,
        Some("json") => LogFormat::Json,
        Some(other) => {
            problems.push(format!(
                "log.format: '{other}' is not a log format; use \"human\" or \"json\""
            ));
            LogFormat::Human
        }
    }
}
