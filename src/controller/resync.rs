//! The resync: periodically compares every live cluster's desired objects (its engine's plan, from Postgres) with the
//! watched state (the watch cache) and applies only what differs, so drift is repaired: an object edited or
//! deleted by hand comes back. Clusters with a pending or applying operation are left to the reconciler.
//!
//! The cache is only as good as the watches: an API server that came back empty (a control plane restored
//! from nothing) does not tell them what it lost. So every periodic resync first relists what the portal
//! watches ([`crate::k8s::watch::ObjectCache::relist`], one list request per watched kind) and compares with
//! that; the clusters that existed before come back within one resync interval. When the relist does not
//! finish (Kubernetes unreachable) the round is skipped rather than acted on a cache that may be stale.
//! Beyond the relist, a resync of unchanged clusters sends no request.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::types::Json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::AppResult;
use crate::k8s::apply::{DesiredObject, describe_error, is_subset};
use crate::k8s::engine::{self, ClusterRef, Step};
use crate::k8s::watch;
use crate::spec::ClusterSpec;
use crate::state::AppState;
use crate::tenants::quota::Resources;

/// What one resync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResyncReport {
    /// Live clusters compared.
    pub clusters: usize,
    /// Tenants whose namespace objects were compared.
    pub tenants: usize,
    /// Objects applied because they were missing or differed.
    pub applied: usize,
    /// Objects deleted because they should not exist.
    pub deleted: usize,
    /// Kubernetes errors (the next resync tries again).
    pub errors: usize,
}

/// How long a resync waits for the watches to relist before it skips the round.
pub const RELIST_TIMEOUT: Duration = Duration::from_secs(30);

/// Run the resync every `interval` (the first once the watches have listed everything), each one after a
/// relist of the watches.
pub fn spawn(state: AppState, interval: Duration, shutdown: CancellationToken) {
    tokio::spawn(async move {
        // Wait for the watches' first lists: acting on an empty cache would re-apply everything.
        while !state.cache.is_synced() {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
        // The first round follows the watches' first lists: no need to list again.
        let mut listed_just_now = true;
        loop {
            let started = Instant::now();
            let relisted = listed_just_now
                || tokio::select! {
                    _ = shutdown.cancelled() => return,
                    relisted = state.cache.relist(RELIST_TIMEOUT) => relisted,
                };
            listed_just_now = false;
            let outcome = if relisted {
                Some(resync_all(&state).await)
            } else {
                tracing::warn!("resync skipped: the watches could not relist from Kubernetes");
                None
            };
            match outcome {
                None => {}
                Some(Ok(report)) => tracing::info!(
                    ?report,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "resync done"
                ),
                Some(Err(e)) => tracing::warn!(error = %e, "resync failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    });
}

async fn ensure(state: &AppState, object: &DesiredObject, report: &mut ResyncReport) {
    let up_to_date = match state.cache.get(&object.key()).await {
        Some(actual) => is_subset(&object.body, &actual),
        None => false,
    };
    if up_to_date {
        return;
    }
    match object.apply(&state.kube.client).await {
        Ok(_) => {
            report.applied += 1;
            tracing::info!(kind = %object.resource.kind, name = %object.name, "resync re-applied drifted object");
        }
        Err(e) => {
            report.errors += 1;
            tracing::warn!(kind = %object.resource.kind, name = %object.name, error = %describe_error(&e), "resync apply failed");
        }
    }
}

/// Compare and repair every live cluster once.
pub async fn resync_all(state: &AppState) -> AppResult<ResyncReport> {
    let mut report = ResyncReport::default();
    let rows = sqlx::query!(
        r#"SELECT c.id, c.name, c.engine, c.spec AS "spec: Json<ClusterSpec>", c.restart_trigger,
                  t.id AS tenant_id, t.slug, t.max_clusters, t.max_nodes, t.max_cpu_millis, t.max_memory_mib,
                  t.max_storage_gib
           FROM clusters c JOIN tenants t ON t.id = c.tenant_id
           WHERE c.deleted_at IS NULL AND NOT c.deleting AND c.applied_generation > 0
             AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.cluster_id = c.id
                               AND o.state IN ('pending', 'applying'))
           ORDER BY t.slug, c.name"#
    )
    .fetch_all(&state.db)
    .await?;
    let mut tenants: HashMap<Uuid, (String, Resources)> = HashMap::new();
    for row in &rows {
        tenants.entry(row.tenant_id).or_insert_with(|| {
            (
                row.slug.clone(),
                Resources {
                    clusters: row.max_clusters,
                    nodes: row.max_nodes,
                    cpu_millis: row.max_cpu_millis,
                    memory_mib: row.max_memory_mib,
                    storage_gib: row.max_storage_gib,
                },
            )
        });
    }
    for (slug, limits) in tenants.values() {
        report.tenants += 1;
        match engine::tenant_objects(slug, limits) {
            Ok(objects) => {
                for object in &objects {
                    ensure(state, object, &mut report).await;
                }
            }
            Err(e) => tracing::error!(tenant = %slug, error = %e, "cannot render tenant objects"),
        }
    }
    for row in rows {
        report.clusters += 1;
        let cluster = ClusterRef {
            id: row.id,
            tenant_slug: row.slug.clone(),
            name: row.name.clone(),
            restart_trigger: row.restart_trigger.clone(),
            portal_user_password: state.config.es_user_key.password(row.id),
            exposure: state.config.exposure.clone(),
        };
        let plan = match engine::of_cluster(&row.engine).and_then(|e| e.plan(&cluster, &row.spec.0))
        {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!(cluster = %row.name, error = %e, "cannot plan the cluster's objects");
                continue;
            }
        };
        for step in plan.steps {
            match step {
                // Only what the watches see can be compared: the rest was applied with the operation.
                Step::Apply(o) if watch::is_watched(&o.resource.kind) => {
                    ensure(state, &o, &mut report).await
                }
                Step::Apply(_) => {}
                Step::Delete(o) => {
                    if state.cache.get(&o.key()).await.is_some() {
                        match o.delete(&state.kube.client).await {
                            Ok(()) => report.deleted += 1,
                            Err(_) => report.errors += 1,
                        }
                    }
                }
            }
        }
    }
    Ok(report)
}
