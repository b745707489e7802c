//! Many municipalities on one deployment (`kpr-bridge run --tenants DIR`): replicas that
//! share the municipalities among them through leases in PostgreSQL, take over a dead
//! replica's within a minute, and cannot write for a municipality once they lost its lease.
//!
//! Each municipality's state lives in a PostgreSQL schema of its own (`[state] schema`), so
//! every query of the single-municipality code stays as it is and no query can reach another
//! municipality's rows; the coordination lives in the schema `kpr_cluster`, whose tables the
//! store keeps (`store::leases`), and the store fences a municipality's tables by the lease
//! (`store::fence`): a trigger on each refuses a write whose lease token is no longer the
//! lease's. `tenants.rs` reads the directory of configurations; `replica.rs` runs the leases
//! and, for each one held, the agent's duties.

pub mod replica;
pub mod tenants;
