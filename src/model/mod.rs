//! The canonical records and the national code lists they are judged against.
//!
//! Everything here is plain data and pure functions, compiled in: nothing reads
//! `../shared` or the network at run time.

pub mod assessment;
pub mod diagnosis_codes;
pub mod ident;
pub mod municipalities;
pub mod orgnr;
pub mod records;
pub mod service_codes;

pub use records::*;
pub use service_codes::{OrgnrRule, SERVICE_TYPES, ServiceCode, ServiceType};
