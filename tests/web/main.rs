//! The cluster pages: over HTTP against a portal on a loopback port (one fresh database per test, the
//! simulated Kubernetes and the background tasks running), and in a real browser (headless Chromium driven
//! through chromedriver; skipped with a message when chromedriver is not installed, a failure when `CI` or
//! `ESAAS_TEST_NO_SKIP` is set).

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod browser_connect;
mod browser_elasticsearch;
mod browser_layout;
mod browser_phone;
mod http_actions;
mod http_audit;
mod http_connect;
mod http_dashboard;
mod http_dashboard_state;
mod http_isolation;
mod http_list_form;
mod http_stalls;
mod http_topology;
mod http_units;
#[path = "../common/skip.rs"]
mod skip;

use std::time::Duration;

use esaas::audit::Actor;
use esaas::clusters::service::{self, Caller, CreateRequest};
use esaas::request_meta::RequestMeta;
use esaas::tenants::Role;
use esaas::tenants::quota::Resources;
use reqwest::Response;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use common::TestApp;

/// A password that passes the strength check.
pub const PASSWORD: &str = "correct horse battery staple";

/// Limits roomy enough for a few three-node clusters.
pub const ROOMY: Resources = Resources {
    clusters: 10,
    nodes: 40,
    cpu_millis: 100_000,
    memory_mib: 262_144,
    storage_gib: 4000,
};

/// A portal with background tasks, one tenant `acme` and a signed-in member of each role asked for.
pub struct Fixture {
    /// The portal.
    pub app: TestApp,
    /// Stops the background tasks.
    pub shutdown: CancellationToken,
    /// Tenant `acme`.
    pub tenant_id: Uuid,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Fixture {
    /// Portal + tenant `acme` with `limits`; the simulated kubelet takes `kubelet_ms` per pod.
    pub async fn new(pool: PgPool, limits: Resources, kubelet_ms: u64) -> Self {
        Self::with_config(pool, limits, |c| {
            c.sim_kubelet_delay = Duration::from_millis(kubelet_ms);
        })
        .await
    }

    /// Portal + tenant `acme` with `limits`, with the configuration adjusted by `tweak`.
    pub async fn with_config(
        pool: PgPool,
        limits: Resources,
        tweak: impl FnOnce(&mut esaas::config::Config),
    ) -> Self {
        let (app, shutdown) = TestApp::spawn_with_background(pool, tweak).await;
        let tenant_id = create_tenant(&app.pool, "acme", limits).await;
        Self {
            app,
            shutdown,
            tenant_id,
        }
    }

    /// A signed-in user with `role` in `acme`.
    pub async fn user(&self, email: &str, role: Role) -> Session {
        let id = self.app.create_user(email, PASSWORD, false).await;
        add_member(&self.app.pool, self.tenant_id, id, role).await;
        let client = self.app.client();
        let token = self.app.login(&client, email, PASSWORD).await;
        Session {
            client,
            token,
            user_id: id,
            email: email.to_owned(),
        }
    }

    /// Request a cluster through the service (as `session`'s user, an owner or member).
    pub async fn create_cluster(&self, session: &Session, name: &str, template: &str) {
        let caller = Caller {
            tenant_id: self.tenant_id,
            role: Role::Owner,
            actor: Actor::user(session.user_id, &session.email),
            meta: RequestMeta::default(),
            if_match: None,
        };
        service::create(
            &self.app.state,
            &caller,
            &CreateRequest {
                name: name.into(),
                template: Some(template.into()),
                spec: None,
            },
        )
        .await
        .expect("create accepted");
    }

    /// Wait until the cluster's health is `health` and it has no active operation.
    pub async fn wait_settled(&self, name: &str, health: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let row: Option<(String, bool)> = sqlx::query_as(
                "SELECT c.health, EXISTS (SELECT 1 FROM operations o WHERE o.cluster_id = c.id \
                   AND o.state IN ('pending', 'applying', 'waiting')) \
                 FROM clusters c WHERE c.tenant_id = $1 AND c.name = $2 AND c.deleted_at IS NULL",
            )
            .bind(self.tenant_id)
            .bind(name)
            .fetch_optional(&self.app.pool)
            .await
            .unwrap();
            if let Some((h, busy)) = &row
                && h == health
                && !busy
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name} did not settle at {health}: {row:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The Elasticsearch custom resource, for reading what the portal applied to the simulated Kubernetes.
pub fn es_resource() -> kube::api::ApiResource {
    kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("elasticsearch.k8s.elastic.co", "v1", "Elasticsearch"),
        "elasticsearches",
    )
}

/// The password in the `elastic` user's Secret of `cluster` in tenant `acme` (what the reveal must show).
pub async fn elastic_password(app: &TestApp, cluster: &str) -> String {
    let secret = kube::Api::<k8s_openapi::api::core::v1::Secret>::namespaced(
        app.state.kube.client.clone(),
        "esaas-acme",
    )
    .get(&format!("{cluster}-es-elastic-user"))
    .await
    .expect("the elastic user's Secret");
    let bytes = secret
        .data
        .and_then(|d| d.get("elastic").cloned())
        .expect("the elastic key");
    String::from_utf8(bytes.0).expect("a UTF-8 password")
}

/// Insert a tenant directly.
pub async fn create_tenant(pool: &PgPool, slug: &str, l: Resources) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO tenants (slug, name, max_clusters, max_nodes, max_cpu_millis, max_memory_mib, \
         max_storage_gib) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(slug)
    .bind(format!("Team {slug}"))
    .bind(l.clusters)
    .bind(l.nodes)
    .bind(l.cpu_millis)
    .bind(l.memory_mib)
    .bind(l.storage_gib)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Make `user_id` a member of `tenant_id`.
pub async fn add_member(pool: &PgPool, tenant_id: Uuid, user_id: Uuid, role: Role) {
    sqlx::query("INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(tenant_id)
        .bind(user_id)
        .bind(role.as_str())
        .execute(pool)
        .await
        .unwrap();
}

/// A signed-in browser-less client.
pub struct Session {
    /// Client with the session cookie (does not follow redirects).
    pub client: reqwest::Client,
    /// The session's CSRF token.
    pub token: String,
    /// The user.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
}

impl Session {
    /// GET: status and body. Every HTML answer is checked against the CSP ([`assert_html_csp_clean`]).
    pub async fn get(&self, app: &TestApp, path: &str) -> (u16, String) {
        let r = self.client.get(app.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.unwrap();
        assert_html_csp_clean(&format!("GET {path}"), &headers, &body);
        (status, body)
    }

    /// POST a form with the CSRF token.
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

    /// POST a form: status and the redirect location (303) or the body.
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
            let headers = r.headers().clone();
            let body = r.text().await.unwrap();
            assert_html_csp_clean(&format!("POST {path}"), &headers, &body);
            (status, body)
        }
    }
}

/// The form fields of the `three-nodes` template with `name`, as the browser sends them.
pub fn three_nodes_form(name: &str, count: &str) -> Vec<(&'static str, String)> {
    vec![
        ("template", "three-nodes".into()),
        ("name", name.into()),
        ("version", "9.2.1".into()),
        ("http_tls", "on".into()),
        ("node_sets.0.name", "default".into()),
        ("node_sets.0.roles", "master".into()),
        ("node_sets.0.roles", "data".into()),
        ("node_sets.0.roles", "ingest".into()),
        ("node_sets.0.count", count.into()),
        ("node_sets.0.cpu_cores", "1".into()),
        ("node_sets.0.memory_gib", "2".into()),
        ("node_sets.0.storage_gib", "10".into()),
        ("node_sets.0.storage_class", String::new()),
        ("node_sets.0.attributes", String::new()),
        ("kibana.enabled", "on".into()),
        ("kibana.count", "1".into()),
        ("kibana.cpu_cores", "0.5".into()),
        ("kibana.memory_gib", "1".into()),
    ]
}

/// Borrow a field list for [`Session::post`].
pub fn fields<'a>(
    owned: &'a [(&'static str, String)],
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    v.extend(extra.iter().map(|(k, v)| (*k, *v)));
    v
}

/// Every `<script>` has a `src` and an empty body, no element has a `style` attribute or an `on*=` event
/// handler, and there is no `<style>` element (the CSP allows no inline script or style).
pub fn assert_csp_clean(html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag_end = html[i..].find('>').map(|e| i + e).unwrap();
        assert!(
            html[i..tag_end].contains(" src="),
            "inline script: {}",
            &html[i..tag_end]
        );
        let close = html[tag_end..]
            .find("</script>")
            .map(|e| tag_end + e)
            .expect("a closed script");
        assert!(
            html[tag_end + 1..close].trim().is_empty(),
            "script with a body: {}",
            &html[i..close]
        );
    }
    assert!(!html.contains("<style"), "inline style element");
    // Attributes are inside tags: `<name attr=... >`; text content is escaped, so `<` starts a tag.
    let attr = regex::Regex::new(r#"\s(on[a-z]+|style)\s*="#).unwrap();
    for (i, _) in html.match_indices('<') {
        let Some(end) = html[i..].find('>') else {
            break;
        };
        let tag = &html[i..i + end];
        if let Some(m) = attr.captures(tag) {
            panic!("inline {} attribute: {tag}", &m[1]);
        }
    }
}

/// For an HTML answer: a strict Content-Security-Policy header (no inline or eval'd script, no framing)
/// and markup that needs nothing inline ([`assert_csp_clean`]).
pub fn assert_html_csp_clean(what: &str, headers: &reqwest::header::HeaderMap, body: &str) {
    let is_html = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return;
    }
    let csp = headers
        .get(reqwest::header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    for part in [
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{what}: CSP without {part}: {csp}");
    }
    for part in ["unsafe-inline", "unsafe-eval"] {
        assert!(!csp.contains(part), "{what}: CSP with {part}: {csp}");
    }
    assert_csp_clean(body);
}
