//! Progress of a long step: a bar on a terminal, plain log lines otherwise.
//!
//! An operator at a terminal wants to see that a step of minutes moves; a log (journald, a
//! CI job) wants a few lines with counts, not a bar's control characters.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    label: String,
    bar: Option<ProgressBar>,
    total: Option<u64>,
    done: u64,
    /// The count at which the next log line is due (every tenth of the total).
    next_line: u64,
    started: Instant,
}

impl Progress {
    /// A step with a known number of items.
    pub fn counted(label: &str, total: u64) -> Progress {
        let bar = terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg:24} [{bar:40}] {pos}/{len} ({eta} left)")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(label.to_string());
            bar
        });
        if bar.is_none() {
            tracing::info!("{label}: 0 of {total}");
        }
        Progress {
            label: label.to_string(),
            bar,
            total: Some(total),
            done: 0,
            next_line: total.div_ceil(10).max(1),
            started: Instant::now(),
        }
    }

    /// A step whose size is not known in advance: a spinner on a terminal.
    pub fn step(label: &str) -> Progress {
        let bar = terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_message(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if bar.is_none() {
            tracing::info!("{label} …");
        }
        Progress {
            label: label.to_string(),
            bar,
            total: None,
            done: 0,
            next_line: u64::MAX,
            started: Instant::now(),
        }
    }

    pub fn inc(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None => {
                if self.done >= self.next_line {
                    let total = self.total.unwrap_or(self.done);
                    tracing::info!("{}: {} of {total}", self.label, self.done);
                    self.next_line = self.done + total.div_ceil(10).max(1);
                }
            }
        }
    }

    /// Ends the step, saying how long it took.
    pub fn finish(self) {
        let took = self.started.elapsed();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let count = match self.total {
            Some(total) => format!(" ({total})"),
            None => String::new(),
        };
        tracing::info!("{}{count}: done in {:.1} s", self.label, took.as_secs_f64());
    }
}

fn terminal() -> bool {
    std::io::stderr().is_terminal()
}
