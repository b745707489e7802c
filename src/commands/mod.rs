//! Commands that print for an operator: the bodies of `kpr-bridge annual`, `check`, `daily`,
//! `resend`, `run`, `send`, `receipts`, `receiver` and `status`, kept out of `main.rs` so that it stays a
//! thin parser and so that `demo` can run them as they are.

pub mod admin;
pub mod annual;
pub mod check;
pub mod daily;
pub mod delivery;
pub mod resend;
pub mod run;
pub mod status;
