//! [`TenantCtx`]: the API caller, the tenant of the `{tenant}` path segment, and the caller's role there, so
//! no tenant handler can forget the checks.
//!
//! Which tenants a caller sees is the one rule of [`crate::tenants::access`]: tenants the caller cannot see
//! answer 404 (never 403); a token limited to a tenant sees that tenant only; platform admins who are not
//! members see every tenant with the `viewer` role, their admin powers being the admin-only routes (tenant
//! name, quota, audit), checked with [`TenantCtx::require_platform_admin`].

use axum::extract::{FromRequestParts, RawPathParams};
use http::request::Parts;
use sqlx::PgConnection;

use super::ApiState;
use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult};
use crate::audit::Actor;
use crate::clusters::service::Caller;
use crate::request_meta::RequestMeta;
use crate::tenants::access::{self, Access, Visitor};
use crate::tenants::slug::MAX_SLUG_LEN;
use crate::tenants::{Role, Tenant};

/// The caller's access to the tenant of the path.
#[derive(Debug, Clone)]
pub struct TenantCtx {
    /// Who calls.
    pub caller: ApiCaller,
    /// The tenant.
    pub tenant: Tenant,
    /// The caller's membership role (`None`: a platform admin who is not a member).
    pub membership: Option<Role>,
}

impl TenantCtx {
    /// The role checks use: the membership, or `viewer` for a platform admin who is not a member.
    pub fn role(&self) -> Role {
        self.membership.unwrap_or(Role::Viewer)
    }

    /// The tenant's slug.
    pub fn slug(&self) -> &str {
        self.tenant.slug.as_str()
    }

    /// The audit actor.
    pub fn actor(&self) -> Actor {
        self.caller.actor()
    }

    /// The caller as the cluster service wants it.
    pub fn service_caller(&self, meta: RequestMeta) -> Caller {
        Caller {
            tenant_id: self.tenant.id,
            role: self.role(),
            actor: self.actor(),
            meta,
            if_match: None,
        }
    }

    /// 403 unless the caller has platform-admin powers.
    pub fn require_platform_admin(&self) -> ApiResult<()> {
        self.caller.require_platform_admin()
    }

    /// 403 unless `allowed`.
    pub fn require(&self, allowed: bool, message: &str) -> ApiResult<()> {
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{message} (your role here: {}).",
                self.membership
                    .map_or("none, platform admin", |r| r.as_str())
            )))
        }
    }
}

/// The `{tenant}` segment of the request's path (404 when absent or over-long: no such tenant).
pub fn tenant_slug(slug: &str) -> ApiResult<&str> {
    if slug.is_empty() || slug.len() > MAX_SLUG_LEN {
        Err(ApiError::not_found())
    } else {
        Ok(slug)
    }
}

impl TenantCtx {
    /// The visitor [`access`] judges: this caller, with its token's tenant limit.
    fn visitor(caller: &ApiCaller) -> Visitor {
        Visitor {
            user_id: caller.user_id(),
            is_platform_admin: caller.owner.user_is_platform_admin,
            tenant_limit: caller.tenant_limit(),
        }
    }

    /// The access rule ([`access::decide`]) applied to a tenant and the caller's membership role there (as
    /// stored): 404 unless the caller may see the tenant.
    pub fn authorize(caller: ApiCaller, tenant: Tenant, role: Option<&str>) -> ApiResult<Self> {
        let found = access::decide(Self::visitor(&caller), tenant, role)?;
        Ok(Self::of(caller, found.ok_or_else(ApiError::not_found)?))
    }

    fn of(caller: ApiCaller, access: Access) -> Self {
        Self {
            caller,
            tenant: access.tenant,
            membership: access.membership,
        }
    }
}

impl FromRequestParts<ApiState> for TenantCtx {
    type Rejection = ApiError;

    #[tracing::instrument(skip_all)]
    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        let TenantParam(slug) = TenantParam::from_request_parts(parts, state).await?;
        let mut conn = state.app.db.acquire().await?;
        Self::load(&mut conn, caller, &slug).await
    }
}

impl TenantCtx {
    /// The caller's access to the tenant `slug` read on `conn` (a handler that reads more on the same
    /// connection takes [`TenantParam`] instead of `TenantCtx` and calls this: one pooled connection per
    /// request). 404 unless the caller may see the tenant.
    pub async fn load(conn: &mut PgConnection, caller: ApiCaller, slug: &str) -> ApiResult<Self> {
        tenant_slug(slug)?;
        let found = access::access(conn, slug, Self::visitor(&caller)).await?;
        Ok(Self::of(caller, found.ok_or_else(ApiError::not_found)?))
    }
}

/// The `{tenant}` segment of the path, as given (checked by [`TenantCtx::load`]).
#[derive(Debug, Clone)]
pub struct TenantParam(pub String);

impl FromRequestParts<ApiState> for TenantParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        params
            .iter()
            .find(|(k, _)| *k == "tenant")
            .map(|(_, v)| Self(v.to_owned()))
            .ok_or_else(|| {
                ApiError::from(anyhow::anyhow!(
                    "TenantCtx used on a route without {{tenant}}"
                ))
            })
    }
}
