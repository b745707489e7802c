//! The agent's rhythm with tokio's time paused: days pass in milliseconds, across both
//! daylight-saving changes of 2026, and each reporting date is run exactly once, on time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Oslo;
use kpr_bridge::agent::clock::TokioClock;
use kpr_bridge::agent::reporting::{self, Pace, Reporter};
use kpr_bridge::config::schedule::Schedule;
use tokio::sync::{Notify, watch};

/// Each date asked for, with the instant it was asked.
type Asked = Arc<Mutex<Vec<(NaiveDate, DateTime<Utc>)>>>;

/// Records what the rhythm asked for.
#[derive(Clone, Default)]
struct Recorder {
    last: Arc<Mutex<Option<NaiveDate>>>,
    runs: Asked,
    captures: Asked,
    /// How many run attempts fail (an EPJ that is down), and when each was made.
    failing_runs: Arc<Mutex<usize>>,
    failed: Asked,
}

impl Reporter for Recorder {
    async fn last_shipped(&mut self) -> Result<Option<NaiveDate>, String> {
        Ok(*self.last.lock().unwrap())
    }

    async fn run_day(&mut self, date: NaiveDate, now: DateTime<Utc>) -> Result<(), String> {
        let mut failing = self.failing_runs.lock().unwrap();
        if *failing > 0 {
            *failing -= 1;
            self.failed.lock().unwrap().push((date, now));
            return Err("source 'epj': cannot be opened".into());
        }
        self.runs.lock().unwrap().push((date, now));
        *self.last.lock().unwrap() = Some(date);
        Ok(())
    }

    async fn capture(&mut self, date: NaiveDate, now: DateTime<Utc>) -> Result<(), String> {
        self.captures.lock().unwrap().push((date, now));
        Ok(())
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn oslo_noon(day: NaiveDate) -> DateTime<Utc> {
    Oslo.from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// Walks the rhythm from noon on `from` for `days` days; the last date shipped before is
/// the day before `from`.
async fn walk(schedule: &str, from: NaiveDate, days: u64) -> Recorder {
    let span = Duration::from_secs(days * 24 * 3600);
    keep(schedule, from.pred_opt(), oslo_noon(from), span, None).await
}

/// Keeps the rhythm for `span` from `start` with `last` shipped; a new extract arrives at
/// `arrival` after the start, when given.
async fn keep(
    schedule: &str,
    last: Option<NaiveDate>,
    start: DateTime<Utc>,
    span: Duration,
    arrival: Option<Duration>,
) -> Recorder {
    keep_with(Recorder::default(), schedule, last, start, span, arrival).await
}

async fn keep_with(
    recorder: Recorder,
    schedule: &str,
    last: Option<NaiveDate>,
    start: DateTime<Utc>,
    span: Duration,
    arrival: Option<Duration>,
) -> Recorder {
    *recorder.last.lock().unwrap() = last;
    let schedule = Schedule::parse(schedule).unwrap();
    let clock = TokioClock::starting_at(start);
    let arrived = Notify::new();
    let (stop, mut shutdown) = watch::channel(false);
    let mut work = recorder.clone();
    let rhythm = async {
        let pace = Pace {
            schedule: &schedule,
            clock: &clock,
            capture_every: Duration::from_secs(15 * 60),
            extract_arrived: &arrived,
        };
        reporting::keep(&mut work, pace, &mut shutdown).await;
    };
    let time_passes = async {
        if let Some(arrival) = arrival {
            tokio::time::sleep(arrival).await;
            arrived.notify_one();
            tokio::time::sleep(span - arrival).await;
        } else {
            tokio::time::sleep(span).await;
        }
        stop.send(true).unwrap();
    };
    tokio::join!(rhythm, time_passes);
    recorder
}

/// The calendar days (in Oslo) on which the runs happened, and their local times.
fn run_days(recorder: &Recorder) -> Vec<(NaiveDate, NaiveDate, NaiveTime)> {
    recorder
        .runs
        .lock()
        .unwrap()
        .iter()
        .map(|(date, at)| {
            let local = at.with_timezone(&Oslo);
            (*date, local.date_naive(), local.time())
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn one_run_a_day_at_four_across_the_spring_change() {
    let recorder = walk("0 0 4 * * *", date(2026, 3, 27), 5).await;
    let four = NaiveTime::from_hms_opt(4, 0, 0).unwrap();
    assert_eq!(
        run_days(&recorder),
        (27..=31)
            .map(|d| (date(2026, 3, d), date(2026, 3, d).succ_opt().unwrap(), four))
            .collect::<Vec<_>>(),
        "each date once, at 04:00 the next day, 29 March (02:00 → 03:00) included"
    );
}

#[tokio::test(start_paused = true)]
async fn one_run_a_day_at_four_across_the_autumn_change() {
    let recorder = walk("0 0 4 * * *", date(2026, 10, 23), 5).await;
    let four = NaiveTime::from_hms_opt(4, 0, 0).unwrap();
    let days = run_days(&recorder);
    assert_eq!(
        days,
        (23..=27)
            .map(|d| (date(2026, 10, d), date(2026, 10, d + 1), four))
            .collect::<Vec<_>>(),
        "each date once, at 04:00 the next day, 25 October (03:00 → 02:00) included"
    );
}

#[tokio::test(start_paused = true)]
async fn a_schedule_in_the_daylight_saving_hour_still_ships_every_date_once() {
    for (from, days) in [(date(2026, 3, 27), 5), (date(2026, 10, 23), 5)] {
        let recorder = walk("0 30 2 * * *", from, days).await;
        let dates: Vec<NaiveDate> = recorder.runs.lock().unwrap().iter().map(|r| r.0).collect();
        let expected: Vec<NaiveDate> = from.iter_days().take(dates.len()).collect();
        assert_eq!(dates, expected, "no date skipped or doubled");
        assert!(dates.len() >= 4, "runs: {dates:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn captures_between_runs_belong_to_the_date_the_next_run_ships() {
    let recorder = walk("0 0 4 * * *", date(2026, 3, 27), 3).await;
    let runs = recorder.runs.lock().unwrap().clone();
    let captures = recorder.captures.lock().unwrap().clone();
    assert!(
        captures.len() > 3 * 24 * 3,
        "every 15 minutes: {}",
        captures.len()
    );
    for (stamp, at) in &captures {
        // The capture's date is the next date to run, and that run comes after it.
        let run = runs.iter().find(|(date, _)| date == stamp);
        if let Some((_, run_at)) = run {
            assert!(
                at < run_at,
                "a capture for {stamp} at {at} after its run at {run_at}"
            );
        }
        let previous = runs
            .iter()
            .filter(|(date, _)| date < stamp)
            .map(|r| r.1)
            .max();
        if let Some(previous) = previous {
            assert!(
                *at >= previous,
                "a capture for {stamp} at {at} before the run of the date before"
            );
        }
    }
    let stamps: Vec<NaiveDate> = captures.iter().map(|c| c.0).collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "capture dates never go back"
    );
}

#[tokio::test(start_paused = true)]
async fn a_missed_run_is_caught_up_date_by_date_before_anything_else() {
    // The agent comes back on 10 March at noon; the last date shipped was 5 March.
    let start = oslo_noon(date(2026, 3, 10));
    let hour = Duration::from_secs(3600);
    let recorder = keep("0 0 4 * * *", Some(date(2026, 3, 5)), start, hour, None).await;
    let dates: Vec<NaiveDate> = recorder.runs.lock().unwrap().iter().map(|r| r.0).collect();
    assert_eq!(dates, (6..=9).map(|d| date(2026, 3, d)).collect::<Vec<_>>());
    let first_capture = recorder.captures.lock().unwrap()[0];
    assert_eq!(first_capture.0, date(2026, 3, 10), "then today's changes");
}

#[tokio::test(start_paused = true)]
async fn a_new_extract_is_captured_at_once() {
    let start = oslo_noon(date(2026, 3, 10));
    let (minute, span) = (Duration::from_secs(60), Duration::from_secs(61));
    let recorder = keep(
        "0 0 4 * * *",
        Some(date(2026, 3, 9)),
        start,
        span,
        Some(minute),
    )
    .await;
    let captures = recorder.captures.lock().unwrap().clone();
    assert_eq!(
        captures.len(),
        2,
        "one at start, one for the extract: {captures:?}"
    );
    assert_eq!(
        (captures[1].1 - captures[0].1).num_seconds(),
        60,
        "the second came when the extract did, not 15 minutes later"
    );
}

#[tokio::test(start_paused = true)]
async fn a_day_the_epj_was_down_runs_when_it_is_back_with_growing_pauses_between() {
    let recorder = Recorder::default();
    *recorder.failing_runs.lock().unwrap() = 5;
    // From 03:59 on 11 March; the run of 10 March is due at 04:00.
    let start =
        oslo_noon(date(2026, 3, 11)) - chrono::Duration::hours(8) - chrono::Duration::minutes(1);
    let span = Duration::from_secs(2 * 3600);
    let recorder = keep_with(
        recorder,
        "0 0 4 * * *",
        Some(date(2026, 3, 9)),
        start,
        span,
        None,
    )
    .await;
    let failed = recorder.failed.lock().unwrap().clone();
    assert_eq!(failed.len(), 5);
    assert!(failed.iter().all(|(d, _)| *d == date(2026, 3, 10)));
    let pauses: Vec<i64> = failed
        .windows(2)
        .map(|w| (w[1].1 - w[0].1).num_seconds())
        .collect();
    assert_eq!(
        pauses,
        [30, 60, 120, 240],
        "tried again with growing pauses, not in a loop"
    );
    let runs = recorder.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].0, date(2026, 3, 10), "then run, once");
    assert_eq!((runs[0].1 - failed[4].1).num_seconds(), 480);
}
