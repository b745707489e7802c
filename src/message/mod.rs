//! One file per message format: the MsgHead envelope around what kpr-bridge sends, the daily
//! messages and the annual messages inside it (IPLOS 3.7 and the ident module 53.1.3), the application receipts KPR answers
//! with, and the XSD validation of them all.

pub mod apprec;
mod guard;
pub mod ident;
pub mod iplos37;
pub mod ktt;
pub mod msghead;
mod out;
pub mod schema;
