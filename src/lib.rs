//! kpr-bridge: reads what a municipality's EPJ knows, maps it to the national codes, checks it
//! the way the register KPR will, and delivers it.
//!
//! Module map, in the order data flows:
//!
//! - [`config`]: the TOML configuration, typed and validated at load (all problems at once).
//! - [`model`]: canonical records (persons, services, assessments, diagnoses, attributes) and
//!   the national code lists: service types (9151), municipalities per year, city districts,
//!   assessment variables, and validators for identity and organisation numbers.
//! - [`source`]: readers that yield canonical records — for now the EPJ extract directory.
//! - [`mapping`]: local service types to national codes, from `mappings/*.toml`.
//! - [`checks`]: the register's rules as findings with stable ids, over all sources at once.
//! - [`inspect`]: read + map an extract and count what it holds (`kpr-bridge inspect`).
//! - [`generate`]: realistic synthetic extracts for tests, demos and benchmarks.

pub mod checks;
pub mod config;
pub mod generate;
pub mod inspect;
pub mod mapping;
pub mod model;
pub mod source;
