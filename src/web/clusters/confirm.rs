//! The actions without sizes, each behind a confirmation page (`GET` explains, `POST` does it): rolling
//! restart (`/restart`), deletion protection on or off (`/protection`), delete (`/delete`, the user types
//! the cluster's name), cancel an unfinished operation (`/operations/{id}/cancel`). None shows a quota preview:
//! only a cancel can grow the usage (back to the spec from before), and the service checks that under the quota
//! lock and refuses with a message when it no longer fits.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::TenantAccess;
use crate::clusters::repo::{self, Cluster};
use crate::clusters::service;
use crate::error::{AppError, AppResult};
use crate::operations::model::OperationKind;
use crate::operations::repo as ops;
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::tenants::quota::units;
use crate::web::clusters::{caller, cluster_path, conflict_to_flash, format, require_change};
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;

/// `templates/clusters/confirm.html`.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/confirm.html")]
pub struct ConfirmPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Cluster name.
    pub name: String,
    /// Breadcrumb label of the action.
    pub action: String,
    /// Heading (a question).
    pub heading: String,
    /// What will happen.
    pub points: Vec<String>,
    /// Where the form posts.
    pub post_url: String,
    /// Hidden fields.
    pub hidden: Vec<(String, String)>,
    /// Confirm button text.
    pub button: String,
    /// A destructive action (red button).
    pub danger: bool,
    /// Ask for the cluster's name.
    pub type_name: bool,
    /// What was typed.
    pub typed: String,
    /// Message at the typed name.
    pub err_confirm: String,
    /// A warning above the form (empty: none).
    pub warning: String,
    /// What must be done first when the action cannot work now, as a link (the submit button is then
    /// disabled): `(url, label)`.
    pub blocked_until: Option<(String, String)>,
    /// A delete page of a protected cluster: no form at all, only the reason and the way out.
    pub protected: bool,
}

impl ConfirmPage {
    async fn new(
        state: &AppState,
        access: &TenantAccess,
        cluster: &Cluster,
        action: &str,
        heading: String,
        points: Vec<String>,
    ) -> AppResult<Self> {
        let slug = access.tenant.slug.to_string();
        Ok(Self {
            layout: nav::layout_for(state, &access.user, &heading, Some(&slug)).await?,
            post_url: format!("{}/{}", cluster_path(&slug, &cluster.name), action),
            name: cluster.name.clone(),
            action: action.to_owned(),
            heading,
            points,
            hidden: Vec::new(),
            button: String::new(),
            danger: false,
            type_name: false,
            typed: String::new(),
            err_confirm: String::new(),
            warning: String::new(),
            blocked_until: None,
            protected: false,
            slug,
        })
    }
}

/// The cluster and its unfinished operation, if any.
async fn load(
    state: &AppState,
    access: &TenantAccess,
    name: &str,
) -> AppResult<(Cluster, Option<ops::Operation>)> {
    let mut conn = state.db.acquire().await?;
    let cluster = repo::get_by_name(&mut conn, access.tenant.id, name).await?;
    let active = ops::active_for_cluster(&mut conn, cluster.id).await?;
    Ok((cluster, active))
}

/// Said before a restart of a one-node cluster.
pub const ONLY_NODE: &str = "This cluster has only one node: it is unavailable while that node restarts \
     (searches and indexing fail until the node is back, usually a minute or two).";

/// What a restart does, in words, for a cluster of `nodes` Elasticsearch nodes.
pub fn restart_points(nodes: i64) -> Vec<String> {
    let first = if nodes == 1 {
        "The only Elasticsearch node restarts: the cluster is unavailable until it is back, because no other \
         node can serve its data meanwhile."
            .to_owned()
    } else {
        format!(
            "All {nodes} Elasticsearch nodes restart, one at a time; the cluster stays available if its indices \
             have replicas."
        )
    };
    vec![
        first,
        "The spec does not change and neither does the quota usage.".into(),
    ]
}

/// `GET /t/{tenant}/clusters/{name}/restart`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn restart_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
) -> AppResult<Response> {
    require_change(&access)?;
    let (cluster, active) = load(&state, &access, &name).await?;
    let mut page = ConfirmPage::new(
        &state,
        &access,
        &cluster,
        "restart",
        format!("Restart {}?", cluster.name),
        restart_points(cluster.resources.nodes),
    )
    .await?;
    page.button = "Restart the cluster".into();
    if cluster.resources.nodes == 1 {
        page.warning = ONLY_NODE.into();
    }
    if let Some(op) = &active {
        // The service refuses a restart while anything is unfinished (409): say so, and offer no live button.
        page.warning = format!(
            "A {} operation is {} on this cluster: a restart is refused until it has finished.",
            op.kind, op.state
        );
        page.blocked_until = Some((
            format!(
                "{}#active-operation",
                cluster_path(&page.slug, &cluster.name)
            ),
            "See the running operation".into(),
        ));
    }
    Ok(page.into_response())
}

/// `POST /t/{tenant}/clusters/{name}/restart`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn restart(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let result = service::restart(&state, &caller(&access, meta), &name)
        .await
        .map(|_| {
            flash::redirect(
                &cluster_path(&slug, &name),
                FlashKind::Success,
                format!("Restarting {name}: nodes restart one at a time."),
            )
        });
    conflict_to_flash(result, &slug, &name)
}

/// The protection form.
#[derive(Debug, Default, Deserialize)]
pub struct ProtectionForm {
    /// `on` or `off`.
    #[serde(default)]
    pub protection: String,
}

/// `GET /t/{tenant}/clusters/{name}/protection`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn protection_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
) -> AppResult<Response> {
    require_change(&access)?;
    let (cluster, _) = load(&state, &access, &name).await?;
    let on = !cluster.deletion_protection;
    let (heading, points) = if on {
        (
            format!("Turn on deletion protection for {}?", cluster.name),
            vec![
                "While it is on, the cluster cannot be deleted, from the portal or the API."
                    .to_owned(),
            ],
        )
    } else {
        (
            format!("Turn off deletion protection for {}?", cluster.name),
            vec!["Afterwards, any member who may change clusters can delete this one.".to_owned()],
        )
    };
    let mut page =
        ConfirmPage::new(&state, &access, &cluster, "protection", heading, points).await?;
    page.hidden
        .push(("protection".into(), if on { "on" } else { "off" }.into()));
    page.button = if on {
        "Turn on deletion protection".into()
    } else {
        "Turn off deletion protection".into()
    };
    page.danger = !on;
    Ok(page.into_response())
}

/// `POST /t/{tenant}/clusters/{name}/protection`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn protection(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
    Form(form): Form<ProtectionForm>,
) -> AppResult<Response> {
    let on = match form.protection.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("protection must be on or off".into())),
    };
    let slug = access.tenant.slug.to_string();
    service::set_deletion_protection(&state, &caller(&access, meta), &name, on).await?;
    Ok(flash::redirect(
        &cluster_path(&slug, &name),
        FlashKind::Success,
        if on {
            "Deletion protection is on."
        } else {
            "Deletion protection is off."
        },
    ))
}

/// The delete form.
#[derive(Debug, Default, Deserialize)]
pub struct DeleteForm {
    /// The cluster's name, typed again.
    #[serde(default)]
    pub confirm_name: String,
}

async fn delete_confirm_page(
    state: &AppState,
    access: &TenantAccess,
    cluster: &Cluster,
    active: Option<&ops::Operation>,
) -> AppResult<ConfirmPage> {
    let r = &cluster.resources;
    let mut page = ConfirmPage::new(
        state,
        access,
        cluster,
        "delete",
        format!("Delete {}?", cluster.name),
        vec![
            "The Elasticsearch cluster, its Kibana and their data volumes are removed. This cannot be undone.".into(),
            format!(
                "It frees {} node{}, {}, {} memory and {} storage of your tenant's quota.",
                r.nodes,
                if r.nodes == 1 { "" } else { "s" },
                units::cpu(r.cpu_millis),
                units::memory(r.memory_mib),
                units::storage(r.storage_gib)
            ),
        ],
    )
    .await?;
    page.button = "Delete this cluster".into();
    page.danger = true;
    page.type_name = true;
    if cluster.deletion_protection {
        // No name field and no Delete button: the reason and the way to turn protection off instead.
        page.warning =
            "Deletion protection is on: this cluster cannot be deleted until it is turned off."
                .into();
        page.type_name = false;
        page.protected = true;
        page.blocked_until = Some((
            format!("{}/protection", cluster_path(&page.slug, &cluster.name)),
            "Turn off deletion protection…".into(),
        ));
    } else if let Some(op) = active {
        page.warning = format!(
            "A {} operation is {} on this cluster: deleting supersedes it (it ends cancelled, \"superseded by delete\").",
            op.kind, op.state
        );
    }
    Ok(page)
}

/// `GET /t/{tenant}/clusters/{name}/delete`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn delete_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
) -> AppResult<Response> {
    require_change(&access)?;
    let (cluster, active) = load(&state, &access, &name).await?;
    Ok(
        delete_confirm_page(&state, &access, &cluster, active.as_ref())
            .await?
            .into_response(),
    )
}

/// `POST /t/{tenant}/clusters/{name}/delete`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn delete(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let result = match service::delete(&state, &caller(&access, meta), &name, &form.confirm_name)
        .await
    {
        Ok(_) => Ok(flash::redirect(
            &cluster_path(&slug, &name),
            FlashKind::Success,
            format!("Deleting {name}: its objects are being removed."),
        )),
        Err(AppError::Validation(errors)) => {
            let (cluster, active) = load(&state, &access, &name).await?;
            let mut page = delete_confirm_page(&state, &access, &cluster, active.as_ref()).await?;
            page.typed = form.confirm_name.clone();
            page.err_confirm = errors
                .get("confirm_name")
                .map_or_else(|| errors.to_string(), str::to_owned);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    };
    conflict_to_flash(result, &slug, &name)
}

/// Load a tenant's operation and check it belongs to the named cluster (404 otherwise).
async fn load_operation(
    state: &AppState,
    access: &TenantAccess,
    name: &str,
    id: &str,
) -> AppResult<(Cluster, ops::Operation)> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let mut conn = state.db.acquire().await?;
    let cluster = repo::get_by_name(&mut conn, access.tenant.id, name).await?;
    let op = ops::get(&mut conn, access.tenant.id, id).await?;
    if op.cluster_id != cluster.id {
        return Err(AppError::NotFound);
    }
    Ok((cluster, op))
}

/// `GET /t/{tenant}/clusters/{name}/operations/{operation}/cancel`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn cancel_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> AppResult<Response> {
    require_change(&access)?;
    let (cluster, op) = load_operation(&state, &access, &name, &id).await?;
    let mut page = ConfirmPage::new(
        &state,
        &access,
        &cluster,
        "cancel",
        format!("Cancel the {} operation on {}?", op.kind, cluster.name),
        vec![
            format!(
                "Requested {}; it is {}{}.",
                format::timestamp(op.created_at),
                op.state,
                op.stalled_reason
                    .as_deref()
                    .map(|r| format!(" and stalled ({r})"))
                    .unwrap_or_default()
            ),
            match op.kind {
                OperationKind::Create => {
                    "The cluster is removed again, like a delete: whatever was created in Kubernetes goes.".into()
                }
                OperationKind::Delete => "The cluster stays, with the spec it has.".into(),
                _ => "The requested change is rolled back: the spec from before it is restored as a new generation and applied (it must still fit the quota).".into(),
            },
        ],
    )
    .await?;
    page.post_url = format!(
        "{}/operations/{}/cancel",
        cluster_path(&page.slug, &cluster.name),
        op.id
    );
    page.button = "Cancel the operation".into();
    if !op.state.is_active() {
        page.warning = format!(
            "This operation has finished ({}): nothing to cancel.",
            op.state
        );
    } else if !op.cancellable() {
        page.warning = "The Elasticsearch resource has already been deleted in Kubernetes: this delete can no longer be cancelled.".into();
    }
    Ok(page.into_response())
}

/// `POST /t/{tenant}/clusters/{name}/operations/{operation}/cancel`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn cancel(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let caller = caller(&access, meta);
    let (_cluster, op) = load_operation(&state, &access, &name, &id).await?;
    let result = service::cancel(&state, &caller, op.id).await.map(|op| {
        let to = if op.kind == crate::operations::model::OperationKind::Create {
            format!("/t/{slug}/clusters")
        } else {
            cluster_path(&slug, &name)
        };
        flash::redirect(
            &to,
            FlashKind::Success,
            format!("The {} operation was cancelled and rolled back.", op.kind),
        )
    });
    conflict_to_flash(result, &slug, &name)
}
