//! The cluster pages of a tenant (`/t/{tenant}/clusters...`): the list, the request form with its quota
//! preview, the live dashboard and the actions on a cluster (each with a confirmation page).
//!
//! Every handler takes [`TenantAccess`] (non-members get 404) and goes through the request service
//! ([`crate::clusters::service`]) for changes, so the role check, the quota check under the tenant lock, the
//! operation and the audit row happen there; forms are only hidden from roles that may not use them. Pages
//! read Postgres only (never Kubernetes), so they render while Kubernetes is down; the one exception is the
//! audited credentials reveal.
//!
//! Everything works without JavaScript (plain forms and links; a reload refreshes the dashboard). With
//! JavaScript, the vendored htmx refreshes the dashboard's live part every 3 s, updates the request form's
//! quota preview while typing, and `static/js/clusters.js` adds the copy buttons. No inline scripts or
//! styles: the CSP allows neither.
//!
//! Submodules: [`list`], [`new`] (request form) and [`topology`] (an existing cluster's node sets and Kibana)
//! with [`spec_form`] (their shared fields), [`form`] (parsing) and [`quota_view`] (the quota panel),
//! [`dashboard`] and [`live`] (the refreshed fragment), [`actions`] (scale, resize, upgrade),
//! [`confirm`] (restart, deletion protection, delete, cancel), [`credentials`], [`charts`] (inline SVG),
//! [`format`], [`size_fields`] (CPU and memory inputs in cores and GiB).

pub mod actions;
pub mod charts;
pub mod confirm;
pub mod connect;
pub mod credentials;
pub mod dashboard;
pub mod elasticsearch;
pub mod form;
pub mod format;
pub mod list;
pub mod live;
pub mod new;
pub mod quota_view;
pub mod size_fields;
pub mod spec_form;
pub mod topology;

use axum::Router;
use axum::routing::{get, post};

use crate::auth::TenantAccess;
use crate::clusters::service::Caller;
use crate::error::{AppError, AppResult};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// Every cluster page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/clusters", get(list::list_page))
        .route(
            "/t/{tenant}/clusters/new",
            get(new::new_page).post(new::submit),
        )
        .route("/t/{tenant}/clusters/new/preview", post(new::preview))
        .route("/t/{tenant}/clusters/{name}", get(dashboard::dashboard))
        .route("/t/{tenant}/clusters/{name}/live", get(live::live))
        .route(
            "/t/{tenant}/clusters/{name}/elasticsearch",
            get(elasticsearch::fragment),
        )
        .route(
            "/t/{tenant}/clusters/{name}/indices/{index}/replicas",
            post(elasticsearch::set_replicas),
        )
        .route(
            "/t/{tenant}/clusters/{name}/topology",
            get(topology::topology_page).post(topology::submit),
        )
        .route(
            "/t/{tenant}/clusters/{name}/topology/preview",
            post(topology::preview),
        )
        .route(
            "/t/{tenant}/clusters/{name}/scale",
            get(actions::scale_page).post(actions::scale),
        )
        .route(
            "/t/{tenant}/clusters/{name}/resize",
            get(actions::resize_page).post(actions::resize),
        )
        .route(
            "/t/{tenant}/clusters/{name}/upgrade",
            get(actions::upgrade_page).post(actions::upgrade),
        )
        .route(
            "/t/{tenant}/clusters/{name}/restart",
            get(confirm::restart_page).post(confirm::restart),
        )
        .route(
            "/t/{tenant}/clusters/{name}/protection",
            get(confirm::protection_page).post(confirm::protection),
        )
        .route(
            "/t/{tenant}/clusters/{name}/delete",
            get(confirm::delete_page).post(confirm::delete),
        )
        .route(
            "/t/{tenant}/clusters/{name}/operations/{operation}/cancel",
            get(confirm::cancel_page).post(confirm::cancel),
        )
        .route(
            "/t/{tenant}/clusters/{name}/credentials",
            post(credentials::reveal),
        )
        .route(
            "/t/{tenant}/clusters/{name}/allow-list",
            post(connect::update_allow_list),
        )
}

/// The request service's view of the caller.
pub(crate) fn caller(access: &TenantAccess, meta: RequestMeta) -> Caller {
    Caller {
        tenant_id: access.tenant.id,
        role: access.role,
        actor: access.actor(),
        meta,
        if_match: None,
    }
}

/// 403 unless the caller's role may change clusters (for pages that only lead to a change: forms and
/// previews; the service checks again on submit).
pub(crate) fn require_change(access: &TenantAccess) -> AppResult<()> {
    if access.role.can_change_clusters() {
        Ok(())
    } else {
        Err(AppError::Forbidden(who_may_request(access)))
    }
}

/// Who may request and change clusters here, said to someone who may not.
pub(crate) fn who_may_request(access: &TenantAccess) -> String {
    if access.is_member {
        format!(
            "Your role ({}) may look at clusters but not request or change them: owners, admins and members \
             of this tenant may. Ask an owner or admin of the tenant to change your role.",
            access.role_label()
        )
    } else {
        "Platform admins who are not members of this tenant may look at its clusters but not request or \
         change them: owners, admins and members of the tenant may. Add yourself (or the team's owner) on \
         the tenant's Members page."
            .to_owned()
    }
}

/// `/t/{tenant}/clusters/{name}`.
pub(crate) fn cluster_path(tenant: &str, name: &str) -> String {
    format!("/t/{tenant}/clusters/{name}")
}

/// Turn a `Conflict` from the request service into a redirect to the dashboard with the message; other
/// errors pass through.
pub(crate) fn conflict_to_flash(
    result: AppResult<axum::response::Response>,
    tenant: &str,
    name: &str,
) -> AppResult<axum::response::Response> {
    match result {
        Err(AppError::Conflict(message)) => Ok(crate::web::flash::redirect(
            &cluster_path(tenant, name),
            crate::web::flash::FlashKind::Error,
            message,
        )),
        other => other,
    }
}
