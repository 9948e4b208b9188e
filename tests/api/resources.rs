//! The resources end to end: tenants and quotas (platform admin), members, clusters (create from a
//! template or a spec, read, update, actions, status, pods, credentials, delete), operations, templates,
//! versions and the audit log.

use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{Api, problem};

#[sqlx::test]
async fn platform_admins_manage_tenants_and_quotas(pool: PgPool) {
    let api = Api::start(pool).await;
    let admin = api.user("admin@example.com", true, &[]).await;
    let alice = api.user("alice@example.com", false, &[]).await;

    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants",
            &admin.token,
            &json!({ "slug": "search", "name": "Search team", "owner_email": "alice@example.com" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["location"], "/api/v1/tenants/search");
    let tenant: Value = r.json().await.unwrap();
    assert_eq!(tenant["slug"], "search");
    assert_eq!(tenant["limits"]["max_clusters"], 5);
    assert!(tenant["role"].is_null());

    // Duplicate slug: 422 at /slug. Non-admins: 403.
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants",
            &admin.token,
            &json!({ "slug": "search", "name": "Again" }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/slug");
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants",
            &alice.token,
            &json!({ "slug": "mine", "name": "Mine" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    // The owner sees it with their role; the admin sees it too (not a member).
    let mine: Value = api
        .get("/api/v1/tenants", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["slug"], "search");
    assert_eq!(mine["items"][0]["role"], "owner");
    let one: Value = api
        .get("/api/v1/tenants/search", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["name"], "Search team");

    let r = api
        .send(
            Method::PATCH,
            "/api/v1/tenants/search",
            &admin.token,
            &json!({ "name": "Search & relevance" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["name"],
        "Search & relevance"
    );
    let r = api
        .send(
            Method::PATCH,
            "/api/v1/tenants/search",
            &alice.token,
            &json!({ "name": "Mine now" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    let limits = json!({ "max_clusters": 2, "max_nodes": 6, "max_cpu_millis": 8000, "max_memory_mib": 16384, "max_storage_gib": 100 });
    let r = api
        .send(
            Method::PUT,
            "/api/v1/tenants/search/quota",
            &admin.token,
            &limits,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let quota: Value = r.json().await.unwrap();
    assert_eq!(quota["limits"], limits);
    assert_eq!(quota["usage"]["clusters"], 0);
    let quota: Value = api
        .get("/api/v1/tenants/search/quota", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(quota["limits"]["max_nodes"], 6);
    assert_eq!(quota["over_limit"], json!([]));

    // Every change is audited with the acting token.
    let audit: Value = api
        .get("/api/v1/audit?tenant=search", &admin.token)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for action in [
        "tenant.create",
        "member.add",
        "tenant.update",
        "quota.update",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(
        audit["items"][0]["actor"]
            .as_str()
            .unwrap()
            .contains("(token esaas_")
    );
}

#[sqlx::test]
async fn owners_manage_members(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let owner = api
        .user("owner@example.com", false, &[(t, Role::Owner)])
        .await;
    let bob = api.user("bob@example.com", false, &[]).await;

    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/members",
            &owner.token,
            &json!({ "email": "bob@example.com", "role": "member" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let member: Value = r.json().await.unwrap();
    assert_eq!(member["role"], "member");
    assert_eq!(member["user_id"], bob.user_id.to_string());
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/members",
            &owner.token,
            &json!({ "email": "bob@example.com", "role": "member" }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/email");
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/members",
            &owner.token,
            &json!({ "email": "bob@example.com", "role": "emperor" }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/role");

    // Bob (member) may read but not manage.
    let list: Value = api
        .get("/api/v1/tenants/acme/members", &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let r = api
        .send(
            Method::PATCH,
            &format!("/api/v1/tenants/acme/members/{}", owner.user_id),
            &bob.token,
            &json!({ "role": "viewer" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    let r = api
        .send(
            Method::PATCH,
            &format!("/api/v1/tenants/acme/members/{}", bob.user_id),
            &owner.token,
            &json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["role"], "admin");
    // The last owner stays.
    let r = api
        .send(
            Method::PATCH,
            &format!("/api/v1/tenants/acme/members/{}", owner.user_id),
            &owner.token,
            &json!({ "role": "viewer" }),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = api
        .req(
            Method::DELETE,
            &format!("/api/v1/tenants/acme/members/{}", bob.user_id),
            &owner.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = api
        .req(
            Method::DELETE,
            &format!("/api/v1/tenants/acme/members/{}", bob.user_id),
            &owner.token,
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;
}

#[sqlx::test]
async fn the_cluster_lifecycle_over_the_api(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Member)])
        .await;

    // Templates and versions.
    let templates: Value = api
        .get("/api/v1/templates", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"three-nodes"), "{ids:?}");
    let versions: Value = api
        .get("/api/v1/versions", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions["latest"], "9.2.1");

    // Create from a template: 202, operation, Location.
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &alice.token,
            &json!({ "name": "logs", "template": "three-nodes" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let op: Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/api/v1/tenants/acme/operations/{}",
            op["id"].as_str().unwrap()
        )
    );
    assert_eq!(op["kind"], "create");
    assert_eq!(op["state"], "pending");
    assert_eq!(op["cluster"], "logs");
    assert_eq!(op["done"], false);
    let polled: Value = api.get(&location, &alice.token).await.json().await.unwrap();
    assert_eq!(polled["id"], op["id"]);

    // While it is pending, other changes conflict; it can be cancelled.
    let r = api
        .req(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/restart",
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT).await;

    // Create from a full spec.
    let spec = json!({
        "version": "9.2.1",
        "node_sets": [
            { "name": "master", "roles": ["master"], "count": 3, "cpu_millis": 500, "memory_mib": 1024, "storage_gib": 2 },
            { "name": "data", "roles": ["data", "ingest"], "count": 2, "cpu_millis": 1000, "memory_mib": 2048, "storage_gib": 20, "attributes": { "zone": "a" } }
        ],
        "kibana": null,
        "http_tls": true
    });
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &alice.token,
            &json!({ "name": "metrics", "spec": spec }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let create_op: Value = r.json().await.unwrap();
    let r = api
        .req(
            Method::POST,
            &format!(
                "/api/v1/tenants/acme/operations/{}/cancel",
                create_op["id"].as_str().unwrap()
            ),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cancelled: Value = r.json().await.unwrap();
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["done"], true);
    problem(
        api.get("/api/v1/tenants/acme/clusters/metrics", &alice.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    api.settle(t, "logs").await;
    let cluster: Value = api
        .get("/api/v1/tenants/acme/clusters/logs", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cluster["tenant"], "acme");
    assert_eq!(cluster["spec"]["node_sets"][0]["count"], 3);
    assert_eq!(cluster["resources"]["nodes"], 3);
    assert_eq!(cluster["status"]["health"], "unknown");
    assert!(
        cluster["endpoint"]
            .as_str()
            .unwrap()
            .contains("logs-es-http.esaas-acme.svc")
    );

    // Actions, each a 202 with its operation.
    for (suffix, body, kind) in [
        (
            "/scale",
            Some(json!({ "node_set": "default", "count": 5 })),
            "scale",
        ),
        (
            "/resize",
            Some(json!({ "node_set": "default", "memory_mib": 4096 })),
            "resize",
        ),
        ("/restart", None, "restart"),
    ] {
        let mut req = api.req(
            Method::POST,
            &format!("/api/v1/tenants/acme/clusters/logs{suffix}"),
            &alice.token,
        );
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let op: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{suffix}: {op}");
        assert_eq!(op["kind"], kind);
        api.settle(t, "logs").await;
    }
    let r = api
        .send(
            Method::PATCH,
            "/api/v1/tenants/acme/clusters/logs",
            &alice.token,
            &json!({ "kibana": null }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap()["kind"], "reconfigure");
    api.settle(t, "logs").await;
    let cluster: Value = api
        .get("/api/v1/tenants/acme/clusters/logs", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cluster["spec"]["node_sets"][0]["count"], 5);
    assert_eq!(cluster["spec"]["node_sets"][0]["memory_mib"], 4096);
    assert!(cluster["spec"]["kibana"].is_null());
    assert_eq!(cluster["generation"], 5);

    let status: Value = api
        .get("/api/v1/tenants/acme/clusters/logs/status", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["generation"], 5);
    assert_eq!(status["desired_nodes"], 5);
    let pods: Value = api
        .get("/api/v1/tenants/acme/clusters/logs/pods", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(pods["items"].is_array());

    // No Kubernetes secret yet (no reconciler ran): the reveal says so, and is not a server error.
    let r = api
        .req(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/credentials",
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT).await;

    // Deletion protection, then delete.
    let r = api
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/deletion-protection",
            &alice.token,
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["deletion_protection"],
        true
    );
    let r = api
        .req(
            Method::DELETE,
            "/api/v1/tenants/acme/clusters/logs?confirm_name=logs",
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT).await;
    api.send(
        Method::PUT,
        "/api/v1/tenants/acme/clusters/logs/deletion-protection",
        &alice.token,
        &json!({ "enabled": false }),
    )
    .await;
    let r = api
        .req(
            Method::DELETE,
            "/api/v1/tenants/acme/clusters/logs?confirm_name=logs",
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let op: Value = r.json().await.unwrap();
    assert_eq!(op["kind"], "delete");
    let cluster: Value = api
        .get("/api/v1/tenants/acme/clusters/logs", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cluster["deleting"], true);

    // The operations list has the whole history, newest first.
    let ops: Value = api
        .get("/api/v1/tenants/acme/operations?cluster=logs", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = ops["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "delete",
            "reconfigure",
            "restart",
            "resize",
            "scale",
            "create"
        ]
    );

    // Members may not read the tenant's audit log; owners may.
    problem(
        api.get("/api/v1/tenants/acme/audit", &alice.token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let owner = api
        .user("owner@example.com", false, &[(t, Role::Owner)])
        .await;
    let audit: Value = api
        .get("/api/v1/tenants/acme/audit?action=cluster.", &owner.token)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"cluster.delete"), "{actions:?}");
    assert!(actions.contains(&"cluster.scale"), "{actions:?}");
}

#[sqlx::test]
async fn a_platform_admin_gives_an_ownerless_tenant_its_owner(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("orphan").await;
    let root = api.user("root@example.com", true, &[]).await;
    api.user("bob@example.com", false, &[]).await;
    let viewer = api
        .user("vic@example.com", false, &[(t, Role::Viewer)])
        .await;

    // A viewer of the tenant may not; the platform admin (not a member) may, any role, owners included.
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/orphan/members",
            &viewer.token,
            &json!({ "email": "bob@example.com", "role": "owner" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/orphan/members",
            &root.token,
            &json!({ "email": "bob@example.com", "role": "owner" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let role: String = sqlx::query_scalar(
        "SELECT m.role FROM tenant_members m JOIN users u ON u.id = m.user_id
         WHERE m.tenant_id = $1 AND u.email = 'bob@example.com'",
    )
    .bind(t)
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert_eq!(role, "owner");
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'member.add' AND target = 'bob@example.com'",
    )
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert!(actor.starts_with("root@example.com"), "{actor}");
}
