//! The checks over sources given in a test's own words: name, records, and the source's days.

use chrono::NaiveDate;
use kpr_bridge::checks::{CheckOptions, CheckReport, SourceRecords, TestUsers, check};
use kpr_bridge::mapping::Mapping;
use kpr_bridge::model::assessment::AssessmentVariables;
use kpr_bridge::source::Snapshot;

/// A source: its name, its records, and its `from` / `to` days (`YYYY-MM-DD`).
pub type Source<'a> = (&'a str, &'a Snapshot, Option<&'a str>, Option<&'a str>);

/// Runs every rule for 2025 with the default test users and the built-in variables.
pub fn run_checks(sources: &[Source], mapping: &Mapping, production: bool) -> CheckReport {
    let day = |text: &str| text.parse::<NaiveDate>().unwrap();
    let sources: Vec<SourceRecords> = sources
        .iter()
        .map(|&(name, records, from, to)| SourceRecords {
            name,
            records,
            mapping,
            from: from.map(day),
            to: to.map(day),
        })
        .collect();
    let test_users = TestUsers::default();
    let options = CheckOptions {
        year: 2025,
        production,
        test_users: &test_users,
        variables: AssessmentVariables::builtin(),
    };
    check(&sources, &options)
}
