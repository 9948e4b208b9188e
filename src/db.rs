//! Database: the connection pool and the embedded migrations.

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::Config;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A connection idle longer than this is pinged before it is handed out (see [`pool_options`]).
pub const PING_IDLE_AFTER: Duration = Duration::from_secs(5);

/// The pool's settings, shared by the portal and the benchmarks. sqlx pings a connection (a `Sync` round
/// trip) every time it goes back to the pool, and by default once more before handing it out: two round
/// trips around every query of a one-query read. The ping before acquiring is kept only for connections
/// idle longer than [`PING_IDLE_AFTER`] (those a database restart may have cut); one just returned (and
/// pinged on its way back) is handed out as it is.
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_IDLE_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Open the pool lazily: the portal starts (and answers `/healthz`) even while the database is down, and
/// every request gets a fresh chance to reach it, so the portal recovers by itself when it comes back.
pub fn connect_lazy(config: &Config) -> anyhow::Result<PgPool> {
    Ok(
        pool_options(config.db_max_connections)
            .connect_lazy(config.database_url.expose_secret())?,
    )
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
    // One round trip: the isolation level is part of the `BEGIN`.
    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
}
