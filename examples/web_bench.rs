//! Server-side render time of the cluster pages at scale: 10,000 clusters in the database, 1,000 of them in
//! the measured tenant (10 % with an active operation), the dashboard's cluster with pods, 120 history
//! points and 10 operations. Requests go through the whole router in-process (`tower::ServiceExt::oneshot`,
//! middleware, session lookup, Postgres), no network. Prints p50/p99 per page and the HTML size.
//!
//! Run (it creates and drops the database `esaas_web_bench` on the server of `DATABASE_URL`):
//! `SQLX_OFFLINE=true DATABASE_URL=postgres://postgres@127.0.0.1:54329/postgres cargo run --release --example web_bench`
//! Optional: `BENCH_REQUESTS` (default 300).
//!
//! Measured on the 2-core dev VM (release build, other builds running beside it), p50 / p99:
//! before issue 11.6: list 2.9 / 9.0 ms, list?health=green 3.6 / 11.5 ms, dashboard 7.8 / 21.0 ms, live
//! fragment 3.7 / 11.9 ms; after (same DATABASE_URL): list 1.7 / 7.5 ms,
//! list?health=green 1.6 / 7.1 ms, dashboard 2.5 / 9.3 ms, live fragment 2.4 / 8.8 ms. The dashboard's p99
//! was the inspector's watch mark, a committed write (WAL flush) on every view; the rest is Postgres round
//! trips (two sqlx pings per pooled connection before, one now).

use std::time::{Duration, Instant};

use axum::body::Body;
use esaas::clusters::templates;
use esaas::config::Config;
use esaas::state::AppState;
use http::Request;
use http_body_util::BodyExt;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};
use tower::ServiceExt;

const DB: &str = "esaas_web_bench";
const DROP_DB: &str = "DROP DATABASE IF EXISTS esaas_web_bench WITH (FORCE)";
const CREATE_DB: &str = "CREATE DATABASE esaas_web_bench";

async fn fresh_database(server_url: &str) -> anyhow::Result<(PgPool, String)> {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(server_url)
        .await?;
    admin.execute(DROP_DB).await?;
    admin.execute(CREATE_DB).await?;
    let base = server_url.rsplit_once('/').map_or(server_url, |(b, _)| b);
    let url = format!("{base}/{DB}");
    // The portal's pool and connection settings (see `esaas::db::pool_options` and `connect_options`).
    let pool = esaas::db::pool_options(8)
        .connect_with(esaas::db::connect_options(&url)?)
        .await?;
    esaas::db::migrate(&pool).await?;
    Ok((pool, url))
}

async fn seed(pool: &PgPool) -> anyhow::Result<(uuid::Uuid, String)> {
    let spec = serde_json::to_value(&templates::template("three-nodes").expect("template").spec)?;
    let mut conn = pool.acquire().await?;
    let email =
        esaas::accounts::email::Email::parse("bench@example.test").map_err(anyhow::Error::msg)?;
    let user = esaas::accounts::users::create(
        &mut conn,
        &email,
        "",
        SecretString::from("correct horse battery staple".to_owned()),
        false,
    )
    .await?;
    // 10 tenants; tenant 0 is `bench`.
    sqlx::query(
        "INSERT INTO tenants (slug, name, max_clusters, max_nodes, max_cpu_millis, max_memory_mib, max_storage_gib) \
         SELECT CASE WHEN t = 0 THEN 'bench' ELSE 'tenant-' || t END, 'Tenant ' || t, 2000, 10000, 10000000, 100000000, 1000000 \
         FROM generate_series(0, 9) t",
    )
    .execute(&mut *conn)
    .await?;
    let tenant_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'bench'")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ($1, $2, 'owner')")
        .bind(tenant_id)
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
    // 1,000 clusters per tenant: 10,000 in all.
    sqlx::query(
        "INSERT INTO clusters (tenant_id, name, spec, nodes, cpu_millis, memory_mib, storage_gib, created_by, \
                               health, phase, available_nodes, observed_version, observed_generation, \
                               status_observed_at, conditions) \
         SELECT t.id, 'c-' || lpad(i::text, 4, '0'), $1, 3, 3500, 7168, 30, $2, \
                (ARRAY['green','green','green','yellow','red','unknown'])[1 + i % 6], 'Ready', 3, '9.2.1', 1, now(), \
                '[{\"type\":\"ReconciliationComplete\",\"status\":\"True\"},{\"type\":\"RunningDesiredVersion\",\"status\":\"True\"}]' \
         FROM tenants t, generate_series(0, 999) i",
    )
    .bind(&spec)
    .bind(user.id)
    .execute(&mut *conn)
    .await?;
    // History operations for every cluster (one succeeded create) and an active one on 10 %.
    sqlx::query(
        "INSERT INTO operations (cluster_id, tenant_id, kind, state, target_generation, steps, finished_at) \
         SELECT id, tenant_id, 'create', 'succeeded', 1, \
                '[{\"at\":\"2026-11-01T00:00:00Z\",\"message\":\"create requested\"},{\"at\":\"2026-11-01T00:00:20Z\",\"message\":\"cluster Ready at generation 1\"}]', now() \
         FROM clusters",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO operations (cluster_id, tenant_id, kind, state, target_generation, steps, last_error, next_attempt_at) \
         SELECT id, tenant_id, 'scale', 'applying', 2, '[{\"at\":\"2026-11-01T00:00:00Z\",\"message\":\"scale requested\"}]', \
                'waiting for Kubernetes: connection refused', now() + interval '1 day' \
         FROM clusters WHERE right(name, 1) = '7'",
    )
    .execute(&mut *conn)
    .await?;
    // The dashboard's cluster: pods, 120 history points, 10 more finished operations.
    let dash: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM clusters WHERE tenant_id = $1 AND name = 'c-0500'")
            .bind(tenant_id)
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO cluster_pods (cluster_id, name, node_set, component, phase, ready, restarts, node_name, started_at) \
         SELECT $1, 'c-0500-es-default-' || i, 'default', 'elasticsearch', 'Running', true, 0, 'node-' || i, now() - interval '1 hour' \
         FROM generate_series(0, 2) i",
    )
    .bind(dash)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO cluster_status_history (cluster_id, at, health, nodes_ready, nodes_desired) \
         SELECT $1, now() - (120 - i) * interval '1 minute', CASE WHEN i < 5 THEN 'yellow' ELSE 'green' END, least(3, i), 3 \
         FROM generate_series(1, 120) i",
    )
    .bind(dash)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO operations (cluster_id, tenant_id, kind, state, target_generation, steps, created_at, finished_at) \
         SELECT $1, $2, 'restart', 'succeeded', 1, \
                '[{\"at\":\"2026-11-01T00:00:00Z\",\"message\":\"restart requested\"},{\"at\":\"2026-11-01T00:00:05Z\",\"message\":\"applied\"},{\"at\":\"2026-11-01T00:01:00Z\",\"message\":\"cluster Ready\"}]', \
                now() - i * interval '1 hour', now() - i * interval '1 hour' + interval '1 minute' \
         FROM generate_series(1, 10) i",
    )
    .bind(dash)
    .bind(tenant_id)
    .execute(&mut *conn)
    .await?;
    conn.execute("ANALYZE").await?;
    let config = Config::for_tests("postgres://unused");
    let session = esaas::auth::session::create(
        &mut conn,
        &config,
        user.id,
        Some(tenant_id),
        &esaas::request_meta::RequestMeta::default(),
        None,
    )
    .await?;
    Ok((tenant_id, session.token.expose_secret().to_owned()))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn measure(app: &axum::Router, cookie: &str, path: &str, n: usize) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    for i in 0..n + 20 {
        let request = Request::get(path)
            .header("cookie", format!("esaas_session={cookie}"))
            .body(Body::empty())?;
        let started = Instant::now();
        let response = app.clone().oneshot(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let took = started.elapsed();
        anyhow::ensure!(status == 200, "{path}: {status}");
        bytes = body.len();
        if i >= 20 {
            times.push(took);
        }
    }
    times.sort();
    println!(
        "{path:<40} n={n:<4} p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms  html={bytes} B",
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        percentile(&times, 0.99).as_secs_f64() * 1000.0,
        times.last().unwrap().as_secs_f64() * 1000.0,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = std::env::var("DATABASE_URL").map_err(|_| {
        anyhow::anyhow!("set DATABASE_URL to a Postgres server (any database on it)")
    })?;
    let n: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let (pool, _url) = fresh_database(&server).await?;
    let seeded = Instant::now();
    let (_tenant, cookie) = seed(&pool).await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters")
        .fetch_one(&pool)
        .await?;
    println!(
        "seeded {total} clusters in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let state = AppState::new(Config::for_tests("postgres://unused"), pool.clone());
    let app = esaas::build_app(state);
    measure(&app, &cookie, "/t/bench/clusters", n).await?;
    measure(&app, &cookie, "/t/bench/clusters?health=green", n).await?;
    measure(&app, &cookie, "/t/bench/clusters/c-0500", n).await?;
    measure(&app, &cookie, "/t/bench/clusters/c-0500/live", n).await?;
    pool.close().await;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&server)
        .await?;
    admin.execute(DROP_DB).await?;
    Ok(())
}
