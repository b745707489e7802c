//! Commands that run on a runtime and print for an operator: the bodies of `kpr-bridge annual`,
//! `daily`, `run`, `send`, `receipts`, `receiver` and `status`, kept out of `main.rs` so that it stays a
//! thin parser.

pub mod annual;
pub mod daily;
pub mod delivery;
pub mod run;
pub mod status;
