//! `/api/v1/tenants`: the tenants you belong to, one tenant, and the platform-admin operations (create a
//! tenant, rename it, set its quota). Quota usage is derived from the desired specs (see
//! `tenants::quota`); lowering a limit below usage is accepted and reported in `over_limit`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::access::TenantCtx;
use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::ApiJson;
use super::wire::{QuotaLimits, QuotaView, TenantList, TenantView};
use crate::error::FieldErrors;
use crate::request_meta::RequestMeta;
use crate::tenants::quota::{self, DEFAULT_LIMITS, QuotaDimension, Resources};
use crate::tenants::{Role, Tenant, TenantName, TenantSlug, repo, service};

/// The tenant routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(get_tenant, update_tenant))
        .routes(routes!(get_quota, set_quota))
}

fn tenant_view(t: &Tenant, role: Option<Role>) -> TenantView {
    TenantView {
        id: t.id,
        slug: t.slug.to_string(),
        name: t.name.clone(),
        role: role.map(Into::into),
        limits: t.limits.into(),
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

/// The tenants you are a member of (a tenant-limited token: only its tenant).
#[utoipa::path(
    get,
    path = "/tenants",
    tag = "tenants",
    operation_id = "listTenants",
    responses((status = 200, description = "Your tenants", body = TenantList))
)]
#[tracing::instrument(skip_all)]
async fn list_tenants(
    State(api): State<ApiState>,
    caller: ApiCaller,
) -> ApiResult<Json<TenantList>> {
    let mut conn = api.app.db.acquire().await?;
    let memberships = repo::memberships(&mut conn, caller.user_id()).await?;
    let mut items: Vec<TenantView> = memberships
        .iter()
        .filter(|m| caller.tenant_limit().is_none_or(|t| t == m.tenant.id))
        .map(|m| tenant_view(&m.tenant, Some(m.role)))
        .collect();
    // A platform admin's token limited to a tenant they are not a member of still sees that tenant.
    if let Some(limit) = caller.tenant_limit()
        && items.is_empty()
        && caller.owner.user_is_platform_admin
        && let Some(t) = repo::by_id(&mut conn, limit).await?
    {
        items.push(tenant_view(&t, None));
    }
    Ok(Json(TenantList { items }))
}

/// A new tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantRequest {
    /// URL segment and namespace suffix: lowercase letters, digits and `-`, starting with a letter, at most
    /// 40 characters.
    #[schema(
        example = "search-team",
        pattern = "^[a-z]([-a-z0-9]*[a-z0-9])?$",
        max_length = 40
    )]
    pub slug: String,
    /// Display name.
    #[schema(example = "Search team")]
    pub name: String,
    /// Email of an existing account to make the first owner.
    #[serde(default)]
    pub owner_email: Option<String>,
    /// Quota limits (default: 5 clusters, 20 nodes, 20 cores, 64 GiB memory, 1000 GiB storage).
    #[serde(default)]
    pub limits: Option<QuotaLimits>,
}

/// Check limits against the per-dimension maximum; errors at `<prefix>/<field>`.
fn check_limits(limits: QuotaLimits, prefix: &str, errors: &mut FieldErrors) -> Resources {
    let r = Resources::from(limits);
    for d in QuotaDimension::ALL {
        let v = r.get(d);
        let field = format!("{prefix}max_{}", d.key());
        if v < 0 {
            errors.add(field, "A limit cannot be negative.");
        } else if v > d.max_limit() {
            errors.add(
                field,
                format!(
                    "At most {} for {}.",
                    d.format(d.max_limit()),
                    d.human_name()
                ),
            );
        }
    }
    r
}

/// Create a tenant (platform admins). Answers 201 with the tenant and its `Location`.
#[utoipa::path(
    post,
    path = "/tenants",
    tag = "tenants",
    operation_id = "createTenant",
    request_body = CreateTenantRequest,
    responses(
        (status = 201, description = "The new tenant", body = TenantView,
            headers(("Location" = String, description = "The tenant's URL"))),
        (status = 403, description = "Only platform admins create tenants", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid or taken slug, invalid name, unknown owner, invalid limits", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_tenant(
    State(api): State<ApiState>,
    caller: ApiCaller,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateTenantRequest>,
) -> ApiResult<Response> {
    caller.require_platform_admin()?;
    let mut errors = FieldErrors::new();
    let slug = TenantSlug::parse(&body.slug)
        .map_err(|m| errors.add("slug", m))
        .ok();
    let name = TenantName::parse(&body.name)
        .map_err(|m| errors.add("name", m))
        .ok();
    let limits = body
        .limits
        .map_or(DEFAULT_LIMITS, |l| check_limits(l, "limits.", &mut errors));
    let (Some(slug), Some(name)) = (slug, name) else {
        return Err(errors.into());
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let actor = caller.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let owner = body.owner_email.as_deref();
    let tenant = service::create(&api.app.db, by, &slug, &name, limits, owner).await?;
    let location = format!("/api/v1/tenants/{}", tenant.slug);
    let mut response = (StatusCode::CREATED, Json(tenant_view(&tenant, None))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// One tenant.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}",
    tag = "tenants",
    operation_id = "getTenant",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    responses((status = 200, description = "The tenant", body = TenantView))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn get_tenant(ctx: TenantCtx) -> Json<TenantView> {
    Json(tenant_view(&ctx.tenant, ctx.membership))
}

/// Changes to a tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenantRequest {
    /// New display name.
    #[serde(default)]
    #[schema(example = "Search & relevance team")]
    pub name: Option<String>,
}

/// Rename a tenant (platform admins; the slug never changes).
#[utoipa::path(
    patch,
    path = "/tenants/{tenant}",
    tag = "tenants",
    operation_id = "updateTenant",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = UpdateTenantRequest,
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        (status = 403, description = "Only platform admins rename tenants", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn update_tenant(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiJson(body): ApiJson<UpdateTenantRequest>,
) -> ApiResult<Json<TenantView>> {
    ctx.require_platform_admin()?;
    let Some(raw) = body.name else {
        return Ok(Json(tenant_view(&ctx.tenant, ctx.membership)));
    };
    let name = TenantName::parse(&raw).map_err(|m| {
        let mut e = FieldErrors::new();
        e.add("name", m);
        ApiError::from(e)
    })?;
    let actor = ctx.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let tenant = service::rename(&api.app.db, by, ctx.tenant.id, &name).await?;
    Ok(Json(tenant_view(&tenant, ctx.membership)))
}

/// The tenant's quota limits and usage.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/quota",
    tag = "tenants",
    operation_id = "getQuota",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    responses((status = 200, description = "Limits and usage", body = QuotaView))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn get_quota(State(api): State<ApiState>, ctx: TenantCtx) -> ApiResult<Json<QuotaView>> {
    let mut conn = api.app.db.acquire().await?;
    let usage = quota::usage(&mut conn, ctx.tenant.id).await?;
    Ok(Json(quota_view(ctx.tenant.limits, usage)))
}

fn quota_view(limits: Resources, usage: Resources) -> QuotaView {
    QuotaView {
        limits: limits.into(),
        usage: usage.into(),
        over_limit: QuotaDimension::ALL
            .into_iter()
            .filter(|&d| usage.get(d) > limits.get(d))
            .map(|d| d.key().to_owned())
            .collect(),
    }
}

/// Set the tenant's quota limits (platform admins). Limits below current usage are accepted: growth in
/// those dimensions is refused until usage drops, and they are listed in `over_limit`.
#[utoipa::path(
    put,
    path = "/tenants/{tenant}/quota",
    tag = "tenants",
    operation_id = "setQuota",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = QuotaLimits,
    responses(
        (status = 200, description = "Limits and usage", body = QuotaView),
        (status = 403, description = "Only platform admins set quotas", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit is negative or above its maximum", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn set_quota(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiJson(body): ApiJson<QuotaLimits>,
) -> ApiResult<Json<QuotaView>> {
    ctx.require_platform_admin()?;
    let mut errors = FieldErrors::new();
    let limits = check_limits(body, "", &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let actor = ctx.actor();
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let change = service::set_quota(&api.app.db, by, ctx.tenant.id, limits).await?;
    Ok(Json(quota_view(change.after, change.usage)))
}
