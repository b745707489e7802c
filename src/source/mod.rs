//! Readers that turn what the EPJ knows into canonical records: an extract directory
//! ([`extract`]) or the EPJ's database ([`database`]), both through one [`reader`].

pub mod csv_file;
pub mod database;
pub mod extract;
pub mod fields;
pub mod problem;
pub mod reader;
pub mod table;

pub use database::read_database;
pub use extract::read_extract;
pub use problem::{Problem, Problems};
pub use reader::{ReadSummary, RecordKind, RecordSink, Snapshot};
