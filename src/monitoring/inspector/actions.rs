//! The one change the portal makes inside Elasticsearch today: set an index's `number_of_replicas` (the fix
//! the health explanation offers when replicas cannot be assigned). Role-checked (owners, admins and
//! members; not viewers) and audited (`cluster.index_replicas`, before and after), like every change.
//!
//! It logs in as the portal's own user, whose role grants this one index action besides reading
//! (`k8s::portal_user`), never as the tenant's `elastic`.

use serde::Serialize;
use serde_json::json;

use super::{Inspector, repo};
use crate::audit::{self, AuditEntry};
use crate::clusters::repo as clusters;
use crate::clusters::service::Caller;
use crate::elasticsearch::EsError;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;

/// Most replicas accepted (Elasticsearch allows more, but no cluster here has that many data nodes).
pub const MAX_REPLICAS: u32 = 32;

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicasChange {
    /// The index.
    pub index: String,
    /// Replicas before.
    pub before: Option<u32>,
    /// Replicas now.
    pub replicas: u32,
}

/// A failed Elasticsearch call as the portal's error (409 with the reason, 504 for a timeout).
fn app_error(e: EsError) -> AppError {
    match e {
        EsError::Timeout(_) => AppError::GatewayTimeout(e.to_string()),
        EsError::Api {
            status: 400,
            reason,
            ..
        } => {
            let mut fields = FieldErrors::new();
            fields.add("replicas", reason);
            AppError::Validation(fields)
        }
        other => AppError::Conflict(other.to_string()),
    }
}

/// Set `index`'s replicas in cluster `cluster_name` of the caller's tenant.
pub async fn set_replicas(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    index: &str,
    replicas: u32,
) -> AppResult<ReplicasChange> {
    let cluster = {
        let mut conn = state.db.acquire().await?;
        clusters::get_by_name(&mut conn, caller.tenant_id, cluster_name).await?
    };
    if !caller.role.can_change_clusters() {
        return Err(AppError::Forbidden(format!(
            "Your role ({}) may not change clusters.",
            caller.role
        )));
    }
    if replicas > MAX_REPLICAS {
        let mut fields = FieldErrors::new();
        fields.add("replicas", format!("At most {MAX_REPLICAS}."));
        return Err(AppError::Validation(fields));
    }
    // Only indices the inspector has seen: the name comes from the URL, and Elasticsearch must not be asked
    // about arbitrary paths.
    let known = repo::load(&state.db, cluster.id)
        .await?
        .is_some_and(|i| i.snapshot.indices.iter().any(|x| x.name == index));
    if !known {
        return Err(AppError::NotFound);
    }
    let address = repo::address(&state.db, cluster.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let client = state.es.portal_client(&address).await.map_err(app_error)?;
    let before = client
        .index_settings(index)
        .await
        .ok()
        .and_then(|s| s.number_of_replicas());
    client
        .set_replicas(index, replicas)
        .await
        .map_err(app_error)?;
    let mut conn = state.db.acquire().await?;
    audit::record(
        &mut conn,
        AuditEntry {
            actor: &caller.actor,
            tenant_id: Some(caller.tenant_id),
            action: "cluster.index_replicas",
            target_kind: "cluster",
            target: &cluster.name,
            outcome: "ok",
            before: Some(json!({ "index": index, "replicas": before })),
            after: Some(json!({ "index": index, "replicas": replicas })),
            meta: &caller.meta,
        },
    )
    .await?;
    drop(conn);
    // Show the effect at once rather than at the next scheduled poll.
    if let Err(e) = Inspector::new(state).poll(&address).await {
        tracing::warn!(cluster = %cluster.name, error = %e, "poll after the replicas change failed");
    }
    Ok(ReplicasChange {
        index: index.to_owned(),
        before,
        replicas,
    })
}
