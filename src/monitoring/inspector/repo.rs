//! The inspector's table `es_inspections`: one row per cluster with the latest snapshot (JSONB), its time,
//! the last error, and the polling schedule. Claiming due clusters is `FOR UPDATE SKIP LOCKED`, so several
//! portal replicas share the polling without polling a cluster twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::snapshot::{
    HealthDetail, IndexView, NodeView, Problem, ShardView, Snapshot, Watermarks,
};
use crate::elasticsearch::EsError;
use crate::elasticsearch::connect::ClusterAddress;
use crate::error::AppResult;

/// While someone watches the dashboard, a cluster is polled at least this often.
pub const WATCHED_INTERVAL: Duration = Duration::from_secs(5);
/// How long a dashboard view counts as watching.
pub const WATCH_WINDOW: Duration = Duration::from_secs(60);

/// Claim up to `limit` live clusters whose poll is due and schedule their next poll `interval` later (with
/// ±10 % jitter; [`WATCHED_INTERVAL`] while watched). Clusters never polled come first.
pub async fn claim_due(
    db: &PgPool,
    limit: i64,
    interval: Duration,
) -> AppResult<Vec<ClusterAddress>> {
    let rows: Vec<(Uuid, String, String, Option<bool>)> = sqlx::query_as(
        r#"WITH due AS (
               SELECT c.id FROM clusters c LEFT JOIN es_inspections i ON i.cluster_id = c.id
               WHERE c.deleted_at IS NULL AND NOT c.deleting AND c.applied_generation > 0
                 AND (i.cluster_id IS NULL OR i.next_poll_at <= now())
               ORDER BY i.next_poll_at NULLS FIRST
               LIMIT $1
               FOR UPDATE OF c SKIP LOCKED),
           claimed AS (
               INSERT INTO es_inspections (cluster_id, next_poll_at)
               SELECT id, now() + make_interval(secs => $2 * (0.9 + random() * 0.2)) FROM due
               ON CONFLICT (cluster_id) DO UPDATE SET next_poll_at = now() + make_interval(secs =>
                   (CASE WHEN es_inspections.watched_until > now() THEN LEAST($2, $3) ELSE $2 END)
                   * (0.9 + random() * 0.2))
               RETURNING cluster_id)
           SELECT c.id, t.slug, c.name, (c.spec->>'http_tls')::boolean
           FROM claimed JOIN clusters c ON c.id = claimed.cluster_id JOIN tenants t ON t.id = c.tenant_id"#,
    )
    .bind(limit)
    .bind(interval.as_secs_f64())
    .bind(WATCHED_INTERVAL.as_secs_f64())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, tenant_slug, name, tls)| ClusterAddress {
            id,
            tenant_slug,
            name,
            tls: tls.unwrap_or(true),
        })
        .collect())
}

/// The address of one live cluster (for a poll on demand).
pub async fn address(
    db: impl PgExecutor<'_>,
    cluster_id: Uuid,
) -> AppResult<Option<ClusterAddress>> {
    let row: Option<(Uuid, String, String, Option<bool>)> = sqlx::query_as(
        "SELECT c.id, t.slug, c.name, (c.spec->>'http_tls')::boolean FROM clusters c \
         JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1 AND c.deleted_at IS NULL",
    )
    .bind(cluster_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, tenant_slug, name, tls)| ClusterAddress {
        id,
        tenant_slug,
        name,
        tls: tls.unwrap_or(true),
    }))
}

/// Store a successful poll's snapshot (and clear the last error).
pub async fn store_snapshot(
    db: impl PgExecutor<'_>,
    cluster_id: Uuid,
    at: DateTime<Utc>,
    s: &Snapshot,
) -> AppResult<()> {
    let health = serde_json::json!({ "detail": s.health, "watermarks": s.watermarks });
    sqlx::query(
        "INSERT INTO es_inspections (cluster_id, observed_at, status, health, nodes, indices, shards, problems, polls) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) \
         ON CONFLICT (cluster_id) DO UPDATE SET observed_at = $2, status = $3, health = $4, nodes = $5, \
           indices = $6, shards = $7, problems = $8, error_kind = NULL, error = NULL, error_at = NULL, \
           polls = es_inspections.polls + 1",
    )
    .bind(cluster_id)
    .bind(at)
    .bind(&s.health.status)
    .bind(Json(&health))
    .bind(Json(&s.nodes))
    .bind(Json(&s.indices))
    .bind(Json(&s.shards))
    .bind(Json(&s.problems))
    .execute(db)
    .await?;
    Ok(())
}

/// Store a failed poll: the reason, keeping the last known snapshot.
pub async fn store_error(
    db: impl PgExecutor<'_>,
    cluster_id: Uuid,
    error: &EsError,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO es_inspections (cluster_id, error_kind, error, error_at, polls) VALUES ($1, $2, $3, now(), 1) \
         ON CONFLICT (cluster_id) DO UPDATE SET error_kind = $2, error = $3, error_at = now(), \
           polls = es_inspections.polls + 1",
    )
    .bind(cluster_id)
    .bind(error.kind())
    .bind(error.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// A watch mark younger than this is not renewed (see [`mark_watched`]).
pub const WATCH_RENEW_AFTER: Duration = Duration::from_secs(10);

/// Someone is looking at the cluster's dashboard: poll it faster for a while (soon, too). A view within
/// [`WATCH_RENEW_AFTER`] of the last renewal, with the next poll already due within [`WATCHED_INTERVAL`],
/// writes nothing: the statement then inserts no row, so the view costs no transaction commit (a WAL
/// flush on every dashboard view was the page's slowest part) and the watch still lasts at least
/// `WATCH_WINDOW - WATCH_RENEW_AFTER` after the last view.
pub async fn mark_watched(db: impl PgExecutor<'_>, cluster_id: Uuid) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO es_inspections (cluster_id, watched_until) \
         SELECT $1, now() + make_interval(secs => $2) \
         WHERE NOT EXISTS (SELECT 1 FROM es_inspections WHERE cluster_id = $1 \
             AND watched_until > now() + make_interval(secs => $2 - $4) \
             AND next_poll_at <= now() + make_interval(secs => $3)) \
         ON CONFLICT (cluster_id) DO UPDATE SET watched_until = now() + make_interval(secs => $2), \
           next_poll_at = LEAST(es_inspections.next_poll_at, now() + make_interval(secs => $3))",
    )
    .bind(cluster_id)
    .bind(WATCH_WINDOW.as_secs_f64())
    .bind(WATCHED_INTERVAL.as_secs_f64())
    .bind(WATCH_RENEW_AFTER.as_secs_f64())
    .execute(db)
    .await?;
    Ok(())
}

/// What the pages and the API read: the last snapshot and the last error.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    /// When the snapshot was taken (None: Elasticsearch was never reached).
    pub observed_at: Option<DateTime<Utc>>,
    /// The snapshot (empty before the first success).
    pub snapshot: Snapshot,
    /// The last poll's failure, when it failed: kind, message, time.
    pub error: Option<(String, String, DateTime<Utc>)>,
}

#[derive(sqlx::FromRow)]
struct Row {
    observed_at: Option<DateTime<Utc>>,
    health: Value,
    nodes: Json<Vec<NodeView>>,
    indices: Json<Vec<IndexView>>,
    shards: Json<Vec<ShardView>>,
    problems: Json<Vec<Problem>>,
    error_kind: Option<String>,
    error: Option<String>,
    error_at: Option<DateTime<Utc>>,
}

/// The inspection of a cluster (None: never polled).
pub async fn load(db: impl PgExecutor<'_>, cluster_id: Uuid) -> AppResult<Option<Inspection>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT observed_at, health, nodes, indices, shards, problems, error_kind, error, error_at \
         FROM es_inspections WHERE cluster_id = $1",
    )
    .bind(cluster_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let health: HealthDetail =
            serde_json::from_value(r.health["detail"].clone()).unwrap_or_default();
        let watermarks: Watermarks =
            serde_json::from_value(r.health["watermarks"].clone()).unwrap_or_default();
        Inspection {
            observed_at: r.observed_at,
            snapshot: Snapshot {
                health,
                watermarks,
                nodes: r.nodes.0,
                indices: r.indices.0,
                shards: r.shards.0,
                problems: r.problems.0,
            },
            error: match (r.error_kind, r.error, r.error_at) {
                (Some(k), Some(e), Some(at)) => Some((k, e, at)),
                _ => None,
            },
        }
    }))
}
