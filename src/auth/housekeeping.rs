//! Periodic removal of what authentication no longer needs: sessions past their expiry or revoked more than
//! a day ago (a revoked session can never be used again; the audit log keeps the login/logout history), and
//! login failures older than the throttling window (the throttle trims a key's old rows only when that key
//! fails again, so keys never seen again would stay for ever). `esaas serve` runs it at start-up and hourly.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::error::AppResult;

/// How often `serve` purges.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// What one purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Expired or long-revoked sessions.
    pub sessions: u64,
    /// Login failures older than the window.
    pub login_failures: u64,
}

/// Delete expired and long-revoked sessions and login failures older than `login_window`.
#[tracing::instrument(skip(db))]
pub async fn purge(db: &PgPool, login_window: Duration) -> AppResult<Purged> {
    let sessions = sqlx::query(
        "DELETE FROM sessions WHERE expires_at < now() OR revoked_at < now() - interval '1 day'",
    )
    .execute(db)
    .await?
    .rows_affected();
    let login_failures =
        sqlx::query("DELETE FROM login_failures WHERE at < now() - make_interval(secs => $1)")
            .bind(login_window.as_secs_f64())
            .execute(db)
            .await?
            .rows_affected();
    Ok(Purged {
        sessions,
        login_failures,
    })
}

/// Purge now and then every [`PURGE_EVERY`] until `shutdown`; failures are logged and retried next time.
pub fn spawn(db: PgPool, login_window: Duration, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            match purge(&db, login_window).await {
                Ok(p) if p.sessions + p.login_failures > 0 => tracing::info!(
                    sessions = p.sessions,
                    login_failures = p.login_failures,
                    "expired sessions and old login failures deleted"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not purge sessions and login failures"),
            }
        }
    });
}
