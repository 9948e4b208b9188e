//! Login throttling over the `login_failures` table: at most `config.login_max_failures` failed attempts per
//! account (key `email:<lower email>`) and four times that per source address (key `addr:<ip>`) within
//! `config.login_window`. Also used for wrong current passwords on the change-password form.
//!
//! To be safe against bursts of parallel attempts, an attempt *reserves* a failure row for each key before
//! the password is verified, then counts: when a count exceeds its limit the reservation is withdrawn and the
//! attempt is refused (429) without verifying anything; when the password turns out right the account's
//! failures are cleared and the address reservation withdrawn; when wrong, the reservation stays as the
//! recorded failure. So no more than `limit` guesses get through per window, however many run concurrently
//! (a burst at the boundary may refuse slightly early, never late). Refused attempts are not recorded, so a
//! throttled account unlocks `window` after its failures, not after the attacker stops.

use std::time::Duration;

use sqlx::PgPool;

use crate::config::Config;
use crate::error::AppResult;

/// The throttling keys of one attempt.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `email:<lower email>`.
    pub account: String,
    /// `addr:<ip>`, when the source address is known.
    pub address: Option<String>,
}

impl Keys {
    /// Keys for an email as typed (trimmed, lower-cased) and an optional source address.
    pub fn new(email: &str, source_addr: Option<&str>) -> Self {
        Self {
            account: format!("email:{}", email.trim().to_lowercase()),
            address: source_addr.map(|a| format!("addr:{a}")),
        }
    }
}

/// A reserved attempt: its failure rows, to be kept (wrong password) or withdrawn.
#[derive(Debug)]
pub struct Attempt {
    keys: Keys,
    ids: Vec<i64>,
}

/// The limits of the configuration: (per account, per address). Zero disables throttling.
fn limits(config: &Config) -> (i64, i64) {
    let n = i64::from(config.login_max_failures);
    (n, n.saturating_mul(4))
}

#[tracing::instrument(skip(db))]
async fn reserve_one(db: &PgPool, key: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO login_failures (key) VALUES ($1) RETURNING id",
        key
    )
    .fetch_one(db)
    .await?)
}

/// Failures of `key` within the window (a reserved row included).
#[tracing::instrument(skip(db))]
async fn count(db: &PgPool, key: &str, window: Duration) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM login_failures
           WHERE key = $1 AND at > now() - make_interval(secs => $2)"#,
        key,
        window.as_secs_f64()
    )
    .fetch_one(db)
    .await?)
}

/// Seconds until fewer than `limit` failures of `key` remain in the window: when the `limit`-th newest
/// failure ages out.
#[tracing::instrument(skip(db))]
async fn retry_after(db: &PgPool, key: &str, limit: i64, window: Duration) -> AppResult<u64> {
    let secs = sqlx::query_scalar!(
        r#"SELECT ceil(extract(epoch FROM (at + make_interval(secs => $3) - now())))::bigint AS "secs!"
           FROM login_failures
           WHERE key = $1 AND at > now() - make_interval(secs => $3)
           ORDER BY at DESC OFFSET $2 LIMIT 1"#,
        key,
        limit - 1,
        window.as_secs_f64()
    )
    .fetch_optional(db)
    .await?;
    Ok(secs.map_or(1, |s| s.max(1) as u64))
}

#[tracing::instrument(skip(db))]
async fn withdraw_ids(db: &PgPool, ids: &[i64]) -> AppResult<()> {
    if !ids.is_empty() {
        sqlx::query!("DELETE FROM login_failures WHERE id = ANY($1)", ids)
            .execute(db)
            .await?;
    }
    Ok(())
}

/// Refusal of a throttled attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until an attempt may be accepted again.
    pub retry_after_secs: u64,
}

/// Reserve an attempt for `keys` before verifying the password; `Ok(Err(Throttled))` when a limit is
/// reached (nothing is recorded then).
#[tracing::instrument(skip(db, config))]
pub async fn begin(
    db: &PgPool,
    config: &Config,
    keys: Keys,
) -> AppResult<Result<Attempt, Throttled>> {
    let (per_account, per_address) = limits(config);
    if per_account == 0 {
        return Ok(Ok(Attempt { keys, ids: vec![] }));
    }
    let mut checks = vec![(keys.account.clone(), per_account)];
    if let Some(addr) = &keys.address {
        checks.push((addr.clone(), per_address));
    }
    let mut ids = Vec::with_capacity(checks.len());
    for (key, _) in &checks {
        ids.push(reserve_one(db, key).await?);
    }
    for (key, limit) in &checks {
        if count(db, key, config.login_window).await? > *limit {
            withdraw_ids(db, &ids).await?;
            let retry_after_secs = retry_after(db, key, *limit, config.login_window).await?;
            return Ok(Err(Throttled { retry_after_secs }));
        }
    }
    Ok(Ok(Attempt { keys, ids }))
}

impl Attempt {
    /// The password was right: clear the account's failures and withdraw the address reservation.
    #[tracing::instrument(skip(db))]
    pub async fn succeeded(self, db: &PgPool) -> AppResult<()> {
        sqlx::query!(
            "DELETE FROM login_failures WHERE key = $1",
            self.keys.account
        )
        .execute(db)
        .await?;
        withdraw_ids(db, &self.ids).await
    }

    /// The attempt failed: keep the reserved rows as recorded failures and drop this key's rows that are
    /// older than the window (so the table does not grow without bound).
    #[tracing::instrument(skip(db, config))]
    pub async fn failed(self, db: &PgPool, config: &Config) -> AppResult<()> {
        let mut keys = vec![self.keys.account];
        keys.extend(self.keys.address);
        sqlx::query!(
            "DELETE FROM login_failures WHERE key = ANY($1) AND at < now() - make_interval(secs => $2)",
            &keys,
            config.login_window.as_secs_f64()
        )
        .execute(db)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised() {
        let k = Keys::new("  Ann@Example.com ", Some("10.0.0.1"));
        assert_eq!(k.account, "email:ann@example.com");
        assert_eq!(k.address.as_deref(), Some("addr:10.0.0.1"));
        assert!(Keys::new("a@b", None).address.is_none());
    }

    #[test]
    fn address_limit_is_four_times_the_account_limit() {
        let mut c = Config::for_tests("postgres://unused");
        c.login_max_failures = 3;
        assert_eq!(limits(&c), (3, 12));
    }
}
