//! ESaaS Portal library: everything the `esaas` binary runs. `build_app` gives the router that tests drive
//! in-process; `run` serves it with graceful shutdown.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clusters;
pub mod config;
pub mod controller;
pub mod db;
pub mod elasticsearch;
pub mod error;
pub mod k8s;
pub mod metrics;
pub mod middleware;
pub mod monitoring;
pub mod operations;
pub mod request_meta;
pub mod spec;
pub mod state;
pub mod telemetry;
pub mod tenants;
pub mod web;

#[cfg(test)]
mod import_rules;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use http::{HeaderName, Request};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Largest accepted request body (forms and JSON).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application: HTML pages, static files, operations endpoints, with the middleware stack
/// (request id, tracing span per request, security headers, metrics, body limit, panic catcher, flash
/// messages, CSRF check of every form post).
pub fn build_app(state: AppState) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let request_id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", request_id, method = %req.method(), path = %req.uri().path())
    });
    Router::new()
        .merge(web::router())
        // Static files are compressed for clients that accept gzip (htmx, CSS, JS: 70 KB -> 22 KB). HTML is
        // not: pages carry CSRF tokens next to reflected input, which compression would expose (BREACH).
        .nest_service(
            "/static",
            tower::ServiceBuilder::new()
                .layer(CompressionLayer::new())
                .service(ServeDir::new(&state.config.static_dir)),
        )
        // Error pages of signed-in users get their navigation back (see web::error_page).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::error_page::with_navigation,
        ))
        // CSRF innermost of the outer stack: it sees the body after the size limit, and its 403 pages get
        // the security headers and are counted by the metrics.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::csrf::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::flash::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::middleware::track_http,
        ))
        .layer(axum::middleware::from_fn_with_state(
            crate::middleware::Https(state.config.is_https()),
            crate::middleware::security_headers,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // The REST API below the HTML stack: own body limit (problem+json 413), metrics, security headers.
        .merge(api::router(&state))
        .layer(CatchPanicLayer::new())
        .layer(trace)
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(state.config.trusted_proxies.clone()),
            crate::middleware::client_addr,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        // Outermost: a client's own request id survives only when it is safe to log and audit.
        .layer(axum::middleware::from_fn(
            crate::middleware::replace_unsafe_request_id,
        ))
        .with_state(state)
}

/// Serve `app` on `listener` until `shutdown` resolves, then finish in-flight requests (graceful shutdown).
pub async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

/// Wait until the database answers, retrying with a capped backoff (the portal starts before Postgres is up
/// under docker compose), then migrate.
pub async fn wait_and_migrate(pool: &sqlx::PgPool, max_wait: Duration) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match db::migrate(pool).await {
            Ok(()) => return Ok(()),
            Err(e) if started.elapsed() < max_wait => {
                tracing::warn!(error = %e, "database not ready; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}
