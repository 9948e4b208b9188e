//! [`TenantCtx`]: the API caller, the tenant of the `{tenant}` path segment, and the caller's role there, so
//! no tenant handler can forget the checks.
//!
//! * Tenants the caller cannot see answer 404 (never 403), so URLs do not reveal which tenants exist: an
//!   unknown slug, a tenant the user is not a member of (unless they are a platform admin with a token not
//!   limited to a tenant), and any tenant but its own for a tenant-limited token.
//! * Platform admins who are not members see the tenant with the `viewer` role (as in the UI); their admin
//!   powers are the admin-only routes (tenant name, quota, audit), checked with
//!   [`TenantCtx::require_platform_admin`].
//! * The role is read from the membership on every request (never cached, never taken from the token), so a
//!   removed or demoted member loses access at once. The domain functions re-check under locks.

use axum::extract::{FromRequestParts, RawPathParams};
use http::request::Parts;

use super::ApiState;
use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult};
use crate::audit::Actor;
use crate::clusters::service::Caller;
use crate::request_meta::RequestMeta;
use crate::tenants::quota::Resources;
use crate::tenants::repo::role_from_db;
use crate::tenants::slug::MAX_SLUG_LEN;
use crate::tenants::{Role, Tenant, TenantSlug};

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
    /// The access rules (see the module docs) applied to a tenant and the caller's membership role there
    /// (as stored): 404 unless the caller may see the tenant.
    pub fn authorize(caller: ApiCaller, tenant: Tenant, role: Option<&str>) -> ApiResult<Self> {
        if caller.tenant_limit().is_some_and(|t| t != tenant.id) {
            return Err(ApiError::not_found());
        }
        let membership = role.map(role_from_db).transpose()?;
        if membership.is_none() && !caller.owner.user_is_platform_admin {
            return Err(ApiError::not_found());
        }
        Ok(Self {
            caller,
            tenant,
            membership,
        })
    }
}

impl FromRequestParts<ApiState> for TenantCtx {
    type Rejection = ApiError;

    #[tracing::instrument(skip_all)]
    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        let slug = params
            .iter()
            .find(|(k, _)| *k == "tenant")
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| {
                ApiError::from(anyhow::anyhow!(
                    "TenantCtx used on a route without {{tenant}}"
                ))
            })?;
        tenant_slug(&slug)?;
        let row = sqlx::query!(
            r#"SELECT t.id, t.slug AS "slug: TenantSlug", t.name, t.max_clusters, t.max_nodes,
                      t.max_cpu_millis, t.max_memory_mib, t.max_storage_gib, t.created_at, t.updated_at,
                      m.role AS "role?"
               FROM tenants t LEFT JOIN tenant_members m ON m.tenant_id = t.id AND m.user_id = $2
               WHERE t.slug = $1"#,
            slug,
            caller.user_id()
        )
        .fetch_optional(&state.app.db)
        .await?
        .ok_or_else(ApiError::not_found)?;
        let tenant = Tenant {
            id: row.id,
            slug: row.slug,
            name: row.name,
            limits: Resources {
                clusters: row.max_clusters,
                nodes: row.max_nodes,
                cpu_millis: row.max_cpu_millis,
                memory_mib: row.max_memory_mib,
                storage_gib: row.max_storage_gib,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        };
        Self::authorize(caller, tenant, row.role.as_deref())
    }
}
