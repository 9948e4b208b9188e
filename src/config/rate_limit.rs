//! The API's per-token rate limit as configured: `ESAAS_API_RATE_LIMIT` = `<requests per second>:<burst>`
//! (e.g. `20:100`), or `off`. The buckets that enforce it are `api::rate_limit`'s.

/// Name of the environment variable.
pub const ENV_VAR: &str = "ESAAS_API_RATE_LIMIT";

/// Rate and burst of the buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests that may come at once after a quiet period (the bucket size).
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 20.0,
            burst: 100.0,
        }
    }
}

impl RateLimit {
    /// Parse `<per second>:<burst>` (burst defaults to 5 s worth of requests); `off` or `0` disables
    /// limiting (`None`).
    pub fn parse(value: &str) -> Result<Option<Self>, String> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") || value == "0" {
            return Ok(None);
        }
        let (rate, burst) = match value.split_once(':') {
            Some((r, b)) => (r.trim(), Some(b.trim())),
            None => (value, None),
        };
        let per_second: f64 = rate
            .parse()
            .map_err(|_| format!("{ENV_VAR}={value:?}: expected <requests per second>:<burst>"))?;
        let burst: f64 = match burst {
            Some(b) => b
                .parse()
                .map_err(|_| format!("{ENV_VAR}={value:?}: the burst must be a number"))?,
            None => per_second * 5.0,
        };
        if !(per_second.is_finite() && per_second > 0.0 && burst.is_finite() && burst >= 1.0) {
            return Err(format!(
                "{ENV_VAR}={value:?}: the rate must be > 0 and the burst >= 1"
            ));
        }
        Ok(Some(Self { per_second, burst }))
    }
}
