//! `GET /`: where a signed-in user starts. Their active tenant's clusters when they have a tenant, the
//! tenant list for platform admins without one, otherwise a page saying no tenant has been shared with them
//! yet. Anonymous visitors are sent to the login page (by the `CurrentUser` extractor).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::nav;

/// The start page route.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

/// `templates/home/no_tenant.html`.
#[derive(Template, WebTemplate)]
#[template(path = "home/no_tenant.html")]
pub struct NoTenantPage {
    /// Base layout.
    pub layout: Layout,
}

/// `GET /`.
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
async fn home(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let memberships = nav::member_tenants(&state, user.user_id).await?;
    if let Some(tenant) = nav::current_tenant(&state, &user, &memberships).await? {
        return Ok(Redirect::to(&format!("/t/{}/clusters", tenant.slug)).into_response());
    }
    if user.is_platform_admin {
        return Ok(Redirect::to("/admin/tenants").into_response());
    }
    let layout = nav::layout_for(&state, &user, "Welcome", None).await?;
    Ok(NoTenantPage { layout }.into_response())
}
