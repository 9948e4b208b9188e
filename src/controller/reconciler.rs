//! The reconciler: background workers that take runnable operations from Postgres
//! (`FOR UPDATE SKIP LOCKED`, so several portal replicas can share the work), ask the cluster's engine
//! (`clusters.engine`, [`crate::k8s::engine`]) for its plan, run it with server-side apply (field manager
//! `esaas`) and deletes, and move the operation to `waiting`.
//! Kubernetes errors never lose a request: the operation stays `applying`, shows
//! "waiting for Kubernetes: <reason>" and is retried with exponential backoff. Everything it does is
//! idempotent (server-side apply, delete-if-present), so a crash at any point is repaired by the next run.

use std::time::Duration;

use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

use crate::clusters::repo as clusters;
use crate::error::{AppError, AppResult};
use crate::k8s::apply::{DesiredObject, ObjectKey, describe_error};
use crate::k8s::engine::{self, ClusterRef, Plan, Step};
use crate::k8s::expose::Exposure;
use crate::k8s::portal_user::PortalUserKey;
use crate::k8s::target::KubeTarget;
use crate::operations::model::OperationKind;
use crate::operations::repo::{self as ops, Operation};
use crate::state::AppState;
use crate::tenants::quota;

/// Backoff before retry number `attempt` (1-based): 0.5 s, 1 s, 2 s, ... capped at 60 s.
pub fn backoff(attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 8) as u32 - 1;
    Duration::from_millis(500 * 2u64.pow(exp)).min(Duration::from_secs(60))
}

/// Start `workers` reconciler loops; they stop with `shutdown`.
pub fn spawn(state: AppState, workers: usize, shutdown: CancellationToken) {
    for worker in 0..workers {
        let state = state.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                // Drain everything runnable, then sleep until woken or the next retry may be due.
                loop {
                    match run_once(&state).await {
                        Ok(true) => continue,
                        Ok(false) => break,
                        Err(e) => {
                            tracing::warn!(worker, error = %e, "reconciler pass failed");
                            break;
                        }
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = state.reconciler_wake.notified() => {},
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {},
                }
            }
        });
    }
}

/// Claim and apply one operation. Returns false when nothing was runnable.
pub async fn run_once(state: &AppState) -> AppResult<bool> {
    let mut tx = state.db.begin().await?;
    let Some(op) = ops::claim_next(&mut tx).await? else {
        return Ok(false);
    };
    match apply_operation(
        &mut tx,
        &state.kube,
        &state.config.es_user_key,
        &state.config.exposure,
        &op,
    )
    .await
    {
        Ok(outcome) => {
            ops::mark_applied(&mut tx, op.id, outcome.k8s_generation, &outcome.message).await?;
            clusters::mark_applied(&mut tx, op.cluster_id, op.target_generation).await?;
            tx.commit().await?;
            let since_request = (chrono::Utc::now() - op.created_at)
                .num_microseconds()
                .unwrap_or(0);
            state
                .metrics
                .observe_operation_applied(op.kind.as_str(), since_request as f64 / 1e6);
            tracing::info!(operation = %op.id, kind = %op.kind, "operation applied");
        }
        Err(ApplyError::Kubernetes(reason)) => {
            let retry_in = backoff(op.attempts + 1);
            ops::mark_retry(&mut tx, op.id, &reason, retry_in).await?;
            tx.commit().await?;
            tracing::warn!(operation = %op.id, %reason, ?retry_in, "Kubernetes refused; will retry");
        }
        Err(ApplyError::Permanent(reason)) => {
            ops::mark_failed(&mut tx, op.id, &reason).await?;
            tx.commit().await?;
            tracing::error!(operation = %op.id, %reason, "operation failed");
        }
        Err(ApplyError::Database(e)) => return Err(e),
    }
    Ok(true)
}

struct Applied {
    k8s_generation: Option<i64>,
    message: String,
}

enum ApplyError {
    /// Transient: retry later.
    Kubernetes(String),
    /// The API server refused the object itself (400/422): retrying cannot help.
    Permanent(String),
    /// Our own database failed: the transaction rolls back and the operation is retried as it was.
    Database(AppError),
}

impl From<AppError> for ApplyError {
    fn from(e: AppError) -> Self {
        ApplyError::Database(e)
    }
}

fn classify(e: &kube::Error) -> ApplyError {
    match e {
        kube::Error::Api(s) if s.code == 400 || s.code == 422 => {
            ApplyError::Permanent(describe_error(e))
        }
        _ => ApplyError::Kubernetes(describe_error(e)),
    }
}

async fn apply_all(client: &kube::Client, objects: &[DesiredObject]) -> Result<(), ApplyError> {
    for object in objects {
        object.apply(client).await.map_err(|e| classify(&e))?;
    }
    Ok(())
}

/// Run a plan's steps in order; the generation Kubernetes gave the `primary` object when it was applied.
async fn run_plan(
    client: &kube::Client,
    plan: &Plan,
    primary: &ObjectKey,
) -> Result<Option<i64>, ApplyError> {
    let mut generation = None;
    for step in &plan.steps {
        match step {
            Step::Apply(object) => {
                let applied = object.apply(client).await.map_err(|e| classify(&e))?;
                if object.key() == *primary {
                    generation = applied.metadata.generation;
                }
            }
            Step::Delete(object) => object.delete(client).await.map_err(|e| classify(&e))?,
        }
    }
    Ok(generation)
}

async fn apply_operation(
    conn: &mut PgConnection,
    kube: &KubeTarget,
    key: &PortalUserKey,
    exposure: &Exposure,
    op: &Operation,
) -> Result<Applied, ApplyError> {
    let cluster = clusters::get(conn, op.cluster_id).await?;
    let tenant = sqlx::query!("SELECT slug FROM tenants WHERE id = $1", cluster.tenant_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(AppError::from)?;
    let engine =
        engine::of_cluster(&cluster.engine).map_err(|e| ApplyError::Permanent(e.to_string()))?;
    let client = &kube.client;
    let primary = engine.primary(&tenant.slug, &cluster.name);
    if op.kind == OperationKind::Delete {
        let plan = engine
            .plan_delete(&tenant.slug, &cluster.name)
            .map_err(|e| ApplyError::Permanent(e.to_string()))?;
        run_plan(client, &plan, &primary).await?;
        return Ok(Applied {
            k8s_generation: None,
            message: format!("{}; waiting for their pods to go", plan.summary),
        });
    }
    let limits = quota::limits(conn, cluster.tenant_id).await?;
    let tenant_objects = engine::tenant_objects(&tenant.slug, &limits)
        .map_err(|e| ApplyError::Permanent(e.to_string()))?;
    apply_all(client, &tenant_objects).await?;
    let plan = engine
        .plan(
            &ClusterRef {
                id: cluster.id,
                tenant_slug: tenant.slug.clone(),
                name: cluster.name.clone(),
                restart_trigger: cluster.restart_trigger.clone(),
                portal_user_password: key.password(cluster.id),
                exposure: exposure.clone(),
            },
            &cluster.spec,
        )
        .map_err(|e| ApplyError::Permanent(e.to_string()))?;
    let generation = run_plan(client, &plan, &primary).await?;
    Ok(Applied {
        k8s_generation: generation,
        message: format!(
            "{} (generation {}); waiting for {}",
            plan.summary,
            generation
                .map(|g| g.to_string())
                .unwrap_or_else(|| "?".into()),
            engine.label()
        ),
    })
}
