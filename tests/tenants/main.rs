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

use esaas::audit::Actor;
use esaas::request_meta::RequestMeta;
use esaas::tenants::quota::Resources;
use esaas::tenants::{Role, Tenant, TenantName, TenantSlug, repo};
use reqwest::Response;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use common::TestApp;

/// A password that passes the strength check.
pub const PASSWORD: &str = "correct horse battery staple";

/// Create a tenant (default limits) as the system actor.
pub async fn create_tenant(pool: &PgPool, slug: &str) -> Tenant {
    let mut conn = pool.acquire().await.unwrap();
    repo::create(
        &mut conn,
        &Actor::system(),
        &RequestMeta::default(),
        &TenantSlug::parse(slug).unwrap(),
        &TenantName::parse(&format!("Team {slug}")).unwrap(),
        esaas::tenants::quota::DEFAULT_LIMITS,
    )
    .await
    .unwrap()
}

/// Make `user_id` a member of `tenant_id` directly in the database.
pub async fn add_member(pool: &PgPool, tenant_id: Uuid, user_id: Uuid, role: Role) {
    sqlx::query("INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(tenant_id)
        .bind(user_id)
        .bind(role.as_str())
        .execute(pool)
        .await
        .unwrap();
}

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

/// Number of rows in a table (tests only pass literal table names).
pub async fn count(pool: &PgPool, table: &'static str) -> i64 {
    assert!(table.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A signed-in client and its CSRF token.
pub struct Session {
    /// Client with the session cookie.
    pub client: reqwest::Client,
    /// The session's CSRF token.
    pub token: String,
}

/// Create a user (or reuse the email's) and log in.
pub async fn sign_in(app: &TestApp, email: &str, platform_admin: bool) -> (Uuid, Session) {
    let id = app.create_user(email, PASSWORD, platform_admin).await;
    let client = app.client();
    let token = app.login(&client, email, PASSWORD).await;
    (id, Session { client, token })
}

impl Session {
    /// GET a path: status and body.
    pub async fn get(&self, app: &TestApp, path: &str) -> (u16, String) {
        let r = self.client.get(app.url(path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// POST a form (the CSRF token added): the response.
    pub async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", self.token.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(app.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// POST a form: status and (for redirects) the location, else the body.
    pub async fn post_text(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String) {
        let r = self.post(app, path, fields).await;
        let status = r.status().as_u16();
        if status == 303 {
            let loc = r.headers()[reqwest::header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            (status, loc)
        } else {
            (status, r.text().await.unwrap())
        }
    }
}
