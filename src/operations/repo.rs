//! The operations repository: insert, read, and the state transitions (each one a single UPDATE guarded by
//! the state it leaves, so two reconcilers can never move the same operation twice).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{AppError, AppResult, ResultExt};
use crate::operations::model::{OperationKind, OperationState, Step};

/// An operation row.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Id.
    pub id: Uuid,
    /// The cluster it changes.
    pub cluster_id: Uuid,
    /// The cluster's tenant.
    pub tenant_id: Uuid,
    /// What it does.
    pub kind: OperationKind,
    /// Where it is.
    pub state: OperationState,
    /// Request parameters (kind-specific JSON).
    pub params: Value,
    /// Desired spec before the request.
    pub spec_before: Option<Value>,
    /// Desired spec after the request.
    pub spec_after: Option<Value>,
    /// The cluster generation this operation produces.
    pub target_generation: i64,
    /// Elasticsearch `metadata.generation` after the apply.
    pub k8s_generation: Option<i64>,
    /// Progress log.
    pub steps: Vec<Step>,
    /// The last error (a Kubernetes error while retrying, or why it failed).
    pub last_error: Option<String>,
    /// Set when no progress was seen for the stall timeout.
    pub stalled_reason: Option<String>,
    /// Apply attempts so far.
    pub attempts: i32,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// When it was requested.
    pub created_at: DateTime<Utc>,
    /// When a reconciler first picked it up.
    pub started_at: Option<DateTime<Utc>>,
    /// When its objects were applied.
    pub applied_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Operation {
    /// Can a user still cancel it? Any unfinished operation, except a delete whose Elasticsearch resource was
    /// already deleted in Kubernetes (it is `waiting` for the pods to go).
    pub fn cancellable(&self) -> bool {
        self.state.is_active()
            && !(self.kind == OperationKind::Delete && self.state == OperationState::Waiting)
    }

    /// Seconds from request to finish (or to now while active).
    pub fn duration_secs(&self) -> i64 {
        let end = self.finished_at.unwrap_or_else(Utc::now);
        (end - self.created_at).num_seconds().max(0)
    }
}

/// The columns of [`Operation`] in `SELECT` order, shared by every read.
macro_rules! operation_columns {
    () => {
        r#"id, cluster_id, tenant_id, kind, state, params, spec_before, spec_after, target_generation,
           k8s_generation, steps, last_error, stalled_reason, attempts, requested_by, created_at, started_at,
           applied_at, finished_at"#
    };
}

#[derive(sqlx::FromRow)]
struct OperationRow {
    id: Uuid,
    cluster_id: Uuid,
    tenant_id: Uuid,
    kind: String,
    state: String,
    params: Value,
    spec_before: Option<Value>,
    spec_after: Option<Value>,
    target_generation: i64,
    k8s_generation: Option<i64>,
    steps: Value,
    last_error: Option<String>,
    stalled_reason: Option<String>,
    attempts: i32,
    requested_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    applied_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<OperationRow> for Operation {
    type Error = AppError;

    fn try_from(r: OperationRow) -> Result<Self, AppError> {
        let bad =
            |what: &str| AppError::Internal(anyhow::anyhow!("operation {}: bad {what}", r.id));
        Ok(Operation {
            id: r.id,
            cluster_id: r.cluster_id,
            tenant_id: r.tenant_id,
            kind: OperationKind::parse(&r.kind).ok_or_else(|| bad("kind"))?,
            state: OperationState::parse(&r.state).ok_or_else(|| bad("state"))?,
            params: r.params,
            spec_before: r.spec_before,
            spec_after: r.spec_after,
            target_generation: r.target_generation,
            k8s_generation: r.k8s_generation,
            steps: serde_json::from_value(r.steps).map_err(|_| bad("steps"))?,
            last_error: r.last_error,
            stalled_reason: r.stalled_reason,
            attempts: r.attempts,
            requested_by: r.requested_by,
            created_at: r.created_at,
            started_at: r.started_at,
            applied_at: r.applied_at,
            finished_at: r.finished_at,
        })
    }
}

/// What a request records.
#[derive(Debug, Clone)]
pub struct NewOperation {
    /// The cluster.
    pub cluster_id: Uuid,
    /// Its tenant.
    pub tenant_id: Uuid,
    /// What to do.
    pub kind: OperationKind,
    /// Kind-specific parameters.
    pub params: Value,
    /// Spec before (None for create).
    pub spec_before: Option<Value>,
    /// Spec after (None for delete).
    pub spec_after: Option<Value>,
    /// Generation the change produces.
    pub target_generation: i64,
    /// Who asked.
    pub requested_by: Option<Uuid>,
}

/// Insert a pending operation. A second active operation on the same cluster is a 409.
#[tracing::instrument(skip(conn, op), fields(kind = %op.kind))]
pub async fn insert(conn: &mut PgConnection, op: NewOperation) -> AppResult<Operation> {
    let first_step =
        serde_json::json!([{ "at": Utc::now(), "message": format!("{} requested", op.kind) }]);
    let row = sqlx::query_as::<_, OperationRow>(concat!(
        "INSERT INTO operations (cluster_id, tenant_id, kind, params, spec_before, spec_after, \
         target_generation, requested_by, steps) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
        operation_columns!()
    ))
    .bind(op.cluster_id)
    .bind(op.tenant_id)
    .bind(op.kind.as_str())
    .bind(op.params)
    .bind(op.spec_before)
    .bind(op.spec_after)
    .bind(op.target_generation)
    .bind(op.requested_by)
    .bind(first_step)
    .fetch_one(&mut *conn)
    .await
    .on_constraint("operations_one_active_key", || {
        AppError::Conflict(
            "Another operation is in progress on this cluster; wait for it to finish or cancel it.".into(),
        )
    })?;
    row.try_into()
}

/// One operation of a tenant (404 for other tenants' operations).
#[tracing::instrument(skip(conn))]
pub async fn get(conn: &mut PgConnection, tenant_id: Uuid, id: Uuid) -> AppResult<Operation> {
    let row = sqlx::query_as::<_, OperationRow>(concat!(
        "SELECT ",
        operation_columns!(),
        " FROM operations WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    row.try_into()
}

#[derive(sqlx::FromRow)]
struct TimelineRow {
    #[sqlx(flatten)]
    op: OperationRow,
    requested_by_email: Option<String>,
}

/// The latest operations of a cluster, newest first, each with the email of the user who requested it
/// (`None` for a deleted user), in one query: the dashboard's timeline reads this every few seconds.
#[tracing::instrument(skip(conn))]
pub async fn list_for_cluster(
    conn: &mut PgConnection,
    cluster_id: Uuid,
    limit: i64,
) -> AppResult<Vec<(Operation, Option<String>)>> {
    let rows = sqlx::query_as::<_, TimelineRow>(concat!(
        "SELECT ",
        operation_columns!(),
        ", (SELECT email FROM users WHERE users.id = operations.requested_by) AS requested_by_email \
         FROM operations WHERE cluster_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(cluster_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| Ok((Operation::try_from(r.op)?, r.requested_by_email)))
        .collect()
}

/// The active operation of a cluster, if any.
pub async fn active_for_cluster(
    conn: &mut PgConnection,
    cluster_id: Uuid,
) -> AppResult<Option<Operation>> {
    let row = sqlx::query_as::<_, OperationRow>(concat!(
        "SELECT ",
        operation_columns!(),
        " FROM operations WHERE cluster_id = $1 AND state IN ('pending', 'applying', 'waiting')"
    ))
    .bind(cluster_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Operation::try_from).transpose()
}

/// Claim the oldest runnable operation (pending, or applying and due for a retry), skipping rows another
/// reconciler holds. The row stays locked until the caller's transaction ends.
pub async fn claim_next(conn: &mut PgConnection) -> AppResult<Option<Operation>> {
    let row = sqlx::query_as::<_, OperationRow>(concat!(
        "SELECT ",
        operation_columns!(),
        " FROM operations WHERE state IN ('pending', 'applying') AND next_attempt_at <= now() \
          ORDER BY next_attempt_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED"
    ))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Operation::try_from).transpose()
}

/// Append a step to the log (and count it as progress).
pub async fn add_step(conn: &mut PgConnection, id: Uuid, message: &str) -> AppResult<()> {
    let step = serde_json::json!([{ "at": Utc::now(), "message": message }]);
    sqlx::query(
        "UPDATE operations SET steps = steps || $2::jsonb, last_progress_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(step)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The objects were applied: move to `waiting` until the observer sees the generation Ready.
pub async fn mark_applied(
    conn: &mut PgConnection,
    id: Uuid,
    k8s_generation: Option<i64>,
    message: &str,
) -> AppResult<()> {
    let step = serde_json::json!([{ "at": Utc::now(), "message": message }]);
    sqlx::query(
        "UPDATE operations SET state = 'waiting', k8s_generation = $2, applied_at = now(), \
         started_at = coalesce(started_at, now()), attempts = attempts + 1, last_error = NULL, \
         steps = steps || $3::jsonb, last_progress_at = now() \
         WHERE id = $1 AND state IN ('pending', 'applying')",
    )
    .bind(id)
    .bind(k8s_generation)
    .bind(step)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Kubernetes refused or was unreachable: stay `applying` and retry after `retry_in`.
pub async fn mark_retry(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
    retry_in: std::time::Duration,
) -> AppResult<()> {
    let millis = i64::try_from(retry_in.as_millis()).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE operations SET state = 'applying', started_at = coalesce(started_at, now()), \
         attempts = attempts + 1, last_error = $2, \
         next_attempt_at = now() + make_interval(secs => $3::double precision / 1000) \
         WHERE id = $1 AND state IN ('pending', 'applying')",
    )
    .bind(id)
    .bind(format!("waiting for Kubernetes: {error}"))
    .bind(millis as f64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Finish a waiting operation successfully. Returns false when it was not waiting (already finished).
pub async fn mark_succeeded(conn: &mut PgConnection, id: Uuid, message: &str) -> AppResult<bool> {
    let step = serde_json::json!([{ "at": Utc::now(), "message": message }]);
    let done = sqlx::query(
        "UPDATE operations SET state = 'succeeded', finished_at = now(), stalled_reason = NULL, \
         steps = steps || $2::jsonb, last_progress_at = now() WHERE id = $1 AND state = 'waiting'",
    )
    .bind(id)
    .bind(step)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Give up on an active operation.
pub async fn mark_failed(conn: &mut PgConnection, id: Uuid, error: &str) -> AppResult<()> {
    let step = serde_json::json!([{ "at": Utc::now(), "message": format!("failed: {error}") }]);
    sqlx::query(
        "UPDATE operations SET state = 'failed', finished_at = now(), last_error = $2, \
         steps = steps || $3::jsonb WHERE id = $1 AND state IN ('pending', 'applying', 'waiting')",
    )
    .bind(id)
    .bind(error)
    .bind(step)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Mark waiting operations that made no progress for `timeout` as stalled, and keep the reason of stalled ones
/// current; returns how many became stalled. The reason names the first pod that is not ready, preferring one
/// with a known problem (see [`crate::controller::pod_reason`]), e.g. "pod s1-es-default-0 cannot be
/// scheduled: 0/3 nodes are available: 3 Insufficient cpu".
pub async fn mark_stalled(conn: &mut PgConnection, timeout: std::time::Duration) -> AppResult<u64> {
    let secs = timeout.as_secs_f64();
    let newly: i64 = sqlx::query_scalar(
        r#"WITH due AS (
               SELECT o.id, o.stalled_reason AS before, coalesce(
                   (SELECT 'pod ' || p.name || ' ' || CASE WHEN p.reason <> '' THEN p.reason ELSE 'is not ready' END
                      FROM cluster_pods p WHERE p.cluster_id = o.cluster_id AND NOT p.ready
                      ORDER BY p.reason = '', p.name LIMIT 1),
                   'no progress from Kubernetes for ' || $1::double precision::bigint || ' s') AS reason
               FROM operations o
               WHERE o.state IN ('waiting', 'applying')
                 AND o.last_progress_at < now() - make_interval(secs => $1::double precision)
               FOR UPDATE OF o SKIP LOCKED),
           changed AS (
               UPDATE operations o SET stalled_reason = due.reason FROM due
               WHERE o.id = due.id AND due.before IS DISTINCT FROM due.reason
               RETURNING due.before)
           SELECT count(*) FILTER (WHERE before IS NULL) FROM changed"#,
    )
    .bind(secs)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(newly).unwrap_or(0))
}

/// Note progress on a cluster's waiting operation (clears a stall).
pub async fn note_progress(conn: &mut PgConnection, cluster_id: Uuid) -> AppResult<()> {
    sqlx::query(
        "UPDATE operations SET last_progress_at = now(), stalled_reason = NULL \
         WHERE cluster_id = $1 AND state = 'waiting'",
    )
    .bind(cluster_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Lock a tenant's operation for a state change by a user (cancel). Waits while a reconciler is applying it,
/// then sees the state that reconciler committed.
pub async fn lock(conn: &mut PgConnection, tenant_id: Uuid, id: Uuid) -> AppResult<Operation> {
    let row = sqlx::query_as::<_, OperationRow>(concat!(
        "SELECT ",
        operation_columns!(),
        " FROM operations WHERE id = $1 AND tenant_id = $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    row.try_into()
}

/// Lock the active operation of a cluster, if any, waiting while a reconciler is applying it. Requests that
/// end an operation take this lock before the cluster's row lock: the order the reconciler takes them in
/// (operation, then cluster), so the two can never deadlock.
pub async fn lock_active(
    conn: &mut PgConnection,
    cluster_id: Uuid,
) -> AppResult<Option<Operation>> {
    let row = sqlx::query_as::<_, OperationRow>(concat!(
        "SELECT ",
        operation_columns!(),
        " FROM operations WHERE cluster_id = $1 AND state IN ('pending', 'applying', 'waiting') FOR UPDATE"
    ))
    .bind(cluster_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Operation::try_from).transpose()
}

/// Lock an operation without waiting, for a caller that already holds the cluster's row lock: when someone
/// else holds the operation (a reconciler pass, a concurrent cancel or delete) the answer is a 409 to retry,
/// never a wait that could deadlock.
pub async fn lock_nowait(conn: &mut PgConnection, id: Uuid) -> AppResult<Operation> {
    let row = sqlx::query_as::<_, OperationRow>(concat!(
        "SELECT ",
        operation_columns!(),
        " FROM operations WHERE id = $1 FOR UPDATE NOWAIT"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03") => AppError::Conflict(
            "Another request is changing this cluster's operation right now; try again in a moment.".into(),
        ),
        _ => AppError::from(e),
    })?
    .ok_or(AppError::NotFound)?;
    row.try_into()
}

/// End an unfinished operation for a user's reason: `cancelled` (cancelled, or superseded by a delete) or
/// `superseded` (replaced by a newer change). `message` goes to the steps log. Returns false when the
/// operation had already finished.
pub async fn end(
    conn: &mut PgConnection,
    id: Uuid,
    state: OperationState,
    message: &str,
) -> AppResult<bool> {
    debug_assert!(matches!(
        state,
        OperationState::Cancelled | OperationState::Superseded
    ));
    let step = serde_json::json!([{ "at": Utc::now(), "message": message }]);
    let done = sqlx::query(
        "UPDATE operations SET state = $2, finished_at = now(), steps = steps || $3::jsonb \
         WHERE id = $1 AND state IN ('pending', 'applying', 'waiting')",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(step)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One operation of a tenant's history with its cluster's name: an entry of the API's operations pages.
#[derive(Debug, Clone)]
pub struct TenantOperation {
    /// Operation id.
    pub id: Uuid,
    /// The cluster's name.
    pub cluster: String,
    /// What it does.
    pub kind: OperationKind,
    /// Where it is.
    pub state: OperationState,
    /// Its parameters.
    pub params: Value,
    /// The cluster generation it brings.
    pub target_generation: i64,
    /// Its progress log.
    pub steps: Vec<Step>,
    /// The last error, while retrying or after failing.
    pub last_error: Option<String>,
    /// Why it is stalled, if it is.
    pub stalled_reason: Option<String>,
    /// Attempts so far.
    pub attempts: i32,
    /// Who asked for it.
    pub requested_by: Option<Uuid>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When the reconciler took it.
    pub started_at: Option<DateTime<Utc>>,
    /// When its change was applied.
    pub applied_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A page of the tenant's operations (of one cluster, by name, when given), newest first, older than
/// `before` (`created_at`, `id`) when given.
#[tracing::instrument(skip(conn))]
pub async fn page_for_tenant(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    cluster: Option<&str>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> AppResult<Vec<TenantOperation>> {
    let rows = sqlx::query!(
        r#"SELECT o.id, c.name AS cluster, o.kind, o.state, o.params, o.target_generation, o.steps,
                  o.last_error, o.stalled_reason, o.attempts, o.requested_by, o.created_at, o.started_at,
                  o.applied_at, o.finished_at
           FROM operations o JOIN clusters c ON c.id = o.cluster_id
           WHERE o.tenant_id = $1 AND ($2::text IS NULL OR c.name = $2)
             AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3, $4::uuid))
           ORDER BY o.created_at DESC, o.id DESC
           LIMIT $5"#,
        tenant_id,
        cluster,
        before.map(|b| b.0),
        before.map(|b| b.1),
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let bad =
                |what: &str| AppError::Internal(anyhow::anyhow!("operation {}: bad {what}", r.id));
            Ok(TenantOperation {
                id: r.id,
                cluster: r.cluster,
                kind: OperationKind::parse(&r.kind).ok_or_else(|| bad("kind"))?,
                state: OperationState::parse(&r.state).ok_or_else(|| bad("state"))?,
                params: r.params,
                target_generation: r.target_generation,
                steps: serde_json::from_value(r.steps).map_err(|_| bad("steps"))?,
                last_error: r.last_error,
                stalled_reason: r.stalled_reason,
                attempts: r.attempts,
                requested_by: r.requested_by,
                created_at: r.created_at,
                started_at: r.started_at,
                applied_at: r.applied_at,
                finished_at: r.finished_at,
            })
        })
        .collect()
}
