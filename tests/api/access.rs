//! Every route of the OpenAPI document, called with a token of another tenant (404 for everything under
//! `/tenants/{tenant}`), with that token on its own tenant but the first tenant's cluster, operation,
//! member and token ids (404 too), and with a read-only token (403 for every change, nothing written).

use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{Api, problem};

/// Every (method, path template) of the API document.
fn routes() -> Vec<(Method, String)> {
    let doc = serde_json::to_value(esaas::api::openapi_document()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.push((method.to_uppercase().parse().unwrap(), path.clone()));
            }
        }
    }
    assert!(out.len() >= 34, "expected every route, got {}", out.len());
    out
}

/// A plausible body for a route, so that only the access rules decide.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    if *method == Method::GET || *method == Method::DELETE {
        return None;
    }
    let last = path.rsplit('/').next().unwrap();
    Some(match (method.as_str(), last) {
        ("POST", "clusters") => json!({ "name": "fresh", "template": "single-node" }),
        ("PATCH", "{name}") => json!({ "http_tls": false }),
        ("POST", "scale") => json!({ "node_set": "default", "count": 2 }),
        ("POST", "resize") => json!({ "node_set": "default", "cpu_millis": 2000 }),
        ("POST", "upgrade") => json!({ "version": "9.2.1" }),
        ("PUT", "deletion-protection") => json!({ "enabled": true }),
        ("POST", "members") => json!({ "email": "someone@example.com", "role": "viewer" }),
        ("PATCH", "{user_id}") => json!({ "role": "viewer" }),
        ("PUT", "quota") => {
            json!({ "max_clusters": 1, "max_nodes": 1, "max_cpu_millis": 1, "max_memory_mib": 1, "max_storage_gib": 1 })
        }
        ("POST", "tenants") => json!({ "slug": "newco", "name": "New" }),
        ("PATCH", "{tenant}") => json!({ "name": "Renamed" }),
        ("POST", "tokens") => json!({ "name": "more" }),
        ("PUT", "replicas") => json!({ "replicas": 0 }),
        _ => return None,
    })
}

struct Fixture {
    api: Api,
    owner: crate::Who,
    op_id: String,
}

async fn fixture(pool: PgPool) -> Fixture {
    let api = Api::start(pool).await;
    let acme = api.tenant("acme").await;
    let owner = api
        .user("owner@example.com", false, &[(acme, Role::Owner)])
        .await;
    let op = api.create_cluster("acme", "logs", &owner.token).await;
    Fixture {
        op_id: op["id"].as_str().unwrap().to_owned(),
        api,
        owner,
    }
}

fn fill(path: &str, f: &Fixture) -> String {
    path.replace("{tenant}", "acme")
        .replace("{name}", "logs")
        .replace("{index}", "logs-2026.12.01")
        .replace("{user_id}", &f.owner.user_id.to_string())
        .replace(
            "{id}",
            if path.starts_with("/api/v1/tokens") {
                "00000000-0000-0000-0000-000000000000"
            } else {
                &f.op_id
            },
        )
}

#[sqlx::test]
async fn another_tenants_token_gets_404_on_every_tenant_route(pool: PgPool) {
    let f = fixture(pool).await;
    let other = f.api.tenant("other").await;
    let outsider = f
        .api
        .user("outsider@example.com", false, &[(other, Role::Owner)])
        .await;
    let limited_owner = f.api.token(f.owner.user_id, Some(other), false).await;
    let _ = limited_owner;
    let writes = (
        f.api.count("operations").await,
        f.api.count("audit_log").await,
    );
    let mut checked = 0;
    for (method, template) in routes() {
        if !template.contains("{tenant}") {
            continue;
        }
        let path = fill(&template, &f);
        let mut req = f.api.req(method.clone(), &path, &outsider.token);
        if let Some(body) = body_for(&method, &template) {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        let p = problem(r, StatusCode::NOT_FOUND).await;
        assert!(!p.to_string().contains("logs"), "{method} {path}: {p}");
        checked += 1;
    }
    assert!(checked >= 25, "{checked}");
    assert_eq!(
        (
            f.api.count("operations").await,
            f.api.count("audit_log").await
        ),
        writes
    );
}

#[sqlx::test]
async fn a_token_limited_to_another_tenant_gets_404_even_for_its_owner(pool: PgPool) {
    let f = fixture(pool).await;
    let other = f.api.tenant("other").await;
    f.api.add_member(other, f.owner.user_id, Role::Owner).await;
    let limited = f.api.token(f.owner.user_id, Some(other), false).await;
    for (method, template) in routes() {
        if !template.contains("{tenant}") || method != Method::GET {
            continue;
        }
        let r = f.api.get(&fill(&template, &f), &limited).await;
        problem(r, StatusCode::NOT_FOUND).await;
    }
}

#[sqlx::test]
async fn a_read_only_token_gets_403_on_every_change_and_writes_nothing(pool: PgPool) {
    let f = fixture(pool).await;
    let read_only = f.api.token(f.owner.user_id, None, true).await;
    let tables = [
        "operations",
        "audit_log",
        "clusters",
        "api_tokens",
        "tenants",
        "tenant_members",
        "idempotency_keys",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(f.api.count(t).await);
    }
    let mut changes = 0;
    for (method, template) in routes() {
        let path = fill(&template, &f);
        let mut req = f
            .api
            .req(method.clone(), &path, &read_only)
            .header("idempotency-key", format!("k-{changes}"));
        if let Some(body) = body_for(&method, &template) {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        if method == Method::GET {
            // Reads work (the platform audit log needs a platform admin, which the owner is not).
            let expected_ok = path != "/api/v1/audit";
            assert_eq!(
                r.status().is_success(),
                expected_ok,
                "{method} {path}: {}",
                r.status()
            );
        } else {
            problem(r, StatusCode::FORBIDDEN).await;
            changes += 1;
        }
    }
    assert!(changes >= 18, "{changes}");
    for (t, n) in tables.iter().zip(before) {
        assert_eq!(f.api.count(t).await, n, "{t} changed");
    }
}

#[sqlx::test]
async fn own_tenant_with_another_tenants_ids_gets_404_on_every_route_that_names_one(pool: PgPool) {
    let f = fixture(pool).await;
    let other = f.api.tenant("other").await;
    let outsider = f
        .api
        .user("outsider@example.com", false, &[(other, Role::Owner)])
        .await;
    // The other tenant has a cluster of its own, so an acme operation id under a real cluster name is
    // probed as well.
    f.api.create_cluster("other", "mine", &outsider.token).await;
    let owner_token_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM api_tokens WHERE user_id = $1 LIMIT 1")
            .bind(f.owner.user_id)
            .fetch_one(f.api.pool())
            .await
            .unwrap();
    let tables = [
        "operations",
        "audit_log",
        "clusters",
        "api_tokens",
        "tenant_members",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(f.api.count(t).await);
    }
    let mut checked = 0;
    for (method, template) in routes() {
        let names_an_id = ["{name}", "{id}", "{user_id}"]
            .iter()
            .any(|id| template.contains(id));
        if !names_an_id {
            continue;
        }
        let mut paths = Vec::new();
        if template.contains("{tenant}") {
            // acme's ids under the caller's own tenant.
            paths.push(fill(&template, &f).replace("/tenants/acme/", "/tenants/other/"));
            if template.contains("{name}") && template.contains("{id}") {
                paths.push(
                    fill(&template, &f)
                        .replace("/tenants/acme/", "/tenants/other/")
                        .replace("/clusters/logs/", "/clusters/mine/"),
                );
            }
        } else if template.starts_with("/api/v1/tokens/") {
            // acme's owner's token id, asked for by someone else.
            paths.push(template.replace("{id}", &owner_token_id.to_string()));
        } else {
            continue;
        }
        for path in paths {
            let mut req = f
                .api
                .req(method.clone(), &path, &outsider.token)
                .header("idempotency-key", format!("own-{checked}"));
            if let Some(body) = body_for(&method, &template) {
                req = req.json(&body);
            }
            let r = req.send().await.unwrap();
            let p = problem(r, StatusCode::NOT_FOUND).await;
            assert!(!p.to_string().contains(&f.op_id), "{method} {path}: {p}");
            checked += 1;
        }
    }
    assert!(checked >= 16, "{checked}");
    for (t, n) in tables.iter().zip(before) {
        assert_eq!(f.api.count(t).await, n, "{t} changed");
    }
}
