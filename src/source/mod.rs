//! Readers that turn what the EPJ knows into canonical records: an extract directory
//! ([`extract`]) or the EPJ's database ([`database`]), both through one [`reader`], or the
//! EPJ's own IPLOS 3.7 extract ([`iplos`]), read into the same records.

pub mod assessments;
pub mod csv_file;
pub mod database;
pub mod extract;
pub mod fields;
pub mod iplos;
pub mod problem;
pub mod reader;
pub mod table;

pub use assessments::{AssessmentRef, Assessments};
pub use database::read_database;
pub use extract::read_extract;
pub use iplos::read_iplos;
pub use problem::{Problem, Problems};
pub use reader::{ReadSummary, RecordKind, RecordSink, Snapshot};

/// Whether a source's local ids last from one reading to the next: the EPJ's own keys do
/// (an extract, a database); an IPLOS extract's person and service numbers are places in
/// that one extract, so the daily flow finds persons by identity number and services by
/// their decision id or their facts instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalIds {
    Lasting,
    PerExtract,
}
