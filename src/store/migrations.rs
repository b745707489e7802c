//! The state store's migrations, compiled into the binary: an installed kpr-bridge brings its
//! store up to date at start without needing the source tree. One list per dialect; a new
//! migration is a new file in both `migrations/sqlite/` and `migrations/postgres/` and a line
//! in each list below, under the same version number.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::migrate::{MigrateError, Migration, MigrationSource, MigrationType, Migrator};

type Files = &'static [(i64, &'static str, &'static str)];

const SQLITE: Files = &[
    (
        1,
        "delivery",
        include_str!("../../migrations/sqlite/0001_delivery.sql"),
    ),
    (
        2,
        "daily",
        include_str!("../../migrations/sqlite/0002_daily.sql"),
    ),
    (
        3,
        "outbox files",
        include_str!("../../migrations/sqlite/0003_outbox_files.sql"),
    ),
    (
        4,
        "annual",
        include_str!("../../migrations/sqlite/0004_annual.sql"),
    ),
    (
        5,
        "status",
        include_str!("../../migrations/sqlite/0005_status.sql"),
    ),
    (
        6,
        "receipt conflicts",
        include_str!("../../migrations/sqlite/0006_receipt_conflicts.sql"),
    ),
    (
        7,
        "running numbers",
        include_str!("../../migrations/sqlite/0007_running_numbers.sql"),
    ),
    (
        8,
        "daily in HIS 1135",
        include_str!("../../migrations/sqlite/0008_daily_his1135.sql"),
    ),
    (
        9,
        "administration page",
        include_str!("../../migrations/sqlite/0009_admin.sql"),
    ),
    (
        10,
        "the page's language per user",
        include_str!("../../migrations/sqlite/0010_admin_language.sql"),
    ),
    (
        11,
        "the chain continued after a restore",
        include_str!("../../migrations/sqlite/0011_chain_continuations.sql"),
    ),
    (
        12,
        "which identity key sealed each notification",
        include_str!("../../migrations/sqlite/0012_identity_keys.sql"),
    ),
];

const POSTGRES: Files = &[
    (
        1,
        "delivery",
        include_str!("../../migrations/postgres/0001_delivery.sql"),
    ),
    (
        2,
        "daily",
        include_str!("../../migrations/postgres/0002_daily.sql"),
    ),
    (
        3,
        "outbox files",
        include_str!("../../migrations/postgres/0003_outbox_files.sql"),
    ),
    (
        4,
        "annual",
        include_str!("../../migrations/postgres/0004_annual.sql"),
    ),
    (
        5,
        "status",
        include_str!("../../migrations/postgres/0005_status.sql"),
    ),
    (
        6,
        "receipt conflicts",
        include_str!("../../migrations/postgres/0006_receipt_conflicts.sql"),
    ),
    (
        7,
        "running numbers",
        include_str!("../../migrations/postgres/0007_running_numbers.sql"),
    ),
    (
        8,
        "daily in HIS 1135",
        include_str!("../../migrations/postgres/0008_daily_his1135.sql"),
    ),
    (
        9,
        "administration page",
        include_str!("../../migrations/postgres/0009_admin.sql"),
    ),
    (
        10,
        "the page's language per user",
        include_str!("../../migrations/postgres/0010_admin_language.sql"),
    ),
    (
        11,
        "the chain continued after a restore",
        include_str!("../../migrations/postgres/0011_chain_continuations.sql"),
    ),
    (
        12,
        "which identity key sealed each notification",
        include_str!("../../migrations/postgres/0012_identity_keys.sql"),
    ),
];

/// The coordination schema of a multi-municipality deployment (`kpr_cluster`).
const CLUSTER: Files = &[(
    1,
    "leases",
    include_str!("../../migrations/cluster/0001_leases.sql"),
)];

#[derive(Debug)]
struct Embedded(Files);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> futures_util::future::BoxFuture<'s, Result<Vec<Migration>, BoxDynError>> {
        let migrations = self
            .0
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

pub async fn sqlite() -> Result<Migrator, MigrateError> {
    Migrator::new(Embedded(SQLITE)).await
}

pub async fn postgres() -> Result<Migrator, MigrateError> {
    Migrator::new(Embedded(POSTGRES)).await
}

pub async fn cluster() -> Result<Migrator, MigrateError> {
    Migrator::new(Embedded(CLUSTER)).await
}
