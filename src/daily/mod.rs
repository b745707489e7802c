//! The daily flow: what the register was told (the baseline), what changed since (events),
//! and the two daily messages.

pub mod event;
pub mod state;
