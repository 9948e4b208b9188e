//! The cluster request form: `GET /t/{tenant}/clusters/new` (template cards; `?template=<id>` opens the form
//! pre-filled from that template), `POST /t/{tenant}/clusters/new` (add or remove a node set, preview the
//! quota, or send the request) and `POST /t/{tenant}/clusters/new/preview` (the quota panel alone, with
//! out-of-band updates of the messages beside the fields; htmx calls it while the user types).
//!
//! The quota effect (usage now, this request's change, headroom after) is shown before submitting, and a
//! limit the request would exceed is named beside the fields that drive it. Invalid input comes back (422)
//! with the user's values kept and each message beside its field. Success redirects to the dashboard.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;

use crate::auth::TenantAccess;
use crate::clusters::service::{self, CreateRequest};
use crate::clusters::spec::{self, ClusterName, NodeRole, SpecRules};
use crate::clusters::templates::{self, Template as ClusterTemplate};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::tenants::quota::QuotaDimension;
use crate::tenants::quota::units;
use crate::web::clusters::form::{ClusterForm, FormAction, NodeSetFields};
use crate::web::clusters::quota_view::{self, QuotaPanel};
use crate::web::clusters::{caller, cluster_path, require_change, size_fields};
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;

/// `?template=<id>`.
#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    /// Template id.
    #[serde(default)]
    pub template: Option<String>,
}

/// A template as a card.
#[derive(Debug, Clone)]
pub struct TemplateCard {
    /// Id.
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// Description.
    pub description: &'static str,
    /// `3 nodes · 3.5 cores · 7 GiB memory · 30 GiB storage`.
    pub summary: String,
    /// The one the form uses.
    pub chosen: bool,
}

/// A checkbox of a role.
#[derive(Debug, Clone)]
pub struct RoleOption {
    /// Role name.
    pub value: &'static str,
    /// Checked.
    pub checked: bool,
}

/// One node set of the form with its messages (empty: none).
#[derive(Debug, Clone)]
pub struct NodeSetView {
    /// Index in the form.
    pub index: usize,
    /// The values as typed.
    pub f: NodeSetFields,
    /// Role checkboxes.
    pub roles: Vec<RoleOption>,
    /// Messages by field.
    pub err_name: String,
    /// Roles message.
    pub err_roles: String,
    /// Count message.
    pub err_count: String,
    /// CPU message.
    pub err_cpu: String,
    /// Memory message.
    pub err_memory: String,
    /// Storage message.
    pub err_storage: String,
    /// Storage class message.
    pub err_storage_class: String,
    /// Attributes message.
    pub err_attributes: String,
    /// Quota message at the count.
    pub q_count: String,
    /// Quota message at the CPU.
    pub q_cpu: String,
    /// Quota message at the memory.
    pub q_memory: String,
    /// Quota message at the storage.
    pub q_storage: String,
}

/// A version choice.
#[derive(Debug, Clone)]
pub struct VersionOption {
    /// `9.2.1`.
    pub value: String,
    /// Selected.
    pub selected: bool,
}

/// A quota message slot, for htmx's out-of-band update.
#[derive(Debug, Clone)]
pub struct Slot {
    /// Element id.
    pub id: String,
    /// Message (empty hides it).
    pub message: String,
}

/// One entry of the error summary: a link to the field and its message.
#[derive(Debug, Clone)]
pub struct SummaryItem {
    /// `Node set 1 (data): count`.
    pub label: String,
    /// `#f-node_sets-0-count`.
    pub href: String,
    /// The message.
    pub message: String,
}

/// The element id of a field's input (`f-node_sets-0-count`).
pub fn field_id(field: &str) -> String {
    format!("f-{}", field.replace('.', "-"))
}

fn summary_item(field: &str, message: &str, form: &ClusterForm) -> SummaryItem {
    let label_of = |f: &str| {
        match f {
            "count" => "count",
            "cpu_cores" => "CPU",
            "memory_gib" => "memory",
            "storage_gib" => "storage",
            "storage_class" => "storage class",
            "attributes" => "attributes",
            "roles" => "roles",
            "name" => "name",
            other => other,
        }
        .to_owned()
    };
    let (label, href) = match field.split('.').collect::<Vec<_>>().as_slice() {
        ["node_sets", i, f] => {
            let n = i.parse::<usize>().unwrap_or(0);
            let set_name = form.node_sets.get(n).map(|s| s.name.trim()).unwrap_or("");
            let set = if set_name.is_empty() {
                format!("Node set {}", n + 1)
            } else {
                format!("Node set {} ({set_name})", n + 1)
            };
            let href = if *f == "roles" {
                format!("#roles-{n}")
            } else {
                format!("#{}", field_id(field))
            };
            (format!("{set}: {}", label_of(f)), href)
        }
        ["node_sets"] => ("Node sets".to_owned(), "#node-sets".to_owned()),
        ["kibana", f] => (
            format!("Kibana: {}", label_of(f)),
            format!("#{}", field_id(field)),
        ),
        ["name"] => ("Name".to_owned(), "#f-name".to_owned()),
        ["version"] => ("Version".to_owned(), "#f-version".to_owned()),
        ["template"] => ("Template".to_owned(), "#templates".to_owned()),
        _ => (field.to_owned(), "#cluster-form".to_owned()),
    };
    SummaryItem {
        label,
        href,
        message: message.to_owned(),
    }
}

/// Everything the form template shows.
#[derive(Debug, Clone)]
pub struct FormView {
    /// Values as typed.
    pub form: ClusterForm,
    /// Offered versions.
    pub versions: Vec<VersionOption>,
    /// Node sets.
    pub node_sets: Vec<NodeSetView>,
    /// Messages at the top-level fields.
    pub err_name: String,
    /// Version message.
    pub err_version: String,
    /// Template message.
    pub err_template: String,
    /// Topology message (`node_sets`).
    pub err_node_sets: String,
    /// Kibana count message.
    pub err_kibana_count: String,
    /// Kibana CPU message.
    pub err_kibana_cpu: String,
    /// Kibana memory message.
    pub err_kibana_memory: String,
    /// Quota message at the name (cluster count).
    pub q_name: String,
    /// Quota message at Kibana's CPU.
    pub q_kibana_cpu: String,
    /// Quota message at Kibana's memory.
    pub q_kibana_memory: String,
    /// Every error, for the summary at the top.
    pub summary: Vec<SummaryItem>,
    /// Another node set may be added.
    pub can_add: bool,
    /// Production rules apply (odd number of masters).
    pub production: bool,
}

/// `templates/clusters/new.html`.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/new.html")]
pub struct NewPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Template cards.
    pub templates: Vec<TemplateCard>,
    /// The form, once a template was chosen.
    pub view: Option<FormView>,
    /// The quota panel.
    pub quota: QuotaPanel,
    /// Where htmx posts for a live preview.
    pub quota_url: String,
}

/// `templates/clusters/quota_fragment.html`: the panel plus out-of-band field messages.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/quota_fragment.html")]
pub struct QuotaFragment {
    /// The panel.
    pub quota: QuotaPanel,
    /// Field message slots.
    pub slots: Vec<Slot>,
}

fn template_cards(chosen: Option<&str>) -> Vec<TemplateCard> {
    templates::templates()
        .into_iter()
        .map(|t| {
            let r = t.spec.resources();
            TemplateCard {
                id: t.id,
                title: t.title,
                description: t.description,
                summary: format!(
                    "{} node{} · {} · {} memory · {} storage{}",
                    r.nodes,
                    if r.nodes == 1 { "" } else { "s" },
                    units::cpu(r.cpu_millis),
                    units::memory(r.memory_mib),
                    units::storage(r.storage_gib),
                    if t.spec.kibana.is_some() {
                        " · Kibana"
                    } else {
                        ""
                    }
                ),
                chosen: chosen == Some(t.id),
            }
        })
        .collect()
}

/// Which form fields carry a quota dimension's message.
fn quota_fields(form: &ClusterForm) -> impl Fn(QuotaDimension) -> Vec<String> + '_ {
    move |d| {
        let per_set = |f: &str| -> Vec<String> {
            (0..form.node_sets.len())
                .map(|i| format!("node_sets.{i}.{f}"))
                .collect()
        };
        match d {
            QuotaDimension::Clusters => vec!["name".into()],
            QuotaDimension::Nodes => per_set("count"),
            QuotaDimension::CpuMillis => {
                let mut v = per_set("cpu_cores");
                if form.kibana_enabled {
                    v.push("kibana.cpu_cores".into());
                }
                v
            }
            QuotaDimension::MemoryMib => {
                let mut v = per_set("memory_gib");
                if form.kibana_enabled {
                    v.push("kibana.memory_gib".into());
                }
                v
            }
            QuotaDimension::StorageGib => per_set("storage_gib"),
        }
    }
}

/// Every quota slot of the form with its message.
fn slots(form: &ClusterForm, panel: &QuotaPanel) -> Vec<Slot> {
    let messages = quota_view::field_messages(panel, quota_fields(form));
    let mut fields = vec!["name".to_owned()];
    for i in 0..form.node_sets.len() {
        for f in ["count", "cpu_cores", "memory_gib", "storage_gib"] {
            fields.push(format!("node_sets.{i}.{f}"));
        }
    }
    fields.push("kibana.cpu_cores".into());
    fields.push("kibana.memory_gib".into());
    fields
        .into_iter()
        .map(|f| Slot {
            id: slot_id(&f),
            message: messages.get(&f).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The element id of a field's quota message.
pub fn slot_id(field: &str) -> String {
    format!("q-{}", field.replace('.', "-"))
}

fn build_view(
    form: ClusterForm,
    errors: &FieldErrors,
    panel: &QuotaPanel,
    rules: &SpecRules,
    template: Option<&ClusterTemplate>,
) -> FormView {
    let messages = quota_view::field_messages(panel, quota_fields(&form));
    let e = |f: &str| errors.get(f).unwrap_or_default().to_owned();
    let q = |f: &str| messages.get(f).cloned().unwrap_or_default();
    let mut versions: Vec<VersionOption> = rules
        .allowed_versions
        .iter()
        .rev()
        .map(|v| VersionOption {
            value: v.to_string(),
            selected: v.to_string() == form.version.trim(),
        })
        .collect();
    if !form.version.trim().is_empty() && !versions.iter().any(|v| v.selected) {
        // Keep what was sent visible (it will carry an error).
        versions.push(VersionOption {
            value: form.version.trim().to_owned(),
            selected: true,
        });
    }
    let node_sets = form
        .node_sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let p = |f: &str| format!("node_sets.{i}.{f}");
            NodeSetView {
                index: i,
                roles: NodeRole::ALL
                    .iter()
                    .map(|r| RoleOption {
                        value: r.as_str(),
                        checked: s.roles.iter().any(|x| x == r.as_str()),
                    })
                    .collect(),
                f: s.clone(),
                err_name: e(&p("name")),
                err_roles: e(&p("roles")),
                err_count: e(&p("count")),
                err_cpu: e(&p("cpu_cores")),
                err_memory: e(&p("memory_gib")),
                err_storage: e(&p("storage_gib")),
                err_storage_class: e(&p("storage_class")),
                err_attributes: e(&p("attributes")),
                q_count: q(&p("count")),
                q_cpu: q(&p("cpu_cores")),
                q_memory: q(&p("memory_gib")),
                q_storage: q(&p("storage_gib")),
            }
        })
        .collect();
    let summary = errors
        .0
        .iter()
        .map(|e| summary_item(&e.field, &e.message, &form))
        .collect();
    FormView {
        versions,
        node_sets,
        err_name: e("name"),
        err_version: e("version"),
        err_template: e("template"),
        err_node_sets: e("node_sets"),
        err_kibana_count: e("kibana.count"),
        err_kibana_cpu: e("kibana.cpu_cores"),
        err_kibana_memory: e("kibana.memory_gib"),
        q_name: q("name"),
        q_kibana_cpu: q("kibana.cpu_cores"),
        q_kibana_memory: q("kibana.memory_gib"),
        summary,
        can_add: form.node_sets.len() < rules.bounds.max_node_sets as usize,
        production: template.is_none_or(|t| t.production),
        form,
    }
}

/// Render the form page.
async fn render(
    state: &AppState,
    access: &TenantAccess,
    form: ClusterForm,
    errors: FieldErrors,
    service_quota: Vec<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let mut conn = state.db.acquire().await?;
    let rules = service::spec_rules(&mut conn).await?;
    let mut panel =
        quota_view::preview(&mut conn, access.tenant.id, form.lenient_totals(), None).await?;
    drop(conn);
    panel.service_messages = service_quota;
    let template = templates::template(&form.template);
    let page = NewPage {
        layout: nav::layout_for(state, &access.user, "Request a cluster", Some(&slug)).await?,
        templates: template_cards(template.as_ref().map(|t| t.id)),
        view: Some(build_view(form, &errors, &panel, &rules, template.as_ref())),
        quota: panel,
        quota_url: format!("/t/{slug}/clusters/new/preview"),
        slug,
    };
    Ok((status, page).into_response())
}

/// `GET /t/{tenant}/clusters/new[?template=<id>]`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug))]
pub async fn new_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Query(query): Query<NewQuery>,
) -> AppResult<Response> {
    require_change(&access)?;
    let chosen = query.template.as_deref().and_then(templates::template);
    let Some(template) = chosen else {
        let slug = access.tenant.slug.to_string();
        let page = NewPage {
            layout: nav::layout_for(&state, &access.user, "Request a cluster", Some(&slug)).await?,
            templates: template_cards(None),
            view: None,
            quota: QuotaPanel::default(),
            quota_url: String::new(),
            slug,
        };
        return Ok(page.into_response());
    };
    let mut conn = state.db.acquire().await?;
    let rules = service::spec_rules(&mut conn).await?;
    drop(conn);
    let form = ClusterForm::from_template(&template, &rules);
    render(
        &state,
        &access,
        form,
        FieldErrors::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// Validation errors the form can find without writing (name, spec, sizes, attributes), on the form's
/// fields.
fn check(form: &ClusterForm, rules: &SpecRules) -> FieldErrors {
    let (input, own) = form.to_input(&rules.bounds);
    let mut errors = FieldErrors::new();
    if let Err(m) = ClusterName::parse(&form.name) {
        errors.add("name", m);
    }
    let production = templates::template(&form.template).is_none_or(|t| t.production);
    if let Err(e) = spec::validate(&input, &rules.clone().with_production(production), None) {
        errors.0.extend(e.0);
    }
    size_fields::merge(own, errors, &rules.bounds)
}

/// `POST /t/{tenant}/clusters/new`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug))]
pub async fn submit(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (mut form, action) = ClusterForm::parse(&pairs);
    match action {
        FormAction::AddNodeSet => {
            require_change(&access)?;
            form.add_node_set();
            render(
                &state,
                &access,
                form,
                FieldErrors::new(),
                vec![],
                StatusCode::OK,
            )
            .await
        }
        FormAction::RemoveNodeSet(i) => {
            require_change(&access)?;
            form.remove_node_set(i);
            render(
                &state,
                &access,
                form,
                FieldErrors::new(),
                vec![],
                StatusCode::OK,
            )
            .await
        }
        FormAction::Preview => {
            require_change(&access)?;
            let mut conn = state.db.acquire().await?;
            let rules = service::spec_rules(&mut conn).await?;
            drop(conn);
            let errors = check(&form, &rules);
            render(&state, &access, form, errors, vec![], StatusCode::OK).await
        }
        FormAction::Create => {
            let mut conn = state.db.acquire().await?;
            let rules = service::spec_rules(&mut conn).await?;
            drop(conn);
            let (input, form_errors) = form.to_input(&rules.bounds);
            if !form_errors.is_empty() {
                require_change(&access)?;
                let errors = check(&form, &rules);
                return render(
                    &state,
                    &access,
                    form,
                    errors,
                    vec![],
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            let request = CreateRequest {
                name: form.name.clone(),
                template: Some(form.template.clone()).filter(|t| !t.is_empty()),
                spec: Some(input),
            };
            match service::create(&state, &caller(&access, meta), &request).await {
                Ok((cluster, _op)) => {
                    let slug = access.tenant.slug.to_string();
                    Ok(flash::redirect(
                        &cluster_path(&slug, &cluster.name),
                        FlashKind::Success,
                        requested_message(&cluster.name, cluster.resources.nodes),
                    ))
                }
                Err(AppError::Validation(errors)) => {
                    let (errors, quota) = quota_view::split_quota_errors(errors);
                    let errors = size_fields::merge(FieldErrors::new(), errors, &rules.bounds);
                    render(
                        &state,
                        &access,
                        form,
                        errors,
                        quota,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// `POST /t/{tenant}/clusters/new/preview`: the quota panel for the submitted values (htmx).
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug))]
pub async fn preview(
    State(state): State<AppState>,
    access: TenantAccess,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<QuotaFragment> {
    require_change(&access)?;
    let (form, _) = ClusterForm::parse(&pairs);
    let mut conn = state.db.acquire().await?;
    let panel =
        quota_view::preview(&mut conn, access.tenant.id, form.lenient_totals(), None).await?;
    Ok(QuotaFragment {
        slots: slots(&form, &panel),
        quota: panel,
    })
}

/// The flash after a request: "Cluster logs requested: 1 node is being created." / "3 nodes are ...".
fn requested_message(name: &str, nodes: i64) -> String {
    if nodes == 1 {
        format!("Cluster {name} requested: 1 node is being created.")
    } else {
        format!("Cluster {name} requested: {nodes} nodes are being created.")
    }
}

#[cfg(test)]
mod tests {
    use super::requested_message;

    #[test]
    fn the_requested_flash_agrees_with_its_count() {
        assert_eq!(
            requested_message("logs", 1),
            "Cluster logs requested: 1 node is being created."
        );
        assert_eq!(
            requested_message("logs", 3),
            "Cluster logs requested: 3 nodes are being created."
        );
    }
}
