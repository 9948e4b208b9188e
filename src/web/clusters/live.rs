//! The live part of a cluster dashboard: the state (from [`crate::clusters::state`], with a banner while the
//! cluster is created, changed or deleted), summary, requested resources against the quota, node sets,
//! pods, ECK conditions and in-progress operations, the active operation, the operations timeline and the
//! history chart, and what the actions card offers. [`load`] builds all of it from one snapshot of Postgres
//! ([`crate::db::snapshot`]: what the observer last wrote), so every number on the page belongs to the same
//! moment (after a resize the summary and the resources chart agree), it renders while Kubernetes is
//! unreachable, and it says since when the status is stale.
//!
//! The numbers are labelled by where they come from: "requested" is the desired spec (what the portal asked
//! Kubernetes for, and what the quota counts), "running" is what the observer saw (ready nodes).
//!
//! `GET /t/{tenant}/clusters/{name}/live` returns just this fragment; htmx fetches it every 3 s and swaps it
//! in place, with the actions card swapped out of band (so buttons enable and disable as operations start and
//! end); `data-settled` tells `static/js/live.js` when nothing is in progress any more, and it then removes
//! the page's success messages (they said what had just been requested). Once the cluster is gone, htmx is told to go to the list instead.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, header};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::{CurrentUser, TenantAccess};
use crate::clusters::read;
use crate::clusters::repo::{self, Cluster, PodRow};
use crate::clusters::service;
use crate::error::{AppError, AppResult};
use crate::operations::model::{OperationKind, OperationState};
use crate::operations::repo::{self as ops, Operation};
use crate::spec::is_upgrade_allowed;
use crate::state::AppState;
use crate::tenants::quota::{self, units};
use crate::web::clusters::charts::{self, Segment};
use crate::web::clusters::{cluster_path, format};
use crate::web::flash::{self, FlashKind};

/// A status older than this is flagged as stale (Kubernetes may be unreachable).
pub const STALE_AFTER_SECS: i64 = 30;
/// Operations shown in the timeline.
const TIMELINE_LEN: i64 = 10;
/// History points drawn.
const HISTORY_LEN: i64 = 120;

/// A node set row.
#[derive(Debug, Clone)]
pub struct NodeSetRow {
    /// Name.
    pub name: String,
    /// Roles, comma separated.
    pub roles: String,
    /// Desired nodes.
    pub count: u32,
    /// Ready pods of this node set.
    pub ready: usize,
    /// Per node.
    pub cpu: String,
    /// Per node.
    pub memory: String,
    /// Per node.
    pub storage: String,
    /// Storage class (`default`).
    pub storage_class: String,
    /// `data=hot`.
    pub attributes: String,
}

/// A pod row.
#[derive(Debug, Clone)]
pub struct PodView {
    /// Pod name.
    pub name: String,
    /// Node set, or `kibana`.
    pub group: String,
    /// Kubernetes phase.
    pub phase: String,
    /// Ready.
    pub ready: bool,
    /// Container restarts.
    pub restarts: i32,
    /// Kubernetes node.
    pub node: String,
    /// Age.
    pub age: String,
    /// Why it is not ready.
    pub reason: String,
}

/// An ECK condition.
#[derive(Debug, Clone)]
pub struct ConditionView {
    /// Type.
    pub kind: String,
    /// `True`, `False`, `Unknown`.
    pub status: String,
    /// Message.
    pub message: String,
    /// Since.
    pub since: String,
}

/// A change ECK applies node by node.
#[derive(Debug, Clone)]
pub struct InProgressView {
    /// `upscale`, `downscale`, `upgrade`.
    pub kind: String,
    /// Nodes concerned, with their status.
    pub nodes: String,
}

/// A step of an operation.
#[derive(Debug, Clone)]
pub struct StepView {
    /// Time of day.
    pub at: String,
    /// ISO time.
    pub iso: String,
    /// Since the previous step (`+2 s`).
    pub after: String,
    /// What happened.
    pub message: String,
}

/// An operation in the timeline.
#[derive(Debug, Clone)]
pub struct OperationView {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// State.
    pub state: String,
    /// What it asked for.
    pub summary: String,
    /// Requested at.
    pub requested: String,
    /// ISO time.
    pub requested_iso: String,
    /// Took (or running for).
    pub duration: String,
    /// Still running.
    pub active: bool,
    /// Steps.
    pub steps: Vec<StepView>,
    /// Last error.
    pub error: String,
    /// Stall reason.
    pub stalled: String,
    /// Apply attempts.
    pub attempts: i32,
    /// Unfinished, cancellable, and the caller may cancel it.
    pub cancellable: bool,
    /// Who asked for it (email), empty when unknown (the user was deleted).
    pub requested_by: String,
}

/// Everything the live fragment shows.
#[derive(Debug, Clone)]
pub struct LiveView {
    /// Tenant slug.
    pub slug: String,
    /// Cluster name.
    pub name: String,
    /// Health.
    pub health: String,
    /// Kibana health (empty without Kibana).
    pub kibana_health: String,
    /// Phase (or `—`).
    pub phase: String,
    /// Desired version.
    pub version: String,
    /// Running version when different.
    pub running_version: String,
    /// Ready nodes.
    pub ready: i32,
    /// Desired nodes.
    pub desired: i64,
    /// Allocated CPU.
    pub cpu: String,
    /// Allocated memory.
    pub memory: String,
    /// Allocated storage.
    pub storage: String,
    /// Engine name.
    pub engine: String,
    /// Kubernetes target name.
    pub target: String,
    /// The simulated Kubernetes.
    pub simulated: bool,
    /// Delete accepted.
    pub deleting: bool,
    /// Deletion protection on.
    pub protected: bool,
    /// Desired generation.
    pub generation: i64,
    /// ECK's observed generation.
    pub observed_generation: i64,
    /// Stale warning (empty: fresh).
    pub stale: String,
    /// When the status was last observed (`12 s ago`, or `never`).
    pub observed: String,
    /// Node sets.
    pub node_sets: Vec<NodeSetRow>,
    /// Pods.
    pub pods: Vec<PodView>,
    /// ECK conditions.
    pub conditions: Vec<ConditionView>,
    /// ECK in-progress operations.
    pub in_progress: Vec<InProgressView>,
    /// The active operation.
    pub active: Option<OperationView>,
    /// Recent operations, newest first.
    pub operations: Vec<OperationView>,
    /// History chart (inline SVG, escaped by [`charts`]).
    pub history_svg: String,
    /// The caller may change the cluster.
    pub can_change: bool,
    /// State name for CSS (`changing`).
    pub state: &'static str,
    /// State word (`Changing`).
    pub state_label: &'static str,
    /// What it means (`scaling node set data to 5 nodes`).
    pub state_detail: String,
    /// The raw health, phase and ready nodes.
    pub state_raw: String,
    /// Nothing is in progress (no operation, not deleting).
    pub settled: bool,
    /// Requested resources of this cluster against the tenant quota (inline SVG), from the same snapshot.
    pub resources_svg: String,
    /// What the actions card offers.
    pub actions: ActionsView,
}

/// What the actions card offers, and why something is not offered now.
#[derive(Debug, Clone)]
pub struct ActionsView {
    /// Any change allowed for the role.
    pub can_change: bool,
    /// Versions the cluster may be upgraded to.
    pub upgrade_targets: usize,
    /// Deletion protection on.
    pub protected: bool,
    /// Delete accepted.
    pub deleting: bool,
    /// Why scale, resize, upgrade and restart cannot start now (empty: they can).
    pub blocked: String,
    /// Why restart cannot start now (empty: it can).
    pub restart_blocked: String,
    /// A waiting operation a new scale, resize or upgrade would replace (empty: none).
    pub supersedes: String,
}

impl ActionsView {
    /// Scale, resize and upgrade can be requested now.
    pub fn size_open(&self) -> bool {
        self.can_change && !self.deleting && self.blocked.is_empty()
    }

    /// Restart can be requested now.
    pub fn restart_open(&self) -> bool {
        self.size_open() && self.restart_blocked.is_empty()
    }

    /// What a caller who may change clusters can do now, given the active operation (the same rules as the
    /// request service, which answers 409 otherwise: a waiting operation is replaced by a scale, resize or
    /// upgrade, anything else unfinished blocks every change but a delete).
    pub fn new(cluster: &Cluster, can_change: bool, upgrade_targets: usize) -> Self {
        let mut view = Self {
            can_change,
            upgrade_targets,
            protected: cluster.deletion_protection,
            deleting: cluster.deleting,
            blocked: String::new(),
            restart_blocked: String::new(),
            supersedes: String::new(),
        };
        if let Some(work) = &cluster.active_operation
            && !cluster.deleting
        {
            let what = crate::clusters::state::describe_change(work);
            if work.state == OperationState::Waiting {
                view.restart_blocked = format!(
                    "Restart is unavailable until the {} operation ({what}) has finished.",
                    work.kind
                );
                view.supersedes = format!(
                    "A {} operation is waiting for the cluster ({what}): a scale, resize or upgrade now replaces it.",
                    work.kind
                );
            } else {
                view.blocked = format!(
                    "Scale, resize, upgrade and restart are unavailable while the {} operation is {} ({what}): \
                     wait for it to finish, or cancel it.",
                    work.kind, work.state
                );
            }
        }
        view
    }
}

/// `templates/clusters/live.html` rendered alone.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/live_fragment.html")]
pub struct LiveFragment {
    /// The view.
    pub live: LiveView,
}

/// The stale warning for a status observed at `observed_at` of a cluster created at `created_at`, when the
/// portal has had no contact with Kubernetes since `unreachable_since` (see `controller::observer::stale_since`).
/// A quiet, healthy cluster has an old `observed_at` (nothing changed) but is not stale while contact holds.
pub fn stale_message(
    observed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    unreachable_since: Option<DateTime<Utc>>,
) -> String {
    match (unreachable_since, observed_at) {
        (Some(since), Some(at)) => format!(
            "Status is stale: no contact with Kubernetes since {} ({} ago); last observed {} ago ({}). \
             What you see is the last known state.",
            format::timestamp(since),
            format::duration((now - since).num_seconds()),
            format::duration((now - at).num_seconds()),
            format::timestamp(at)
        ),
        (Some(since), None) => format!(
            "No status from Kubernetes yet: no contact with Kubernetes since {} ({} ago).",
            format::timestamp(since),
            format::duration((now - since).num_seconds())
        ),
        (None, None) if (now - created_at).num_seconds() > STALE_AFTER_SECS => format!(
            "No status from Kubernetes yet, {} after the request.",
            format::duration((now - created_at).num_seconds())
        ),
        _ => String::new(),
    }
}

fn summary(op: &Operation) -> String {
    let p = &op.params;
    let s = |k: &str| p[k].as_str().unwrap_or("").to_owned();
    if p.get("rollback_of").is_some() {
        return format!(
            "rolled back by {}: undoes the cancelled {}",
            s("rolled_back_by"),
            s("rolled_back")
        );
    }
    match op.kind {
        OperationKind::Create => match p["template"].as_str() {
            Some(t) => format!("from template {t}"),
            None => "custom spec".into(),
        },
        OperationKind::Scale => format!(
            "node set {} to {} node{}",
            s("node_set"),
            p["count"],
            if p["count"] == 1 { "" } else { "s" }
        ),
        OperationKind::Resize => {
            let size = &p["size"];
            format!(
                "node set {} to {} · {} · {} per node",
                s("node_set"),
                units::cpu(size["cpu_millis"].as_i64().unwrap_or(0)),
                units::memory(size["memory_mib"].as_i64().unwrap_or(0)),
                units::storage(size["storage_gib"].as_i64().unwrap_or(0))
            )
        }
        OperationKind::Upgrade => format!("{} → {}", s("from"), s("to")),
        OperationKind::Restart => "rolling restart".into(),
        OperationKind::Reconfigure => "spec change".into(),
        OperationKind::Delete => "remove the cluster".into(),
    }
}

fn operation_view(op: &Operation, requested_by: Option<&str>, can_change: bool) -> OperationView {
    let mut prev = op.created_at;
    let steps = op
        .steps
        .iter()
        .map(|st| {
            let after = (st.at - prev).num_seconds();
            prev = st.at;
            StepView {
                at: st.at.format("%H:%M:%S").to_string(),
                iso: format::iso(st.at),
                after: format!("+{}", format::duration(after)),
                message: st.message.clone(),
            }
        })
        .collect();
    OperationView {
        id: op.id.to_string(),
        kind: op.kind.to_string(),
        state: op.state.to_string(),
        summary: summary(op),
        requested: format::timestamp(op.created_at),
        requested_iso: format::iso(op.created_at),
        duration: format::duration(op.duration_secs()),
        active: op.state.is_active(),
        steps,
        error: op.last_error.clone().unwrap_or_default(),
        stalled: op.stalled_reason.clone().unwrap_or_default(),
        attempts: op.attempts,
        cancellable: can_change && op.cancellable(),
        requested_by: requested_by.unwrap_or_default().to_owned(),
    }
}

fn pod_view(p: &PodRow, now: DateTime<Utc>) -> PodView {
    PodView {
        name: p.name.clone(),
        group: if p.component == "kibana" {
            "kibana".into()
        } else {
            p.node_set.clone()
        },
        phase: p.phase.clone(),
        ready: p.ready,
        restarts: p.restarts,
        node: if p.node_name.is_empty() {
            "\u{2014}".into()
        } else {
            p.node_name.clone()
        },
        age: p
            .started_at
            .map_or_else(|| "\u{2014}".into(), |t| format::age(t, now)),
        reason: p.reason.clone(),
    }
}

fn conditions(v: &Value) -> Vec<ConditionView> {
    v.as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| ConditionView {
                    kind: c["type"].as_str().unwrap_or("").to_owned(),
                    status: c["status"].as_str().unwrap_or("").to_owned(),
                    message: c["message"].as_str().unwrap_or("").to_owned(),
                    since: c["lastTransitionTime"]
                        .as_str()
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        .map(|t| format::timestamp(t.with_timezone(&Utc)))
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn in_progress(v: &Value) -> Vec<InProgressView> {
    let mut out = Vec::new();
    for kind in ["upscale", "downscale", "upgrade"] {
        let Some(nodes) = v[kind]["nodes"].as_array().filter(|n| !n.is_empty()) else {
            continue;
        };
        let names: Vec<String> = nodes
            .iter()
            .map(|n| {
                let name = n["name"].as_str().unwrap_or("?");
                let status = n["status"]
                    .as_str()
                    .or(n["shutdownStatus"].as_str())
                    .unwrap_or("");
                let message = n["message"].as_str().or(n["explanation"].as_str());
                match (status.is_empty(), message) {
                    (true, _) => name.to_owned(),
                    (false, Some(m)) => format!("{name} ({status}: {m})"),
                    (false, None) => format!("{name} ({status})"),
                }
            })
            .collect();
        out.push(InProgressView {
            kind: kind.into(),
            nodes: names.join(", "),
        });
    }
    out
}

/// The resources chart of a cluster: its node sets and Kibana (the requested spec) against the tenant's
/// usage and limits.
pub fn resources_svg(
    cluster: &Cluster,
    usage: quota::Resources,
    limits: quota::Resources,
) -> String {
    let mut segments: Vec<Segment> = cluster
        .spec
        .node_sets
        .iter()
        .map(|s| {
            let n = i64::from(s.count);
            Segment {
                label: s.name.to_string(),
                amounts: [
                    n,
                    n * i64::from(s.cpu_millis),
                    n * i64::from(s.memory_mib),
                    n * i64::from(s.storage_gib),
                ],
            }
        })
        .collect();
    if let Some(k) = &cluster.spec.kibana {
        let n = i64::from(k.count);
        segments.push(Segment {
            label: "Kibana".into(),
            amounts: [
                0,
                n * i64::from(k.cpu_millis),
                n * i64::from(k.memory_mib),
                0,
            ],
        });
    }
    let dims = |r: quota::Resources| [r.nodes, r.cpu_millis, r.memory_mib, r.storage_gib];
    charts::at_both_widths(|w| charts::resources_chart(&segments, dims(usage), dims(limits), w))
}

/// Load a cluster of the caller's tenant and build its live view (Postgres only, one snapshot).
pub async fn load(
    state: &AppState,
    access: &TenantAccess,
    name: &str,
) -> AppResult<(Cluster, LiveView)> {
    // One snapshot for everything below: the summary, the resources chart, the node sets and the timeline
    // cannot disagree, however the observer and the reconciler write in between.
    let mut snapshot = crate::db::snapshot(&state.db).await?;
    let cluster = repo::get_by_name(&mut snapshot, access.tenant.id, name).await?;
    let rows = Rows::read(&mut snapshot, access.tenant.id, cluster.id).await?;
    drop(snapshot);
    let live = view(state, access, &cluster, rows);
    Ok((cluster, live))
}

/// The caller's access to the tenant `slug` and its live cluster `name` with the cluster's live view, all
/// from one snapshot whose first query reads the tenant, the membership and the cluster together
/// ([`read::tenant_and_cluster`]). `NotFound` when the user may not see the tenant; `None` for the cluster
/// when the tenant has no live cluster of that name.
pub async fn load_for(
    state: &AppState,
    user: CurrentUser,
    slug: &str,
    name: &str,
) -> AppResult<(TenantAccess, Option<(Cluster, LiveView)>)> {
    let mut snapshot = crate::db::snapshot(&state.db).await?;
    let found = read::tenant_and_cluster(&mut snapshot, user.user_id, slug, name)
        .await?
        .ok_or(AppError::NotFound)?;
    let access = TenantAccess::decide(user, found.tenant, found.role.as_deref())?
        .ok_or(AppError::NotFound)?;
    let Some(cluster) = found.cluster else {
        return Ok((access, None));
    };
    let rows = Rows::read(&mut snapshot, access.tenant.id, cluster.id).await?;
    drop(snapshot);
    let live = view(state, &access, &cluster, rows);
    Ok((access, Some((cluster, live))))
}

/// What the live view shows besides the cluster row, read in the caller's snapshot.
struct Rows {
    pods: Vec<PodRow>,
    history: Vec<repo::HistoryPoint>,
    operations: Vec<(Operation, Option<String>)>,
    unreachable_since: Option<DateTime<Utc>>,
    usage: quota::Resources,
    rules: crate::spec::SpecRules,
}

impl Rows {
    async fn read(conn: &mut PgConnection, tenant_id: Uuid, cluster_id: Uuid) -> AppResult<Self> {
        Ok(Self {
            pods: repo::pods(conn, cluster_id).await?,
            history: repo::history(conn, cluster_id, HISTORY_LEN).await?,
            operations: ops::list_for_cluster(conn, cluster_id, TIMELINE_LEN).await?,
            unreachable_since: crate::controller::observer::stale_since(conn).await?,
            usage: quota::usage(conn, tenant_id).await?,
            rules: service::spec_rules(conn).await?,
        })
    }
}

/// The live view of `cluster` from what [`Rows::read`] found.
fn view(state: &AppState, access: &TenantAccess, cluster: &Cluster, rows: Rows) -> LiveView {
    let Rows {
        pods,
        history,
        operations,
        unreachable_since,
        usage,
        rules,
    } = rows;
    let upgrade_targets = rules
        .allowed_versions
        .iter()
        .filter(|v| **v > cluster.spec.version && is_upgrade_allowed(&cluster.spec.version, v))
        .count();
    let cluster_state = cluster.state();
    let now = Utc::now();
    let can_change = access.role.can_change_clusters();
    let st = &cluster.status;
    let desired = cluster.resources.nodes;
    let node_sets = cluster
        .spec
        .node_sets
        .iter()
        .map(|s| NodeSetRow {
            name: s.name.to_string(),
            roles: s
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            count: s.count,
            ready: pods
                .iter()
                .filter(|p| p.ready && p.component != "kibana" && p.node_set == s.name.as_str())
                .count(),
            cpu: units::cpu(i64::from(s.cpu_millis)),
            memory: units::memory(i64::from(s.memory_mib)),
            storage: units::storage(i64::from(s.storage_gib)),
            storage_class: s
                .storage_class
                .as_ref()
                .map_or_else(|| "default".into(), ToString::to_string),
            attributes: s
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let op_views: Vec<OperationView> = operations
        .iter()
        .map(|(op, by)| operation_view(op, by.as_deref(), can_change))
        .collect();
    let version = cluster.spec.version.to_string();
    LiveView {
        slug: access.tenant.slug.to_string(),
        name: cluster.name.clone(),
        health: st.health.clone(),
        kibana_health: if cluster.spec.kibana.is_some() {
            if st.kibana_health.is_empty() {
                "unknown".into()
            } else {
                st.kibana_health.clone()
            }
        } else {
            String::new()
        },
        phase: if st.phase.is_empty() {
            "\u{2014}".into()
        } else {
            st.phase.clone()
        },
        running_version: if !st.observed_version.is_empty() && st.observed_version != version {
            st.observed_version.clone()
        } else {
            String::new()
        },
        version,
        ready: st.available_nodes,
        desired,
        cpu: units::cpu(cluster.resources.cpu_millis),
        memory: units::memory(cluster.resources.memory_mib),
        storage: units::storage(cluster.resources.storage_gib),
        engine: match cluster.engine.as_str() {
            "eck" => "ECK (Elastic Cloud on Kubernetes)".into(),
            other => other.to_owned(),
        },
        target: state.kube.name.clone(),
        simulated: state.kube.is_simulated(),
        deleting: cluster.deleting,
        protected: cluster.deletion_protection,
        generation: cluster.generation,
        observed_generation: st.observed_generation,
        stale: stale_message(st.observed_at, cluster.created_at, now, unreachable_since),
        observed: st.observed_at.map_or_else(
            || "never".into(),
            |t| format!("{} ago", format::age(t, now)),
        ),
        node_sets,
        pods: pods.iter().map(|p| pod_view(p, now)).collect(),
        conditions: conditions(&st.conditions),
        in_progress: in_progress(&st.in_progress),
        active: op_views.iter().find(|o| o.active).cloned(),
        operations: op_views,
        history_svg: charts::at_both_widths(|w| {
            charts::history_chart(
                &history,
                (
                    &st.health,
                    st.available_nodes,
                    i32::try_from(desired).unwrap_or(i32::MAX),
                ),
                now,
                cluster.created_at,
                w,
            )
        }),
        can_change,
        state: cluster_state.kind.as_str(),
        state_label: cluster_state.kind.label(),
        state_detail: cluster_state.detail,
        state_raw: cluster_state.raw,
        settled: cluster.active_operation.is_none() && !cluster.deleting,
        resources_svg: resources_svg(cluster, usage, access.tenant.limits),
        actions: ActionsView::new(cluster, can_change, upgrade_targets),
    }
}

/// `GET /t/{tenant}/clusters/{name}/live`: the live fragment. When the cluster no longer exists, an htmx
/// request is redirected to the list (`HX-Redirect`) with a message; others get 404.
#[tracing::instrument(skip_all, fields(tenant, cluster))]
pub async fn live(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> AppResult<Response> {
    // As `TenantAccess` answered: an undecodable path is 404.
    let Path((tenant, name)) = path.map_err(|_| AppError::NotFound)?;
    let span = tracing::Span::current();
    span.record("tenant", tenant.as_str());
    span.record("cluster", name.as_str());
    let (access, found) = load_for(&state, user, &tenant, &name).await?;
    match found {
        Some((_, live)) => {
            let mut response = LiveFragment { live }.into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        None if headers.contains_key("hx-request") => {
            let list = format!("/t/{}/clusters", access.tenant.slug);
            let mut response = gone_redirect(&access, &name);
            *response.status_mut() = http::StatusCode::OK;
            if let Ok(v) = HeaderValue::from_str(&list) {
                response.headers_mut().insert("hx-redirect", v);
            }
            response.headers_mut().remove(header::LOCATION);
            Ok(response)
        }
        None => Err(AppError::NotFound),
    }
}

/// A redirect to the tenant's cluster list saying the named cluster no longer exists.
pub fn gone_redirect(access: &TenantAccess, name: &str) -> Response {
    flash::redirect(
        &format!("/t/{}/clusters", access.tenant.slug),
        FlashKind::Info,
        format!("Cluster {name} no longer exists."),
    )
}

/// The dashboard URL of a live view's cluster.
impl LiveView {
    /// `/t/{tenant}/clusters/{name}`.
    pub fn url(&self) -> String {
        cluster_path(&self.slug, &self.name)
    }
}
