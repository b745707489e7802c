//! One file per message format: the MsgHead envelope around what kpr-bridge sends, the daily
//! message inside it (HIS 1135, XPR(ipl) 56.0.0) and the annual ones (IPLOS 3.7 and the ident
//! module 53.1.3), the application receipts KPR answers with, and the XSD validation of them
//! all.

pub mod apprec;
mod guard;
pub mod ident;
pub mod ipl56;
pub mod iplos37;
pub mod msghead;
mod out;
pub mod schema;
