//! The REST API v1 over HTTP: the portal on a loopback port over a fresh database per test
//! (`#[sqlx::test]`), driven with bearer tokens. Operations stay pending (no reconciler runs); tests that
//! need an idle cluster settle its operation directly in the database. Only `live_cluster` runs the
//! background tasks, for the reads that need what Kubernetes really has (pods, credentials).

#[path = "../common/mod.rs"]
mod common;

mod access;
mod audit_rows;
mod cluster_state;
mod concurrency;
mod credentials_wait;
mod docs;
mod elasticsearch;
mod endpoints;
mod idempotency;
mod kubeconfig_mode;
mod live_cluster;
mod pagination;
mod partial_changes;
mod problems;
mod rate_limit;
mod resources;
mod storage_classes;
mod template_versions;
mod token_limits;
mod tokens;
mod web_tokens;

use esaas::tenants::Role;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

pub use common::{PASSWORD, TestApp};

/// A running portal (the shared harness) plus API helpers: users with bearer tokens, JSON requests.
pub struct Api {
    /// The portal.
    pub app: TestApp,
    /// A plain HTTP client (no cookies).
    pub http: reqwest::Client,
}

/// A user with a token.
#[derive(Debug, Clone)]
pub struct Who {
    /// User id.
    pub user_id: Uuid,
    /// Email.
    pub email: String,
    /// Bearer token.
    pub token: String,
}

impl Api {
    /// Start a portal.
    pub async fn start(pool: PgPool) -> Self {
        Self::start_with(pool, |_| {}).await
    }

    /// Start a portal with an adjusted configuration.
    pub async fn start_with(pool: PgPool, tweak: impl FnOnce(&mut esaas::config::Config)) -> Self {
        Self {
            app: TestApp::init(pool).config(tweak).spawn().await,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// The database.
    pub fn pool(&self) -> &PgPool {
        &self.app.pool
    }

    /// Create a tenant (default limits) as the system.
    pub async fn tenant(&self, slug: &str) -> Uuid {
        common::create_tenant(self.pool(), slug).await.id
    }

    /// Create a user (optionally platform admin) with these memberships and a token with these limits.
    pub async fn user(
        &self,
        email: &str,
        platform_admin: bool,
        memberships: &[(Uuid, Role)],
    ) -> Who {
        let user_id = self.app.create_user(email, PASSWORD, platform_admin).await;
        for (tenant, role) in memberships {
            self.add_member(*tenant, user_id, *role).await;
        }
        let token = self.token(user_id, None, false).await;
        Who {
            user_id,
            email: email.to_owned(),
            token,
        }
    }

    /// Make `user_id` a member of `tenant` with `role`.
    pub async fn add_member(&self, tenant: Uuid, user_id: Uuid, role: Role) {
        common::add_member(self.pool(), tenant, user_id, role).await;
    }

    /// A new token of `user_id`.
    pub async fn token(&self, user_id: Uuid, tenant: Option<Uuid>, read_only: bool) -> String {
        common::api_token(self.pool(), user_id, tenant, read_only).await
    }

    /// A request with a bearer token.
    pub fn req(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.http
            .request(method, self.app.url(path))
            .bearer_auth(token)
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.req(Method::GET, path, token).send().await.unwrap()
    }

    /// A JSON request with a token.
    pub async fn send(&self, method: Method, path: &str, token: &str, body: &Value) -> Response {
        self.req(method, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Create a cluster from a template; assert 202 and return the operation.
    pub async fn create_cluster(&self, tenant: &str, name: &str, token: &str) -> Value {
        let r = self
            .send(
                Method::POST,
                &format!("/api/v1/tenants/{tenant}/clusters"),
                token,
                &json!({ "name": name, "template": "single-node" }),
            )
            .await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body
    }

    /// Finish every active operation of the tenant's cluster `name` (as if the reconciler had).
    pub async fn settle(&self, tenant_id: Uuid, name: &str) {
        sqlx::query(
            "UPDATE operations SET state = 'succeeded', finished_at = now() \
             WHERE state IN ('pending', 'applying', 'waiting') AND cluster_id = \
             (SELECT id FROM clusters WHERE tenant_id = $1 AND name = $2 AND deleted_at IS NULL)",
        )
        .bind(tenant_id)
        .bind(name)
        .execute(self.pool())
        .await
        .unwrap();
    }

    /// Number of rows of a table (to prove nothing was written).
    pub async fn count(&self, table: &str) -> i64 {
        common::count_rows(self.pool(), table).await
    }
}

/// Assert that `token` is read-only and limited to tenant `own`: it reads `own`'s clusters, a write there is
/// 403 and writes nothing, and tenant `other` (where the token's user is a member too, so only the token's
/// limit can hide it) is 404.
pub async fn assert_read_only_within(api: &Api, token: &str, own: &str, other: &str) {
    let r = api
        .get(&format!("/api/v1/tenants/{own}/clusters"), token)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{own} is readable");
    let clusters = api.count("clusters").await;
    let r = api
        .send(
            Method::POST,
            &format!("/api/v1/tenants/{own}/clusters"),
            token,
            &json!({ "name": "written", "template": "single-node" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(api.count("clusters").await, clusters, "nothing written");
    problem(
        api.get(&format!("/api/v1/tenants/{other}/clusters"), token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        api.get(&format!("/api/v1/tenants/{other}"), token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

/// Assert a problem+json answer with `status`; return the document.
pub async fn problem(r: Response, status: StatusCode) -> Value {
    let got = r.status();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    assert_eq!(content_type, "application/problem+json", "{text}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["status"], status.as_u16(), "{doc}");
    for key in ["type", "title", "detail"] {
        assert!(doc[key].is_string(), "{key} missing in {doc}");
    }
    doc
}

/// A pool of its own on the test's database, wide enough that every request of a race holds a connection
/// (the `#[sqlx::test]` pool has 5).
pub async fn wide_pool(pool: &PgPool, connections: u32) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap()
}

/// Wait (at most 15 s) until `n` backends of this database wait on a lock: the proof that concurrent
/// requests really are in flight together, each blocked where the test holds the lock.
pub async fn wait_for_lock_waiters(pool: &PgPool, n: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} of {n} requests reached the lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
