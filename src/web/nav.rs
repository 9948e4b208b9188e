//! The navigation every signed-in page shows, and the tenant switcher.
//!
//! [`layout_for`] fills the base layout (`templates/base.html`) for a signed-in user: the user, the session's
//! CSRF token (for the logout and switcher forms), the tenants they belong to, the active tenant and the
//! flash messages pending for this request. `POST /switch-tenant` remembers the chosen tenant on the
//! session. Which tenant a page may show is the one rule of [`crate::tenants::access`] (through the
//! `TenantAccess` extractor); this module reads memberships to draw the menu and asks the same rule for a
//! tenant the user is not a member of.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{CurrentUser, session};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::access::{self, Visitor};
use crate::web::flash;
use crate::web::form::Form;
use crate::web::layout::{Layout, NavTenant, NavUser};

/// A tenant the user can switch to.
#[derive(Debug, Clone)]
pub struct TenantChoice {
    /// Tenant id.
    pub id: Uuid,
    /// URL slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The user's role, or [`PLATFORM_ADMIN_ROLE`](crate::tenants::role::PLATFORM_ADMIN_ROLE).
    pub role: String,
}

impl From<TenantChoice> for NavTenant {
    fn from(t: TenantChoice) -> Self {
        NavTenant {
            slug: t.slug,
            name: t.name,
            role: t.role,
        }
    }
}

/// The tenants `user_id` is a member of, by name.
#[tracing::instrument(skip(state))]
pub async fn member_tenants(state: &AppState, user_id: Uuid) -> AppResult<Vec<TenantChoice>> {
    Ok(sqlx::query_as!(
        TenantChoice,
        r#"SELECT t.id, t.slug, t.name, m.role
           FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
           WHERE m.user_id = $1
           ORDER BY lower(t.name), t.slug"#,
        user_id
    )
    .fetch_all(&state.db)
    .await?)
}

/// A tenant `user` may open, by the one rule of [`access`] (a member's, or any for a platform admin).
#[tracing::instrument(skip(state, user), fields(user_id = %user.user_id))]
pub async fn accessible_tenant(
    state: &AppState,
    user: &CurrentUser,
    slug: &str,
) -> AppResult<Option<TenantChoice>> {
    let visitor = Visitor {
        user_id: user.user_id,
        is_platform_admin: user.is_platform_admin,
        tenant_limit: None,
    };
    let mut conn = state.db.acquire().await?;
    Ok(access::access(&mut conn, slug, visitor)
        .await?
        .map(|a| TenantChoice {
            id: a.tenant.id,
            slug: a.tenant.slug.to_string(),
            name: a.tenant.name.clone(),
            role: a.role_label().to_owned(),
        }))
}

/// The tenant the user works in: the one the session remembers if still accessible, else the first they
/// are a member of.
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn current_tenant(
    state: &AppState,
    user: &CurrentUser,
    memberships: &[TenantChoice],
) -> AppResult<Option<TenantChoice>> {
    if let Some(active) = user.active_tenant_id {
        if let Some(t) = memberships.iter().find(|t| t.id == active) {
            return Ok(Some(t.clone()));
        }
        if user.is_platform_admin {
            let slug = sqlx::query_scalar!("SELECT slug FROM tenants WHERE id = $1", active)
                .fetch_optional(&state.db)
                .await?;
            if let Some(slug) = slug {
                return accessible_tenant(state, user, &slug).await;
            }
        }
    }
    Ok(memberships.first().cloned())
}

/// The base layout of a signed-in page. `active_tenant_slug` is the tenant the page shows (`None` for pages
/// outside a tenant: the session's remembered tenant is highlighted then). Viewing a tenant's page makes it
/// the session's active tenant. Takes this request's flash messages (see [`flash`]).
#[tracing::instrument(skip(state, user), fields(user_id = %user.user_id))]
pub async fn layout_for(
    state: &AppState,
    user: &CurrentUser,
    title: &str,
    active_tenant_slug: Option<&str>,
) -> AppResult<Layout> {
    let memberships = member_tenants(state, user.user_id).await?;
    let active = match active_tenant_slug {
        Some(slug) => match memberships.iter().find(|t| t.slug == slug) {
            Some(t) => Some(t.clone()),
            None => accessible_tenant(state, user, slug).await?,
        },
        None => current_tenant(state, user, &memberships).await?,
    };
    if let (Some(t), Some(session_id)) = (&active, user.session_id)
        && active_tenant_slug.is_some()
        && user.active_tenant_id != Some(t.id)
    {
        let mut conn = state.db.acquire().await?;
        session::set_active_tenant(&mut conn, session_id, t.id).await?;
    }
    let mut tenants: Vec<NavTenant> = memberships.into_iter().map(NavTenant::from).collect();
    if let Some(t) = &active
        && !tenants.iter().any(|n| n.slug == t.slug)
    {
        tenants.push(t.clone().into());
    }
    Ok(Layout {
        title: title.to_owned(),
        user: Some(NavUser {
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            is_platform_admin: user.is_platform_admin,
        }),
        csrf_token: user.csrf_token.clone(),
        flashes: flash::take(),
        tenants,
        active_tenant: active.map(NavTenant::from),
    })
}

/// The tenant switcher's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/switch-tenant", post(switch_tenant))
}

/// The switcher form.
#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    /// Slug of the tenant to switch to.
    pub tenant: String,
}

/// `POST /switch-tenant`: remember the tenant on the session and open its clusters. Tenants the user may
/// not open answer 404 (as if absent).
#[tracing::instrument(skip(state, user, form), fields(user_id = %user.user_id))]
async fn switch_tenant(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SwitchForm>,
) -> AppResult<Response> {
    let tenant = accessible_tenant(&state, &user, form.tenant.trim())
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(session_id) = user.session_id {
        let mut conn = state.db.acquire().await?;
        session::set_active_tenant(&mut conn, session_id, tenant.id).await?;
    }
    Ok(Redirect::to(&format!("/t/{}/clusters", tenant.slug)).into_response())
}
