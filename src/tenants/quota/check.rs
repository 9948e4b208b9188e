//! The database side of quotas: read limits and usage, the read-only [`preview`], and
//! [`check_and_reserve`], the locking check every writer of a cluster spec calls inside its transaction.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{QuotaCheck, QuotaError, QuotaPreview, Resources, evaluate};
use crate::error::{AppError, AppResult};

/// Check that a cluster's new totals fit the tenant's quota and hold the tenant row lock so they stay
/// fitting until the caller commits.
///
/// * `tx` must be inside a transaction (a `&mut *tx` of `pool.begin()`): the `SELECT ... FOR UPDATE` on the
///   tenant row is held until that transaction ends.
/// * `cluster_totals`: the resources of ONE cluster as it will be after the request, `clusters == 1`,
///   every amount `>= 0` ([`Resources::for_cluster`]). Never a difference: anything else is refused with
///   [`QuotaError::InvalidRequest`].
/// * `exclude_cluster`: `None` for a new cluster; `Some(id)` when changing an existing live cluster of this
///   tenant. Its current row is left out of the usage that the new totals are added to, so the effective
///   delta (reported in [`QuotaCheck::delta`]) is `cluster_totals - current row`. An id that is not a live
///   cluster of this tenant gives [`QuotaError::ClusterNotFound`].
///
/// Every dimension the request grows (`delta > 0`) must stay within its limit; dimensions that shrink or stay
/// are not checked, so a tenant above a lowered limit can still scale down. On success nothing is written:
/// **"reserve" means the caller writes its new desired spec (insert or update of the clusters row with its
/// derived totals) in the same transaction, before commit, while this lock is held.** Concurrent callers for
/// the same tenant wait on the lock and then see that committed row in their usage.
#[tracing::instrument(skip(tx))]
pub async fn check_and_reserve(
    tx: &mut PgConnection,
    tenant_id: Uuid,
    cluster_totals: Resources,
    exclude_cluster: Option<Uuid>,
) -> Result<QuotaCheck, QuotaError> {
    validate_totals(cluster_totals)?;
    let limits = lock_limits(tx, tenant_id).await?;
    let preview = compute(tx, tenant_id, limits, cluster_totals, exclude_cluster).await?;
    let violations = preview.violations();
    if !violations.is_empty() {
        return Err(QuotaError::Exceeded(violations));
    }
    Ok(QuotaCheck {
        limits: preview.limits,
        usage: preview.usage,
        delta: preview.delta,
        after: preview.after,
    })
}

/// What `cluster_totals` would do to the tenant's quota, without locking (for the request form and the API's
/// dry run). Same input convention as [`check_and_reserve`]; the answer can be stale by the time the request
/// is submitted, which is why the submit path checks again under the lock.
#[tracing::instrument(skip(conn))]
pub async fn preview(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    cluster_totals: Resources,
    exclude_cluster: Option<Uuid>,
) -> Result<QuotaPreview, QuotaError> {
    validate_totals(cluster_totals)?;
    let limits = read_limits(conn, tenant_id).await?;
    compute(conn, tenant_id, limits, cluster_totals, exclude_cluster).await
}

/// Current usage of a tenant: the sums over its live clusters' derived totals.
#[tracing::instrument(skip(conn))]
pub async fn usage(conn: &mut PgConnection, tenant_id: Uuid) -> AppResult<Resources> {
    Ok(sum_usage(conn, tenant_id).await?)
}

/// A tenant's limits (404 when there is no such tenant).
#[tracing::instrument(skip(conn))]
pub async fn limits(conn: &mut PgConnection, tenant_id: Uuid) -> AppResult<Resources> {
    read_limits(conn, tenant_id).await.map_err(AppError::from)
}

fn validate_totals(t: Resources) -> Result<(), QuotaError> {
    if t.clusters != 1 {
        return Err(QuotaError::InvalidRequest(format!(
            "cluster_totals.clusters must be 1 (the totals of one cluster), got {}",
            t.clusters
        )));
    }
    if [t.nodes, t.cpu_millis, t.memory_mib, t.storage_gib]
        .iter()
        .any(|v| *v < 0)
    {
        return Err(QuotaError::InvalidRequest(format!(
            "cluster_totals must be a cluster's new totals, not a difference: {t:?}"
        )));
    }
    Ok(())
}

async fn lock_limits(conn: &mut PgConnection, tenant_id: Uuid) -> Result<Resources, QuotaError> {
    sqlx::query_as!(
        Resources,
        r#"SELECT max_clusters AS clusters, max_nodes AS nodes, max_cpu_millis AS cpu_millis,
                  max_memory_mib AS memory_mib, max_storage_gib AS storage_gib
           FROM tenants WHERE id = $1 FOR UPDATE"#,
        tenant_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(QuotaError::TenantNotFound)
}

async fn read_limits(conn: &mut PgConnection, tenant_id: Uuid) -> Result<Resources, QuotaError> {
    sqlx::query_as!(
        Resources,
        r#"SELECT max_clusters AS clusters, max_nodes AS nodes, max_cpu_millis AS cpu_millis,
                  max_memory_mib AS memory_mib, max_storage_gib AS storage_gib
           FROM tenants WHERE id = $1"#,
        tenant_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(QuotaError::TenantNotFound)
}

async fn sum_usage(conn: &mut PgConnection, tenant_id: Uuid) -> Result<Resources, sqlx::Error> {
    sqlx::query_as!(
        Resources,
        r#"SELECT count(*) AS "clusters!",
                  coalesce(sum(nodes), 0)::bigint AS "nodes!",
                  coalesce(sum(cpu_millis), 0)::bigint AS "cpu_millis!",
                  coalesce(sum(memory_mib), 0)::bigint AS "memory_mib!",
                  coalesce(sum(storage_gib), 0)::bigint AS "storage_gib!"
           FROM clusters WHERE tenant_id = $1 AND deleted_at IS NULL"#,
        tenant_id
    )
    .fetch_one(&mut *conn)
    .await
}

/// Usage, the excluded cluster's current row and the evaluation.
async fn compute(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    limits: Resources,
    cluster_totals: Resources,
    exclude_cluster: Option<Uuid>,
) -> Result<QuotaPreview, QuotaError> {
    let usage = sum_usage(conn, tenant_id).await?;
    let current = match exclude_cluster {
        None => Resources::default(),
        Some(id) => sqlx::query_as!(
            Resources,
            r#"SELECT 1::bigint AS "clusters!", nodes, cpu_millis, memory_mib, storage_gib
               FROM clusters WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL"#,
            id,
            tenant_id
        )
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(QuotaError::ClusterNotFound(id))?,
    };
    Ok(evaluate(limits, usage, cluster_totals - current))
}
