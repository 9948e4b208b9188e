//! Login throttling over the `login_failures` table (also used for wrong current passwords on the
//! change-password form). With `N = config.login_max_failures` and `W = config.login_window`:
//!
//! 1. **Per source address** (key `addr:<ip>`; IPv6 by its /64, which one subscriber usually holds): more than
//!    `4N` failures within `W`, for any accounts, and that address is refused until they age out.
//! 2. **Per account from one address** (key `email:<lower email> addr:<ip>`): after `N` failures within `W`,
//!    each further attempt from that address waits [`backoff`]: 30 s, then twice as long after every further
//!    failure, at most `W`, counted from the latest failure.
//! 3. **Per account from anywhere** (key `email:<lower email>`): the same back-off over the account's failures
//!    from all addresses, against guessing spread over many addresses, except for an address that logged in
//!    to this account successfully within [`KNOWN_SOURCE_TTL`] (table `login_known_sources`).
//!
//! So no one can lock the real owner out from their usual address: failures from other addresses never slow
//! it down, and nothing locks an account outright any more (the old rule refused every attempt, the owner's
//! included, for the whole window after `N` failures from anywhere). The trade-off, documented in README:
//! an owner on an address they never logged in from (travel, a new network) waits like everybody else while
//! their account is being guessed at (at most `W` between attempts); people sharing one address (an office
//! NAT) share its per-address budget and its per-account back-off; and a distributed guesser gets about
//! `N + log2(W / 30 s)` guesses per account per window instead of `N` (5 + 5 with the defaults). There is no
//! CAPTCHA.
//!
//! To be safe against bursts of parallel attempts, an attempt *reserves* a failure row for each key before the
//! password is verified, then checks: the reservations of concurrent attempts count as failures, so a burst is
//! refused early rather than late; a refused attempt's reservations are withdrawn (refusals are not failures,
//! so the back-off is counted from the last real guess). When the password is right, the failures of this
//! account from this address are cleared and the address becomes known for the account; the account-wide
//! failures stay until they age out (the owner's usual addresses are exempt from them anyway). When wrong,
//! the reservations stay as the recorded failures.

use std::time::Duration;

use sqlx::PgPool;

use crate::config::Config;
use crate::error::AppResult;

/// First wait of the per-account back-off, doubled after every further failure.
pub const BASE_DELAY: Duration = Duration::from_secs(30);

/// How long a successful login keeps its address exempt from the account-wide back-off.
pub const KNOWN_SOURCE_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

/// The throttling keys of one attempt.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `email:<lower email>`.
    pub account: String,
    /// `addr:<ip>` (IPv6: `addr:<prefix>/64`), when the source address is known.
    pub address: Option<String>,
}

impl Keys {
    /// Keys for an email as typed (trimmed, lower-cased) and an optional source address.
    pub fn new(email: &str, source_addr: Option<&str>) -> Self {
        Self {
            account: format!("email:{}", email.trim().to_lowercase()),
            address: source_addr.map(|a| format!("addr:{}", address_key(a))),
        }
    }

    /// `email:<lower email> addr:<ip>`: this account from this address.
    fn pair(&self) -> Option<String> {
        self.address
            .as_ref()
            .map(|a| format!("{} {a}", self.account))
    }
}

/// The address as throttled: IPv4 (and IPv4-mapped IPv6) as it is, other IPv6 addresses by their /64.
fn address_key(addr: &str) -> String {
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
        Ok(ip) => ip.to_canonical().to_string(),
        Err(_) => addr.to_owned(),
    }
}

/// Which rule refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Too many failures from the source address, for any accounts.
    Address,
    /// The back-off of this account from this address.
    AccountFromAddress,
    /// The back-off of this account from addresses it never logged in from.
    Account,
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

/// How long to wait after the latest of `failures` failures when `limit` are allowed without waiting:
/// nothing below the limit, then [`BASE_DELAY`] doubling with each further failure, at most `window`.
pub fn backoff(failures: i64, limit: i64, window: Duration) -> Duration {
    if failures < limit {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(failures - limit).unwrap_or(u32::MAX).min(20);
    (BASE_DELAY * 2u32.pow(doublings)).min(window)
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

/// Failures of `key` within the window other than the reservation `own`, and the age of the latest one.
#[tracing::instrument(skip(db))]
async fn others(db: &PgPool, key: &str, own: i64, window: Duration) -> AppResult<(i64, Duration)> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "n!",
                  coalesce(extract(epoch FROM now() - max(at))::float8, 0) AS "age!"
           FROM login_failures
           WHERE key = $1 AND id <> $2 AND at > now() - make_interval(secs => $3)"#,
        key,
        own,
        window.as_secs_f64()
    )
    .fetch_one(db)
    .await?;
    Ok((row.n, Duration::from_secs_f64(row.age.max(0.0))))
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

/// Whether `address` logged in to `account` successfully within [`KNOWN_SOURCE_TTL`].
#[tracing::instrument(skip(db))]
async fn is_known(db: &PgPool, account: &str, address: &str) -> AppResult<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM login_known_sources
                          WHERE account = $1 AND address = $2
                            AND last_ok_at > now() - make_interval(secs => $3)) AS "known!""#,
        account,
        address,
        KNOWN_SOURCE_TTL.as_secs_f64()
    )
    .fetch_one(db)
    .await?)
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
    /// The rule that refused it.
    pub rule: Rule,
}

impl Throttled {
    /// "30 seconds", "1 minute", "15 minutes": the wait as a person reads it.
    pub fn wait_text(&self) -> String {
        let s = self.retry_after_secs;
        if s < 60 {
            format!("{s} second{}", if s == 1 { "" } else { "s" })
        } else {
            let m = s.div_ceil(60);
            format!("{m} minute{}", if m == 1 { "" } else { "s" })
        }
    }
}

fn backoff_refusal(
    failures: i64,
    age: Duration,
    limit: i64,
    window: Duration,
    rule: Rule,
) -> Option<Throttled> {
    let wait = backoff(failures, limit, window).saturating_sub(age);
    (!wait.is_zero()).then(|| Throttled {
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        rule,
    })
}

/// Reserve an attempt for `keys` before verifying the password; `Ok(Err(Throttled))` when a rule refuses it
/// (nothing is recorded then).
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
    let window = config.login_window;
    let pair = keys.pair();
    let account_id = reserve_one(db, &keys.account).await?;
    let mut ids = vec![account_id];
    let mut pair_id = None;
    if let (Some(address), Some(pair)) = (&keys.address, &pair) {
        let id = reserve_one(db, pair).await?;
        pair_id = Some(id);
        ids.push(id);
        ids.push(reserve_one(db, address).await?);
    }
    let refusal = 'check: {
        if let Some(address) = &keys.address
            && count(db, address, window).await? > per_address
        {
            break 'check Some(Throttled {
                retry_after_secs: retry_after(db, address, per_address, window).await?,
                rule: Rule::Address,
            });
        }
        if let (Some(pair), Some(own)) = (&pair, pair_id) {
            let (n, age) = others(db, pair, own, window).await?;
            if let Some(t) = backoff_refusal(n, age, per_account, window, Rule::AccountFromAddress)
            {
                break 'check Some(t);
            }
        }
        let known = match &keys.address {
            Some(address) => is_known(db, &keys.account, address).await?,
            None => false,
        };
        if !known {
            let (n, age) = others(db, &keys.account, account_id, window).await?;
            break 'check backoff_refusal(n, age, per_account, window, Rule::Account);
        }
        None
    };
    match refusal {
        Some(t) => {
            withdraw_ids(db, &ids).await?;
            Ok(Err(t))
        }
        None => Ok(Ok(Attempt { keys, ids })),
    }
}

impl Attempt {
    /// The password was right: clear this account's failures from this address, remember the address as one
    /// the account logs in from, and withdraw the reservations.
    #[tracing::instrument(skip(db))]
    pub async fn succeeded(self, db: &PgPool) -> AppResult<()> {
        if let (Some(address), Some(pair)) = (&self.keys.address, self.keys.pair()) {
            sqlx::query!("DELETE FROM login_failures WHERE key = $1", pair)
                .execute(db)
                .await?;
            sqlx::query!(
                r#"INSERT INTO login_known_sources (account, address) VALUES ($1, $2)
                   ON CONFLICT (account, address) DO UPDATE SET last_ok_at = now()"#,
                self.keys.account,
                address
            )
            .execute(db)
            .await?;
        }
        withdraw_ids(db, &self.ids).await
    }

    /// The attempt failed: keep the reserved rows as recorded failures and drop this attempt's keys' rows that
    /// are older than the window (so the table does not grow without bound).
    #[tracing::instrument(skip(db, config))]
    pub async fn failed(self, db: &PgPool, config: &Config) -> AppResult<()> {
        let mut keys = vec![self.keys.account.clone()];
        keys.extend(self.keys.pair());
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
        assert_eq!(
            k.pair().as_deref(),
            Some("email:ann@example.com addr:10.0.0.1")
        );
        assert!(Keys::new("a@b", None).address.is_none());
        assert!(Keys::new("a@b", None).pair().is_none());
    }

    #[test]
    fn ipv6_addresses_are_throttled_by_their_64_prefix() {
        let a = Keys::new("a@b", Some("2001:db8:1:2:aaaa::1"));
        let b = Keys::new("a@b", Some("2001:db8:1:2:bbbb::9"));
        assert_eq!(a.address.as_deref(), Some("addr:2001:db8:1:2::/64"));
        assert_eq!(a.address, b.address);
        let mapped = Keys::new("a@b", Some("::ffff:10.0.0.1"));
        assert_eq!(mapped.address.as_deref(), Some("addr:10.0.0.1"));
    }

    #[test]
    fn address_limit_is_four_times_the_account_limit() {
        let mut c = Config::for_tests("postgres://unused");
        c.login_max_failures = 3;
        assert_eq!(limits(&c), (3, 12));
    }

    #[test]
    fn backoff_doubles_from_the_limit_up_to_the_window() {
        let w = Duration::from_secs(900);
        assert_eq!(backoff(4, 5, w), Duration::ZERO);
        assert_eq!(backoff(5, 5, w), Duration::from_secs(30));
        assert_eq!(backoff(6, 5, w), Duration::from_secs(60));
        assert_eq!(backoff(9, 5, w), Duration::from_secs(480));
        assert_eq!(backoff(10, 5, w), w);
        assert_eq!(backoff(i64::MAX, 5, w), w);
        assert_eq!(
            backoff(5, 5, Duration::from_secs(10)),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn waits_read_naturally() {
        let t = |s| Throttled {
            retry_after_secs: s,
            rule: Rule::Account,
        };
        assert_eq!(t(1).wait_text(), "1 second");
        assert_eq!(t(30).wait_text(), "30 seconds");
        assert_eq!(t(60).wait_text(), "1 minute");
        assert_eq!(t(61).wait_text(), "2 minutes");
        assert_eq!(t(900).wait_text(), "15 minutes");
    }
}
