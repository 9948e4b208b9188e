//! Tenant isolation of the HTML pages, table-driven over every `/t/{tenant}/...` route: an owner of
//! another tenant gets 404 on each of them (never 403, 200 or a redirect) and changes nothing, and the same
//! owner using their own tenant's slug with the first tenant's cluster name, operation id and member id gets
//! 404 too. The table is compared with the routes read from the router's source in `src/web/`, so a new
//! tenant route that is not added here fails the test.

use std::collections::BTreeSet;
use std::path::Path;

use esaas::tenants::Role;
use regex::Regex;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Fixture, ROOMY, Session, create_tenant_with_limits};

/// Method, path template, form fields.
type Route = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Every tenant page route: method, path template and a form body plausible enough that only the access
/// rules decide (POST bodies get the CSRF token added by [`Session::post`]).
const TENANT_ROUTES: &[Route] = &[
    ("GET", "/t/{tenant}/clusters", &[]),
    ("GET", "/t/{tenant}/clusters/new", &[]),
    (
        "POST",
        "/t/{tenant}/clusters/new",
        &[("template", "single-node"), ("name", "fresh")],
    ),
    (
        "POST",
        "/t/{tenant}/clusters/new/preview",
        &[("template", "single-node"), ("name", "fresh")],
    ),
    ("GET", "/t/{tenant}/clusters/{name}", &[]),
    ("GET", "/t/{tenant}/clusters/{name}/live", &[]),
    ("GET", "/t/{tenant}/clusters/{name}/topology", &[]),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/topology",
        &[("action", "apply")],
    ),
    ("POST", "/t/{tenant}/clusters/{name}/topology/preview", &[]),
    ("GET", "/t/{tenant}/clusters/{name}/scale", &[]),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/scale",
        &[("node_set", "default"), ("count", "3"), ("step", "confirm")],
    ),
    ("GET", "/t/{tenant}/clusters/{name}/resize", &[]),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/resize",
        &[
            ("node_set", "default"),
            ("cpu_cores", "2"),
            ("memory_gib", "4"),
            ("storage_gib", "20"),
            ("step", "confirm"),
        ],
    ),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/allow-list",
        &[("ip_allow_list", "0.0.0.0/0")],
    ),
    ("GET", "/t/{tenant}/clusters/{name}/upgrade", &[]),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/upgrade",
        &[("version", "9.2.1")],
    ),
    ("GET", "/t/{tenant}/clusters/{name}/restart", &[]),
    ("POST", "/t/{tenant}/clusters/{name}/restart", &[]),
    ("GET", "/t/{tenant}/clusters/{name}/protection", &[]),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/protection",
        &[("protection", "on")],
    ),
    ("GET", "/t/{tenant}/clusters/{name}/delete", &[]),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/delete",
        &[("confirm_name", "logs")],
    ),
    (
        "GET",
        "/t/{tenant}/clusters/{name}/operations/{operation}/cancel",
        &[],
    ),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/operations/{operation}/cancel",
        &[],
    ),
    ("POST", "/t/{tenant}/clusters/{name}/credentials", &[]),
    ("GET", "/t/{tenant}/clusters/{name}/elasticsearch", &[]),
    (
        "POST",
        "/t/{tenant}/clusters/{name}/indices/{index}/replicas",
        &[("replicas", "0")],
    ),
    ("GET", "/t/{tenant}/audit", &[]),
    ("GET", "/t/{tenant}/quota", &[]),
    ("GET", "/t/{tenant}/members", &[]),
    (
        "POST",
        "/t/{tenant}/members",
        &[("email", "boss@globex.test"), ("role", "viewer")],
    ),
    (
        "POST",
        "/t/{tenant}/members/{user_id}/role",
        &[("role", "viewer")],
    ),
    ("GET", "/t/{tenant}/members/{user_id}/remove", &[]),
    ("POST", "/t/{tenant}/members/{user_id}/remove", &[]),
];

/// The (method, path) pairs of every `.route(..)` under `/t/{tenant}` in `src/web/`, read from the source
/// (string literals, or a `const` of the same file).
fn routes_in_router_source() -> BTreeSet<(String, String)> {
    let route = Regex::new(r#"^\.route\(\s*(?:"([^"]*)"|([A-Z_][A-Z0-9_]*))\s*,"#).unwrap();
    let method = Regex::new(r"(?:^|[^:\w])(get|post|put|patch|delete)\(").unwrap();
    let mut out = BTreeSet::new();
    let mut files = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web")];
    let mut seen_routes = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        for (at, _) in src.match_indices(".route(") {
            seen_routes += 1;
            let rest = &src[at..];
            let end = [
                rest[1..].find(".route("),
                rest.find("\n}"),
                rest.find(".merge("),
            ]
            .into_iter()
            .flatten()
            .filter(|e| *e > 0)
            .min()
            .unwrap_or(rest.len());
            let chunk = &rest[..end];
            let caps = route
                .captures(chunk)
                .unwrap_or_else(|| panic!("unreadable route in {}: {chunk}", p.display()));
            let path = match (caps.get(1), caps.get(2)) {
                (Some(lit), _) => lit.as_str().to_owned(),
                (None, Some(name)) => {
                    let def = Regex::new(&format!(r#"const {}: &str = "([^"]*)""#, name.as_str()))
                        .unwrap();
                    def.captures(&src)
                        .unwrap_or_else(|| panic!("no const {} in {}", name.as_str(), p.display()))
                        [1]
                    .to_owned()
                }
                _ => unreachable!(),
            };
            if !path.starts_with("/t/") {
                continue;
            }
            let handlers = &chunk[caps.get(0).unwrap().end()..];
            for m in method.captures_iter(handlers) {
                out.insert((m[1].to_uppercase(), path.clone()));
            }
        }
    }
    assert!(
        seen_routes > 30,
        "the router source was not found ({seen_routes} routes)"
    );
    out
}

#[test]
fn the_table_lists_every_tenant_route_of_the_router() {
    let table: BTreeSet<(String, String)> = TENANT_ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(table.len(), TENANT_ROUTES.len(), "duplicates in the table");
    let router = routes_in_router_source();
    let missing: Vec<_> = router.difference(&table).collect();
    let stale: Vec<_> = table.difference(&router).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "tenant routes not in TENANT_ROUTES: {missing:?}; in the table but not the router: {stale:?}"
    );
    assert_eq!(router.len(), 34);
}

/// What must not change in tenant `acme` while an outsider probes it.
#[derive(Debug, PartialEq)]
struct AcmeState {
    clusters: Vec<(String, i64, serde_json::Value, bool)>,
    operations: i64,
    audit_rows: i64,
    members: Vec<(Uuid, String)>,
    tokens: Vec<(Uuid, bool)>,
}

async fn acme_state(pool: &PgPool, tenant: Uuid) -> AcmeState {
    AcmeState {
        clusters: sqlx::query_as(
            "SELECT name, generation, spec, deletion_protection FROM clusters WHERE tenant_id = $1 \
             ORDER BY name",
        )
        .bind(tenant)
        .fetch_all(pool)
        .await
        .unwrap(),
        operations: sqlx::query_scalar(
            "SELECT count(*) FROM operations o JOIN clusters c ON c.id = o.cluster_id \
             WHERE c.tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(pool)
        .await
        .unwrap(),
        // All audit rows, not only acme's: a probe must not write any.
        audit_rows: sqlx::query_scalar("SELECT count(*) FROM audit_log")
            .fetch_one(pool)
            .await
            .unwrap(),
        members: sqlx::query_as(
            "SELECT user_id, role FROM tenant_members WHERE tenant_id = $1 ORDER BY user_id",
        )
        .bind(tenant)
        .fetch_all(pool)
        .await
        .unwrap(),
        tokens: sqlx::query_as("SELECT id, revoked_at IS NOT NULL FROM api_tokens ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap(),
    }
}

/// Tenant `acme` with cluster `logs` (and its create operation), an owner with an API token, and an owner
/// of tenant `globex` signed in.
struct Probe {
    f: Fixture,
    outsider: Session,
    owner_id: Uuid,
    operation_id: Uuid,
    token_id: Uuid,
}

async fn probe_fixture(pool: PgPool) -> Probe {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    let operation_id: Uuid = sqlx::query_scalar("SELECT id FROM operations LIMIT 1")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    let (status, _) = owner
        .post_text(
            &f.app,
            "/account/tokens",
            &[("name", "ci"), ("tenant", "acme")],
        )
        .await;
    assert!(status == 200 || status == 303, "token created: {status}");
    let token_id: Uuid = sqlx::query_scalar("SELECT id FROM api_tokens WHERE user_id = $1")
        .bind(owner.user_id)
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    let globex = create_tenant_with_limits(&f.app.pool, "globex", ROOMY).await;
    Probe {
        outsider: f
            .member_of(globex.id, "boss@globex.test", Role::Owner)
            .await,
        owner_id: owner.user_id,
        operation_id,
        token_id,
        f,
    }
}

impl Probe {
    fn fill(&self, template: &str, tenant: &str) -> String {
        template
            .replace("{tenant}", tenant)
            .replace("{name}", "logs")
            .replace("{operation}", &self.operation_id.to_string())
            .replace("{user_id}", &self.owner_id.to_string())
            .replace("{index}", "logs-2026.12.01")
    }

    /// Send one probe and assert a 404 that says nothing about acme's cluster.
    async fn expect_404(&self, method: &str, path: &str, body: &[(&str, &str)]) {
        let (status, text) = if method == "GET" {
            self.outsider.get(&self.f.app, path).await
        } else {
            self.outsider.post_text(&self.f.app, path, body).await
        };
        assert_eq!(status, 404, "{method} {path}: {text}");
        assert!(
            !text.contains("owner@acme.test") && !text.contains(&self.operation_id.to_string()),
            "{method} {path} leaks acme's data"
        );
    }
}

#[sqlx::test]
async fn another_tenants_owner_gets_404_on_every_tenant_page_and_changes_nothing(pool: PgPool) {
    let p = probe_fixture(pool).await;
    let before = acme_state(&p.f.app.pool, p.f.tenant_id).await;
    for (method, template, body) in TENANT_ROUTES {
        let path = p.fill(template, "acme");
        p.expect_404(method, &path, body).await;
    }
    // Someone else's API token is not theirs to revoke.
    let path = format!("/account/tokens/{}/revoke", p.token_id);
    p.expect_404("POST", &path, &[]).await;
    assert_eq!(acme_state(&p.f.app.pool, p.f.tenant_id).await, before);
}

#[sqlx::test]
async fn own_tenant_slug_with_another_tenants_ids_gets_404(pool: PgPool) {
    let p = probe_fixture(pool).await;
    let before = acme_state(&p.f.app.pool, p.f.tenant_id).await;
    let mut probed = 0;
    for (method, template, body) in TENANT_ROUTES {
        // Only routes that name a cluster, operation or member: the others are globex's own pages.
        if !["{name}", "{operation}", "{user_id}"]
            .iter()
            .any(|id| template.contains(id))
        {
            continue;
        }
        let path = p.fill(template, "globex");
        p.expect_404(method, &path, body).await;
        probed += 1;
    }
    assert_eq!(probed, 26);
    // acme's operation under a cluster name globex does have is not found either.
    let owned = crate::three_nodes_form("mine", "3");
    let (status, _) = p
        .outsider
        .post_text(
            &p.f.app,
            "/t/globex/clusters/new",
            &crate::fields(&owned, &[]),
        )
        .await;
    assert_eq!(status, 303, "globex's own cluster is accepted");
    for method in ["GET", "POST"] {
        let path = format!(
            "/t/globex/clusters/mine/operations/{}/cancel",
            p.operation_id
        );
        p.expect_404(method, &path, &[]).await;
    }
    let after = acme_state(&p.f.app.pool, p.f.tenant_id).await;
    assert_eq!(after.clusters, before.clusters);
    assert_eq!(after.operations, before.operations);
    assert_eq!(after.members, before.members);
    assert_eq!(after.tokens, before.tokens);
}
