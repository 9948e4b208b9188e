//! The tenants repository: create, read, list, rename, set the quota. Mutations take the acting [`Actor`]
//! and the [`RequestMeta`] and write their audit row in the same connection (pass a transaction), so neither
//! the web pages nor the API can forget it. Who may call them is decided by the caller's extractor
//! (`PlatformAdmin` for everything here except reads).

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::quota::{self, QuotaDimension, Resources};
use super::role::Role;
use super::slug::{TenantName, TenantSlug};
use crate::audit::{self, Actor, AuditEntry};
use crate::error::{AppError, AppResult, FieldErrors, ResultExt};
use crate::request_meta::RequestMeta;

/// A tenant: a team with members, a quota and a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Id.
    pub id: Uuid,
    /// URL segment and namespace suffix.
    pub slug: TenantSlug,
    /// Display name.
    pub name: String,
    /// Quota limits.
    pub limits: Resources,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of name or limits.
    pub updated_at: DateTime<Utc>,
}

/// A tenant row as the macros read it (flat), turned into a [`Tenant`].
struct TenantRow {
    id: Uuid,
    slug: TenantSlug,
    name: String,
    max_clusters: i64,
    max_nodes: i64,
    max_cpu_millis: i64,
    max_memory_mib: i64,
    max_storage_gib: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant {
            id: r.id,
            slug: r.slug,
            name: r.name,
            limits: Resources {
                clusters: r.max_clusters,
                nodes: r.max_nodes,
                cpu_millis: r.max_cpu_millis,
                memory_mib: r.max_memory_mib,
                storage_gib: r.max_storage_gib,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A tenant with its member count and usage (admin list).
#[derive(Debug, Clone)]
pub struct TenantSummary {
    /// The tenant.
    pub tenant: Tenant,
    /// Number of members.
    pub members: i64,
    /// Number of owners (0: nobody in the tenant can manage it; the admin list flags it).
    pub owners: i64,
    /// Usage over live clusters (`usage.clusters` is the live cluster count).
    pub usage: Resources,
}

/// One tenant a user belongs to, with their role.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The tenant.
    pub tenant: Tenant,
    /// The user's role in it.
    pub role: Role,
}

/// What a quota change did.
#[derive(Debug, Clone)]
pub struct QuotaChange {
    /// Limits before.
    pub before: Resources,
    /// Limits after.
    pub after: Resources,
    /// Usage at the time of the change.
    pub usage: Resources,
    /// Dimensions whose usage is now above the new limit (allowed; growth there is blocked until usage
    /// drops).
    pub over_limit: Vec<QuotaDimension>,
}

/// Decode a role stored in `tenant_members.role` (a CHECK constraint keeps it valid).
pub(crate) fn role_from_db(s: &str) -> AppResult<Role> {
    Role::parse(s)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("invalid role in database: {s:?}")))
}

/// Create a tenant with `limits` (usually [`quota::DEFAULT_LIMITS`]); audit `tenant.create`. A taken slug is
/// a field error on `slug`.
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    slug: &TenantSlug,
    name: &TenantName,
    limits: Resources,
) -> AppResult<Tenant> {
    let tenant: Tenant = sqlx::query_as!(
        TenantRow,
        r#"INSERT INTO tenants (slug, name, max_clusters, max_nodes, max_cpu_millis, max_memory_mib,
                               max_storage_gib)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, slug AS "slug: TenantSlug", name, max_clusters, max_nodes, max_cpu_millis,
                     max_memory_mib, max_storage_gib, created_at, updated_at"#,
        slug.as_str(),
        name.as_str(),
        limits.clusters,
        limits.nodes,
        limits.cpu_millis,
        limits.memory_mib,
        limits.storage_gib
    )
    .fetch_one(&mut *conn)
    .await
    .on_constraint("tenants_slug_key", || {
        let mut e = FieldErrors::new();
        e.add(
            "slug",
            format!("The slug '{slug}' is taken; choose another."),
        );
        AppError::Validation(e)
    })?
    .into();
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: Some(tenant.id),
            action: "tenant.create",
            target_kind: "tenant",
            target: tenant.slug.as_str(),
            outcome: "ok",
            before: None,
            after: Some(
                json!({ "slug": tenant.slug, "name": tenant.name, "limits": tenant.limits }),
            ),
            meta,
        },
    )
    .await?;
    Ok(tenant)
}

/// Find a tenant by slug.
#[tracing::instrument(skip(conn))]
pub async fn by_slug(conn: &mut PgConnection, slug: &str) -> AppResult<Option<Tenant>> {
    let row = sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug AS "slug: TenantSlug", name, max_clusters, max_nodes, max_cpu_millis,
                  max_memory_mib, max_storage_gib, created_at, updated_at
           FROM tenants WHERE slug = $1"#,
        slug
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Tenant::from))
}

/// Find a tenant by id.
#[tracing::instrument(skip(conn))]
pub async fn by_id(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<Tenant>> {
    let row = sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug AS "slug: TenantSlug", name, max_clusters, max_nodes, max_cpu_millis,
                  max_memory_mib, max_storage_gib, created_at, updated_at
           FROM tenants WHERE id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Tenant::from))
}

/// Lock the tenant row until the transaction ends (`SELECT ... FOR UPDATE`) and return it fresh. Every
/// change that must see a stable set of members or clusters of the tenant takes this lock first.
#[tracing::instrument(skip(conn))]
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> AppResult<Tenant> {
    let row = sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug AS "slug: TenantSlug", name, max_clusters, max_nodes, max_cpu_millis,
                  max_memory_mib, max_storage_gib, created_at, updated_at
           FROM tenants WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Tenant::from).ok_or(AppError::NotFound)
}

/// Every tenant with member count and usage, by slug (platform admins).
#[tracing::instrument(skip(conn))]
pub async fn list_all(conn: &mut PgConnection) -> AppResult<Vec<TenantSummary>> {
    let rows = sqlx::query!(
        r#"SELECT t.id, t.slug AS "slug: TenantSlug", t.name, t.max_clusters, t.max_nodes,
                  t.max_cpu_millis, t.max_memory_mib, t.max_storage_gib, t.created_at, t.updated_at,
                  (SELECT count(*) FROM tenant_members m WHERE m.tenant_id = t.id) AS "members!",
                  (SELECT count(*) FROM tenant_members m
                    WHERE m.tenant_id = t.id AND m.role = 'owner') AS "owners!",
                  u.clusters AS "clusters!", u.nodes AS "nodes!", u.cpu_millis AS "cpu_millis!",
                  u.memory_mib AS "memory_mib!", u.storage_gib AS "storage_gib!"
           FROM tenants t
           CROSS JOIN LATERAL (
               SELECT count(*) AS clusters,
                      coalesce(sum(c.nodes), 0)::bigint AS nodes,
                      coalesce(sum(c.cpu_millis), 0)::bigint AS cpu_millis,
                      coalesce(sum(c.memory_mib), 0)::bigint AS memory_mib,
                      coalesce(sum(c.storage_gib), 0)::bigint AS storage_gib
               FROM clusters c WHERE c.tenant_id = t.id AND c.deleted_at IS NULL
           ) u
           ORDER BY t.slug"#
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TenantSummary {
            tenant: Tenant::from(TenantRow {
                id: r.id,
                slug: r.slug,
                name: r.name,
                max_clusters: r.max_clusters,
                max_nodes: r.max_nodes,
                max_cpu_millis: r.max_cpu_millis,
                max_memory_mib: r.max_memory_mib,
                max_storage_gib: r.max_storage_gib,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }),
            members: r.members,
            owners: r.owners,
            usage: Resources {
                clusters: r.clusters,
                nodes: r.nodes,
                cpu_millis: r.cpu_millis,
                memory_mib: r.memory_mib,
                storage_gib: r.storage_gib,
            },
        })
        .collect())
}

/// The tenants a user belongs to, by name.
#[tracing::instrument(skip(conn))]
pub async fn memberships(conn: &mut PgConnection, user_id: Uuid) -> AppResult<Vec<Membership>> {
    let rows = sqlx::query!(
        r#"SELECT t.id, t.slug AS "slug: TenantSlug", t.name, t.max_clusters, t.max_nodes,
                  t.max_cpu_millis, t.max_memory_mib, t.max_storage_gib, t.created_at, t.updated_at,
                  m.role
           FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
           WHERE m.user_id = $1
           ORDER BY lower(t.name), t.slug"#,
        user_id
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Membership {
                role: role_from_db(&r.role)?,
                tenant: Tenant::from(TenantRow {
                    id: r.id,
                    slug: r.slug,
                    name: r.name,
                    max_clusters: r.max_clusters,
                    max_nodes: r.max_nodes,
                    max_cpu_millis: r.max_cpu_millis,
                    max_memory_mib: r.max_memory_mib,
                    max_storage_gib: r.max_storage_gib,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                }),
            })
        })
        .collect()
}

/// Rename a tenant; audit `tenant.update` with the old and new name. No-op (and no audit row) when the name
/// is unchanged.
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn update_name(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    tenant_id: Uuid,
    name: &TenantName,
) -> AppResult<Tenant> {
    let before = lock(conn, tenant_id).await?;
    if before.name == name.as_str() {
        return Ok(before);
    }
    let after: Tenant = sqlx::query_as!(
        TenantRow,
        r#"UPDATE tenants SET name = $2, updated_at = now() WHERE id = $1
           RETURNING id, slug AS "slug: TenantSlug", name, max_clusters, max_nodes, max_cpu_millis,
                     max_memory_mib, max_storage_gib, created_at, updated_at"#,
        tenant_id,
        name.as_str()
    )
    .fetch_one(&mut *conn)
    .await?
    .into();
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: Some(tenant_id),
            action: "tenant.update",
            target_kind: "tenant",
            target: after.slug.as_str(),
            outcome: "ok",
            before: Some(json!({ "name": before.name })),
            after: Some(json!({ "name": after.name })),
            meta,
        },
    )
    .await?;
    Ok(after)
}

/// Set a tenant's limits under the tenant row lock; audit `quota.update` with before/after limits and the
/// usage. Limits below current usage are accepted and reported in [`QuotaChange::over_limit`].
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn set_quota(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    tenant_id: Uuid,
    limits: Resources,
) -> AppResult<QuotaChange> {
    let before = lock(conn, tenant_id).await?;
    sqlx::query!(
        r#"UPDATE tenants SET max_clusters = $2, max_nodes = $3, max_cpu_millis = $4, max_memory_mib = $5,
                  max_storage_gib = $6, updated_at = now()
           WHERE id = $1"#,
        tenant_id,
        limits.clusters,
        limits.nodes,
        limits.cpu_millis,
        limits.memory_mib,
        limits.storage_gib
    )
    .execute(&mut *conn)
    .await?;
    let usage = quota::usage(conn, tenant_id).await?;
    let over_limit: Vec<QuotaDimension> = QuotaDimension::ALL
        .into_iter()
        .filter(|&d| usage.get(d) > limits.get(d))
        .collect();
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: Some(tenant_id),
            action: "quota.update",
            target_kind: "quota",
            target: before.slug.as_str(),
            outcome: "ok",
            before: Some(json!({ "limits": before.limits })),
            after: Some(json!({ "limits": limits, "usage": usage, "over_limit": over_limit })),
            meta,
        },
    )
    .await?;
    Ok(QuotaChange {
        before: before.limits,
        after: limits,
        usage,
        over_limit,
    })
}
