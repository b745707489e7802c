//! One file per message format: the MsgHead envelope around what kpr-bridge sends, the daily
//! messages inside it, the application receipts KPR answers with, and the XSD validation of
//! them all.

pub mod apprec;
mod guard;
pub mod ktt;
pub mod msghead;
mod out;
pub mod schema;
