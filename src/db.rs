//! Database: the connection pool and the embedded migrations.

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

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
    let options = connect_options(config.database_url.expose_secret())?;
    Ok(pool_options(config.db_max_connections).connect_lazy_with(options))
}

/// The connection options of `url`. A database on this machine (a loopback address, `localhost` or a Unix
/// socket) whose URL names no `sslmode` is reached without TLS: on loopback TLS protects nothing (whoever
/// can read loopback traffic is on the machine already) and cost 28 % of the portal's CPU on the API's hot
/// read (profiled with `scripts/bench-api.sh`). Anywhere else, and whenever the URL sets `sslmode`, the
/// URL decides (sqlx's default is `prefer`).
pub fn connect_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    let options: PgConnectOptions = url.parse()?;
    Ok(if names_ssl_mode(url) || !is_local(options.get_host()) {
        options
    } else {
        options.ssl_mode(PgSslMode::Disable)
    })
}

/// Whether the URL's query sets the TLS mode (`sslmode` or sqlx's `ssl-mode`).
fn names_ssl_mode(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| {
        query.split('&').any(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            key.eq_ignore_ascii_case("sslmode") || key.eq_ignore_ascii_case("ssl-mode")
        })
    })
}

/// A host on this machine: a Unix socket directory, `localhost`, or a loopback address.
fn is_local(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.starts_with('/')
        || bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> PgSslMode {
        connect_options(url).unwrap().get_ssl_mode()
    }

    #[test]
    fn a_database_on_this_machine_is_reached_without_tls_unless_the_url_says_otherwise() {
        for local in [
            "postgres://postgres@127.0.0.1:5432/esaas",
            "postgres://postgres@localhost/esaas",
            "postgres://postgres@[::1]:5432/esaas",
            "postgres://postgres@127.0.0.2/esaas",
            "postgres:///esaas?host=/var/run/postgresql",
        ] {
            assert!(matches!(mode(local), PgSslMode::Disable), "{local}");
        }
        assert!(matches!(
            mode("postgres://postgres@127.0.0.1/esaas?sslmode=require"),
            PgSslMode::Require
        ));
        assert!(matches!(
            mode("postgres://postgres@localhost/esaas?ssl-mode=verify-full"),
            PgSslMode::VerifyFull
        ));
        for remote in [
            "postgres://esaas@db.internal:5432/esaas",
            "postgres://esaas@10.0.0.5/esaas",
        ] {
            assert!(matches!(mode(remote), PgSslMode::Prefer), "{remote}");
        }
    }
}
