//! One file per message format: the MsgHead envelope around what kpr-bridge sends, the
//! application receipts KPR answers with, and the XSD validation of both.

pub mod apprec;
mod guard;
pub mod msghead;
mod out;
pub mod schema;
