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
use crate::clusters::presets;
use crate::clusters::service::{self, CreateRequest};
use crate::clusters::templates;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::tenants::quota::units;
use crate::web::clusters::form::{ClusterForm, FormAction};
use crate::web::clusters::format::{TextPart, inline_code};
use crate::web::clusters::quota_view::{self, QuotaPanel};
use crate::web::clusters::spec_form::{
    self, FormTarget, FormView, QuotaFragment, build_view, field_quota_messages, raise_href,
};
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
    /// Description, with `code` marked by backticks shown as code.
    pub description: Vec<TextPart>,
    /// `3 nodes · 3.5 cores · 7 GiB memory · 30 GiB storage`.
    pub summary: String,
    /// The one the form uses.
    pub chosen: bool,
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

fn template_cards(chosen: Option<&str>) -> Vec<TemplateCard> {
    templates::templates()
        .into_iter()
        .map(|t| {
            let r = t.spec.resources();
            TemplateCard {
                id: t.id,
                title: t.title,
                description: inline_code(t.description),
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
    panel.set_service_messages(service_quota);
    panel.mark_placed(&field_quota_messages(&form, &panel, &errors));
    panel.raise_href = raise_href(access);
    let template = templates::template(&form.template);
    let production = FormTarget::New.production(&form);
    let page = NewPage {
        layout: nav::layout_for(state, &access.user, "Request a cluster", Some(&slug)).await?,
        templates: template_cards(template.as_ref().map(|t| t.id)),
        view: Some(build_view(form, &errors, &panel, &rules, production)),
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
        FormAction::Preset(i, id) => {
            require_change(&access)?;
            let mut conn = state.db.acquire().await?;
            let rules = service::spec_rules(&mut conn).await?;
            drop(conn);
            if let Some(preset) = presets::preset(id, &rules.bounds) {
                form.apply_preset(i, &preset);
            }
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
            let errors = spec_form::check(&form, &rules, FormTarget::New);
            render(&state, &access, form, errors, vec![], StatusCode::OK).await
        }
        FormAction::Create => {
            let mut conn = state.db.acquire().await?;
            let rules = service::spec_rules(&mut conn).await?;
            drop(conn);
            let (input, form_errors) = form.to_input(&rules.bounds);
            if !form_errors.is_empty() {
                require_change(&access)?;
                let errors = spec_form::check(&form, &rules, FormTarget::New);
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
    let rules = service::spec_rules(&mut conn).await?;
    let mut panel =
        quota_view::preview(&mut conn, access.tenant.id, form.lenient_totals(), None).await?;
    drop(conn);
    let errors = spec_form::bound_errors(&form, &rules, FormTarget::New);
    panel.mark_placed(&field_quota_messages(&form, &panel, &errors));
    panel.raise_href = raise_href(&access);
    Ok(QuotaFragment {
        slots: spec_form::slots(&form, &panel, &errors),
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
