//! The alerts delivered to the operator, by key: a key is recorded only once its alert was
//! delivered, so a failed delivery is tried again and a delivered one never repeats, across
//! restarts and processes.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, on_pool};

impl Store {
    /// Whether an alert with this key was delivered.
    pub async fn alert_raised(&self, key: &str) -> Result<bool, StoreError> {
        let found: Option<String> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT key FROM alerts WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(found.is_some())
    }

    /// Records a delivered alert; a key recorded already (by another process) stays as it was.
    pub async fn record_alert(
        &self,
        key: &str,
        kind: &str,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO alerts (key, kind, raised_at, message) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(kind)
            .bind(now)
            .bind(message)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
