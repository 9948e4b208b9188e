//! The HTTP middleware of both stacks (pages and API), in one place, each taking only what it uses: the
//! client's request id kept only when safe ([`replace_unsafe_request_id`]), the client address behind
//! trusted proxies ([`client_addr`], see [`crate::request_meta`]), the security headers
//! ([`security_headers`]) and the request metrics ([`track_http`]). The CSRF check and flash messages are
//! the web's (`web::csrf`, `web::flash`); token authentication and problem+json are the API's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header;

use crate::metrics::{HttpLabels, MethodLabel, Metrics, RouteLabels, UNMATCHED_ROUTE};
use crate::request_meta::{ClientAddr, TrustedProxies, is_safe_request_id};

/// Middleware, outside the request-id layer: drop a client's `x-request-id` unless it is one safe value, so
/// that the layer assigns a fresh one.
pub async fn replace_unsafe_request_id(mut req: Request, next: Next) -> Response {
    let headers = req.headers().get_all("x-request-id");
    let mut values = headers.iter();
    let keep = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(v), None) => is_safe_request_id(v.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// Middleware: work out the client address once per request (see the module documentation).
pub async fn client_addr(
    State(proxies): State<Arc<TrustedProxies>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let client = proxies.client(peer, req.headers());
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

/// Whether the portal is served over HTTPS (then the security headers include HSTS).
#[derive(Debug, Clone, Copy)]
pub struct Https(pub bool);

/// The Content-Security-Policy: only our own scripts, styles and images; no inline code; no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Middleware adding the security headers (handlers may not remove them).
pub async fn security_headers(State(https): State<Https>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if https.0 {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

/// Middleware recording every request's route, status and latency.
pub async fn track_http(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = MethodLabel::from(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, |p| p.as_str())
        .to_owned();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method,
            route: route.clone(),
            status,
        })
        .inc();
    metrics
        .http_duration
        .get_or_create(&RouteLabels { method, route })
        .observe(started.elapsed().as_secs_f64());
    response
}
