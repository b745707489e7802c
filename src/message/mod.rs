//! One file per message format. So far: the application receipts KPR answers with.

pub mod apprec;
