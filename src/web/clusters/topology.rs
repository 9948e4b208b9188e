//! The topology form of an existing cluster: `GET /t/{tenant}/clusters/{name}/topology` (its node sets and
//! Kibana as the request form shows them), `POST` to the same path (add or remove a node set, a preset size,
//! preview the quota, or apply) and `POST .../topology/preview` (the quota fragment htmx swaps in while the
//! user types). Applying sends a `reconfigure` through the request service: the complete new list of node
//! sets and Kibana (on, off or resized), validated as a change of the current spec (a node set keeps its
//! storage class, storage only grows), with the quota checked for the cluster's new totals. Scaling or
//! resizing one node set stays on its own page; the version on the upgrade page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::auth::TenantAccess;
use crate::clusters::repo::{self, Cluster};
use crate::clusters::{presets, service};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::spec::SpecPatch;
use crate::state::AppState;
use crate::web::clusters::form::{ClusterForm, FormAction};
use crate::web::clusters::quota_view::{self, QuotaPanel};
use crate::web::clusters::spec_form::{
    self, FormTarget, FormView, QuotaFragment, build_view, field_quota_messages, raise_href,
};
use crate::web::clusters::{caller, cluster_path, conflict_to_flash, require_change, size_fields};
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;

/// `templates/clusters/topology.html`.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/topology.html")]
pub struct TopologyPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Cluster name.
    pub name: String,
    /// The form.
    pub v: FormView,
    /// The quota panel (the cluster's new totals against the tenant's usage without it).
    pub quota: QuotaPanel,
    /// Where htmx posts for a live preview.
    pub quota_url: String,
    /// Where the form posts.
    pub action_url: String,
}

async fn load(state: &AppState, access: &TenantAccess, name: &str) -> AppResult<Cluster> {
    let mut conn = state.db.acquire().await?;
    let cluster = repo::get_by_name(&mut conn, access.tenant.id, name).await?;
    if cluster.deleting {
        return Err(AppError::Conflict("This cluster is being deleted.".into()));
    }
    Ok(cluster)
}

async fn render(
    state: &AppState,
    access: &TenantAccess,
    cluster: &Cluster,
    form: ClusterForm,
    errors: FieldErrors,
    service_quota: Vec<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let mut conn = state.db.acquire().await?;
    let rules = service::spec_rules(&mut conn).await?;
    let mut panel = quota_view::preview(
        &mut conn,
        access.tenant.id,
        form.lenient_totals(),
        Some(cluster.id),
    )
    .await?;
    drop(conn);
    panel.set_service_messages(service_quota);
    panel.mark_placed(&field_quota_messages(&form, &panel, &errors));
    panel.raise_href = raise_href(access);
    let mut v = build_view(form, &errors, &panel, &rules, cluster.production);
    v.first_section = 1;
    let base = cluster_path(&slug, &cluster.name);
    let page = TopologyPage {
        layout: nav::layout_for(
            state,
            &access.user,
            &format!("Node sets of {}", cluster.name),
            Some(&slug),
        )
        .await?,
        name: cluster.name.clone(),
        v,
        quota: panel,
        quota_url: format!("{base}/topology/preview"),
        action_url: format!("{base}/topology"),
        slug,
    };
    Ok((status, page).into_response())
}

/// `GET /t/{tenant}/clusters/{name}/topology`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn topology_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
) -> AppResult<Response> {
    require_change(&access)?;
    let slug = access.tenant.slug.to_string();
    let cluster = match load(&state, &access, &name).await {
        Err(AppError::Conflict(m)) => {
            return Ok(flash::redirect(
                &cluster_path(&slug, &name),
                FlashKind::Error,
                m,
            ));
        }
        other => other?,
    };
    let form = ClusterForm::from_spec(&cluster.name, &cluster.spec);
    render(
        &state,
        &access,
        &cluster,
        form,
        FieldErrors::new(),
        vec![],
        StatusCode::OK,
    )
    .await
}

/// `POST /t/{tenant}/clusters/{name}/topology`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn submit(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let result = submit_inner(&state, &access, meta, &name, &pairs).await;
    conflict_to_flash(result, &slug, &name)
}

async fn submit_inner(
    state: &AppState,
    access: &TenantAccess,
    meta: RequestMeta,
    name: &str,
    pairs: &[(String, String)],
) -> AppResult<Response> {
    let cluster = load(state, access, name).await?;
    let (mut form, action) = ClusterForm::parse(pairs);
    form.name.clone_from(&cluster.name);
    form.version = cluster.spec.version.to_string();
    form.http_tls = cluster.spec.http_tls;
    let mut conn = state.db.acquire().await?;
    let rules = service::spec_rules(&mut conn)
        .await?
        .with_production(cluster.production);
    drop(conn);
    let redraw =
        |form, errors, status| render(state, access, &cluster, form, errors, vec![], status);
    match action {
        FormAction::AddNodeSet => {
            require_change(access)?;
            form.add_node_set();
            redraw(form, FieldErrors::new(), StatusCode::OK).await
        }
        FormAction::RemoveNodeSet(i) => {
            require_change(access)?;
            form.remove_node_set(i);
            redraw(form, FieldErrors::new(), StatusCode::OK).await
        }
        FormAction::Preset(i, id) => {
            require_change(access)?;
            if let Some(preset) = presets::preset(id, &rules.bounds) {
                form.apply_preset(i, &preset);
            }
            redraw(form, FieldErrors::new(), StatusCode::OK).await
        }
        FormAction::Preview => {
            require_change(access)?;
            let errors = spec_form::check(&form, &rules, FormTarget::Existing(&cluster));
            redraw(form, errors, StatusCode::OK).await
        }
        FormAction::Create => {
            let (input, form_errors) = form.to_input(&rules.bounds);
            if !form_errors.is_empty() {
                require_change(access)?;
                let errors = spec_form::check(&form, &rules, FormTarget::Existing(&cluster));
                return redraw(form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            let patch = SpecPatch {
                node_sets: Some(input.node_sets),
                kibana: Some(input.kibana),
                ..SpecPatch::default()
            };
            let caller = caller(access, meta);
            match service::reconfigure(state, &caller, &cluster.name, &patch).await {
                Ok(_op) => Ok(flash::redirect(
                    &cluster_path(access.tenant.slug.as_ref(), &cluster.name),
                    FlashKind::Success,
                    format!("Changing the node sets of {}.", cluster.name),
                )),
                Err(AppError::Validation(errors)) => {
                    let (errors, quota) = quota_view::split_quota_errors(errors);
                    let errors = size_fields::merge(FieldErrors::new(), errors, &rules.bounds);
                    render(
                        state,
                        access,
                        &cluster,
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

/// `POST /t/{tenant}/clusters/{name}/topology/preview`: the quota panel for the submitted values (htmx).
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn preview(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<QuotaFragment> {
    require_change(&access)?;
    let mut conn = state.db.acquire().await?;
    let cluster = repo::get_by_name(&mut conn, access.tenant.id, &name).await?;
    let rules = service::spec_rules(&mut conn)
        .await?
        .with_production(cluster.production);
    let (form, _) = ClusterForm::parse(&pairs);
    let mut panel = quota_view::preview(
        &mut conn,
        access.tenant.id,
        form.lenient_totals(),
        Some(cluster.id),
    )
    .await?;
    drop(conn);
    let errors = spec_form::bound_errors(&form, &rules, FormTarget::Existing(&cluster));
    panel.mark_placed(&field_quota_messages(&form, &panel, &errors));
    panel.raise_href = raise_href(&access);
    Ok(QuotaFragment {
        slots: spec_form::slots(&form, &panel, &errors),
        quota: panel,
    })
}
