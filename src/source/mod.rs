//! Readers that turn what the EPJ knows into canonical records.

pub mod csv_file;
pub mod extract;
pub mod fields;
pub mod problem;

pub use extract::{ExtractSummary, RecordSink, Snapshot, read_extract};
pub use problem::{Problem, Problems};
