//! The canonical records and the national code lists they are judged against.
//!
//! Everything here is plain data and pure functions, compiled in: nothing reads
//! `../shared` or the network at run time.

use chrono::NaiveDate;

pub mod annual;
pub mod assessment;
pub mod diagnosis_codes;
pub mod ident;
pub mod municipalities;
pub mod orgnr;
pub mod records;
pub mod register;
pub mod service_codes;

pub use records::*;
pub use service_codes::{OrgnrRule, SERVICE_TYPES, ServiceCode, ServiceType};

/// First and last day of a year. Years outside chrono's range are clamped, not a panic.
pub fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
    (first, last)
}

/// Rows of a CSV file compiled into the binary. A bad row is a build defect that the tests
/// catch, so failing loudly here is right.
pub(crate) fn compiled<T: serde::de::DeserializeOwned>(
    text: &'static str,
) -> impl Iterator<Item = T> {
    csv::Reader::from_reader(text.as_bytes())
        .into_deserialize()
        .map(|row| row.expect("compiled-in code list is well-formed (tested)"))
}
