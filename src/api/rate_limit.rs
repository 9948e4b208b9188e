//! Per-token rate limiting: an in-memory token bucket per API token (default 20 requests/s with bursts of
//! 100), so one runaway script cannot starve the portal. Over the limit a request is answered 429 with
//! `Retry-After` before it does any work. Buckets live in this process only: with several replicas each
//! enforces the limit separately, which is acceptable for a guard against accidents (not a billing meter).
//!
//! Configured by `ESAAS_API_RATE_LIMIT` = `<requests per second>:<burst>` (e.g. `20:100`), or `off`, read
//! into [`Config::api_rate_limit`](crate::config::Config::api_rate_limit).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::config::rate_limit::RateLimit;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of every token seen recently.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

/// Buckets kept before idle (full) ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// A limiter; `None` lets everything through.
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The configured limit.
    pub fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Take one request from `key`'s bucket, or say in how many whole seconds one will be available.
    pub fn check(&self, key: Uuid) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: Uuid, now: Instant) -> Result<(), u64> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > PRUNE_ABOVE {
            let full_after = Duration::from_secs_f64(limit.burst / limit.per_second);
            buckets.retain(|_, b| now.duration_since(b.updated) < full_after);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: limit.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(limit.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / limit.per_second;
            Err((wait.ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rate_and_burst() {
        assert_eq!(
            RateLimit::parse("20:100").unwrap(),
            Some(RateLimit {
                per_second: 20.0,
                burst: 100.0
            })
        );
        assert_eq!(RateLimit::parse("10").unwrap().unwrap().burst, 50.0);
        assert_eq!(RateLimit::parse("off").unwrap(), None);
        assert_eq!(RateLimit::parse("0").unwrap(), None);
        for bad in ["x", "10:y", "-1:10", "10:0", "inf:10"] {
            assert!(RateLimit::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 2.0,
            burst: 3.0,
        }));
        let key = Uuid::new_v4();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at(key, t0).is_ok());
        }
        assert_eq!(limiter.check_at(key, t0), Err(1));
        // Half a second later one request is available again.
        assert!(
            limiter
                .check_at(key, t0 + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            limiter
                .check_at(key, t0 + Duration::from_millis(500))
                .is_err()
        );
        // Other tokens have their own bucket.
        assert!(limiter.check_at(Uuid::new_v4(), t0).is_ok());
    }

    #[test]
    fn disabled_limiter_lets_everything_through() {
        let limiter = RateLimiter::new(None);
        let key = Uuid::new_v4();
        for _ in 0..1000 {
            assert!(limiter.check(key).is_ok());
        }
    }
}
