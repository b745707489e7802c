//! The final annual message for 2025 (IPLOS 3.7): the whole year from every source, assembled
//! per person ([`assemble`]), written as the fagmelding `KPR_IPL` and the identity message
//! `KPR_IDE` ([`crate::message::iplos37`], [`crate::message::ident`]), checked as the register
//! will on arrival ([`controls`]), and shipped as two shipments ([`ship`]).
//!
//! The register takes no annual data for years after 2025; the daily flow replaces it.

pub mod assemble;
pub mod controls;
pub mod person;
pub mod ship;
pub mod year;
