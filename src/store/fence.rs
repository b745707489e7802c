//! The fence on a municipality's tables: the trigger function `kpr_cluster.fence()` (in
//! `migrations/cluster/`) runs before every statement that writes one of them and refuses it
//! unless the connection's `kpr.lease_token` is the lease's current token. Put on by
//! [`Store::open_postgres_in`] when it opens the schema under a lease (`leases.rs`), after
//! the schema's migrations, so that a table a later migration adds is fenced too.

use super::Store;

/// The SQLSTATE the fence raises when the lease is lost.
pub const LEASE_LOST: &str = "KPR01";

/// Fences every table in `schema`.
pub async fn install(store: &Store, schema: &str) -> Result<(), sqlx::Error> {
    if let Store::Postgres(pool) = store {
        let mut tx = pool.begin().await?;
        // Two replicas replacing the same triggers at once would collide; one at a time.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('kpr-bridge fence ' || $1))")
            .bind(schema)
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT kpr_cluster.fence_tables($1)")
            .bind(schema)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Whether an error is the fence refusing a write: the lease was lost.
pub fn is_lease_lost(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == LEASE_LOST)
}
