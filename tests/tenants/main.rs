//! Tenants, members, quotas and the audit pages: the domain functions against a real database (one fresh
//! database per test) and the pages over HTTP (the portal on a loopback port), including who may do what.

#[path = "../common/mod.rs"]
mod common;

mod admin_http;
mod audit_http;
mod cli;
mod members_domain;
mod members_http;
mod quota_domain;
mod storage_classes_http;
mod tenants_domain;

use esaas::tenants::quota::Resources;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use common::count_rows as count;
pub use common::{PASSWORD, Session, TestApp, add_member, create_tenant};

/// Insert a live cluster row with these totals (what the cluster lifecycle writes after the check).
pub async fn insert_cluster(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    name: &str,
    r: Resources,
) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO clusters (tenant_id, name, spec, nodes, cpu_millis, memory_mib, storage_gib)
         VALUES ($1, $2, '{}'::jsonb, $3, $4, $5, $6) RETURNING id",
    )
    .bind(tenant_id)
    .bind(name)
    .bind(r.nodes)
    .bind(r.cpu_millis)
    .bind(r.memory_mib)
    .bind(r.storage_gib)
    .fetch_one(conn)
    .await
    .unwrap()
}

/// A user's role in a tenant, read from the database.
pub async fn role_in(pool: &PgPool, tenant_id: Uuid, user_id: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT role FROM tenant_members WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .unwrap()
}

/// Number of audit rows with this action.
pub async fn audit_count(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}
