//! The clusters repository: the desired spec (with its derived resource totals, written together so quota
//! usage is always a sum over live rows) and the observed status the observer writes.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::clusters::state::ActiveWork;
use crate::error::{AppError, AppResult, FieldErrors, ResultExt};
use crate::spec::ClusterSpec;
use crate::tenants::quota::Resources;

/// What the observer last saw of a cluster in Kubernetes.
#[derive(Debug, Clone, Default)]
pub struct ObservedStatus {
    /// `green`, `yellow`, `red` or `unknown`.
    pub health: String,
    /// The engine's phase (`Ready`, `ApplyingChanges`, ...), empty before the first observation.
    pub phase: String,
    /// Ready Elasticsearch nodes.
    pub available_nodes: i32,
    /// The version all nodes run.
    pub observed_version: String,
    /// The generation of the engine's primary object its status describes.
    pub observed_generation: i64,
    /// The engine's conditions (JSON array).
    pub conditions: Value,
    /// The engine's changes in progress (JSON object).
    pub in_progress: Value,
    /// Kibana health, empty without Kibana.
    pub kibana_health: String,
    /// When the status was last written (None: never observed).
    pub observed_at: Option<DateTime<Utc>>,
    /// The external addresses load balancers gave the HTTP Services (`ESAAS_EXPOSE=loadbalancer`).
    pub load_balancers: LoadBalancerAddresses,
}

/// The addresses of a load-balanced cluster's HTTP Services, as last observed (`None`: none yet).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct LoadBalancerAddresses {
    /// Of the Elasticsearch HTTP Service.
    #[serde(default)]
    pub elasticsearch: Option<String>,
    /// Of the Kibana HTTP Service.
    #[serde(default)]
    pub kibana: Option<String>,
}

impl LoadBalancerAddresses {
    /// Read from the `clusters.load_balancer_addresses` column (anything unexpected reads as none).
    pub fn from_json(value: &Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }
}

/// A cluster row.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Id.
    pub id: Uuid,
    /// Owning tenant.
    pub tenant_id: Uuid,
    /// Name (unique among the tenant's live clusters).
    pub name: String,
    /// The name of its engine ([`crate::k8s::engine::by_name`]).
    pub engine: String,
    /// Desired spec.
    pub spec: ClusterSpec,
    /// Bumped by every accepted change.
    pub generation: i64,
    /// Held to production rules (odd master-eligible count).
    pub production: bool,
    /// Totals derived from `spec`.
    pub resources: Resources,
    /// Refuse deletion while on.
    pub deletion_protection: bool,
    /// Who requested it.
    pub created_by: Option<Uuid>,
    /// Creator's email (for lists).
    pub created_by_email: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Current restart-trigger value (the engine renders it so that a change restarts the nodes).
    pub restart_trigger: Option<String>,
    /// A delete operation was accepted.
    pub deleting: bool,
    /// Generation last applied to Kubernetes.
    pub applied_generation: i64,
    /// Observed status.
    pub status: ObservedStatus,
    /// The unfinished operation, if any (read with the row, so the state it gives matches the row).
    pub active_operation: Option<ActiveWork>,
}

impl Cluster {
    /// The engine that runs this cluster (`engine`; the default one should the name be unknown).
    pub fn engine(&self) -> &'static dyn crate::k8s::engine::Engine {
        crate::k8s::engine::by_name(&self.engine).unwrap_or_else(crate::k8s::engine::default_engine)
    }
}

#[derive(sqlx::FromRow)]
struct ClusterRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    engine: String,
    spec: Json<ClusterSpec>,
    generation: i64,
    production: bool,
    nodes: i64,
    cpu_millis: i64,
    memory_mib: i64,
    storage_gib: i64,
    deletion_protection: bool,
    created_by: Option<Uuid>,
    created_by_email: Option<String>,
    created_at: DateTime<Utc>,
    restart_trigger: Option<String>,
    deleting: bool,
    applied_generation: i64,
    health: String,
    phase: String,
    available_nodes: i32,
    observed_version: String,
    observed_generation: i64,
    conditions: Value,
    in_progress: Value,
    kibana_health: String,
    status_observed_at: Option<DateTime<Utc>>,
    active_operation: Option<Json<ActiveWork>>,
    load_balancer_addresses: Value,
}

impl From<ClusterRow> for Cluster {
    fn from(r: ClusterRow) -> Self {
        Cluster {
            id: r.id,
            tenant_id: r.tenant_id,
            name: r.name,
            engine: r.engine,
            spec: r.spec.0,
            generation: r.generation,
            production: r.production,
            resources: Resources::for_cluster(r.nodes, r.cpu_millis, r.memory_mib, r.storage_gib),
            deletion_protection: r.deletion_protection,
            created_by: r.created_by,
            created_by_email: r.created_by_email,
            created_at: r.created_at,
            restart_trigger: r.restart_trigger,
            deleting: r.deleting,
            applied_generation: r.applied_generation,
            status: ObservedStatus {
                health: r.health,
                phase: r.phase,
                available_nodes: r.available_nodes,
                observed_version: r.observed_version,
                observed_generation: r.observed_generation,
                conditions: r.conditions,
                in_progress: r.in_progress,
                kibana_health: r.kibana_health,
                observed_at: r.status_observed_at,
                load_balancers: LoadBalancerAddresses::from_json(&r.load_balancer_addresses),
            },
            active_operation: r.active_operation.map(|j| j.0),
        }
    }
}

/// `SELECT` list and `FROM` clause shared by every read (`c` = clusters, `u` = creator).
macro_rules! cluster_select {
    () => {
        "SELECT c.id, c.tenant_id, c.name, c.engine, c.spec, c.generation, c.production, c.nodes, c.cpu_millis, c.memory_mib, \
         c.storage_gib, c.deletion_protection, c.created_by, u.email AS created_by_email, c.created_at, \
         c.restart_trigger, c.deleting, c.applied_generation, c.health, c.phase, c.available_nodes, \
         c.observed_version, c.observed_generation, c.conditions, c.in_progress, c.kibana_health, \
         c.status_observed_at, c.load_balancer_addresses, \
         (SELECT jsonb_build_object('kind', o.kind, 'state', o.state, 'params', o.params, \
                 'stalled_reason', o.stalled_reason) \
          FROM operations o WHERE o.cluster_id = c.id AND o.state IN ('pending', 'applying', 'waiting')) \
          AS active_operation \
         FROM clusters c LEFT JOIN users u ON u.id = c.created_by "
    };
}

/// Insert a new cluster at generation 1. A duplicate live name in the tenant is a field error at `name`.
#[tracing::instrument(skip(conn, spec))]
pub async fn insert(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    name: &str,
    spec: &ClusterSpec,
    production: bool,
    created_by: Option<Uuid>,
) -> AppResult<Uuid> {
    let r = spec.resources();
    let id = sqlx::query_scalar!(
        r#"INSERT INTO clusters (tenant_id, name, spec, nodes, cpu_millis, memory_mib, storage_gib, created_by,
                             production)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"#,
        tenant_id,
        name,
        Json(spec) as _,
        r.nodes,
        r.cpu_millis,
        r.memory_mib,
        r.storage_gib,
        created_by,
        production
    )
    .fetch_one(&mut *conn)
    .await
    .on_constraint("clusters_tenant_name_key", || {
        let mut e = FieldErrors::new();
        e.add("name", "A cluster with this name already exists in this tenant.");
        AppError::Validation(e)
    })?;
    Ok(id)
}

/// A live cluster of a tenant by name (404 otherwise).
#[tracing::instrument(skip(conn))]
pub async fn get_by_name(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    name: &str,
) -> AppResult<Cluster> {
    let row = sqlx::query_as::<_, ClusterRow>(concat!(
        cluster_select!(),
        "WHERE c.tenant_id = $1 AND c.name = $2 AND c.deleted_at IS NULL"
    ))
    .bind(tenant_id)
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(row.into())
}

/// Record the health of the cluster's Kibana as its engine reported it.
pub async fn set_kibana_health(conn: &mut PgConnection, id: Uuid, health: &str) -> AppResult<()> {
    sqlx::query!(
        "UPDATE clusters SET kibana_health = $2 WHERE id = $1",
        id,
        health
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Record the status the cluster's engine read from its primary object; false when the cluster is deleted
/// (nothing written).
pub async fn record_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: &crate::k8s::engine::ObservedStatus,
) -> AppResult<bool> {
    let updated = sqlx::query!(
        r#"UPDATE clusters SET health = $2, phase = $3, available_nodes = $4, observed_version = $5,
                  observed_generation = $6, conditions = $7, in_progress = $8, status_observed_at = now()
           WHERE id = $1 AND deleted_at IS NULL"#,
        id,
        status.health,
        status.phase,
        status.available_nodes,
        status.version,
        status.observed_generation.unwrap_or(0),
        status.conditions,
        status.in_progress
    )
    .execute(&mut *conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// The name of a cluster (live or deleted) by id.
pub async fn name_of(conn: &mut PgConnection, id: Uuid) -> AppResult<String> {
    Ok(
        sqlx::query_scalar!("SELECT name FROM clusters WHERE id = $1", id)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Did the tenant have a cluster of this name that is now deleted (so a page about it can say so rather than
/// answer 404)?
pub async fn was_deleted(conn: &mut PgConnection, tenant_id: Uuid, name: &str) -> AppResult<bool> {
    Ok(sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM clusters WHERE tenant_id = $1 AND name = $2 AND deleted_at IS NOT NULL)",
    )
    .bind(tenant_id)
    .bind(name)
    .fetch_one(&mut *conn)
    .await?)
}

/// Lock a live cluster of a tenant for a change (inside a transaction).
#[tracing::instrument(skip(conn))]
pub async fn lock_by_name(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    name: &str,
) -> AppResult<Cluster> {
    let row = sqlx::query_as::<_, ClusterRow>(concat!(
        cluster_select!(),
        "WHERE c.tenant_id = $1 AND c.name = $2 AND c.deleted_at IS NULL FOR UPDATE OF c"
    ))
    .bind(tenant_id)
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(row.into())
}

/// Lock a live cluster by id for a change (inside a transaction); 404 once it is deleted.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> AppResult<Cluster> {
    let row = sqlx::query_as::<_, ClusterRow>(concat!(
        cluster_select!(),
        "WHERE c.id = $1 AND c.deleted_at IS NULL FOR UPDATE OF c"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(row.into())
}

/// A cluster by id (live or not).
pub async fn get(conn: &mut PgConnection, id: Uuid) -> AppResult<Cluster> {
    let row = sqlx::query_as::<_, ClusterRow>(concat!(cluster_select!(), "WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(row.into())
}

/// Filters of a tenant's cluster list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this health (`green`, `yellow`, `red`, `unknown`).
    pub health: Option<String>,
    /// Keyset: names after this one.
    pub after_name: Option<String>,
    /// Page size.
    pub limit: i64,
}

/// A tenant's live clusters ordered by name.
#[tracing::instrument(skip(conn))]
pub async fn list_for_tenant(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    filter: &ListFilter,
) -> AppResult<Vec<Cluster>> {
    let rows = sqlx::query_as::<_, ClusterRow>(concat!(
        cluster_select!(),
        "WHERE c.tenant_id = $1 AND c.deleted_at IS NULL AND ($2::text IS NULL OR c.health = $2) \
         AND ($3::text IS NULL OR c.name > $3) ORDER BY c.name LIMIT $4"
    ))
    .bind(tenant_id)
    .bind(filter.health.as_deref())
    .bind(filter.after_name.as_deref())
    .bind(if filter.limit > 0 { filter.limit } else { 1000 })
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(Cluster::from).collect())
}

/// Write a new desired spec (generation + 1) with its derived totals; returns the new generation.
#[tracing::instrument(skip(conn, spec))]
pub async fn update_spec(
    conn: &mut PgConnection,
    id: Uuid,
    spec: &ClusterSpec,
    restart_trigger: Option<&str>,
) -> AppResult<i64> {
    let r = spec.resources();
    let generation = sqlx::query_scalar!(
        r#"UPDATE clusters SET spec = $2, nodes = $3, cpu_millis = $4, memory_mib = $5, storage_gib = $6,
                  restart_trigger = $7, generation = generation + 1, updated_at = now()
           WHERE id = $1 RETURNING generation"#,
        id,
        Json(spec) as _,
        r.nodes,
        r.cpu_millis,
        r.memory_mib,
        r.storage_gib,
        restart_trigger
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(generation)
}

/// Turn deletion protection on or off.
pub async fn set_deletion_protection(conn: &mut PgConnection, id: Uuid, on: bool) -> AppResult<()> {
    sqlx::query!(
        "UPDATE clusters SET deletion_protection = $2, updated_at = now() WHERE id = $1",
        id,
        on
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Mark a cluster as being deleted (generation + 1); returns the new generation.
pub async fn mark_deleting(conn: &mut PgConnection, id: Uuid) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        "UPDATE clusters SET deleting = true, generation = generation + 1, updated_at = now() \
         WHERE id = $1 RETURNING generation",
        id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The objects are gone: the cluster leaves the tenant's usage and its name can be reused.
pub async fn mark_deleted(conn: &mut PgConnection, id: Uuid) -> AppResult<()> {
    sqlx::query!(
        "UPDATE clusters SET deleted_at = now(), health = 'unknown', available_nodes = 0, updated_at = now() \
         WHERE id = $1 AND deleted_at IS NULL",
        id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM cluster_pods WHERE cluster_id = $1", id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Record the generation the reconciler applied.
pub async fn mark_applied(conn: &mut PgConnection, id: Uuid, generation: i64) -> AppResult<()> {
    sqlx::query!(
        "UPDATE clusters SET applied_generation = greatest(applied_generation, $2), applied_at = now() \
         WHERE id = $1",
        id,
        generation
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A pod as the observer last saw it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PodRow {
    /// Pod name.
    pub name: String,
    /// Node set (empty for Kibana).
    pub node_set: String,
    /// `elasticsearch` or `kibana`.
    pub component: String,
    /// Kubernetes phase.
    pub phase: String,
    /// Ready condition.
    pub ready: bool,
    /// Container restarts.
    pub restarts: i32,
    /// Kubernetes node.
    pub node_name: String,
    /// Why it is not ready (waiting reason, unschedulable message), empty when ready.
    pub reason: String,
    /// Start time.
    pub started_at: Option<DateTime<Utc>>,
    /// When this row was last written.
    pub observed_at: DateTime<Utc>,
}

/// The pods of a cluster, by component then name.
pub async fn pods(conn: &mut PgConnection, cluster_id: Uuid) -> AppResult<Vec<PodRow>> {
    Ok(sqlx::query_as::<_, PodRow>(
        "SELECT name, node_set, component, phase, ready, restarts, node_name, reason, started_at, observed_at \
         FROM cluster_pods WHERE cluster_id = $1 ORDER BY component DESC, name",
    )
    .bind(cluster_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// One point of a cluster's status history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryPoint {
    /// When.
    pub at: DateTime<Utc>,
    /// Health then.
    pub health: String,
    /// Ready nodes then.
    pub nodes_ready: i32,
    /// Desired nodes then.
    pub nodes_desired: i32,
}

/// The latest `limit` history points of a cluster, oldest first.
pub async fn history(
    conn: &mut PgConnection,
    cluster_id: Uuid,
    limit: i64,
) -> AppResult<Vec<HistoryPoint>> {
    let mut points = sqlx::query_as::<_, HistoryPoint>(
        "SELECT at, health, nodes_ready, nodes_desired FROM cluster_status_history \
         WHERE cluster_id = $1 ORDER BY at DESC LIMIT $2",
    )
    .bind(cluster_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    points.reverse();
    Ok(points)
}
