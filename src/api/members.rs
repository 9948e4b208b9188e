//! `/api/v1/tenants/{tenant}/members`: list (any member), add by email, change a role, remove (owners and
//! admins; admins never touch owners; the last owner stays). The rules live in `tenants::members`, which
//! re-reads the acting user's role under the tenant lock.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::access::TenantCtx;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, ApiPath};
use super::wire::{MemberList, MemberView, RoleName};
use crate::request_meta::RequestMeta;
use crate::tenants::members::{self, Member};
use crate::tenants::service;

/// The member routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, add_member))
        .routes(routes!(update_member, remove_member))
}

fn member_view(m: &Member) -> MemberView {
    MemberView {
        user_id: m.user_id,
        email: m.email.clone(),
        display_name: m.display_name.clone(),
        role: m.role.into(),
        disabled: m.disabled,
        created_at: m.created_at,
    }
}

/// `{user_id}` of a member path.
#[derive(Debug, Deserialize)]
pub struct MemberPath {
    /// The member's user id.
    pub user_id: Uuid,
}

/// The tenant's members, owners first.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/members",
    tag = "members",
    operation_id = "listMembers",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    responses((status = 200, description = "The members", body = MemberList))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn list_members(State(api): State<ApiState>, ctx: TenantCtx) -> ApiResult<Json<MemberList>> {
    let mut conn = api.app.db.acquire().await?;
    let list = members::list(&mut conn, ctx.tenant.id).await?;
    Ok(Json(MemberList {
        items: list.iter().map(member_view).collect(),
    }))
}

/// A new member: an existing, enabled account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The account's email.
    #[schema(example = "alice@example.com")]
    pub email: String,
    /// Their role.
    pub role: RoleName,
}

/// Add a member (owners and admins; only owners add owners).
#[utoipa::path(
    post,
    path = "/tenants/{tenant}/members",
    tag = "members",
    operation_id = "addMember",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "The new member", body = MemberView,
            headers(("Location" = String, description = "The member's URL"))),
        (status = 403, description = "Your role may not add this member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or disabled account, or already a member", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn add_member(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiJson(body): ApiJson<AddMemberRequest>,
) -> ApiResult<Response> {
    let actor = ctx.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let role = body.role.into();
    let member = service::add_member(&api.app.db, by, &ctx.tenant, &body.email, role).await?;
    let location = format!("/api/v1/tenants/{}/members/{}", ctx.slug(), member.user_id);
    let mut response = (StatusCode::CREATED, Json(member_view(&member))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// A role change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    /// The new role.
    pub role: RoleName,
}

async fn find(api: &ApiState, ctx: &TenantCtx, user_id: Uuid) -> ApiResult<Member> {
    let mut conn = api.app.db.acquire().await?;
    members::list(&mut conn, ctx.tenant.id)
        .await?
        .into_iter()
        .find(|m| m.user_id == user_id)
        .ok_or_else(ApiError::not_found)
}

/// Change a member's role (the last owner cannot be demoted).
#[utoipa::path(
    patch,
    path = "/tenants/{tenant}/members/{user_id}",
    tag = "members",
    operation_id = "updateMember",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    request_body = UpdateMemberRequest,
    responses(
        (status = 200, description = "The member", body = MemberView),
        (status = 403, description = "Your role may not change this member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner cannot be demoted", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn update_member(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<MemberPath>,
    ApiJson(body): ApiJson<UpdateMemberRequest>,
) -> ApiResult<Json<MemberView>> {
    let actor = ctx.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let role = body.role.into();
    service::change_role(&api.app.db, by, &ctx.tenant, path.user_id, role).await?;
    Ok(Json(member_view(&find(&api, &ctx, path.user_id).await?)))
}

/// Remove a member (the last owner stays).
#[utoipa::path(
    delete,
    path = "/tenants/{tenant}/members/{user_id}",
    tag = "members",
    operation_id = "removeMember",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Your role may not remove this member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner cannot be removed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn remove_member(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<MemberPath>,
) -> ApiResult<StatusCode> {
    let actor = ctx.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    service::remove_member(&api.app.db, by, &ctx.tenant, path.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
