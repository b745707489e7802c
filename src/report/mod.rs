//! What `kpr-bridge check` shows: a summary table on the terminal, one JSON object, and a
//! self-contained HTML report for the municipality's IPLOS contact.

pub mod html;
pub mod summary;

use serde::Serialize;

use crate::annual::controls::ControlFinding;
use crate::checks::{CheckReport, Finding};

/// Everything a report shows: the check's result and where the data came from.
pub struct ReportView<'a> {
    pub year: i32,
    /// Four digits, as text.
    pub municipality: &'a str,
    pub municipality_name: &'a str,
    /// `test` or `production`.
    pub mode: &'a str,
    /// When the check ran, in Europe/Oslo: `2026-11-22 04:00`.
    pub generated: String,
    pub sources: Vec<SourceLine>,
    pub report: &'a CheckReport,
    /// The register's own arrival checks on KPR_IPL as the year would be written.
    pub controls: &'a [ControlFinding],
}

/// One configured source, as read.
pub struct SourceLine {
    pub name: String,
    /// `extract /srv/epj-export` or `database postgres://epj-db/epj` (never a password).
    pub origin: String,
    pub persons: u64,
    pub services: u64,
    /// Rows or values the reader could not use (each named on the terminal).
    pub problems: u64,
}

/// The `--json` output: `{"year", "persons", "services", "findings": [...]}`.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub year: i32,
    pub persons: u64,
    pub services: u64,
    pub findings: &'a [Finding],
    /// The register's arrival checks on KPR_IPL as the year would be written.
    pub register_checks: &'a [ControlFinding],
}

impl<'a> JsonReport<'a> {
    pub fn new(view: &'a ReportView) -> Self {
        JsonReport {
            year: view.year,
            persons: view.report.persons,
            services: view.report.services,
            findings: &view.report.findings,
            register_checks: view.controls,
        }
    }
}

/// `1 234 567`: digits grouped as Norwegians write them.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_234_567), "1 234 567");
    }
}
