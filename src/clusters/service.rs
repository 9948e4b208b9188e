//! The request service: every change a tenant asks for (from the UI or the API) goes through here, in one
//! Postgres transaction: validate -> lock the cluster (and, through the quota check, the tenant row) ->
//! check quota -> write the new desired spec (generation + 1) -> insert the operation -> write the audit row
//! -> commit -> wake the reconciler. Nothing here calls Kubernetes.
//!
//! Ways out of a stuck operation (issue 9): a scale, resize, reconfigure or upgrade supersedes an operation
//! that is waiting (stalled or not) and starts from the current desired spec; a delete supersedes any
//! unfinished operation (it ends `cancelled`, "superseded by delete"); [`cancel`] ends any unfinished one and
//! rolls its change back. Requests that end an operation another task may hold take the operation's lock
//! before the cluster's (the reconciler's order) or do not wait for it at all, so they cannot deadlock.

mod cancel;

pub use cancel::cancel;

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEntry};
use crate::clusters::repo::{self, Cluster};
use crate::clusters::templates;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::operations::model::{OperationKind, OperationState};
use crate::operations::repo::{self as ops, NewOperation, Operation};
use crate::request_meta::RequestMeta;
use crate::spec::{
    self, ClusterName, ClusterSpec, ClusterSpecInput, EsVersion, SizeChange, SpecPatch, SpecRules,
};
use crate::state::AppState;
use crate::tenants::quota;
use crate::tenants::role::Role;

/// Who is asking, in which tenant, with which role.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant the request is for.
    pub tenant_id: Uuid,
    /// The caller's role there.
    pub role: Role,
    /// For audit rows.
    pub actor: Actor,
    /// Request id and source address.
    pub meta: RequestMeta,
    /// An `If-Match` precondition on the cluster's generation (API requests): checked under the cluster's
    /// row lock, so a change that raced the caller's read is refused (412) rather than applied.
    pub if_match: Option<String>,
}

impl Caller {
    /// The same caller with the `If-Match` header value of its request, if any.
    pub fn with_if_match(mut self, value: Option<&str>) -> Self {
        self.if_match = value.map(str::to_owned);
        self
    }

    /// 412 when an `If-Match` precondition does not list the (locked) cluster's generation.
    fn check_precondition(&self, cluster: &Cluster) -> AppResult<()> {
        match &self.if_match {
            Some(value) if !if_match_allows(value, cluster.generation) => {
                Err(AppError::PreconditionFailed {
                    detail: format!(
                        "The cluster has changed: it is at generation {g} (ETag \"{g}\"). Read it again and retry.",
                        g = cluster.generation
                    ),
                    etag: format!("\"{}\"", cluster.generation),
                })
            }
            _ => Ok(()),
        }
    }

    fn require_change(&self) -> AppResult<()> {
        if self.role.can_change_clusters() {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "Your role ({}) may not change clusters.",
                self.role
            )))
        }
    }
}

/// Does an `If-Match` (or `If-None-Match`) value list this generation? `*` matches any; weak tags never match.
pub fn if_match_allows(value: &str, generation: i64) -> bool {
    let wanted = format!("\"{generation}\"");
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == wanted)
}

/// A create request: a name plus a template, a full spec, or a template edited by the user (spec wins).
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// Cluster name.
    pub name: String,
    /// Template id (`single-node`, `three-nodes`, `dedicated-masters`, `hot-warm-cold`).
    pub template: Option<String>,
    /// The (possibly edited) spec; when absent the template's spec is used as it is.
    pub spec: Option<ClusterSpecInput>,
}

/// The validation rules in force: the admin-managed version allow-list and the default size bounds.
pub async fn spec_rules(conn: &mut PgConnection) -> AppResult<SpecRules> {
    let versions =
        sqlx::query_scalar!("SELECT version FROM es_versions WHERE enabled ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
    let mut rules = SpecRules::default();
    let parsed: Vec<EsVersion> = versions
        .iter()
        .filter_map(|v| EsVersion::parse(v).ok())
        .collect();
    if !parsed.is_empty() {
        rules.allowed_versions = parsed;
    }
    rules.allowed_versions.sort();
    // The admin-managed storage classes (issue 9); the only line of this file that part of the work touches.
    rules.storage_classes = Some(crate::clusters::storage_classes::policy(conn).await?);
    Ok(rules)
}

/// Resolve and validate a create request into a name, a spec and the production flag (no writes).
pub fn resolve_create(
    request: &CreateRequest,
    base_rules: &SpecRules,
) -> Result<(ClusterName, ClusterSpec, bool), FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = ClusterName::parse(&request.name)
        .map_err(|m| errors.add("name", m))
        .ok();
    let template = match request.template.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(id) => match templates::template(id) {
            Some(t) => Some(t),
            None => {
                errors.add("template", format!("Unknown template `{id}`."));
                None
            }
        },
    };
    let production = template.as_ref().map(|t| t.production).unwrap_or(true);
    let rules = base_rules.clone().with_production(production);
    let input = match (&request.spec, &template) {
        (Some(input), _) => Some(input.clone()),
        (None, Some(t)) => Some(ClusterSpecInput::from_spec(&t.spec_for(&rules))),
        (None, None) => {
            errors.add("template", "Choose a template or give a spec.");
            None
        }
    };
    let spec = input.and_then(|i| match spec::validate(&i, &rules, None) {
        Ok(s) => Some(s),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    });
    match (name, spec) {
        (Some(n), Some(s)) if errors.is_empty() => Ok((n, s, production)),
        _ => Err(errors),
    }
}

/// Request a new cluster. Returns the cluster and its create operation.
#[tracing::instrument(skip(state, caller, request), fields(name = %request.name))]
async fn create_unaudited(
    state: &AppState,
    caller: &Caller,
    request: &CreateRequest,
) -> AppResult<(Cluster, Operation)> {
    caller.require_change()?;
    let mut tx = state.db.begin().await?;
    let rules = spec_rules(&mut tx).await?;
    let (name, spec, production) = resolve_create(request, &rules)?;
    quota::check_and_reserve(&mut tx, caller.tenant_id, spec.resources(), None).await?;
    let cluster_id = repo::insert(
        &mut tx,
        caller.tenant_id,
        name.as_str(),
        &spec,
        production,
        caller.actor.user_id,
    )
    .await?;
    let spec_json = serde_json::to_value(&spec).map_err(anyhow::Error::from)?;
    let op = ops::insert(
        &mut tx,
        NewOperation {
            cluster_id,
            tenant_id: caller.tenant_id,
            kind: OperationKind::Create,
            params: json!({ "template": request.template }),
            spec_before: None,
            spec_after: Some(spec_json.clone()),
            target_generation: 1,
            requested_by: caller.actor.user_id,
        },
    )
    .await?;
    audit_cluster(
        &mut tx,
        caller,
        "cluster.create",
        name.as_str(),
        None,
        Some(spec_json),
    )
    .await?;
    let cluster = repo::get(&mut tx, cluster_id).await?;
    tx.commit().await?;
    state.reconciler_wake.notify_waiters();
    Ok((cluster, op))
}

/// What a change computes from the locked cluster.
struct Change {
    kind: OperationKind,
    params: serde_json::Value,
    spec: ClusterSpec,
    restart_trigger: Option<String>,
}

/// May a change end the cluster's waiting (or stalled) operation instead of being refused?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Supersede {
    /// Yes: scale, resize, reconfigure, upgrade (corrective changes; they start from the current desired spec).
    Waiting,
    /// No: any unfinished operation makes the request a 409 (restart).
    Never,
}

/// The shared path of every spec change: lock, compute, quota, write, operation, audit, commit, wake.
async fn change(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    supersede: Supersede,
    compute: impl FnOnce(&Cluster, &SpecRules) -> AppResult<Change>,
) -> AppResult<Operation> {
    caller.require_change()?;
    let mut tx = state.db.begin().await?;
    let cluster = repo::lock_by_name(&mut tx, caller.tenant_id, cluster_name).await?;
    caller.check_precondition(&cluster)?;
    if cluster.deleting {
        return Err(AppError::Conflict("This cluster is being deleted.".into()));
    }
    let replaced = supersedable(&mut tx, &cluster, supersede).await?;
    let rules = spec_rules(&mut tx)
        .await?
        .with_production(cluster.production);
    let change = compute(&cluster, &rules)?;
    quota::check_and_reserve(
        &mut tx,
        caller.tenant_id,
        change.spec.resources(),
        Some(cluster.id),
    )
    .await?;
    if let Some(old) = &replaced {
        end_replaced(
            &mut tx,
            caller,
            &cluster,
            old,
            OperationState::Superseded,
            &format!(
                "superseded by {} requested by {}",
                change.kind, caller.actor.label
            ),
        )
        .await?;
    }
    let generation = repo::update_spec(
        &mut tx,
        cluster.id,
        &change.spec,
        change.restart_trigger.as_deref(),
    )
    .await?;
    let before = serde_json::to_value(&cluster.spec).map_err(anyhow::Error::from)?;
    let after = serde_json::to_value(&change.spec).map_err(anyhow::Error::from)?;
    let op = ops::insert(
        &mut tx,
        NewOperation {
            cluster_id: cluster.id,
            tenant_id: caller.tenant_id,
            kind: change.kind,
            params: change.params,
            spec_before: Some(before.clone()),
            spec_after: Some(after.clone()),
            target_generation: generation,
            requested_by: caller.actor.user_id,
        },
    )
    .await?;
    let action = format!("cluster.{}", change.kind);
    audit_cluster(
        &mut tx,
        caller,
        &action,
        &cluster.name,
        Some(before),
        Some(after),
    )
    .await?;
    tx.commit().await?;
    state.reconciler_wake.notify_waiters();
    Ok(op)
}

fn busy(active: &Operation) -> AppError {
    AppError::Conflict(format!(
        "A {} operation is {} on this cluster; wait for it to finish or cancel it.",
        active.kind, active.state
    ))
}

/// The operation a change on the locked `cluster` replaces: none when the cluster is idle, its waiting
/// operation when `supersede` allows it, else a 409. The caller holds the cluster's row lock, so the operation
/// is locked without waiting (see [`ops::lock_nowait`]).
async fn supersedable(
    conn: &mut PgConnection,
    cluster: &Cluster,
    supersede: Supersede,
) -> AppResult<Option<Operation>> {
    let Some(active) = ops::active_for_cluster(conn, cluster.id).await? else {
        return Ok(None);
    };
    if supersede == Supersede::Never || active.state != OperationState::Waiting {
        return Err(busy(&active));
    }
    let active = ops::lock_nowait(conn, active.id).await?;
    match active.state {
        OperationState::Waiting => Ok(Some(active)),
        s if s.is_active() => Err(busy(&active)),
        // It finished (succeeded) between the read and the lock: nothing to replace.
        _ => Ok(None),
    }
}

/// End `old` (locked) because a newer request replaces it, with an audit row saying so.
async fn end_replaced(
    conn: &mut PgConnection,
    caller: &Caller,
    cluster: &Cluster,
    old: &Operation,
    to: OperationState,
    message: &str,
) -> AppResult<()> {
    ops::end(conn, old.id, to, message).await?;
    audit_cluster(
        conn,
        caller,
        &format!("operation.{to}"),
        &cluster.name,
        Some(json!({ "operation": old.id, "kind": old.kind, "state": old.state })),
        Some(json!({ "state": to, "reason": message })),
    )
    .await
}

/// Set node set `node_set` to `count` nodes.
async fn scale_unaudited(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    node_set: &str,
    count: u32,
) -> AppResult<Operation> {
    change(
        state,
        caller,
        cluster_name,
        Supersede::Waiting,
        |cluster, rules| {
            Ok(Change {
                kind: OperationKind::Scale,
                params: json!({ "node_set": node_set, "count": count }),
                spec: spec::scaled(&cluster.spec, rules, node_set, count)?,
                restart_trigger: cluster.restart_trigger.clone(),
            })
        },
    )
    .await
}

/// Resize every node of `node_set` (CPU, memory, storage growth). The sizes `size` leaves out are taken
/// from the locked cluster, so a change committed since the caller read it is kept.
async fn resize_unaudited(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    node_set: &str,
    size: SizeChange,
) -> AppResult<Operation> {
    change(
        state,
        caller,
        cluster_name,
        Supersede::Waiting,
        |cluster, rules| {
            let size = size.resolve(&cluster.spec, node_set)?;
            Ok(Change {
                kind: OperationKind::Resize,
                params: json!({ "node_set": node_set, "size": size }),
                spec: spec::resized(&cluster.spec, rules, node_set, size)?,
                restart_trigger: cluster.restart_trigger.clone(),
            })
        },
    )
    .await
}

/// Upgrade to `version` (forward only, at most one major step).
async fn upgrade_unaudited(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    version: &str,
) -> AppResult<Operation> {
    change(
        state,
        caller,
        cluster_name,
        Supersede::Waiting,
        |cluster, rules| {
            let to = EsVersion::parse(version).map_err(|m| {
                let mut e = FieldErrors::new();
                e.add("version", m);
                AppError::Validation(e)
            })?;
            Ok(Change {
                kind: OperationKind::Upgrade,
                params: json!({ "from": cluster.spec.version.to_string(), "to": version }),
                spec: spec::upgraded(&cluster.spec, rules, &to)?,
                restart_trigger: cluster.restart_trigger.clone(),
            })
        },
    )
    .await
}

/// Change the spec (version, node sets, Kibana, TLS) by `patch`, merged into the locked cluster's spec so
/// that a change committed since the caller read it is kept; storage can only grow.
async fn reconfigure_unaudited(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    patch: &SpecPatch,
) -> AppResult<Operation> {
    change(
        state,
        caller,
        cluster_name,
        Supersede::Waiting,
        |cluster, rules| {
            let input = patch.apply_to(&cluster.spec);
            let next = spec::validate(&input, rules, Some(&cluster.spec))?;
            if next == cluster.spec {
                let mut e = FieldErrors::new();
                e.add("spec", "Nothing changed.");
                return Err(AppError::Validation(e));
            }
            Ok(Change {
                kind: OperationKind::Reconfigure,
                params: json!({}),
                spec: next,
                restart_trigger: cluster.restart_trigger.clone(),
            })
        },
    )
    .await
}

/// Rolling restart: a new restart-trigger value, the spec unchanged.
async fn restart_unaudited(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
) -> AppResult<Operation> {
    change(state, caller, cluster_name, Supersede::Never, |cluster, _rules| {
        let trigger = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(Change {
            kind: OperationKind::Restart,
            params: json!({ "restart_trigger": trigger, "previous_trigger": cluster.restart_trigger }),
            spec: cluster.spec.clone(),
            restart_trigger: Some(trigger),
        })
        },
    )
    .await
}

/// Turn deletion protection on or off (no operation: nothing changes in Kubernetes).
async fn set_deletion_protection_unaudited(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    on: bool,
) -> AppResult<()> {
    caller.require_change()?;
    let mut tx = state.db.begin().await?;
    let cluster = repo::lock_by_name(&mut tx, caller.tenant_id, cluster_name).await?;
    caller.check_precondition(&cluster)?;
    repo::set_deletion_protection(&mut tx, cluster.id, on).await?;
    audit_cluster(
        &mut tx,
        caller,
        "cluster.deletion_protection",
        &cluster.name,
        Some(json!({ "deletion_protection": cluster.deletion_protection })),
        Some(json!({ "deletion_protection": on })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Delete a cluster: refused while deletion protection is on; `confirm_name` must repeat the name. An
/// unfinished operation does not stand in the way: it ends `cancelled` ("superseded by delete").
async fn delete_unaudited(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    confirm_name: &str,
) -> AppResult<Operation> {
    caller.require_change()?;
    // A round gives up (`None`) when an operation appeared between its two locks; the next round waits for
    // that one in the right order.
    for _ in 0..3 {
        if let Some(op) = delete_round(state, caller, cluster_name, confirm_name).await? {
            return Ok(op);
        }
    }
    Err(AppError::Conflict(
        "This cluster keeps changing while the delete runs; try again.".into(),
    ))
}

async fn delete_round(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    confirm_name: &str,
) -> AppResult<Option<Operation>> {
    let mut tx = state.db.begin().await?;
    // The operation's lock first (waiting while a reconciler applies it), then the cluster's: see the module doc.
    let seen = repo::get_by_name(&mut tx, caller.tenant_id, cluster_name).await?;
    let locked = ops::lock_active(&mut tx, seen.id).await?;
    let cluster = repo::lock_by_name(&mut tx, caller.tenant_id, cluster_name).await?;
    if cluster.id != seen.id {
        return Ok(None);
    }
    caller.check_precondition(&cluster)?;
    if confirm_name.trim() != cluster.name {
        let mut e = FieldErrors::new();
        e.add(
            "confirm_name",
            "Type the cluster's name to confirm the deletion.",
        );
        return Err(AppError::Validation(e));
    }
    if cluster.deletion_protection {
        return Err(AppError::Conflict(
            "Deletion protection is on; turn it off first.".into(),
        ));
    }
    if cluster.deleting {
        return Err(AppError::Conflict(
            "This cluster is already being deleted.".into(),
        ));
    }
    // A delete supersedes whatever is unfinished: that operation ends cancelled.
    let active = match (ops::active_for_cluster(&mut tx, cluster.id).await?, locked) {
        (Some(now), Some(locked)) if now.id == locked.id => Some(now),
        // Requested between our two locks (a reconciler may hold it already): start over.
        (Some(_), _) => return Ok(None),
        (None, _) => None,
    };
    if let Some(old) = active {
        end_replaced(
            &mut tx,
            caller,
            &cluster,
            &old,
            OperationState::Cancelled,
            &format!("superseded by delete requested by {}", caller.actor.label),
        )
        .await?;
    }
    let generation = repo::mark_deleting(&mut tx, cluster.id).await?;
    let before = serde_json::to_value(&cluster.spec).map_err(anyhow::Error::from)?;
    let op = ops::insert(
        &mut tx,
        NewOperation {
            cluster_id: cluster.id,
            tenant_id: caller.tenant_id,
            kind: OperationKind::Delete,
            params: json!({}),
            spec_before: Some(before.clone()),
            spec_after: None,
            target_generation: generation,
            requested_by: caller.actor.user_id,
        },
    )
    .await?;
    audit_cluster(
        &mut tx,
        caller,
        "cluster.delete",
        &cluster.name,
        Some(before),
        None,
    )
    .await?;
    tx.commit().await?;
    state.reconciler_wake.notify_waiters();
    Ok(Some(op))
}

/// [`create_unaudited`], with a refusal audited ([`audit_refusal`]).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: &CreateRequest,
) -> AppResult<(Cluster, Operation)> {
    let result = create_unaudited(state, caller, request).await;
    audit_refusal(state, caller, "cluster.create", &request.name, result).await
}

/// [`scale_unaudited`], with a refusal audited ([`audit_refusal`]).
pub async fn scale(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    node_set: &str,
    count: u32,
) -> AppResult<Operation> {
    let result = scale_unaudited(state, caller, cluster_name, node_set, count).await;
    audit_refusal(state, caller, "cluster.scale", cluster_name, result).await
}

/// [`resize_unaudited`], with a refusal audited ([`audit_refusal`]).
pub async fn resize(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    node_set: &str,
    size: SizeChange,
) -> AppResult<Operation> {
    let result = resize_unaudited(state, caller, cluster_name, node_set, size).await;
    audit_refusal(state, caller, "cluster.resize", cluster_name, result).await
}

/// [`restart_unaudited`], with a refusal audited ([`audit_refusal`]).
pub async fn restart(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
) -> AppResult<Operation> {
    let result = restart_unaudited(state, caller, cluster_name).await;
    audit_refusal(state, caller, "cluster.restart", cluster_name, result).await
}

/// [`set_deletion_protection_unaudited`], with a refusal audited ([`audit_refusal`]).
pub async fn set_deletion_protection(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    on: bool,
) -> AppResult<()> {
    let result = set_deletion_protection_unaudited(state, caller, cluster_name, on).await;
    audit_refusal(
        state,
        caller,
        "cluster.deletion_protection",
        cluster_name,
        result,
    )
    .await
}

/// [`delete_unaudited`], with a refusal audited ([`audit_refusal`]).
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    confirm_name: &str,
) -> AppResult<Operation> {
    let result = delete_unaudited(state, caller, cluster_name, confirm_name).await;
    audit_refusal(state, caller, "cluster.delete", cluster_name, result).await
}

/// [`upgrade_unaudited`], with a refusal audited ([`audit_refusal`]).
pub async fn upgrade(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    version: &str,
) -> AppResult<Operation> {
    let result = upgrade_unaudited(state, caller, cluster_name, version).await;
    audit_refusal(state, caller, "cluster.upgrade", cluster_name, result).await
}

/// [`reconfigure_unaudited`], with a refusal audited ([`audit_refusal`]).
pub async fn reconfigure(
    state: &AppState,
    caller: &Caller,
    cluster_name: &str,
    patch: &SpecPatch,
) -> AppResult<Operation> {
    let result = reconfigure_unaudited(state, caller, cluster_name, patch).await;
    audit_refusal(state, caller, "cluster.reconfigure", cluster_name, result).await
}

/// A refused request is audited too, outcome `denied` with the reason: a role that may not change clusters
/// (403) or a quota the request would exceed. Repetitions within a minute are counted into one row
/// ([`audit::record_repeated`]), so a caller retrying cannot grow the log row by row. The refusal itself is
/// returned unchanged; a failure to write the row is logged, never shown instead of it.
async fn audit_refusal<T>(
    state: &AppState,
    caller: &Caller,
    action: &str,
    cluster: &str,
    result: AppResult<T>,
) -> AppResult<T> {
    let reason = match &result {
        Err(AppError::Forbidden(message)) => Some(message.clone()),
        Err(AppError::Validation(errors)) => {
            let quota: Vec<&str> = errors
                .0
                .iter()
                .filter(|e| e.field.starts_with("quota."))
                .map(|e| e.message.as_str())
                .collect();
            (!quota.is_empty()).then(|| quota.join(" "))
        }
        _ => None,
    };
    if let Some(reason) = reason {
        let written = async {
            let mut conn = state.db.acquire().await?;
            audit::record_repeated(
                &mut conn,
                AuditEntry {
                    actor: &caller.actor,
                    tenant_id: Some(caller.tenant_id),
                    action,
                    target_kind: "cluster",
                    target: cluster.trim(),
                    outcome: "denied",
                    before: None,
                    after: Some(json!({ "reason": reason })),
                    meta: &caller.meta,
                },
                std::time::Duration::from_secs(60),
            )
            .await
        }
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, action, "could not audit a refused request");
        }
    }
    result
}

async fn audit_cluster(
    conn: &mut PgConnection,
    caller: &Caller,
    action: &str,
    cluster: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AppResult<()> {
    audit::record(
        conn,
        AuditEntry {
            actor: &caller.actor,
            tenant_id: Some(caller.tenant_id),
            action,
            target_kind: "cluster",
            target: cluster,
            outcome: "ok",
            before,
            after,
            meta: &caller.meta,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_strongly() {
        assert!(if_match_allows("\"5\"", 5));
        assert!(if_match_allows("\"4\", \"5\"", 5));
        assert!(if_match_allows("*", 5));
        assert!(!if_match_allows("\"4\"", 5));
        assert!(!if_match_allows("W/\"5\"", 5));
        assert!(!if_match_allows("5", 5));
        assert!(!if_match_allows("", 5));
    }
}
