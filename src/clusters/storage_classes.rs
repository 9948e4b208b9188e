//! The storage classes the platform offers (table `storage_classes`, seeded with `standard` as the default):
//! read into the validation rules ([`policy`]) and managed by platform admins from the admin page and the API
//! ([`put`], [`remove`]). Each change runs in its own transaction with its audit row
//! (`storage_class.put`, `storage_class.remove`). Who may call these is the caller's to check (platform
//! admins only); the rule a node set's class must follow is `spec::StorageClassPolicy`'s.

use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::audit::{self, Actor, AuditEntry};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::spec::{StorageClassName, StorageClassPolicy};

/// One offered storage class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageClass {
    /// The Kubernetes StorageClass name.
    pub name: String,
    /// New node sets naming no class get this one.
    pub is_default: bool,
}

/// The offered classes by name.
pub async fn list(conn: &mut PgConnection) -> AppResult<Vec<StorageClass>> {
    Ok(sqlx::query_as!(
        StorageClass,
        "SELECT name, is_default FROM storage_classes ORDER BY name"
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// The policy the validation applies (names that no longer parse are skipped).
pub async fn policy(conn: &mut PgConnection) -> AppResult<StorageClassPolicy> {
    let rows = list(conn).await?;
    let mut policy = StorageClassPolicy::default();
    for row in rows {
        let Ok(name) = StorageClassName::parse(&row.name) else {
            continue;
        };
        if row.is_default {
            policy.default = Some(name.clone());
        }
        policy.allowed.push(name);
    }
    Ok(policy)
}

fn parse_name(raw: &str) -> Result<StorageClassName, FieldErrors> {
    StorageClassName::parse(raw.trim()).map_err(|m| {
        let mut e = FieldErrors::new();
        e.add("name", format!("The storage class name {m}."));
        e
    })
}

/// Offer the class `name` (or change whether it is the default; making it the default takes that from the
/// previous one). Returns the class and whether it was added. Writes `storage_class.put`.
#[tracing::instrument(skip(db, actor, meta))]
pub async fn put(
    db: &PgPool,
    actor: &Actor,
    meta: &RequestMeta,
    name: &str,
    is_default: bool,
) -> AppResult<(StorageClass, bool)> {
    let name = parse_name(name)?;
    let mut tx = db.begin().await?;
    // Changes to the list are rare; one at a time keeps "at most one default" simple.
    sqlx::query!("LOCK TABLE storage_classes IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let before = sqlx::query_scalar!(
        "SELECT is_default FROM storage_classes WHERE name = $1",
        name.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if is_default {
        sqlx::query!(
            "UPDATE storage_classes SET is_default = false WHERE is_default AND name <> $1",
            name.as_str()
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        r#"INSERT INTO storage_classes (name, is_default) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET is_default = EXCLUDED.is_default"#,
        name.as_str(),
        is_default
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        AuditEntry {
            actor,
            tenant_id: None,
            action: "storage_class.put",
            target_kind: "storage_class",
            target: name.as_str(),
            outcome: "ok",
            before: before.map(|d| json!({ "default": d })),
            after: Some(json!({ "default": is_default })),
            meta,
        },
    )
    .await?;
    tx.commit().await?;
    let class = StorageClass {
        name: name.to_string(),
        is_default,
    };
    Ok((class, before.is_none()))
}

/// Stop offering the class `name` (404 when it is not offered). Node sets that use it keep it; new ones
/// cannot choose it. Writes `storage_class.remove`.
#[tracing::instrument(skip(db, actor, meta))]
pub async fn remove(db: &PgPool, actor: &Actor, meta: &RequestMeta, name: &str) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let removed = sqlx::query_scalar!(
        "DELETE FROM storage_classes WHERE name = $1 RETURNING is_default",
        name.trim()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        AuditEntry {
            actor,
            tenant_id: None,
            action: "storage_class.remove",
            target_kind: "storage_class",
            target: name.trim(),
            outcome: "ok",
            before: Some(json!({ "default": removed })),
            after: None,
            meta,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
