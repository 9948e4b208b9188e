//! The observer: turns what the watches see into OBSERVED status rows in Postgres (cluster health, phase,
//! nodes, version, conditions, in-progress operations; one row per pod; a bounded-rate status history for
//! charts), and completes operations: a change when the cluster's engine says it is done at the generation
//! the reconciler applied ([`Engine::is_done`]); a delete when the engine's primary object is gone. What an
//! engine's objects mean comes from the engine ([`engine::observe`]); pods and Services are Kubernetes'.
//! Dashboards read only these rows, so they work while Kubernetes is unreachable.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgConnection;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::clusters::repo as clusters;
use crate::controller::{pod_reason, repo};
use crate::error::AppResult;
use crate::k8s::engine::{self, Engine, Observation, ObservedStatus};
use crate::k8s::labels;
use crate::k8s::watch::Observed;
use crate::operations::model::OperationKind;
use crate::operations::repo as ops;
use crate::state::AppState;

/// Minimum time between two history rows of a cluster whose status did not change.
pub const HISTORY_HEARTBEAT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
struct Seen {
    health: String,
    phase: String,
    available: i32,
    desired: i32,
    at: Instant,
    /// resourceVersion of the object this was recorded from (older events of the same object are skipped).
    rv: u64,
    /// uid of that object: a recreated object (after an API server came back empty, its resourceVersions
    /// start over) is newer whatever its resourceVersion.
    uid: String,
}

/// Start the observer: it consumes watch events and periodically re-checks waiting operations and stalls.
pub fn spawn(
    state: AppState,
    mut events: mpsc::UnboundedReceiver<Observed>,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        let mut seen: HashMap<Uuid, Seen> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_millis(1000));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                event = events.recv() => {
                    let Some(event) = event else { break };
                    if let Err(e) = handle(&state, &mut seen, event).await {
                        tracing::warn!(error = %e, "observer could not record an event");
                    }
                }
                _ = tick.tick() => {
                    if let Err(e) = periodic(&state, &mut seen).await {
                        tracing::warn!(error = %e, "observer periodic check failed");
                    }
                }
            }
        }
    });
}

fn cluster_id_of(obj: &Value) -> Option<Uuid> {
    obj["metadata"]["labels"][labels::CLUSTER_ID]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
}

async fn handle(
    state: &AppState,
    seen: &mut HashMap<Uuid, Seen>,
    event: Observed,
) -> AppResult<()> {
    match event {
        Observed::Applied(key, obj) => {
            let Some(cluster_id) = cluster_id_of(&obj) else {
                return Ok(());
            };
            let mut conn = state.db.acquire().await?;
            if let Some((engine, observation)) = engine::observe(&key.kind, &obj) {
                match observation {
                    Observation::Cluster(status) => {
                        record_status(&mut conn, seen, cluster_id, engine, &obj, status).await?
                    }
                    Observation::Kibana { health } => {
                        clusters::set_kibana_health(&mut conn, cluster_id, &health).await?;
                    }
                }
                return Ok(());
            }
            match key.kind.as_str() {
                "Pod" => record_pod(&mut conn, cluster_id, &obj).await?,
                "Service" => {
                    super::load_balancers::record(&mut conn, cluster_id, &obj, false).await?
                }
                _ => {}
            }
        }
        Observed::Deleted(key, obj) => {
            let Some(cluster_id) = cluster_id_of(&obj) else {
                return Ok(());
            };
            let mut conn = state.db.acquire().await?;
            if engine::is_primary_kind(&key.kind) {
                seen.remove(&cluster_id);
                return complete_delete(&mut conn, cluster_id).await;
            }
            match key.kind.as_str() {
                "Pod" => {
                    repo::forget_pod(&mut conn, cluster_id, &key.name).await?;
                }
                "Service" => {
                    super::load_balancers::record(&mut conn, cluster_id, &obj, true).await?
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Record the status of a cluster's primary object, and complete a waiting change it finishes.
async fn record_status(
    conn: &mut PgConnection,
    seen: &mut HashMap<Uuid, Seen>,
    cluster_id: Uuid,
    engine: &dyn Engine,
    obj: &Value,
    status: ObservedStatus,
) -> AppResult<()> {
    // Events can lag the watch cache the periodic check reads: never let an older object overwrite a newer one.
    let rv = obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    let uid = obj["metadata"]["uid"].as_str().unwrap_or("").to_owned();
    if let Some(prev) = seen.get(&cluster_id)
        && prev.uid == uid
        && rv != u64::MAX
        && prev.rv != u64::MAX
        && rv <= prev.rv
    {
        // The same object again (the periodic re-check): its status is recorded already, but an operation
        // applied since may be complete by it, as when the apply changed nothing (a rollback of a change that
        // never reached Kubernetes) and so produced no new event.
        if rv == prev.rv {
            return try_complete(conn, cluster_id, engine, &status).await;
        }
        return Ok(());
    }
    if !clusters::record_status(conn, cluster_id, &status).await? {
        return Ok(());
    }
    let now = Seen {
        health: status.health.clone(),
        phase: status.phase.clone(),
        available: status.available_nodes,
        desired: status.desired_nodes,
        at: Instant::now(),
        rv,
        uid: uid.clone(),
    };
    let changed = match seen.get(&cluster_id) {
        None => true,
        Some(prev) => {
            prev.health != now.health
                || prev.phase != now.phase
                || prev.available != now.available
                || prev.desired != now.desired
                || prev.at.elapsed() >= HISTORY_HEARTBEAT
        }
    };
    if changed {
        repo::record_history(conn, cluster_id, &status).await?;
        ops::note_progress(conn, cluster_id).await?;
        seen.insert(cluster_id, now);
    } else if let Some(prev) = seen.get_mut(&cluster_id) {
        prev.rv = rv;
        prev.uid = uid;
    }
    try_complete(conn, cluster_id, engine, &status).await
}

/// Complete the cluster's waiting change operation when its engine says the applied generation is done.
async fn try_complete(
    conn: &mut PgConnection,
    cluster_id: Uuid,
    engine: &dyn Engine,
    status: &ObservedStatus,
) -> AppResult<()> {
    let Some(op) = ops::active_for_cluster(conn, cluster_id).await? else {
        return Ok(());
    };
    if op.state != crate::operations::model::OperationState::Waiting
        || op.kind == OperationKind::Delete
    {
        return Ok(());
    }
    let target = op.k8s_generation.or(status.generation).unwrap_or(i64::MAX);
    if engine.is_done(target, status) {
        ops::mark_succeeded(
            conn,
            op.id,
            &format!("cluster {} at generation {target}", status.phase),
        )
        .await?;
        tracing::info!(operation = %op.id, kind = %op.kind, "operation succeeded");
    }
    Ok(())
}

/// The primary object of a deleting cluster is gone: finish the delete operation.
async fn complete_delete(conn: &mut PgConnection, cluster_id: Uuid) -> AppResult<()> {
    let Some(op) = ops::active_for_cluster(conn, cluster_id).await? else {
        return Ok(());
    };
    if op.kind != OperationKind::Delete
        || op.state != crate::operations::model::OperationState::Waiting
    {
        return Ok(());
    }
    clusters::mark_deleted(conn, cluster_id).await?;
    ops::mark_succeeded(conn, op.id, "cluster resources deleted").await?;
    tracing::info!(operation = %op.id, "cluster deleted");
    Ok(())
}

async fn record_pod(conn: &mut PgConnection, cluster_id: Uuid, obj: &Value) -> AppResult<()> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let node_set = obj["metadata"]["labels"][labels::NODE_SET]
        .as_str()
        .unwrap_or("");
    let component = obj["metadata"]["labels"][labels::NAME]
        .as_str()
        .unwrap_or("elasticsearch");
    let phase = obj["status"]["phase"].as_str().unwrap_or("Pending");
    let ready = obj["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    });
    let restarts: i64 = obj["status"]["containerStatuses"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["restartCount"].as_i64()).sum())
        .unwrap_or(0);
    let node = obj["spec"]["nodeName"].as_str().unwrap_or("");
    let started = obj["status"]["startTime"]
        .as_str()
        .or(obj["metadata"]["creationTimestamp"].as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&chrono::Utc));
    let reason = if ready {
        String::new()
    } else {
        pod_reason::explain(obj)
    };
    let pod = repo::PodRecord {
        name,
        node_set,
        component,
        phase,
        ready,
        restarts: restarts as i32,
        node,
        reason: &reason,
        started,
    };
    repo::record_pod(conn, cluster_id, &pod).await
}

/// Keep `kube_contact` current: the last time the watches worked, or since when they fail.
async fn record_contact(state: &AppState, conn: &mut PgConnection) -> AppResult<()> {
    match state.cache.failing_since() {
        None if state.cache.is_synced() => {
            repo::contact_ok(conn).await?;
        }
        None => {}
        Some(since) => {
            repo::contact_lost(conn, since).await?;
        }
    }
    Ok(())
}

/// When Kubernetes was last reachable, as the dashboards should tell it: `None` while the observer has
/// contact (within `STALE_AFTER`), otherwise since when the status has been stale.
pub async fn stale_since(
    conn: &mut PgConnection,
) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    let contact = repo::contact(conn).await?;
    Ok(contact.and_then(|(last_ok_at, unreachable_since)| {
        let quiet = chrono::Utc::now() - last_ok_at
            > chrono::Duration::seconds(STALE_AFTER.as_secs() as i64);
        match unreachable_since {
            Some(since) => Some(since.min(last_ok_at)),
            None if quiet => Some(last_ok_at),
            None => None,
        }
    }))
}

/// No word from Kubernetes for this long makes the status stale.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Re-check waiting operations against the watch cache (an event may have arrived before the operation was
/// marked applied), finish deletes whose resources are gone, and mark stalls.
async fn periodic(state: &AppState, seen: &mut HashMap<Uuid, Seen>) -> AppResult<()> {
    let mut conn = state.db.acquire().await?;
    let waiting = repo::waiting(&mut conn).await?;
    for w in waiting {
        let Some(engine) = engine::by_name(&w.engine) else {
            continue;
        };
        let key = engine.primary(&w.slug, &w.name);
        let cached: Option<Arc<Value>> = state.cache.get(&key).await;
        if w.kind == "delete" {
            if cached.is_none() && state.cache.is_synced() {
                complete_delete(&mut conn, w.cluster_id).await?;
            }
        } else if let Some(obj) = cached
            && let Some(Observation::Cluster(status)) = engine.observe(&key.kind, &obj)
        {
            // Record the cached status first, so a completed operation never shows an older status.
            record_status(&mut conn, seen, w.cluster_id, engine, &obj, status).await?;
        }
    }
    record_contact(state, &mut conn).await?;
    let stalled = ops::mark_stalled(&mut conn, state.config.stall_timeout).await?;
    if stalled > 0 {
        tracing::warn!(stalled, "operations marked stalled");
    }
    Ok(())
}
