//! The final annual message for 2025 (IPLOS 3.7): the whole year read from every source and
//! assembled per person ([`year`], with [`crate::assembly`]), written as the fagmelding
//! `KPR_IPL` and the identity message `KPR_IDE` ([`crate::message::iplos37`],
//! [`crate::message::ident`]), checked as the register will on arrival
//! ([`crate::assembly::controls`]), and shipped as two shipments ([`ship`]).
//!
//! The register takes no annual data for years after 2025; the daily flow replaces it.

pub mod ship;
pub mod year;
