//! The actions that change a cluster's size or version, each on its own confirmation page with the quota
//! effect: scale a node set (`/scale`), resize a node set (`/resize`), upgrade (`/upgrade`, only versions
//! that are offered and a valid upgrade of the current one).
//!
//! `GET` shows the form with the current values; `POST` with `step=preview` re-renders it with the quota
//! effect and the messages for the entered values; `POST` with `step=confirm` (the main button) sends the
//! request to the service. Service outcomes: validation errors re-render the page (422) with messages at the
//! fields; a conflict (another operation running) re-renders the scale or resize page (409) with the typed
//! values and the reason (the upgrade page returns to the dashboard with the message); success returns to the
//! dashboard with a confirmation. While an operation that these changes cannot replace runs, the pages say so
//! and their submit button is disabled (the service still answers 409 if one is sent anyway).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;

use crate::auth::TenantAccess;
use crate::clusters::repo::{self, Cluster};
use crate::clusters::service;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::spec::{self, ClusterSpec, EsVersion, NodeSetSize, SpecRules, is_upgrade_allowed};
use crate::state::AppState;
use crate::tenants::quota::units;
use crate::tenants::quota::{QuotaDimension, Resources};
use crate::web::clusters::quota_view::{self, QuotaPanel};
use crate::web::clusters::{caller, cluster_path, conflict_to_flash, require_change, size_fields};
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;

/// `?node_set=<name>`.
#[derive(Debug, Default, Deserialize)]
pub struct NodeSetQuery {
    /// The node set to preselect.
    #[serde(default)]
    pub node_set: Option<String>,
}

/// A node set in the select.
#[derive(Debug, Clone)]
pub struct NodeSetChoice {
    /// Name.
    pub name: String,
    /// `3 nodes · 1 core · 2 GiB · 10 GiB`.
    pub label: String,
    /// Selected.
    pub selected: bool,
}

/// The scale and resize form as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SizeForm {
    /// Node set name.
    #[serde(default)]
    pub node_set: String,
    /// New node count (scale).
    #[serde(default)]
    pub count: String,
    /// CPU per node in cores (resize).
    #[serde(default)]
    pub cpu_cores: String,
    /// Memory per node in GiB (resize).
    #[serde(default)]
    pub memory_gib: String,
    /// Storage per node (resize).
    #[serde(default)]
    pub storage_gib: String,
    /// `preview` or `confirm`.
    #[serde(default)]
    pub step: String,
}

/// Which size action a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeAction {
    /// Change a node set's count.
    Scale,
    /// Change a node set's per-node size.
    Resize,
}

/// `templates/clusters/size.html` (scale and resize).
#[derive(Template, WebTemplate)]
#[template(path = "clusters/size.html")]
pub struct SizePage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Cluster name.
    pub name: String,
    /// Scale (true) or resize.
    pub scale: bool,
    /// Node sets.
    pub node_sets: Vec<NodeSetChoice>,
    /// Values as typed.
    pub form: SizeForm,
    /// Current size of the chosen node set (`3 nodes of 1 core, 2 GiB, 10 GiB`).
    pub current: String,
    /// Messages by field (empty: none).
    pub err_node_set: String,
    /// Count message.
    pub err_count: String,
    /// CPU message.
    pub err_cpu: String,
    /// Memory message.
    pub err_memory: String,
    /// Storage message.
    pub err_storage: String,
    /// Other messages (topology).
    pub err_other: Vec<String>,
    /// Quota message at the count.
    pub q_count: String,
    /// Quota message at the CPU.
    pub q_cpu: String,
    /// Quota message at the memory.
    pub q_memory: String,
    /// Quota message at the storage.
    pub q_storage: String,
    /// The quota panel.
    pub quota: QuotaPanel,
    /// An operation is running.
    pub busy: bool,
    /// Why the service refused the request just sent (409: another operation runs); the typed values stay.
    pub refused: String,
}

async fn load(
    state: &AppState,
    access: &TenantAccess,
    name: &str,
) -> AppResult<(Cluster, SpecRules, bool)> {
    let mut conn = state.db.acquire().await?;
    let cluster = repo::get_by_name(&mut conn, access.tenant.id, name).await?;
    let rules = service::spec_rules(&mut conn)
        .await?
        .with_production(cluster.production);
    // A waiting (or stalled) operation does not stand in the way: these changes supersede it.
    let busy = crate::operations::repo::active_for_cluster(&mut conn, cluster.id)
        .await?
        .is_some_and(|op| op.state != crate::operations::model::OperationState::Waiting);
    Ok((cluster, rules, busy))
}

fn parse_u32(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<u32> {
    match raw.trim().parse::<u32>() {
        Ok(v) => Some(v),
        Err(_) if raw.trim().is_empty() => {
            errors.add(field, "Enter a number");
            None
        }
        Err(_) => {
            errors.add(field, "Enter a whole number");
            None
        }
    }
}

/// The requested change: the next spec when valid, the errors, and the totals for the preview (read
/// leniently so the preview shows even when the values are refused).
fn evaluate(
    action: SizeAction,
    cluster: &Cluster,
    rules: &SpecRules,
    form: &SizeForm,
) -> (
    Option<ClusterSpec>,
    FieldErrors,
    Resources,
    Option<(u32, NodeSetSize)>,
) {
    let mut errors = FieldErrors::new();
    let mut lenient = cluster.spec.clone();
    let index = cluster
        .spec
        .node_sets
        .iter()
        .position(|s| s.name.as_str() == form.node_set);
    let parsed = match action {
        SizeAction::Scale => parse_u32(&mut errors, "count", &form.count).map(|count| {
            if let Some(i) = index {
                lenient.node_sets[i].count = count;
            }
            (
                count,
                NodeSetSize::of(&cluster.spec.node_sets[index.unwrap_or(0)]),
            )
        }),
        SizeAction::Resize => {
            let cpu = size_fields::read_cpu(&form.cpu_cores, &rules.bounds);
            let mut memory = size_fields::read_memory(&form.memory_gib, &rules.bounds);
            // An amount of MiB the GiB field can only show rounded stays exact while left alone.
            if let Some(now) = index.map(|i| cluster.spec.node_sets[i].memory_mib)
                && form.memory_gib.trim() == units::gib_input(i64::from(now))
            {
                memory = size_fields::Reading {
                    value: Some(now),
                    error: None,
                };
            }
            for (field, reading) in [("cpu_cores", &cpu), ("memory_gib", &memory)] {
                if let Some(message) = &reading.error {
                    errors.add(field, message.clone());
                }
            }
            let storage = parse_u32(&mut errors, "storage_gib", &form.storage_gib);
            if let (Some(i), Some(c)) = (index, cpu.value) {
                lenient.node_sets[i].cpu_millis = c;
            }
            if let (Some(i), Some(m)) = (index, memory.value) {
                lenient.node_sets[i].memory_mib = m;
            }
            let (cpu, memory) = (cpu.accepted(), memory.accepted());
            if let (Some(i), Some(s)) = (index, storage) {
                lenient.node_sets[i].storage_gib = s;
            }
            match (cpu, memory, storage) {
                (Some(cpu_millis), Some(memory_mib), Some(storage_gib)) => Some((
                    0,
                    NodeSetSize {
                        cpu_millis,
                        memory_mib,
                        storage_gib,
                    },
                )),
                _ => None,
            }
        }
    };
    let next = match (parsed, errors.is_empty()) {
        (Some((count, size)), true) => {
            let result = match action {
                SizeAction::Scale => spec::scaled(&cluster.spec, rules, &form.node_set, count),
                SizeAction::Resize => spec::resized(&cluster.spec, rules, &form.node_set, size),
            };
            match result {
                Ok(next) => Some(next),
                Err(e) => {
                    errors = size_fields::merge(errors, e, &rules.bounds);
                    None
                }
            }
        }
        _ => None,
    };
    let totals = next.as_ref().unwrap_or(&lenient).resources();
    (next, errors, totals, parsed)
}

fn size_label(s: &crate::spec::NodeSetSpec) -> String {
    format!(
        "{} node{} of {}, {}, {}",
        s.count,
        if s.count == 1 { "" } else { "s" },
        units::cpu(i64::from(s.cpu_millis)),
        units::memory(i64::from(s.memory_mib)),
        units::storage(i64::from(s.storage_gib))
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "one page, assembled from its parts"
)]
async fn render_size(
    state: &AppState,
    access: &TenantAccess,
    action: SizeAction,
    cluster: &Cluster,
    busy: bool,
    form: SizeForm,
    errors: FieldErrors,
    totals: Resources,
    service_quota: Vec<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let refused = if status == StatusCode::CONFLICT {
        service_quota.join(" ")
    } else {
        String::new()
    };
    let service_quota = if status == StatusCode::CONFLICT {
        vec![]
    } else {
        service_quota
    };
    let slug = access.tenant.slug.to_string();
    let mut conn = state.db.acquire().await?;
    let mut panel =
        quota_view::preview(&mut conn, access.tenant.id, totals, Some(cluster.id)).await?;
    drop(conn);
    panel.service_messages = service_quota;
    let messages = quota_view::field_messages(&panel, |d| match (action, d) {
        (_, QuotaDimension::Clusters) => vec![],
        (SizeAction::Scale, _) => vec!["count".into()],
        (SizeAction::Resize, QuotaDimension::CpuMillis) => vec!["cpu_cores".into()],
        (SizeAction::Resize, QuotaDimension::MemoryMib) => vec!["memory_gib".into()],
        (SizeAction::Resize, QuotaDimension::StorageGib) => vec!["storage_gib".into()],
        (SizeAction::Resize, QuotaDimension::Nodes) => vec![],
    });
    let e = |f: &str| errors.get(f).unwrap_or_default().to_owned();
    let q = |f: &str| messages.get(f).cloned().unwrap_or_default();
    let known = [
        "node_set",
        "count",
        "cpu_cores",
        "memory_gib",
        "storage_gib",
    ];
    let current = cluster
        .spec
        .node_set(&form.node_set)
        .map(size_label)
        .unwrap_or_default();
    let title = match action {
        SizeAction::Scale => format!("Scale {}", cluster.name),
        SizeAction::Resize => format!("Resize {}", cluster.name),
    };
    let page = SizePage {
        layout: nav::layout_for(state, &access.user, &title, Some(&slug)).await?,
        name: cluster.name.clone(),
        scale: action == SizeAction::Scale,
        node_sets: cluster
            .spec
            .node_sets
            .iter()
            .map(|s| NodeSetChoice {
                name: s.name.to_string(),
                label: size_label(s),
                selected: s.name.as_str() == form.node_set,
            })
            .collect(),
        current,
        err_node_set: e("node_set"),
        err_count: e("count"),
        err_cpu: e("cpu_cores"),
        err_memory: e("memory_gib"),
        err_storage: e("storage_gib"),
        err_other: errors
            .0
            .iter()
            .filter(|x| !known.contains(&x.field.as_str()))
            .map(|x| x.message.clone())
            .collect(),
        q_count: q("count"),
        q_cpu: q("cpu_cores"),
        q_memory: q("memory_gib"),
        q_storage: q("storage_gib"),
        quota: panel,
        busy,
        refused,
        form,
        slug,
    };
    Ok((status, page).into_response())
}

async fn size_page(
    state: AppState,
    access: TenantAccess,
    action: SizeAction,
    name: String,
    query: NodeSetQuery,
) -> AppResult<Response> {
    require_change(&access)?;
    let (cluster, rules, busy) = load(&state, &access, &name).await?;
    let set = query
        .node_set
        .as_deref()
        .and_then(|n| cluster.spec.node_set(n))
        .or(cluster.spec.node_sets.first())
        .ok_or(AppError::NotFound)?;
    let form = SizeForm {
        node_set: set.name.to_string(),
        count: set.count.to_string(),
        cpu_cores: units::cores_input(i64::from(set.cpu_millis)),
        memory_gib: units::gib_input(i64::from(set.memory_mib)),
        storage_gib: set.storage_gib.to_string(),
        step: String::new(),
    };
    let (_, _, totals, _) = evaluate(action, &cluster, &rules, &form);
    render_size(
        &state,
        &access,
        action,
        &cluster,
        busy,
        form,
        FieldErrors::new(),
        totals,
        vec![],
        StatusCode::OK,
    )
    .await
}

async fn size_submit(
    state: AppState,
    access: TenantAccess,
    meta: RequestMeta,
    action: SizeAction,
    name: String,
    form: SizeForm,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    if form.step != "confirm" {
        require_change(&access)?;
    }
    let (cluster, rules, busy) = load(&state, &access, &name).await?;
    let (_next, errors, totals, parsed) = evaluate(action, &cluster, &rules, &form);
    if form.step != "confirm" {
        return render_size(
            &state,
            &access,
            action,
            &cluster,
            busy,
            form,
            errors,
            totals,
            vec![],
            StatusCode::OK,
        )
        .await;
    }
    let Some((count, size)) = parsed else {
        require_change(&access)?;
        return render_size(
            &state,
            &access,
            action,
            &cluster,
            busy,
            form,
            errors,
            totals,
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let caller = caller(&access, meta);
    let result = match action {
        SizeAction::Scale => service::scale(&state, &caller, &name, &form.node_set, count)
            .await
            .map(|_| {
                format!(
                    "Scaling node set {} to {count} node{}.",
                    form.node_set,
                    if count == 1 { "" } else { "s" }
                )
            }),
        SizeAction::Resize => service::resize(&state, &caller, &name, &form.node_set, size.into())
            .await
            .map(|_| {
                format!(
                    "Resizing node set {} to {}, {}, {} per node.",
                    form.node_set,
                    units::cpu(i64::from(size.cpu_millis)),
                    units::memory(i64::from(size.memory_mib)),
                    units::storage(i64::from(size.storage_gib))
                )
            }),
    };
    let response = match result {
        Ok(message) => Ok(flash::redirect(
            &cluster_path(&slug, &name),
            FlashKind::Success,
            message,
        )),
        Err(AppError::Validation(errors)) => {
            let (errors, quota) = quota_view::split_quota_errors(errors);
            let errors = size_fields::merge(FieldErrors::new(), errors, &rules.bounds);
            render_size(
                &state,
                &access,
                action,
                &cluster,
                busy,
                form,
                errors,
                totals,
                quota,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        // Refused because another operation runs: the same page again with what was typed and why, not a
        // redirect that would throw the values away.
        Err(AppError::Conflict(message)) => {
            let (cluster, _, busy) = load(&state, &access, &name).await?;
            render_size(
                &state,
                &access,
                action,
                &cluster,
                busy,
                form,
                FieldErrors::new(),
                totals,
                vec![message],
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    };
    conflict_to_flash(response, &slug, &name)
}

/// `GET /t/{tenant}/clusters/{name}/scale[?node_set=]`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn scale_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
    Query(query): Query<NodeSetQuery>,
) -> AppResult<Response> {
    size_page(state, access, SizeAction::Scale, name, query).await
}

/// `POST /t/{tenant}/clusters/{name}/scale`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn scale(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
    Form(form): Form<SizeForm>,
) -> AppResult<Response> {
    size_submit(state, access, meta, SizeAction::Scale, name, form).await
}

/// `GET /t/{tenant}/clusters/{name}/resize[?node_set=]`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn resize_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
    Query(query): Query<NodeSetQuery>,
) -> AppResult<Response> {
    size_page(state, access, SizeAction::Resize, name, query).await
}

/// `POST /t/{tenant}/clusters/{name}/resize`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn resize(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
    Form(form): Form<SizeForm>,
) -> AppResult<Response> {
    size_submit(state, access, meta, SizeAction::Resize, name, form).await
}

/// The upgrade form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UpgradeForm {
    /// Target version.
    #[serde(default)]
    pub version: String,
}

/// `templates/clusters/upgrade.html`.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/upgrade.html")]
pub struct UpgradePage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Cluster name.
    pub name: String,
    /// Current version.
    pub current: String,
    /// Offered targets, newest first, with `selected`.
    pub targets: Vec<(String, bool)>,
    /// Message at the version.
    pub err_version: String,
    /// An operation is running.
    pub busy: bool,
}

/// The versions `from` may be upgraded to: offered, newer, at most one major ahead; newest first.
pub fn upgrade_targets(from: &EsVersion, rules: &SpecRules) -> Vec<EsVersion> {
    let mut targets: Vec<EsVersion> = rules
        .allowed_versions
        .iter()
        .filter(|v| *v > from && is_upgrade_allowed(from, v))
        .copied()
        .collect();
    targets.sort();
    targets.reverse();
    targets
}

#[expect(
    clippy::too_many_arguments,
    reason = "one page, assembled from its parts"
)]
async fn render_upgrade(
    state: &AppState,
    access: &TenantAccess,
    cluster: &Cluster,
    rules: &SpecRules,
    busy: bool,
    chosen: &str,
    err_version: String,
    status: StatusCode,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let targets = upgrade_targets(&cluster.spec.version, rules);
    let page = UpgradePage {
        layout: nav::layout_for(
            state,
            &access.user,
            &format!("Upgrade {}", cluster.name),
            Some(&slug),
        )
        .await?,
        name: cluster.name.clone(),
        current: cluster.spec.version.to_string(),
        targets: targets
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let s = v.to_string();
                let selected = if chosen.is_empty() {
                    i == 0
                } else {
                    s == chosen
                };
                (s, selected)
            })
            .collect(),
        err_version,
        busy,
        slug,
    };
    Ok((status, page).into_response())
}

/// `GET /t/{tenant}/clusters/{name}/upgrade`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn upgrade_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
) -> AppResult<Response> {
    require_change(&access)?;
    let (cluster, rules, busy) = load(&state, &access, &name).await?;
    render_upgrade(
        &state,
        &access,
        &cluster,
        &rules,
        busy,
        "",
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /t/{tenant}/clusters/{name}/upgrade`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn upgrade(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
    Form(form): Form<UpgradeForm>,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let result = service::upgrade(&state, &caller(&access, meta), &name, form.version.trim()).await;
    let response = match result {
        Ok(_) => Ok(flash::redirect(
            &cluster_path(&slug, &name),
            FlashKind::Success,
            format!(
                "Upgrading {name} to {}: nodes restart one at a time.",
                form.version.trim()
            ),
        )),
        Err(AppError::Validation(errors)) => {
            let (cluster, rules, busy) = load(&state, &access, &name).await?;
            let message = errors
                .0
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join(" ");
            render_upgrade(
                &state,
                &access,
                &cluster,
                &rules,
                busy,
                form.version.trim(),
                message,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    };
    conflict_to_flash(response, &slug, &name)
}
