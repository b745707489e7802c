//! The daily flow: what the register was told (the baseline), what changed since (events),
//! and the two daily messages.

pub mod capture;
pub mod current;
pub mod day;
pub mod event;
pub mod ship;
pub mod state;
