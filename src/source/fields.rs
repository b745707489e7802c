//! Typed access to the fields of one row, turning each bad value into a located problem.
//!
//! A bad optional value becomes `None` and a problem, so the rest of the record still flows
//! ("send even when incomplete"); a missing key drops the record. Values are kept as
//! `CompactString`: ids, codes and numbers of a row fit inline (24 bytes), so a year of rows
//! costs no allocation per value.

use std::str::FromStr;

use chrono::NaiveDate;
use compact_str::CompactString;

use super::problem::{Place, Problem, Problems};
use super::table::Row;
use crate::date::parse_date;
use crate::redact::shown_value;

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
    pub fn key(&mut self, column: usize) -> Option<CompactString> {
        self.required(column).map(CompactString::from)
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

    pub fn text(&self, column: usize) -> Option<CompactString> {
        Some(self.row.get(column))
            .filter(|v| !v.is_empty())
            .map(CompactString::from)
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
