//! When the daily run goes: a cron expression read in Europe/Oslo, and the reporting dates
//! it closes.
//!
//! Architecture Invariant: a run is keyed by its reporting date, never by the instant it
//! fired. The run at the scheduled time on day D closes reporting date D − 1; whatever is
//! captured before then belongs to that date, whatever after to the next. A daylight-saving
//! day that skips or repeats the scheduled hour therefore neither loses nor doubles a date
//! (invariant 7).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;

#[derive(Clone)]
pub struct Schedule {
    cron: cron::Schedule,
}

impl Schedule {
    /// Reads a cron expression of six fields, seconds first (`0 0 4 * * *` is 04:00 daily).
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let fields = text.split_whitespace().count();
        if fields != 6 {
            return Err(format!(
                "'{text}' has {fields} field(s); write six, seconds first, such as \"0 0 4 * * *\" for 04:00 every day"
            ));
        }
        let cron = cron::Schedule::from_str(text).map_err(|e| {
            format!("'{text}' is not a cron expression ({e}); such as \"0 0 4 * * *\"")
        })?;
        if cron.upcoming(Oslo).next().is_none() {
            return Err(format!("'{text}' never fires again"));
        }
        Ok(Schedule { cron })
    }

    pub fn text(&self) -> &str {
        self.cron.source()
    }

    /// Whether the run may fire between 02:00 and 03:00, the hour daylight saving skips in
    /// spring and repeats in autumn. Keyed by date, nothing is lost or doubled, but the run
    /// moves to another hour on those days.
    pub fn touches_dst_hour(&self) -> bool {
        use cron::TimeUnitSpec;
        self.cron.hours().includes(2)
    }

    /// The first scheduled instant after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Inside the repeated autumn hour the cron crate can answer with the first of the
        // two 02:30s although `now` is past it: only a later instant counts.
        self.cron
            .after(&now.with_timezone(&Oslo))
            .take(4)
            .map(|at| at.with_timezone(&Utc))
            .find(|at| *at > now)
    }

    /// The latest reporting date that is closed at `now`: the day before the Oslo date of
    /// the last scheduled instant at or before `now`. Every date up to it is due to ship.
    pub fn closed_date(&self, now: DateTime<Utc>) -> Option<NaiveDate> {
        let just_after = now + chrono::Duration::milliseconds(1);
        let last = self
            .cron
            .after(&just_after.with_timezone(&Oslo))
            .next_back()?;
        last.date_naive().checked_sub_days(Days::new(1))
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?})", self.text())
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.text() == other.text()
    }
}

impl Eq for Schedule {}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn oslo(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Oslo.with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_run_at_four_closes_the_day_before() {
        let schedule = Schedule::parse("0 0 4 * * *").unwrap();
        assert_eq!(
            schedule.closed_date(oslo(2026, 3, 10, 3, 59)),
            Some(date(2026, 3, 8))
        );
        assert_eq!(
            schedule.closed_date(oslo(2026, 3, 10, 4, 0)),
            Some(date(2026, 3, 9))
        );
        assert_eq!(
            schedule.closed_date(oslo(2026, 3, 10, 23, 0)),
            Some(date(2026, 3, 9))
        );
        assert_eq!(
            schedule.next_after(oslo(2026, 3, 10, 4, 0)),
            Some(oslo(2026, 3, 11, 4, 0))
        );
    }

    #[test]
    fn four_o_clock_is_in_local_time_on_both_sides_of_daylight_saving() {
        let schedule = Schedule::parse("0 0 4 * * *").unwrap();
        // 29 March 2026: 02:00 → 03:00; 04:00 CEST is 02:00 UTC, the day before 03:00 UTC.
        assert_eq!(
            schedule.next_after(oslo(2026, 3, 28, 12, 0)),
            Some(Utc.with_ymd_and_hms(2026, 3, 29, 2, 0, 0).unwrap())
        );
        assert_eq!(
            schedule.next_after(oslo(2026, 10, 24, 12, 0)),
            Some(Utc.with_ymd_and_hms(2026, 10, 25, 3, 0, 0).unwrap())
        );
    }

    #[test]
    fn inside_the_repeated_autumn_hour_the_next_run_is_later() {
        let schedule = Schedule::parse("0 30 2 * * *").unwrap();
        // 25 October 2026, 00:00 to 02:59 UTC: 02:00 CEST to 03:59 CET, 02:xx twice.
        let start = Utc.with_ymd_and_hms(2026, 10, 25, 0, 0, 0).unwrap();
        for minutes in (0..180).step_by(5) {
            let now = start + chrono::Duration::minutes(minutes);
            let next = schedule.next_after(now).unwrap();
            assert!(
                next > now && next - now <= chrono::Duration::hours(25),
                "{now} → {next}"
            );
        }
    }

    #[test]
    fn bad_expressions_say_how_to_write_one() {
        let five = Schedule::parse("0 4 * * *").unwrap_err();
        assert!(
            five.contains("5 field(s)") && five.contains("0 0 4 * * *"),
            "{five}"
        );
        let garbage = Schedule::parse("a b c d e f").unwrap_err();
        assert!(garbage.contains("not a cron expression"), "{garbage}");
    }

    #[test]
    fn a_run_in_the_daylight_saving_hour_is_noticed() {
        assert!(Schedule::parse("0 30 2 * * *").unwrap().touches_dst_hour());
        assert!(!Schedule::parse("0 0 4 * * *").unwrap().touches_dst_hour());
    }
}
