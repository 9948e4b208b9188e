//! Lifecycle benchmark (issue 4). Run with `scripts/bench-lifecycle.sh` (release build, its own database).
//!
//! 1. Request -> objects applied latency (p50/p99) for create, scale and restart, measured from the
//!    operation's commit (`created_at`) to the reconciler's apply (`applied_at`), simulated Kubernetes with its
//!    controllers running (kubelet delay 0).
//! 2. 10,000 clusters in 1,000 tenants: the first full resync (applies everything), then a resync when nothing
//!    changed (time and Kubernetes requests it sends; the target is none beyond the watches), and the
//!    process's memory. For this part the simulated controllers are off, so the memory is the portal's plus the
//!    emulator's store of the applied objects, without simulated pods.

use std::time::{Duration, Instant};

use esaas::audit::Actor;
use esaas::clusters::service::{self, Caller, CreateRequest};
use esaas::config::Config;
use esaas::controller::resync;
use esaas::k8s::sim::{Sim, SimOptions};
use esaas::k8s::target::KubeTarget;
use esaas::request_meta::RequestMeta;
use esaas::state::AppState;
use esaas::tenants::role::Role;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

async fn fresh_db(base: &str, name: &str) -> anyhow::Result<PgPool> {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let url = format!(
        "{}/{name}",
        base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base)
    );
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .connect(&url)
        .await?;
    esaas::db::migrate(&pool).await?;
    Ok(pool)
}

async fn tenant(pool: &PgPool, slug: &str, big: bool) -> anyhow::Result<Uuid> {
    let m = if big { 1_000_000 } else { 100 };
    Ok(sqlx::query_scalar(
        "INSERT INTO tenants (slug, name, max_clusters, max_nodes, max_cpu_millis, max_memory_mib, max_storage_gib) \
         VALUES ($1, $1, $2, $2, $2 * 100000, $2 * 100000, $2 * 10000) RETURNING id",
    )
    .bind(slug)
    .bind(m as i64)
    .fetch_one(pool)
    .await?)
}

async fn latencies(pool: &PgPool, kind: &str) -> anyhow::Result<Vec<f64>> {
    let mut v: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM applied_at - created_at)::float8 * 1000 FROM operations \
         WHERE kind = $1 AND applied_at IS NOT NULL",
    )
    .bind(kind)
    .fetch_all(pool)
    .await?;
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Ok(v)
}

async fn wait_idle(pool: &PgPool) -> anyhow::Result<()> {
    loop {
        let active: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM operations WHERE state IN ('pending', 'applying', 'waiting')",
        )
        .fetch_one(pool)
        .await?;
        if active == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL (a server where databases can be created)");
    let n_latency: usize = std::env::var("BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let n_clusters: usize = std::env::var("BENCH_CLUSTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let n_tenants: usize = std::env::var("BENCH_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);

    // Part 1: latency.
    let pool = fresh_db(&base, "esaas_bench_latency").await?;
    let sim = Sim::new(SimOptions {
        kubelet_delay: Duration::ZERO,
        run_controllers: true,
        ..SimOptions::default()
    });
    let mut config = Config::for_tests("postgres://unused");
    config.reconciler_workers = 4;
    let state = AppState::with_kube(config, pool.clone(), KubeTarget::from_sim(sim.clone()));
    let shutdown = CancellationToken::new();
    esaas::controller::spawn_background(&state, shutdown.clone());
    let tenant_id = tenant(&pool, "bench", true).await?;
    let caller = Caller {
        tenant_id,
        role: Role::Owner,
        actor: Actor::system(),
        meta: RequestMeta::default(),
        if_match: None,
    };
    for i in 0..n_latency {
        service::create(
            &state,
            &caller,
            &CreateRequest {
                name: format!("c{i}"),
                template: Some("single-node".into()),
                spec: None,
            },
        )
        .await?;
        wait_idle(&pool).await?;
    }
    for i in 0..n_latency {
        let name = format!("c{i}");
        let cluster = {
            let mut conn = pool.acquire().await?;
            esaas::clusters::repo::get_by_name(&mut conn, tenant_id, &name).await?
        };
        let set = cluster.spec.node_sets[0].name.to_string();
        service::scale(&state, &caller, &name, &set, 3).await?;
        wait_idle(&pool).await?;
        service::restart(&state, &caller, &name).await?;
        wait_idle(&pool).await?;
    }
    println!("request -> objects applied (ms), {n_latency} operations each, simulated Kubernetes:");
    for kind in ["create", "scale", "restart"] {
        let v = latencies(&pool, kind).await?;
        println!(
            "  {kind:<8} n={:<4} p50={:.1} p99={:.1} max={:.1}",
            v.len(),
            percentile(&v, 0.5),
            percentile(&v, 0.99),
            v.last().copied().unwrap_or(f64::NAN)
        );
    }
    shutdown.cancel();
    drop(state);
    drop(sim);

    // Part 2: resync at scale.
    let pool = fresh_db(&base, "esaas_bench_resync").await?;
    let sim = Sim::new(SimOptions {
        kubelet_delay: Duration::ZERO,
        run_controllers: false,
        ..SimOptions::default()
    });
    let mut config = Config::for_tests("postgres://unused");
    config.reconciler_workers = 0;
    config.resync_interval = Duration::ZERO;
    let state = AppState::with_kube(config, pool.clone(), KubeTarget::from_sim(sim.clone()));
    let shutdown = CancellationToken::new();
    let rss_before = rss_mib();
    let template = esaas::clusters::templates::template("three-nodes").expect("template");
    let spec = serde_json::to_value(&template.spec)?;
    let r = template.spec.resources();
    let started = Instant::now();
    for t in 0..n_tenants {
        let tid = tenant(&pool, &format!("t{t:04}"), false).await?;
        let per = n_clusters / n_tenants;
        sqlx::query(
            "INSERT INTO clusters (tenant_id, name, spec, nodes, cpu_millis, memory_mib, storage_gib, applied_generation) \
             SELECT $1, 'c' || g, $2, $3, $4, $5, $6, 1 FROM generate_series(1, $7) g",
        )
        .bind(tid)
        .bind(&spec)
        .bind(r.nodes)
        .bind(r.cpu_millis)
        .bind(r.memory_mib)
        .bind(r.storage_gib)
        .bind(per as i32)
        .execute(&pool)
        .await?;
    }
    println!(
        "\n{n_clusters} clusters in {n_tenants} tenants inserted in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    esaas::controller::spawn_background(&state, shutdown.clone());
    while !state.cache.is_synced() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sim.reset_request_counts();
    let started = Instant::now();
    let first = resync::resync_all(&state).await?;
    let first_time = started.elapsed();
    let first_counts = sim.request_counts();
    println!(
        "first resync (creates everything): {:.2} s, report {:?}, Kubernetes requests {:?}",
        first_time.as_secs_f64(),
        first,
        first_counts
    );
    // Let the watches catch up with what was applied.
    let expected = n_clusters + 3 * n_tenants;
    let caught_up = Instant::now();
    while state.cache.len().await < expected && caught_up.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "watch cache holds {} objects after {:.1} s",
        state.cache.len().await,
        caught_up.elapsed().as_secs_f64()
    );
    sim.reset_request_counts();
    let started = Instant::now();
    let second = resync::resync_all(&state).await?;
    let second_time = started.elapsed();
    let counts = sim.request_counts();
    let total: u64 = counts
        .iter()
        .filter(|(verb, _)| verb.as_str() != "watch")
        .map(|(_, n)| n)
        .sum();
    println!(
        "resync with nothing changed: {:.2} s, report {:?}, Kubernetes requests besides watches: {total} {:?}",
        second_time.as_secs_f64(),
        second,
        counts
    );
    println!(
        "process memory (portal + emulator holding {} objects): {:.0} MiB (before the clusters: {:.0} MiB)",
        state.cache.len().await,
        rss_mib(),
        rss_before
    );
    shutdown.cancel();
    Ok(())
}
