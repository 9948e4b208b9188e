//! Periodic removal of what authentication no longer needs: sessions past their expiry or revoked more than
//! a day ago (a revoked session can never be used again; the audit log keeps the login/logout history),
//! login failures older than the throttling window (the throttle trims a key's old rows only when that key
//! fails again, so keys never seen again would stay for ever), known login addresses older than
//! [`throttle::KNOWN_SOURCE_TTL`], and audit rows of failed logins older than
//! `ESAAS_AUDIT_FAILED_LOGIN_RETENTION_DAYS` (anyone can cause those without logging in; other audit rows are
//! kept). `esaas serve` runs it at start-up and hourly.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::auth::throttle;
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
    /// Known login addresses not used within [`throttle::KNOWN_SOURCE_TTL`].
    pub known_sources: u64,
    /// Audit rows of failed logins older than the retention.
    pub failed_login_audit: u64,
}

impl Purged {
    /// Rows removed in all.
    pub fn total(&self) -> u64 {
        self.sessions + self.login_failures + self.known_sources + self.failed_login_audit
    }
}

/// Delete expired and long-revoked sessions, login failures older than `login_window`, stale known login
/// addresses, and failed-login audit rows older than `failed_login_retention` (zero keeps them).
#[tracing::instrument(skip(db))]
pub async fn purge(
    db: &PgPool,
    login_window: Duration,
    failed_login_retention: Duration,
) -> AppResult<Purged> {
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
    let known_sources = sqlx::query(
        "DELETE FROM login_known_sources WHERE last_ok_at < now() - make_interval(secs => $1)",
    )
    .bind(throttle::KNOWN_SOURCE_TTL.as_secs_f64())
    .execute(db)
    .await?
    .rows_affected();
    let failed_login_audit = if failed_login_retention.is_zero() {
        0
    } else {
        sqlx::query(
            "DELETE FROM audit_log WHERE action = 'login.failed' \
             AND at < now() - make_interval(secs => $1)",
        )
        .bind(failed_login_retention.as_secs_f64())
        .execute(db)
        .await?
        .rows_affected()
    };
    Ok(Purged {
        sessions,
        login_failures,
        known_sources,
        failed_login_audit,
    })
}

/// Purge now and then every [`PURGE_EVERY`] until `shutdown`; failures are logged and retried next time.
pub fn spawn(
    db: PgPool,
    login_window: Duration,
    failed_login_retention: Duration,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            match purge(&db, login_window, failed_login_retention).await {
                Ok(p) if p.total() > 0 => tracing::info!(
                    sessions = p.sessions,
                    login_failures = p.login_failures,
                    known_sources = p.known_sources,
                    failed_login_audit = p.failed_login_audit,
                    "expired sessions, old login failures and old failed-login audit rows deleted"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not purge sessions and login failures"),
            }
        }
    });
}
