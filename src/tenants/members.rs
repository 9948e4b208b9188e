//! Tenant members: list, add by email, change role, remove, with the rules in one place.
//!
//! Rules (checked here, inside the caller's transaction, after locking the tenant row so two concurrent
//! changes cannot both pass the "last owner" check):
//! * the acting user's role is re-read under the lock (not trusted from the request's extractor): only
//!   members with [`Role::can_manage_members`] may change members, and only roles they
//!   [`Role::can_assign`] (admins never touch owners); otherwise 403. Platform admins act as owners of
//!   every tenant, so a tenant created without an owner can always be given one;
//! * a member is added by the email of an existing, enabled account (no invitations): an unknown email, a
//!   disabled account or an existing member are field errors on `email`;
//! * the last owner can be neither demoted nor removed (409).
//!
//! Each change writes its audit row (`member.add`, `member.role_change`, `member.remove`).

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::repo::{self, Tenant, role_from_db};
use super::role::Role;
use crate::accounts::email::Email;
use crate::audit::{self, Actor, AuditEntry};
use crate::error::{AppError, AppResult, FieldErrors, ResultExt};
use crate::request_meta::RequestMeta;

/// A member of a tenant as the members page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
    /// Their display name (may be empty).
    pub display_name: String,
    /// Their role in the tenant.
    pub role: Role,
    /// The account is disabled (still a member; cannot log in).
    pub disabled: bool,
    /// When they joined.
    pub created_at: DateTime<Utc>,
}

/// Message when the last owner would go.
pub const LAST_OWNER_MESSAGE: &str =
    "A tenant needs at least one owner: make another member an owner first.";

/// The members of a tenant, owners first, then by email.
#[tracing::instrument(skip(conn))]
pub async fn list(conn: &mut PgConnection, tenant_id: Uuid) -> AppResult<Vec<Member>> {
    let rows = sqlx::query!(
        r#"SELECT m.user_id, u.email, u.display_name, m.role, u.disabled_at IS NOT NULL AS "disabled!",
                  m.created_at
           FROM tenant_members m JOIN users u ON u.id = m.user_id
           WHERE m.tenant_id = $1
           ORDER BY array_position(ARRAY['owner', 'admin', 'member', 'viewer'], m.role), u.email"#,
        tenant_id
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Member {
                user_id: r.user_id,
                email: r.email,
                display_name: r.display_name,
                role: role_from_db(&r.role)?,
                disabled: r.disabled,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// A user's role in a tenant, if they are a member.
#[tracing::instrument(skip(conn))]
pub async fn role_of(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<Role>> {
    let role = sqlx::query_scalar!(
        "SELECT role FROM tenant_members WHERE tenant_id = $1 AND user_id = $2",
        tenant_id,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    role.as_deref().map(role_from_db).transpose()
}

/// The role the acting user manages members with, re-read under the tenant lock; 403 unless they may
/// manage members. Platform admins act as owners of every tenant (a tenant created without an owner must
/// not be a dead end); everyone else with their membership role.
async fn acting_role(conn: &mut PgConnection, tenant_id: Uuid, actor: &Actor) -> AppResult<Role> {
    let Some(user_id) = actor.user_id else {
        return Err(manage_denied());
    };
    let row = sqlx::query!(
        r#"SELECT u.is_platform_admin, m.role AS "role?"
           FROM users u LEFT JOIN tenant_members m ON m.user_id = u.id AND m.tenant_id = $1
           WHERE u.id = $2 AND u.disabled_at IS NULL"#,
        tenant_id,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let role = match row {
        Some(r) if r.is_platform_admin => Some(Role::Owner),
        Some(r) => r.role.as_deref().map(role_from_db).transpose()?,
        None => None,
    };
    match role {
        Some(r) if r.can_manage_members() => Ok(r),
        _ => Err(manage_denied()),
    }
}

fn manage_denied() -> AppError {
    AppError::Forbidden(
        "Only owners and admins of this tenant (and platform admins) can manage its members."
            .into(),
    )
}

fn cannot_assign(role: Role) -> AppError {
    AppError::Forbidden(format!(
        "Your role cannot manage members with the role {role}."
    ))
}

async fn owner_count(conn: &mut PgConnection, tenant_id: Uuid) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM tenant_members WHERE tenant_id = $1 AND role = 'owner'"#,
        tenant_id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// Add the user with this email as `role`. Field errors (on `field`, normally `email`) for an invalid or
/// unknown email, a disabled account, or an existing member.
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn add(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    tenant: &Tenant,
    email: &str,
    role: Role,
) -> AppResult<Member> {
    repo::lock(conn, tenant.id).await?;
    let acting = acting_role(conn, tenant.id, actor).await?;
    if !acting.can_assign(role) {
        return Err(cannot_assign(role));
    }
    insert(conn, actor, meta, tenant, "email", email, role).await
}

/// Add a member with no role check, for callers whose right was established before: the new-tenant form
/// (its first owner; the caller is `PlatformAdmin`) and `esaas admin add-member` (whoever runs it holds the
/// database). Field errors go to `field`.
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn add_as_platform(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    tenant: &Tenant,
    field: &str,
    email: &str,
    role: Role,
) -> AppResult<Member> {
    repo::lock(conn, tenant.id).await?;
    insert(conn, actor, meta, tenant, field, email, role).await
}

async fn insert(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    tenant: &Tenant,
    field: &str,
    email: &str,
    role: Role,
) -> AppResult<Member> {
    let field_error = |msg: String| {
        let mut e = FieldErrors::new();
        e.add(field, msg);
        AppError::Validation(e)
    };
    let email = Email::parse(email).map_err(field_error)?;
    let Some(user) = crate::accounts::users::by_email(conn, email.as_str()).await? else {
        return Err(field_error(format!(
            "No account uses {email}. Ask a platform admin to create it first."
        )));
    };
    if user.disabled_at.is_some() {
        return Err(field_error(format!("The account {email} is disabled.")));
    }
    let created_at = sqlx::query_scalar!(
        "INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ($1, $2, $3) RETURNING created_at",
        tenant.id,
        user.id,
        role.as_str()
    )
    .fetch_one(&mut *conn)
    .await
    .on_constraint("tenant_members_pkey", || {
        field_error(format!("{email} is already a member of this tenant."))
    })?;
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: Some(tenant.id),
            action: "member.add",
            target_kind: "member",
            target: &user.email,
            outcome: "ok",
            before: None,
            after: Some(json!({ "user_id": user.id, "email": user.email, "role": role })),
            meta,
        },
    )
    .await?;
    Ok(Member {
        user_id: user.id,
        email: user.email,
        display_name: user.display_name,
        role,
        disabled: false,
        created_at,
    })
}

/// The target member's role and email under the lock (404 when not a member).
async fn target(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<(Role, String)> {
    let row = sqlx::query!(
        r#"SELECT m.role, u.email FROM tenant_members m JOIN users u ON u.id = m.user_id
           WHERE m.tenant_id = $1 AND m.user_id = $2"#,
        tenant_id,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((role_from_db(&row.role)?, row.email))
}

/// Change a member's role. 403 unless the actor may assign both the current and the new role; 404 when the
/// user is not a member; 409 when it would demote the last owner. Unchanged role: no-op, no audit row.
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn change_role(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    tenant: &Tenant,
    user_id: Uuid,
    new_role: Role,
) -> AppResult<()> {
    repo::lock(conn, tenant.id).await?;
    let acting = acting_role(conn, tenant.id, actor).await?;
    let (current, email) = target(conn, tenant.id, user_id).await?;
    if !acting.can_assign(current) {
        return Err(cannot_assign(current));
    }
    if !acting.can_assign(new_role) {
        return Err(cannot_assign(new_role));
    }
    if current == new_role {
        return Ok(());
    }
    if current == Role::Owner && owner_count(conn, tenant.id).await? <= 1 {
        return Err(AppError::Conflict(LAST_OWNER_MESSAGE.into()));
    }
    sqlx::query!(
        "UPDATE tenant_members SET role = $3 WHERE tenant_id = $1 AND user_id = $2",
        tenant.id,
        user_id,
        new_role.as_str()
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: Some(tenant.id),
            action: "member.role_change",
            target_kind: "member",
            target: &email,
            outcome: "ok",
            before: Some(json!({ "role": current })),
            after: Some(json!({ "role": new_role })),
            meta,
        },
    )
    .await
}

/// Remove a member. 403 unless the actor may manage the member's role; 404 when not a member; 409 for the
/// last owner.
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn remove(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    tenant: &Tenant,
    user_id: Uuid,
) -> AppResult<()> {
    repo::lock(conn, tenant.id).await?;
    let acting = acting_role(conn, tenant.id, actor).await?;
    let (current, email) = target(conn, tenant.id, user_id).await?;
    if !acting.can_assign(current) {
        return Err(cannot_assign(current));
    }
    if current == Role::Owner && owner_count(conn, tenant.id).await? <= 1 {
        return Err(AppError::Conflict(LAST_OWNER_MESSAGE.into()));
    }
    sqlx::query!(
        "DELETE FROM tenant_members WHERE tenant_id = $1 AND user_id = $2",
        tenant.id,
        user_id
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: Some(tenant.id),
            action: "member.remove",
            target_kind: "member",
            target: &email,
            outcome: "ok",
            before: Some(json!({ "user_id": user_id, "email": email, "role": current })),
            after: None,
            meta,
        },
    )
    .await
}
