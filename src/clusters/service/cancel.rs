//! Cancelling an unfinished operation (pending, applying, waiting, stalled): the operation ends `cancelled`
//! ("rolled back by <user>") and its change is undone as a change like any other, in the same transaction:
//!
//! * a scale, resize, restart, upgrade or reconfigure restores the spec (and restart trigger) from before the
//!   operation as a new generation, through the quota check under the tenant lock (refused with a 409 when the
//!   old spec no longer fits: other clusters may have taken the room it freed). When a reconciler had already
//!   worked on it, a rollback operation of the same kind applies the restored spec;
//! * a create that was never picked up is simply dropped; one that was (something may exist in Kubernetes)
//!   is rolled back by a delete operation: the cluster goes away as if deleted;
//! * a delete that was never applied is dropped (a partly applied one re-applies the spec, restoring Kibana);
//!   once its Elasticsearch resource was deleted in Kubernetes it can no longer be cancelled.
//!
//! A rollback operation's parameters name the operation it undoes (`rollback_of`, `rolled_back`,
//! `rolled_back_by`), so the timeline can say what it is.

use serde_json::json;
use uuid::Uuid;

use super::{Caller, audit_cluster};
use crate::clusters::repo;
use crate::error::{AppError, AppResult};
use crate::operations::model::{OperationKind, OperationState};
use crate::operations::repo::{self as ops, NewOperation, Operation};
use crate::spec::ClusterSpec;
use crate::state::AppState;
use crate::tenants::quota::{self, QuotaError, QuotaViolation};

/// Cancel an unfinished operation of the caller's tenant and roll its change back (see the module doc).
/// Returns the cancelled operation.
#[tracing::instrument(skip(state, caller))]
pub async fn cancel(state: &AppState, caller: &Caller, operation_id: Uuid) -> AppResult<Operation> {
    caller.require_change()?;
    let mut tx = state.db.begin().await?;
    // The operation's lock first (waiting while a reconciler applies it), then the cluster's: the reconciler's
    // order, so the two cannot deadlock.
    let op = ops::lock(&mut tx, caller.tenant_id, operation_id).await?;
    if !op.state.is_active() {
        return Err(AppError::Conflict(format!(
            "This {} operation has already finished ({}); there is nothing to cancel.",
            op.kind, op.state
        )));
    }
    let cluster = repo::lock(&mut tx, op.cluster_id).await?;
    let by = caller.actor.label.clone();
    // A reconciler has worked on it: some of the change may have reached Kubernetes and must be undone there.
    let touched = op.state != OperationState::Pending;
    let current = serde_json::to_value(&cluster.spec).map_err(anyhow::Error::from)?;
    let rollback = |kind: OperationKind, spec_after: Option<serde_json::Value>, generation: i64| {
        NewOperation {
            cluster_id: cluster.id,
            tenant_id: caller.tenant_id,
            kind,
            params: json!({ "rollback_of": op.id, "rolled_back": op.kind, "rolled_back_by": by }),
            spec_before: Some(current.clone()),
            spec_after,
            target_generation: generation,
            requested_by: caller.actor.user_id,
        }
    };
    let (undo, restored) = match op.kind {
        OperationKind::Create if touched => {
            let generation = repo::mark_deleting(&mut tx, cluster.id).await?;
            (
                Some(rollback(OperationKind::Delete, None, generation)),
                None,
            )
        }
        OperationKind::Create => {
            repo::mark_deleted(&mut tx, cluster.id).await?;
            (None, None)
        }
        OperationKind::Delete => {
            if op.state == OperationState::Waiting {
                return Err(AppError::Conflict(format!(
                    "The Elasticsearch resource of {} has already been deleted in Kubernetes, so this delete \
                     can no longer be cancelled; it finishes once its pods are gone.",
                    cluster.name
                )));
            }
            sqlx::query!(
                "UPDATE clusters SET deleting = false WHERE id = $1",
                cluster.id
            )
            .execute(&mut *tx)
            .await?;
            if touched {
                // A failed attempt may have removed Kibana before Kubernetes refused the rest: apply it all again.
                let generation = repo::update_spec(
                    &mut tx,
                    cluster.id,
                    &cluster.spec,
                    cluster.restart_trigger.as_deref(),
                )
                .await?;
                let after = Some(current.clone());
                (
                    Some(rollback(OperationKind::Reconfigure, after, generation)),
                    None,
                )
            } else {
                (None, None)
            }
        }
        kind => {
            // Without a recorded spec (nothing to restore) the spec stays as it is.
            let before = op.spec_before.clone().unwrap_or_else(|| current.clone());
            let spec: ClusterSpec =
                serde_json::from_value(before.clone()).map_err(anyhow::Error::from)?;
            let trigger = if kind == OperationKind::Restart {
                op.params["previous_trigger"].as_str().map(str::to_owned)
            } else {
                cluster.restart_trigger.clone()
            };
            quota::check_and_reserve(
                &mut tx,
                caller.tenant_id,
                spec.resources(),
                Some(cluster.id),
            )
            .await
            .map_err(|e| restore_refused(kind, e))?;
            let generation =
                repo::update_spec(&mut tx, cluster.id, &spec, trigger.as_deref()).await?;
            let undo = touched.then(|| rollback(kind, Some(before.clone()), generation));
            (undo, Some(before))
        }
    };
    ops::end(
        &mut tx,
        op.id,
        OperationState::Cancelled,
        &format!("rolled back by {by}"),
    )
    .await?;
    let undo = match undo {
        Some(new) => {
            let new = ops::insert(&mut tx, new).await?;
            let what = match new.kind {
                OperationKind::Delete => "removes what the create applied".to_owned(),
                _ => format!("applies the spec from before the {}", op.kind),
            };
            ops::add_step(&mut tx, new.id, &format!("rolled back by {by}: {what}")).await?;
            Some(new.id)
        }
        None => None,
    };
    audit_cluster(
        &mut tx,
        caller,
        "operation.cancel",
        &cluster.name,
        Some(json!({ "operation": op.id, "kind": op.kind, "state": op.state, "spec": current })),
        Some(json!({ "rollback_operation": undo, "spec": restored })),
    )
    .await?;
    let op = ops::get(&mut tx, caller.tenant_id, op.id).await?;
    tx.commit().await?;
    state.reconciler_wake.notify_waiters();
    Ok(op)
}

/// The spec from before the operation no longer fits the quota: a 409 that says why and what to do.
fn restore_refused(kind: OperationKind, e: QuotaError) -> AppError {
    match e {
        QuotaError::Exceeded(violations) => AppError::Conflict(format!(
            "Cancelling this {kind} would restore the spec from before it, which no longer fits the tenant's \
             quota: {} Free room (scale down or delete another cluster) or ask for a higher quota, then cancel \
             again.",
            violations
                .iter()
                .map(QuotaViolation::message)
                .collect::<Vec<_>>()
                .join(" ")
        )),
        other => other.into(),
    }
}
