//! The reporting year as KPR receives it: every source's records assembled per person
//! ([`assemble`], into [`crate::model::annual`]), and the register's own arrival controls on
//! what that year would send ([`controls`], run by [`checker`]). Below both `check` ([`crate::check_run`]), which
//! shows the controls' findings, and the annual message ([`crate::annual`]), which sends it.

pub mod assemble;
pub mod checker;
pub mod controls;
