//! The daily flow in the register's format (HIS 1135): what the register was told (the
//! baseline and the originals), what changed since (notifications, numbered and chained),
//! the messages they go in, and re-sending them.

pub mod capture;
pub mod current;
pub mod day;
pub mod delta;
pub mod identity_change;
pub mod mark;
pub mod resend;
pub mod sealed;
pub mod ship;
pub mod state;
