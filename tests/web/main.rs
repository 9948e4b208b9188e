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
use sqlx::PgPool;
use uuid::Uuid;

pub use common::k8s::es_resource;
pub use common::{PASSWORD, Session, TestApp, add_member, create_tenant_with_limits};

/// Limits roomy enough for a few three-node clusters.
pub const ROOMY: Resources = Resources {
    clusters: 10,
    nodes: 40,
    cpu_millis: 100_000,
    memory_mib: 262_144,
    storage_gib: 4000,
};

/// A portal with background tasks and one tenant `acme` (the shared harness), plus the cluster helpers
/// of these tests. Sessions it signs in check every HTML answer against the CSP ([`assert_html_csp_clean`]).
pub struct Fixture {
    /// The portal (its background tasks stop when it is dropped, or with `app.shutdown`).
    pub app: TestApp,
    /// Tenant `acme`.
    pub tenant_id: Uuid,
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
        let app = TestApp::init(pool)
            .config(tweak)
            .background()
            .with_tenant("acme", limits)
            .spawn()
            .await;
        let tenant_id = app.tenant("acme").id;
        Self { app, tenant_id }
    }

    /// A signed-in user with `role` in `acme`.
    pub async fn user(&self, email: &str, role: Role) -> Session {
        self.member_of(self.tenant_id, email, role).await
    }

    /// A signed-in user with `role` in `tenant_id`.
    pub async fn member_of(&self, tenant_id: Uuid, email: &str, role: Role) -> Session {
        let session = self.app.sign_in_member(tenant_id, email, role).await;
        session.checking(assert_html_csp_clean)
    }

    /// A signed-in platform admin (a member of no tenant).
    pub async fn platform_admin(&self, email: &str) -> Session {
        let session = self.app.sign_in(email, true).await;
        session.checking(assert_html_csp_clean)
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
