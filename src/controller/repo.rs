//! The controller's own rows: the pods the observer last saw (`cluster_pods`), the status history
//! (`cluster_status_history`), the last contact with Kubernetes (`kube_contact`), and the waiting operations
//! it re-checks. The status of a cluster itself is written through [`crate::clusters::repo`].

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::AppResult;
use crate::k8s::engine::ObservedStatus;

/// A pod as the observer records it.
#[derive(Debug, Clone)]
pub struct PodRecord<'a> {
    /// Pod name.
    pub name: &'a str,
    /// Its node set (label).
    pub node_set: &'a str,
    /// `elasticsearch` or `kibana` (label).
    pub component: &'a str,
    /// Kubernetes phase.
    pub phase: &'a str,
    /// The Ready condition.
    pub ready: bool,
    /// Container restarts, summed.
    pub restarts: i32,
    /// The Kubernetes node it runs on.
    pub node: &'a str,
    /// Why it is not ready, for people (empty when ready).
    pub reason: &'a str,
    /// When it started.
    pub started: Option<DateTime<Utc>>,
}

/// Record a pod of a live cluster (nothing for a deleted cluster).
pub async fn record_pod(
    conn: &mut PgConnection,
    cluster_id: Uuid,
    pod: &PodRecord<'_>,
) -> AppResult<()> {
    sqlx::query!(
        r#"INSERT INTO cluster_pods (cluster_id, name, node_set, component, phase, ready, restarts, node_name,
                                     reason, started_at, observed_at)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now()
           WHERE EXISTS (SELECT 1 FROM clusters WHERE id = $1 AND deleted_at IS NULL)
           ON CONFLICT (cluster_id, name) DO UPDATE SET node_set = $3, component = $4, phase = $5, ready = $6,
               restarts = $7, node_name = $8, reason = $9, started_at = $10, observed_at = now()"#,
        cluster_id,
        pod.name,
        pod.node_set,
        pod.component,
        pod.phase,
        pod.ready,
        pod.restarts,
        pod.node,
        pod.reason,
        pod.started
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forget a pod that Kubernetes deleted.
pub async fn forget_pod(conn: &mut PgConnection, cluster_id: Uuid, name: &str) -> AppResult<()> {
    sqlx::query!(
        "DELETE FROM cluster_pods WHERE cluster_id = $1 AND name = $2",
        cluster_id,
        name
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Add a point to the cluster's status history.
pub async fn record_history(
    conn: &mut PgConnection,
    cluster_id: Uuid,
    status: &ObservedStatus,
) -> AppResult<()> {
    sqlx::query!(
        "INSERT INTO cluster_status_history (cluster_id, health, nodes_ready, nodes_desired) \
             VALUES ($1, $2, $3, $4)",
        cluster_id,
        status.health,
        status.available_nodes,
        status.desired_nodes
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The watches work: Kubernetes answered now.
pub async fn contact_ok(conn: &mut PgConnection) -> AppResult<()> {
    sqlx::query!("UPDATE kube_contact SET last_ok_at = now(), unreachable_since = NULL")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The watches fail, since `since` (kept when already failing).
pub async fn contact_lost(conn: &mut PgConnection, since: DateTime<Utc>) -> AppResult<()> {
    sqlx::query!(
        "UPDATE kube_contact SET unreachable_since = coalesce(unreachable_since, $1)",
        since
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The last contact with Kubernetes and since when it fails, if it does.
pub async fn contact(
    conn: &mut PgConnection,
) -> AppResult<Option<(DateTime<Utc>, Option<DateTime<Utc>>)>> {
    let row = sqlx::query!("SELECT last_ok_at, unreachable_since FROM kube_contact")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| (r.last_ok_at, r.unreachable_since)))
}

/// A waiting operation the observer re-checks.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// Its cluster.
    pub cluster_id: Uuid,
    /// Its kind, as stored.
    pub kind: String,
    /// The tenant's slug.
    pub slug: String,
    /// The cluster's name.
    pub name: String,
    /// The cluster's engine.
    pub engine: String,
}

/// Every operation waiting for Kubernetes, with what finds its primary object.
pub async fn waiting(conn: &mut PgConnection) -> AppResult<Vec<Waiting>> {
    let rows = sqlx::query!(
        r#"SELECT o.cluster_id, o.kind, t.slug, c.name, c.engine
           FROM operations o JOIN clusters c ON c.id = o.cluster_id JOIN tenants t ON t.id = c.tenant_id
           WHERE o.state = 'waiting'"#
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Waiting {
            cluster_id: r.cluster_id,
            kind: r.kind,
            slug: r.slug,
            name: r.name,
            engine: r.engine,
        })
        .collect())
}
