//! Tenants and memberships made directly: a tenant through the tenants service as the system actor (so
//! its `tenant.create` audit row is written, as the admin page would), a membership as a plain row (no
//! audit, no role check: the test decides who belongs where).

use esaas::audit::Actor;
use esaas::request_meta::RequestMeta;
use esaas::tenants::quota::{DEFAULT_LIMITS, Resources};
use esaas::tenants::{Role, Tenant, TenantName, TenantSlug, service};
use sqlx::PgPool;
use uuid::Uuid;

/// Create tenant `slug` (named "Team {slug}") with the default limits, as the system actor.
pub async fn create_tenant(pool: &PgPool, slug: &str) -> Tenant {
    create_tenant_with_limits(pool, slug, DEFAULT_LIMITS).await
}

/// Create tenant `slug` (named "Team {slug}") with `limits`, as the system actor.
pub async fn create_tenant_with_limits(pool: &PgPool, slug: &str, limits: Resources) -> Tenant {
    create_tenant_named(pool, slug, &format!("Team {slug}"), limits).await
}

/// Create tenant `slug` named `name` with `limits`, as the system actor (for tests that show the name).
pub async fn create_tenant_named(
    pool: &PgPool,
    slug: &str,
    name: &str,
    limits: Resources,
) -> Tenant {
    let by = service::By {
        actor: &Actor::system(),
        meta: &RequestMeta::default(),
    };
    let slug = TenantSlug::parse(slug).unwrap();
    let name = TenantName::parse(name).unwrap();
    service::create(pool, by, &slug, &name, limits, None)
        .await
        .unwrap()
}

/// Make `user_id` a member of `tenant_id` with `role`, directly in the database.
pub async fn add_member(pool: &PgPool, tenant_id: Uuid, user_id: Uuid, role: Role) {
    sqlx::query("INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(tenant_id)
        .bind(user_id)
        .bind(role.as_str())
        .execute(pool)
        .await
        .unwrap();
}
