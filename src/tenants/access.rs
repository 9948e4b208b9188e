//! Who may see a tenant: the one visibility rule, used by the web's `TenantAccess`, the API's `TenantCtx`
//! and the navigation's tenant switcher alike.
//!
//! * A member sees the tenant with their membership role.
//! * A platform admin who is not a member sees every tenant with the `viewer` role (their admin powers are
//!   the admin-only pages and routes), unless they call with an API token limited to another tenant.
//! * A token limited to a tenant sees that tenant only.
//! * Everyone else sees nothing: callers answer 404 (never 403), so URLs do not reveal which tenants exist.
//!
//! The role is read from the membership on every request (never cached, never taken from a token), so a
//! removed or demoted member loses access at once; the domain functions re-check under the tenant lock.

use sqlx::PgConnection;
use uuid::Uuid;

use super::quota::Resources;
use super::repo::role_from_db;
use super::role::PLATFORM_ADMIN_ROLE;
use super::slug::MAX_SLUG_LEN;
use super::{Role, Tenant, TenantSlug};
use crate::error::AppResult;

/// Who asks to see a tenant.
#[derive(Debug, Clone, Copy)]
pub struct Visitor {
    /// The account.
    pub user_id: Uuid,
    /// Whether the account is a platform admin.
    pub is_platform_admin: bool,
    /// The only tenant an API token limited to one may see.
    pub tenant_limit: Option<Uuid>,
}

/// A visitor's access to one tenant.
#[derive(Debug, Clone)]
pub struct Access {
    /// The tenant.
    pub tenant: Tenant,
    /// The visitor's membership role (`None`: a platform admin who is not a member).
    pub membership: Option<Role>,
}

impl Access {
    /// The role the checks use: the membership, or `viewer` for a platform admin who is not a member.
    pub fn role(&self) -> Role {
        self.membership.unwrap_or(Role::Viewer)
    }

    /// False when the access comes only from being a platform admin.
    pub fn is_member(&self) -> bool {
        self.membership.is_some()
    }

    /// The label of the access for people: the role, or `platform-admin` for a non-member.
    pub fn role_label(&self) -> &'static str {
        self.membership.map_or(PLATFORM_ADMIN_ROLE, |r| r.as_str())
    }
}

/// The rule (see the module docs) applied to a tenant and the visitor's stored membership role there:
/// `None` when the visitor may not see it.
pub fn decide(visitor: Visitor, tenant: Tenant, role: Option<&str>) -> AppResult<Option<Access>> {
    if visitor.tenant_limit.is_some_and(|t| t != tenant.id) {
        return Ok(None);
    }
    let membership = role.map(role_from_db).transpose()?;
    if membership.is_none() && !visitor.is_platform_admin {
        return Ok(None);
    }
    Ok(Some(Access { tenant, membership }))
}

/// The visitor's access to the tenant with `slug` (one query: the tenant and the membership); `None` for an
/// unknown or over-long slug and for a tenant the visitor may not see.
#[tracing::instrument(skip(conn, visitor), fields(user_id = %visitor.user_id))]
pub async fn access(
    conn: &mut PgConnection,
    slug: &str,
    visitor: Visitor,
) -> AppResult<Option<Access>> {
    // Looked up as given (bounded): every stored slug passed `TenantSlug::parse` when it was written.
    if slug.is_empty() || slug.len() > MAX_SLUG_LEN {
        return Ok(None);
    }
    let Some(row) = sqlx::query!(
            r#"SELECT t.id, t.slug AS "slug: TenantSlug", t.name, t.max_clusters, t.max_nodes,
                      t.max_cpu_millis, t.max_memory_mib, t.max_storage_gib, t.created_at, t.updated_at,
                      m.role AS "role?"
               FROM tenants t LEFT JOIN tenant_members m ON m.tenant_id = t.id AND m.user_id = $2
               WHERE t.slug = $1"#,
            slug,
            visitor.user_id
        )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
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
    decide(visitor, tenant, row.role.as_deref())
}
