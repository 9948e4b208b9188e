//! Prometheus metrics: HTTP requests by route and status with latency histograms, database pool use.
//! Later areas register their own instruments on [`Metrics::registry`] at start-up.
//!
//! Every label takes its values from a closed set, so no caller, logged in or not, can grow the registry:
//! the method is one of [`MethodLabel`] (anything else is `OTHER`), the route is the matched route template
//! (`/t/{tenant}/members`, never the raw path; requests no route matched share `unmatched`), the status is
//! what the portal answered, and operation kinds come from the code. `/metrics` itself is served only to a
//! scraper presenting `ESAAS_METRICS_TOKEN` as a bearer token; without that setting it answers 404 (the
//! metrics name routes, pool sizes and traffic, which are nobody else's business).

use std::sync::Mutex;

use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use subtle::ConstantTimeEq;

use crate::error::AppError;

/// The `method` label: the standard methods by name, every other method string as `OTHER`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum MethodLabel {
    /// `GET`.
    GET,
    /// `HEAD`.
    HEAD,
    /// `POST`.
    POST,
    /// `PUT`.
    PUT,
    /// `PATCH`.
    PATCH,
    /// `DELETE`.
    DELETE,
    /// `OPTIONS`.
    OPTIONS,
    /// Any other method (`CONNECT`, `TRACE`, extension methods, invented ones).
    OTHER,
}

impl From<&http::Method> for MethodLabel {
    fn from(m: &http::Method) -> Self {
        match *m {
            http::Method::GET => Self::GET,
            http::Method::HEAD => Self::HEAD,
            http::Method::POST => Self::POST,
            http::Method::PUT => Self::PUT,
            http::Method::PATCH => Self::PATCH,
            http::Method::DELETE => Self::DELETE,
            http::Method::OPTIONS => Self::OPTIONS,
            _ => Self::OTHER,
        }
    }
}

/// The `route` label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Labels of an HTTP request metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// HTTP method, from a fixed set.
    pub method: MethodLabel,
    /// The route pattern (`/t/{tenant}/members`), never the raw path, to bound cardinality.
    pub route: String,
    /// Status code.
    pub status: u16,
}

/// Labels of a duration histogram (no status: latency by route is what dashboards need).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// HTTP method, from a fixed set.
    pub method: MethodLabel,
    /// The route pattern.
    pub route: String,
}

/// Labels of an operation metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// Operation kind.
    pub kind: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
}

/// The registry and the instruments of the HTTP layer.
pub struct Metrics {
    /// Every metric of the process; encoded by `/metrics`.
    pub registry: Mutex<Registry>,
    /// `esaas_http_requests_total{method,route,status}`.
    pub http_requests: Family<HttpLabels, Counter>,
    /// `esaas_http_request_duration_seconds{method,route}`.
    pub http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// `esaas_operation_apply_seconds{kind}`: from a request's commit to its objects being applied.
    pub operation_apply: Family<KindLabels, Histogram, fn() -> Histogram>,
    /// `esaas_db_pool_connections`: open connections (set at scrape time).
    pub db_pool_size: Gauge,
    /// `esaas_db_pool_idle_connections`: idle connections (set at scrape time).
    pub db_pool_idle: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with the HTTP and database pool instruments registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("esaas");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        let operation_apply =
            Family::<KindLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "operation_apply_seconds",
            "Time from a request's commit to its Kubernetes objects being applied",
            operation_apply.clone(),
        );
        let db_pool_size = Gauge::default();
        let db_pool_idle = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http_duration.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            db_pool_size.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            db_pool_idle.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            http_requests,
            http_duration,
            operation_apply,
            db_pool_size,
            db_pool_idle,
        }
    }

    /// Record that an operation of `kind` was applied `seconds` after it was requested.
    pub fn observe_operation_applied(&self, kind: &str, seconds: f64) {
        self.operation_apply
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .observe(seconds);
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

/// Whether `headers` carry `Authorization: Bearer <expected>` (compared in constant time).
fn presents_token(headers: &http::HeaderMap, expected: &str) -> bool {
    let Some(presented) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
    else {
        return false;
    };
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// `GET /metrics`: Prometheus text format, for a scraper with `ESAAS_METRICS_TOKEN` (`expected`; 404 when it
/// is not set, 401 without the right token). The pool's size is read at each scrape.
pub fn scrape(
    metrics: &Metrics,
    expected: Option<&SecretString>,
    headers: &http::HeaderMap,
    db: &PgPool,
) -> Response {
    let Some(expected) = expected else {
        return AppError::NotFound.into_response();
    };
    if !presents_token(headers, expected.expose_secret()) {
        return (
            http::StatusCode::UNAUTHORIZED,
            [(http::header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "A bearer token (ESAAS_METRICS_TOKEN) is required.\n",
        )
            .into_response();
    }
    metrics.db_pool_size.set(i64::from(db.size()));
    metrics
        .db_pool_idle
        .set(i64::try_from(db.num_idle()).unwrap_or(i64::MAX));
    (
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_map_to_a_fixed_set() {
        assert_eq!(MethodLabel::from(&http::Method::GET), MethodLabel::GET);
        assert_eq!(MethodLabel::from(&http::Method::TRACE), MethodLabel::OTHER);
        let invented = http::Method::from_bytes(b"XYZZY").unwrap();
        assert_eq!(MethodLabel::from(&invented), MethodLabel::OTHER);
    }

    #[test]
    fn the_scrape_token_is_a_bearer_token() {
        let mut h = http::HeaderMap::new();
        assert!(!presents_token(&h, "s3cret"));
        h.insert(
            http::header::AUTHORIZATION,
            "Bearer s3cret".parse().unwrap(),
        );
        assert!(presents_token(&h, "s3cret"));
        assert!(!presents_token(&h, "s3cret2"));
        assert!(!presents_token(&h, ""));
        h.insert(http::header::AUTHORIZATION, "Basic s3cret".parse().unwrap());
        assert!(!presents_token(&h, "s3cret"));
    }
}
