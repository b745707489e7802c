//! Leases in PostgreSQL (schema `kpr_cluster`): which replica serves which municipality, for
//! the replicas of a multi-municipality deployment (`cluster::replica`), through a small pool
//! of their own.
//!
//! A lease is a row with a holder, a token and an expiry. The holder renews it every
//! [`BEAT`]; a lease not renewed for [`TTL`] is free, and any replica may take it with a new,
//! larger token. The token is what fences: a replica's connections to the municipality's
//! schema carry it, and the database refuses their writes once the row holds another
//! (`fence.rs`). Taking locks the row `FOR UPDATE`, which waits for the writes in progress
//! under the old token (they hold it `FOR KEY SHARE`); renewing changes no key, so it waits
//! for nothing.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{StoreError, migrations};
use crate::config::url;

/// The schema the leases live in.
pub const SCHEMA: &str = "kpr_cluster";

/// How long a lease lasts without renewal: a replica that stopped answering loses its
/// municipalities after this, and another takes them at its next beat.
pub const TTL: Duration = Duration::from_secs(15);

/// How often a replica renews its leases, says it is alive, and takes or gives back its share.
pub const BEAT: Duration = Duration::from_secs(5);

/// A lease held: the municipality's schema, its token, and who holds it.
#[derive(Clone, Debug)]
pub struct Lease {
    pub tenant: String,
    pub token: i64,
    pub replica: String,
}

/// A lease as the table holds it, for the status.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LeaseRow {
    pub tenant: String,
    pub municipality: String,
    pub holder: Option<String>,
    pub token: Option<i64>,
    pub expires: Option<DateTime<Utc>>,
    pub taken: Option<DateTime<Utc>>,
}

/// The coordination tables, through a small pool of their own.
#[derive(Clone, Debug)]
pub struct Leases {
    pool: PgPool,
    pub replica: String,
}

impl Leases {
    /// Connects to the database at `url`, creating and migrating `kpr_cluster`.
    pub async fn open(url: &str, replica: &str) -> Result<Leases, StoreError> {
        let place = format!("{} (schema {SCHEMA})", url::redacted(url));
        let open = |source| StoreError::Open {
            place: place.clone(),
            source,
        };
        let options = PgConnectOptions::from_str(url).map_err(open)?.options([
            ("search_path", SCHEMA),
            // Taking a lease waits for the old holder's writes in progress; not forever.
            ("lock_timeout", "5s"),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(open)?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            .execute(&pool)
            .await
            .or_else(|e| match e.as_database_error().and_then(|d| d.code()) {
                // Another replica created it at the same moment.
                Some(code) if code == "23505" => Ok(Default::default()),
                _ => Err(e),
            })
            .map_err(open)?;
        let fail = |source| StoreError::Migrate {
            place: place.clone(),
            source,
        };
        migrations::cluster()
            .await
            .map_err(fail)?
            .run(&pool)
            .await
            .map_err(fail)?;
        Ok(Leases {
            pool,
            replica: replica.to_string(),
        })
    }

    /// Says this replica is alive (and when it started, the first time).
    pub async fn heartbeat(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO replicas (name, started, seen) VALUES ($1, clock_timestamp(), clock_timestamp())
             ON CONFLICT (name) DO UPDATE SET seen = clock_timestamp()",
        )
        .bind(&self.replica)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes this replica out of the count of live ones (a clean stop).
    pub async fn leave(&self) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM replicas WHERE name = $1")
            .bind(&self.replica)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many replicas said they were alive within the last [`TTL`] (this one included).
    pub async fn live_replicas(&self) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM replicas WHERE seen > clock_timestamp() - make_interval(secs => $1)",
        )
        .bind(TTL.as_secs_f64())
        .fetch_one(&self.pool)
        .await?;
        Ok(usize::try_from(count).unwrap_or(1).max(1))
    }

    /// Makes sure each municipality (schema, number) has a lease row.
    pub async fn enrol(&self, tenants: &[(String, String)]) -> Result<(), StoreError> {
        let (schemas, numbers): (Vec<&str>, Vec<&str>) = tenants
            .iter()
            .map(|(schema, number)| (schema.as_str(), number.as_str()))
            .unzip();
        sqlx::query(
            "INSERT INTO leases (tenant, municipality)
             SELECT * FROM unnest($1::text[], $2::text[])
             ON CONFLICT (tenant) DO UPDATE SET municipality = EXCLUDED.municipality
             WHERE leases.municipality <> EXCLUDED.municipality",
        )
        .bind(&schemas)
        .bind(&numbers)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The schemas among `tenants` whose lease is free (never taken, released or expired).
    pub async fn free(&self, tenants: &[String]) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT tenant FROM leases WHERE tenant = ANY($1) AND expires < clock_timestamp()
             ORDER BY md5(tenant || $2)",
        )
        .bind(tenants)
        .bind(&self.replica)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Takes the lease of `tenant` when it is free; `None` when another replica holds it,
    /// or took it first, or its writes in progress did not end within the lock timeout.
    pub async fn take(&self, tenant: &str) -> Result<Option<Lease>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT holder, token, expires < clock_timestamp() AS free FROM leases WHERE tenant = $1 FOR UPDATE",
        )
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await;
        let row = match row {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(None),
            // lock_not_available: the old holder is still writing; next beat.
            Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("55P03") => {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        if !row.try_get::<bool, _>("free")? {
            return Ok(None);
        }
        let old: Option<i64> = row.try_get("token")?;
        let token: i64 = sqlx::query_scalar(
            "UPDATE leases SET holder = $2, token = nextval('lease_tokens'),
                    expires = clock_timestamp() + make_interval(secs => $3), taken = clock_timestamp()
             WHERE tenant = $1 RETURNING token",
        )
        .bind(tenant)
        .bind(&self.replica)
        .bind(TTL.as_secs_f64())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE lease_history SET ended = clock_timestamp(), how = 'expired, taken over'
             WHERE token = $1 AND ended IS NULL",
        )
        .bind(old)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO lease_history (token, tenant, holder, taken) VALUES ($1, $2, $3, clock_timestamp())",
        )
        .bind(token)
        .bind(tenant)
        .bind(&self.replica)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(Lease {
            tenant: tenant.to_string(),
            token,
            replica: self.replica.clone(),
        }))
    }

    /// Extends a lease held; `false` when it is no longer this replica's (taken over).
    pub async fn renew(&self, lease: &Lease) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE leases SET expires = clock_timestamp() + make_interval(secs => $3)
             WHERE tenant = $1 AND token = $2",
        )
        .bind(&lease.tenant)
        .bind(lease.token)
        .bind(TTL.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Gives a lease back at once, so that another replica need not wait for it to expire.
    pub async fn release(&self, lease: &Lease, how: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE leases SET expires = '-infinity' WHERE tenant = $1 AND token = $2")
            .bind(&lease.tenant)
            .bind(lease.token)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE lease_history SET ended = clock_timestamp(), how = $2 WHERE token = $1 AND ended IS NULL")
            .bind(lease.token)
            .bind(how)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every lease, for `status --tenants` and the replica's `/status`.
    pub async fn all(&self) -> Result<Vec<LeaseRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, municipality, holder, token,
                    CASE WHEN expires = '-infinity' THEN NULL ELSE expires END AS expires, taken
             FROM leases ORDER BY municipality",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LeaseRow {
                    tenant: row.try_get("tenant")?,
                    municipality: row.try_get("municipality")?,
                    holder: row.try_get("holder")?,
                    token: row.try_get("token")?,
                    expires: row.try_get("expires")?,
                    taken: row.try_get("taken")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Forgets the write log older than `days` (it only proves fencing after the fact).
    pub async fn prune_writes(&self, days: u32) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM writes WHERE at < clock_timestamp() - make_interval(days => $1)")
            .bind(i32::try_from(days).unwrap_or(i32::MAX))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
