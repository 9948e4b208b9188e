//! The REST API for automation: `/api/v1` (JSON, bearer tokens), its OpenAPI 3.1 document at
//! `/api/v1/openapi.json` and the interactive documentation at `/api/docs`.
//!
//! Handlers are thin: they parse input with the problem+json extractors ([`extract`]), establish who calls
//! and where ([`auth::ApiCaller`], [`access::TenantCtx`]) and call the same domain services as the web pages
//! (`clusters::service`, `tenants::*`), which validate, lock, check quotas and write audit rows. The API never
//! talks to Kubernetes except through those services.
//!
//! Middleware of the API routes, outermost first: metrics, security headers, problem+json for every error
//! answer (including 405 and oversized bodies: `Content-Length` above [`crate::MAX_BODY_BYTES`] is 413
//! before anything runs), then on authenticated routes [`auth::authenticate`] (token, rate limit,
//! read-only rule) and [`idempotency::middleware`].
//!
//! The router is merged into the application below the HTML stack's body-limit, CSRF and flash layers
//! (the API has neither forms nor flash messages; it enforces the same body limit itself, answering
//! problem+json) and inside the request-id, tracing and panic layers.

pub mod access;
pub mod actions;
pub mod audit;
pub mod auth;
pub mod clusters;
pub mod cursor;
pub mod elasticsearch;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod members;
pub mod meta;
pub mod openapi;
pub mod operations;
pub mod rate_limit;
pub mod reads;
pub mod storage_classes;
pub mod tenants;
pub mod tokens;
pub mod wire;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use http::{HeaderValue, StatusCode, header};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::{ApiError, PROBLEM_JSON};
use self::rate_limit::RateLimiter;
use crate::state::AppState;

/// Prefix of every API route.
pub const PREFIX: &str = "/api/v1";

/// What the API's handlers share. Cheap to clone.
#[derive(Clone)]
pub struct ApiState(Arc<ApiInner>);

/// The parts of [`ApiState`].
pub struct ApiInner {
    /// The application state (database, configuration, Kubernetes, reconciler wake-up).
    pub app: AppState,
    /// Per-token request buckets (see [`rate_limit`]).
    pub limiter: RateLimiter,
    /// Sweeping of expired idempotency keys.
    pub idempotency: idempotency::Housekeeping,
    /// Recent cluster reads (see [`reads`]).
    pub reads: reads::ReadCache,
    /// The OpenAPI document, serialized once.
    pub openapi_json: Bytes,
    /// The (method, path template) pairs the document declares (see [`openapi::declared_operations`]).
    pub operations: std::collections::HashSet<(http::Method, String)>,
}

impl Deref for ApiState {
    type Target = ApiInner;

    fn deref(&self) -> &ApiInner {
        &self.0
    }
}

/// The API routes, with the rate limit and read cache of the portal's [`Config`](crate::config::Config).
pub fn router(state: &AppState) -> Router<AppState> {
    let (authenticated, public, doc) = routes();
    let openapi_json = Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default());
    let api = ApiState(Arc::new(ApiInner {
        app: state.clone(),
        limiter: RateLimiter::new(state.config.api_rate_limit),
        idempotency: idempotency::Housekeeping::default(),
        reads: reads::ReadCache::new(state.config.api_read_cache),
        openapi_json,
        operations: openapi::declared_operations(&doc),
    }));
    authenticated
        .route_layer(middleware::from_fn_with_state(
            api.clone(),
            idempotency::middleware,
        ))
        .route_layer(middleware::from_fn_with_state(
            api.clone(),
            auth::authenticate,
        ))
        .merge(public)
        .route("/api/docs", get(docs_page))
        .route("/api", any(not_found))
        .route("/api/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .layer(middleware::from_fn(problems))
        .layer(middleware::from_fn_with_state(
            crate::middleware::Https(state.config.is_https()),
            crate::middleware::security_headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::middleware::track_http,
        ))
        .with_state(api)
}

/// The OpenAPI document and the authenticated and public routers.
fn routes() -> (Router<ApiState>, Router<ApiState>, utoipa::openapi::OpenApi) {
    let (authenticated, doc) = OpenApiRouter::with_openapi(openapi::base())
        .nest(
            PREFIX,
            OpenApiRouter::new()
                .merge(tenants::router())
                .merge(members::router())
                .merge(clusters::router())
                .merge(actions::router())
                .merge(elasticsearch::router())
                .merge(operations::router())
                .merge(tokens::router())
                .merge(meta::router())
                .merge(storage_classes::router())
                .merge(audit::router()),
        )
        .split_for_parts();
    let (public, public_doc) = OpenApiRouter::new()
        .nest(PREFIX, OpenApiRouter::new().routes(routes!(openapi_json)))
        .split_for_parts();
    let mut doc = doc;
    doc.merge(public_doc);
    (authenticated, public, openapi::finish(doc))
}

/// The OpenAPI document (as served at `/api/v1/openapi.json`).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes().2
}

/// The OpenAPI document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "documentation",
    operation_id = "openapi",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json",
        body = serde_json::Value))
)]
async fn openapi_json(State(api): State<ApiState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        api.openapi_json.clone(),
    )
        .into_response()
}

/// The interactive documentation (Swagger UI from `static/vendor/swagger-ui`, no inline script).
async fn docs_page() -> Html<&'static str> {
    Html(include_str!("../../static/api-docs/index.html"))
}

/// Paths under `/api` that are not routes.
async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "No such API route; see /api/v1/openapi.json.",
    )
}

/// URLs with NUL characters and oversized bodies are refused before anything runs; every error answer without a problem document
/// (axum's 405, a 408, ...) gets one.
async fn problems(req: Request, next: Next) -> Response {
    // Postgres text cannot hold NUL; refuse it here rather than fail deep inside a query.
    if req
        .uri()
        .path_and_query()
        .map_or("", |pq| pq.as_str())
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%00"))
    {
        return ApiError::bad_request("The URL contains a NUL character (%00).").into_response();
    }
    let too_large = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|len| len > crate::MAX_BODY_BYTES);
    if too_large {
        return ApiError::payload_too_large().into_response();
    }
    let response = next.run(req).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "This method is not allowed here; the Allow header lists the ones that are.".to_owned()
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large().detail.clone(),
        other => other.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let slug = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
        s if s.is_server_error() => "internal",
        _ => "error",
    };
    let problem = ApiError::new(status, slug, detail);
    let fresh = problem.into_response();
    let (fresh_parts, body) = fresh.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    for (name, value) in &fresh_parts.headers {
        if name != header::CONTENT_TYPE {
            parts.headers.insert(name.clone(), value.clone());
        }
    }
    Response::from_parts(parts, body)
}
