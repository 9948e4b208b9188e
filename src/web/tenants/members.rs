//! The members page of a tenant: `GET /t/{tenant}/members` (list; add form, role selects and remove
//! buttons shown only where the caller's role allows), `POST /t/{tenant}/members` (add by email),
//! `POST /t/{tenant}/members/{user_id}/role`, and `GET`/`POST /t/{tenant}/members/{user_id}/remove` (a
//! confirmation page, then the removal: the list links to the page, so one stray click removes nobody).
//!
//! The forms are hidden from roles that may not use them, but the server decides: handlers answer 403 for a
//! role that may not manage members before touching anything, and the domain functions in
//! [`crate::tenants::members`] re-check under the tenant row lock. Invalid add-form input re-renders the page
//! (422) with the message beside the field and the input kept; a refused role change or removal (last
//! owner) redirects back with an error message.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::TenantAccess;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::tenants::{Role, members, service};
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;

/// The members routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/members", get(members_page).post(add_member))
        .route("/t/{tenant}/members/{user_id}/role", post(change_role))
        .route(
            "/t/{tenant}/members/{user_id}/remove",
            get(remove_page).post(remove_member),
        )
}

const MANAGE_DENIED: &str =
    "Only owners and admins of this tenant (and platform admins) can manage its members.";

/// One row of the members table.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// The user.
    pub user_id: Uuid,
    /// Email.
    pub email: String,
    /// Display name (may be empty).
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Account disabled.
    pub disabled: bool,
    /// Joined, `YYYY-MM-DD`.
    pub joined: String,
    /// The caller may change or remove this member.
    pub manageable: bool,
    /// This row is the caller.
    pub is_self: bool,
}

/// The add-member form (kept on errors).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AddMemberForm {
    /// Email of an existing account.
    #[serde(default)]
    pub email: String,
    /// Role name.
    #[serde(default)]
    pub role: String,
}

/// The role-change form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    /// New role name.
    #[serde(default)]
    pub role: String,
}

/// `templates/tenants/members.html`.
#[derive(Template, WebTemplate)]
#[template(path = "tenants/members.html")]
pub struct MembersPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Tenant name.
    pub name: String,
    /// The caller's access label (`owner`, ..., `platform-admin`).
    pub my_role: String,
    /// Members.
    pub members: Vec<MemberRow>,
    /// The caller may add members (show the form).
    pub can_manage: bool,
    /// Roles the caller may give.
    pub assignable: Vec<Role>,
    /// The add form's values.
    pub form: AddMemberForm,
    /// Messages beside the add form's fields.
    pub errors: FieldErrors,
}

async fn render(
    state: &AppState,
    access: &TenantAccess,
    form: AddMemberForm,
    errors: FieldErrors,
) -> AppResult<MembersPage> {
    let mut conn = state.db.acquire().await?;
    let list = members::list(&mut conn, access.tenant.id).await?;
    drop(conn);
    let acting = access.members_role();
    let can_manage = acting.can_manage_members();
    let members = list
        .into_iter()
        .map(|m| MemberRow {
            manageable: can_manage && acting.can_assign(m.role),
            is_self: m.user_id == access.user.user_id,
            user_id: m.user_id,
            email: m.email,
            display_name: m.display_name,
            role: m.role,
            disabled: m.disabled,
            joined: m.created_at.format("%Y-%m-%d").to_string(),
        })
        .collect();
    let slug = access.tenant.slug.to_string();
    Ok(MembersPage {
        layout: nav::layout_for(state, &access.user, "Members", Some(&slug)).await?,
        name: access.tenant.name.clone(),
        my_role: access.role_label().to_owned(),
        slug,
        members,
        can_manage,
        assignable: Role::ALL
            .into_iter()
            .filter(|r| can_manage && acting.can_assign(*r))
            .collect(),
        form,
        errors,
    })
}

fn members_url(access: &TenantAccess) -> String {
    format!("/t/{}/members", access.tenant.slug)
}

/// `GET /t/{tenant}/members`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug))]
async fn members_page(
    State(state): State<AppState>,
    access: TenantAccess,
) -> AppResult<MembersPage> {
    let form = AddMemberForm {
        role: Role::Member.as_str().into(),
        ..AddMemberForm::default()
    };
    render(&state, &access, form, FieldErrors::new()).await
}

/// `POST /t/{tenant}/members`: add by email.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug))]
async fn add_member(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Form(form): Form<AddMemberForm>,
) -> AppResult<Response> {
    access.require(access.members_role().can_manage_members(), MANAGE_DENIED)?;
    let role = match Role::parse(&form.role) {
        Ok(r) => r,
        Err(msg) => {
            let mut errors = FieldErrors::new();
            errors.add("role", msg);
            return rerender(&state, &access, form, errors).await;
        }
    };
    let actor = access.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    match service::add_member(&state.db, by, &access.tenant, &form.email, role).await {
        Ok(member) => Ok(flash::redirect(
            &members_url(&access),
            FlashKind::Success,
            format!("Added {} as {}.", member.email, member.role),
        )),
        Err(AppError::Validation(errors)) => rerender(&state, &access, form, errors).await,
        Err(e) => Err(e),
    }
}

async fn rerender(
    state: &AppState,
    access: &TenantAccess,
    form: AddMemberForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let page = render(state, access, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Turn a refused change (409) into a redirect back with the message; other errors pass through.
fn conflict_to_flash(
    access: &TenantAccess,
    result: AppResult<()>,
    ok: String,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(flash::redirect(
            &members_url(access),
            FlashKind::Success,
            ok,
        )),
        Err(AppError::Conflict(msg)) => {
            Ok(flash::redirect(&members_url(access), FlashKind::Error, msg))
        }
        Err(e) => Err(e),
    }
}

/// `POST /t/{tenant}/members/{user_id}/role`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, %user_id))]
async fn change_role(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_, user_id)): Path<(String, Uuid)>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    access.require(access.members_role().can_manage_members(), MANAGE_DENIED)?;
    let role = Role::parse(&form.role).map_err(AppError::BadRequest)?;
    let actor = access.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let result = service::change_role(&state.db, by, &access.tenant, user_id, role).await;
    conflict_to_flash(&access, result, format!("Role changed to {role}."))
}

/// `templates/tenants/remove_member.html`: "Remove X from the tenant?".
#[derive(Template, WebTemplate)]
#[template(path = "tenants/remove_member.html")]
pub struct RemoveMemberPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Tenant name.
    pub name: String,
    /// The member.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
    /// Their role.
    pub role: Role,
    /// The caller removes themselves.
    pub is_self: bool,
}

/// `GET /t/{tenant}/members/{user_id}/remove`: the confirmation (404 for a non-member id).
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, %user_id))]
async fn remove_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_, user_id)): Path<(String, Uuid)>,
) -> AppResult<RemoveMemberPage> {
    access.require(access.members_role().can_manage_members(), MANAGE_DENIED)?;
    let mut conn = state.db.acquire().await?;
    let member = members::list(&mut conn, access.tenant.id)
        .await?
        .into_iter()
        .find(|m| m.user_id == user_id)
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let slug = access.tenant.slug.to_string();
    let is_self = user_id == access.user.user_id;
    let title = if is_self {
        "Leave the tenant"
    } else {
        "Remove a member"
    };
    Ok(RemoveMemberPage {
        layout: nav::layout_for(&state, &access.user, title, Some(&slug)).await?,
        slug,
        name: access.tenant.name.clone(),
        user_id,
        email: member.email,
        role: member.role,
        is_self,
    })
}

/// `POST /t/{tenant}/members/{user_id}/remove`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, %user_id))]
async fn remove_member(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_, user_id)): Path<(String, Uuid)>,
) -> AppResult<Response> {
    access.require(access.members_role().can_manage_members(), MANAGE_DENIED)?;
    let actor = access.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let result = service::remove_member(&state.db, by, &access.tenant, user_id).await;
    let removed_self = result.is_ok() && user_id == access.user.user_id;
    if removed_self {
        // The caller left the tenant: its pages are now 404 for them.
        return Ok(
            flash::redirect("/", FlashKind::Success, "You left the tenant.").into_response(),
        );
    }
    conflict_to_flash(&access, result, "Member removed.".into())
}
