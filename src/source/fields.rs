//! Typed access to the fields of one row, turning each bad value into a located problem.
//!
//! A bad optional value becomes `None` and a problem, so the rest of the record still flows
//! ("send even when incomplete"); a missing key drops the record.

use std::str::FromStr;

use chrono::NaiveDate;

use super::problem::{Place, Problem, Problems, shown_value};
use super::table::Row;

pub struct Fields<'r, 'p> {
    pub row: &'r Row<'r>,
    place: &'r Place,
    columns: &'r [&'static str],
    problems: &'p mut Problems,
}

impl<'r, 'p> Fields<'r, 'p> {
    pub fn new(
        row: &'r Row<'r>,
        place: &'r Place,
        columns: &'r [&'static str],
        problems: &'p mut Problems,
    ) -> Self {
        Fields {
            row,
            place,
            columns,
            problems,
        }
    }

    pub fn line(&self) -> u64 {
        self.row.line
    }

    pub fn report(&mut self, column: usize, what: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(
            Problem::at(self.place, self.row.line, what, fix).in_column(self.columns[column]),
        );
    }

    /// A value the record cannot do without; reports and returns `None` when empty.
    pub fn key(&mut self, column: usize) -> Option<String> {
        self.required(column).map(str::to_string)
    }

    /// Like [`Fields::key`], borrowed: for a value that is parsed further, not kept as text.
    pub fn required(&mut self, column: usize) -> Option<&'r str> {
        let value = self.row.get(column);
        if value.is_empty() {
            self.report(
                column,
                "is empty",
                "every row needs this value; the row was skipped",
            );
            return None;
        }
        Some(value)
    }

    pub fn text(&self, column: usize) -> Option<String> {
        Some(self.row.get(column))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Parses a value with `FromStr`; `expected` says what would have been right.
    pub fn parsed<T: FromStr>(&mut self, column: usize, expected: &str) -> Option<T> {
        let value = self.row.get(column);
        if value.is_empty() {
            return None;
        }
        match value.parse() {
            Ok(parsed) => Some(parsed),
            Err(_) => {
                let what = format!("{} is not {expected}", shown_value(value));
                self.report(column, what, format!("write {expected}"));
                None
            }
        }
    }

    pub fn date(&mut self, column: usize) -> Option<NaiveDate> {
        let value = self.row.get(column);
        if value.is_empty() {
            return None;
        }
        match parse_date(value) {
            Ok(date) => Some(date),
            Err(reason) => {
                let what = format!("{} is not a date{reason}", shown_value(value));
                self.report(column, what, "write the date as YYYY-MM-DD or DD.MM.YYYY");
                None
            }
        }
    }
}

/// `YYYY-MM-DD` or `DD.MM.YYYY`. The error is an explanation to append, such as
/// ": February 2025 has 28 days", or empty when the shape itself is wrong.
pub fn parse_date(value: &str) -> Result<NaiveDate, String> {
    let b = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        } else {
            None
        }
    };
    let parts = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => digits(0..4).zip(digits(5..7)).zip(digits(8..10)),
        10 if b[2] == b'.' && b[5] == b'.' => digits(6..10).zip(digits(3..5)).zip(digits(0..2)),
        _ => None,
    };
    let ((year, month), day) = parts.ok_or_else(String::new)?;
    let year = year as i32;
    if !(1..=12).contains(&month) {
        return Err(format!(": there is no month {month}"));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let days = days_in_month(year, month);
        let month_name = NaiveDate::from_ymd_opt(year, month, 1)
            .map_or_else(String::new, |d| d.format("%B %Y").to_string());
        format!(": {month_name} has {days} days")
    })
}

fn days_in_month(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|day| NaiveDate::from_ymd_opt(year, month, *day).is_some())
        .unwrap_or(28)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_date_formats() {
        let day = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        assert_eq!(parse_date("2025-03-01"), Ok(day));
        assert_eq!(parse_date("01.03.2025"), Ok(day));
    }

    #[test]
    fn impossible_dates_are_explained() {
        assert_eq!(
            parse_date("31.02.2025"),
            Err(": February 2025 has 28 days".into())
        );
        assert_eq!(
            parse_date("2024-02-30"),
            Err(": February 2024 has 29 days".into())
        );
        assert_eq!(
            parse_date("2025-13-01"),
            Err(": there is no month 13".into())
        );
        for bad in [
            "",
            "2025-1-1",
            "1.3.2025",
            "2025/03/01",
            "20250301",
            "10000-01-01",
            "2025-03-0x",
        ] {
            assert_eq!(parse_date(bad), Err(String::new()), "{bad}");
        }
    }
}
