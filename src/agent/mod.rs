//! The unattended agent, `kpr-bridge run`: one process that watches the extracts, captures
//! changes, ships each reporting date once on the schedule, sends and resends the outbox,
//! takes the receipts, answers HTTP, raises alerts, and stops cleanly on SIGTERM.

pub mod clock;
pub mod schedule;
