//! `TenantAccess`: the signed-in user, the tenant named by the `{tenant}` path segment (its slug) and the
//! user's role in it. Handlers of `/t/{tenant}/...` take it, so none can forget the membership check.
//!
//! * Not signed in: `Unauthorized` (login redirect), from the `CurrentUser` extractor.
//! * Which tenants the user sees is the one rule of [`crate::tenants::access`]: no such tenant, an over-long
//!   slug, or a tenant the user is not a member of is `NotFound`, never 403, so URLs do not reveal which
//!   tenants exist.
//! * Platform admins who are not members get read access with [`Role::Viewer`] (`is_member == false`): they
//!   can look at every tenant page but change no clusters through tenant pages. They do manage every
//!   tenant's members ([`TenantAccess::members_role`]), so they can give an ownerless tenant its owner.
//!   Their other admin powers (limits, name) live on the `/admin/...` pages behind `PlatformAdmin`;
//!   [`TenantAccess::can_edit_quota`] tells the quota page whether to link there.
//!
//! Permission checks beyond membership go through [`Role`]'s methods (and the domain functions re-check
//! under the tenant row lock); this extractor only establishes who and where.

use axum::extract::{FromRequestParts, RawPathParams};
use http::request::Parts;

use crate::audit::Actor;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::access::{self, Visitor};
use crate::tenants::{Role, Tenant};

/// Name of the path segment holding the tenant slug.
pub const TENANT_PATH_PARAM: &str = "tenant";

/// The caller's access to one tenant.
#[derive(Debug, Clone)]
pub struct TenantAccess {
    /// The signed-in user.
    pub user: CurrentUser,
    /// The tenant of the path.
    pub tenant: Tenant,
    /// The user's role; `Viewer` for a platform admin who is not a member.
    pub role: Role,
    /// False when access comes only from being a platform admin.
    pub is_member: bool,
}

impl TenantAccess {
    /// The audit actor for this user.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.user_id, &self.user.email)
    }

    /// `Ok` when `allowed`, else 403 with `message`.
    pub fn require(&self, allowed: bool, message: &str) -> AppResult<()> {
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden(message.to_owned()))
        }
    }

    /// The role member management acts with: platform admins manage any tenant's members as an owner
    /// would (so a tenant created without an owner is never a dead end); everyone else acts with their
    /// membership role. `tenants::members` applies the same rule under the tenant lock.
    pub fn members_role(&self) -> Role {
        if self.user.is_platform_admin {
            Role::Owner
        } else {
            self.role
        }
    }

    /// Platform admins may change this tenant's limits (on `/admin/tenants/{tenant}/quota`).
    pub fn can_edit_quota(&self) -> bool {
        self.user.is_platform_admin
    }

    /// The label of the caller's access for the UI: the role, or `platform-admin` for a non-member.
    pub fn role_label(&self) -> &'static str {
        if self.is_member {
            self.role.as_str()
        } else {
            crate::tenants::role::PLATFORM_ADMIN_ROLE
        }
    }
}

impl FromRequestParts<AppState> for TenantAccess {
    type Rejection = AppError;

    #[tracing::instrument(skip_all)]
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let raw = params
            .iter()
            .find(|(k, _)| *k == TENANT_PATH_PARAM)
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "TenantAccess used on a route without a {{{TENANT_PATH_PARAM}}} segment"
                ))
            })?;
        let mut conn = state.db.acquire().await?;
        let found = access::access(&mut conn, &raw, Self::visitor(&user))
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Self::of(user, found))
    }
}

impl TenantAccess {
    fn visitor(user: &CurrentUser) -> Visitor {
        Visitor {
            user_id: user.user_id,
            is_platform_admin: user.is_platform_admin,
            tenant_limit: None,
        }
    }

    fn of(user: CurrentUser, found: access::Access) -> Self {
        Self {
            user,
            role: found.role(),
            is_member: found.is_member(),
            tenant: found.tenant,
        }
    }

    /// The same rule applied to a tenant and the user's stored membership role there, read by the caller
    /// together with more (see `clusters::read::tenant_and_cluster`): `None` when the user may not see it.
    pub fn decide(
        user: CurrentUser,
        tenant: Tenant,
        role: Option<&str>,
    ) -> AppResult<Option<Self>> {
        let found = access::decide(Self::visitor(&user), tenant, role)?;
        Ok(found.map(|found| Self::of(user, found)))
    }
}
