//! Database: the connection pool and the embedded migrations.

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::Config;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Open the pool lazily: the portal starts (and answers `/healthz`) even while the database is down, and
/// every request gets a fresh chance to reach it, so the portal recovers by itself when it comes back.
pub fn connect_lazy(config: &Config) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(config.database_url.expose_secret())?)
}

/// Apply every pending migration.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// A read-only transaction that sees one snapshot of the database (`REPEATABLE READ`): a page that reads
/// several tables through it shows numbers that belong together, even while the observer and the reconciler
/// write in between its queries. Dropping it ends it (nothing to commit).
pub async fn snapshot(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
