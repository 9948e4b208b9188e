//! Tenant and member changes, each in its own transaction: what the web pages, the API and the CLI call
//! (none of them begins a transaction). The rules live in [`super::repo`] and [`super::members`], which
//! take a connection so that a change and its audit row commit together; this module is the door that
//! opens and commits that transaction. A refused change rolls back whole: nothing is half-written.

use sqlx::PgPool;
use uuid::Uuid;

use super::members::{self, Member};
use super::quota::Resources;
use super::repo::{self, QuotaChange};
use super::{Role, Tenant, TenantName, TenantSlug};
use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::request_meta::RequestMeta;

/// Who changes what: the acting person and the request they came with (for the audit rows).
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    /// The actor written to the audit rows (and whose role is checked where roles apply).
    pub actor: &'a Actor,
    /// The request's id, address and user agent.
    pub meta: &'a RequestMeta,
}

/// Create a tenant with `limits` and, when `owner_email` is given, that account as its first owner (one
/// transaction: a refused owner leaves no tenant). Field errors: `slug` (taken), `owner_email` (unknown or
/// disabled account). The caller has checked that the actor is a platform admin.
pub async fn create(
    db: &PgPool,
    by: By<'_>,
    slug: &TenantSlug,
    name: &TenantName,
    limits: Resources,
    owner_email: Option<&str>,
) -> AppResult<Tenant> {
    let mut tx = db.begin().await?;
    let tenant = repo::create(&mut tx, by.actor, by.meta, slug, name, limits).await?;
    if let Some(email) = owner_email {
        members::add_as_platform(
            &mut tx,
            by.actor,
            by.meta,
            &tenant,
            "owner_email",
            email,
            Role::Owner,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(tenant)
}

/// Rename a tenant (the slug never changes); unchanged names write nothing.
pub async fn rename(
    db: &PgPool,
    by: By<'_>,
    tenant_id: Uuid,
    name: &TenantName,
) -> AppResult<Tenant> {
    let mut tx = db.begin().await?;
    let tenant = repo::update_name(&mut tx, by.actor, by.meta, tenant_id, name).await?;
    tx.commit().await?;
    Ok(tenant)
}

/// Set a tenant's quota limits (limits below usage are accepted and reported in `over_limit`).
pub async fn set_quota(
    db: &PgPool,
    by: By<'_>,
    tenant_id: Uuid,
    limits: Resources,
) -> AppResult<QuotaChange> {
    let mut tx = db.begin().await?;
    let change = repo::set_quota(&mut tx, by.actor, by.meta, tenant_id, limits).await?;
    tx.commit().await?;
    Ok(change)
}

/// Add the account with `email` as `role`, checking that the actor may assign it (field errors on
/// `email`).
pub async fn add_member(
    db: &PgPool,
    by: By<'_>,
    tenant: &Tenant,
    email: &str,
    role: Role,
) -> AppResult<Member> {
    let mut tx = db.begin().await?;
    let member = members::add(&mut tx, by.actor, by.meta, tenant, email, role).await?;
    tx.commit().await?;
    Ok(member)
}

/// `esaas admin add-member`: add the account with `email` to the tenant `slug` as `role` with no role check
/// (whoever runs the CLI holds the database). 404 for an unknown tenant.
pub async fn add_member_as_platform(
    db: &PgPool,
    by: By<'_>,
    slug: &str,
    email: &str,
    role: Role,
) -> AppResult<(Tenant, Member)> {
    let mut tx = db.begin().await?;
    let tenant = repo::by_slug(&mut tx, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let member =
        members::add_as_platform(&mut tx, by.actor, by.meta, &tenant, "email", email, role).await?;
    tx.commit().await?;
    Ok((tenant, member))
}

/// Change a member's role (403 when the actor may not, 404 for a non-member, 409 for the last owner).
pub async fn change_role(
    db: &PgPool,
    by: By<'_>,
    tenant: &Tenant,
    user_id: Uuid,
    role: Role,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    members::change_role(&mut tx, by.actor, by.meta, tenant, user_id, role).await?;
    tx.commit().await?;
    Ok(())
}

/// Remove a member (403 when the actor may not, 404 for a non-member, 409 for the last owner).
pub async fn remove_member(
    db: &PgPool,
    by: By<'_>,
    tenant: &Tenant,
    user_id: Uuid,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    members::remove(&mut tx, by.actor, by.meta, tenant, user_id).await?;
    tx.commit().await?;
    Ok(())
}
