//! One file per message format: the MsgHead envelope around what kpr-bridge sends, the daily
//! messages and the annual IPLOS 3.7 message inside it, the application receipts KPR answers
//! with, and the XSD validation of them all.

pub mod apprec;
mod guard;
pub mod iplos37;
pub mod ktt;
pub mod msghead;
mod out;
pub mod schema;
