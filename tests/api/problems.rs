//! Bad input: malformed JSON, wrong types, unknown fields, oversized and non-JSON bodies, invalid names and
//! sizes, unknown routes and methods. Every answer is a 4xx problem+json and nothing is written.

use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::{Api, problem};

/// POST `body` with `Transfer-Encoding: chunked` over a raw connection; the status and content type.
async fn chunked_post(api: &Api, path: &str, token: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(api.app.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        api.app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(16 * 1024) {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    let status = text[9..12].parse().unwrap();
    let content_type = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (status, content_type)
}

async fn writes(api: &Api) -> (i64, i64, i64) {
    (
        api.count("clusters").await,
        api.count("operations").await,
        api.count("audit_log").await,
    )
}

#[sqlx::test]
async fn malformed_and_mistyped_bodies_are_located(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", true, &[(t, Role::Owner)])
        .await;
    let before = writes(&api).await;
    let path = "/api/v1/tenants/acme/clusters";

    // Malformed JSON: 400.
    for raw in ["{\"name\": ", "not json", "", "{\"name\":\"a\"} trailing"] {
        let r = api
            .req(Method::POST, path, &alice.token)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["type"], "/api/docs#problem-malformed-json", "{raw}");
    }

    // Well-formed, wrong shape: 422 with a pointer to the value or field.
    for (body, pointer) in [
        (json!({ "name": 5, "template": "single-node" }), "/name"),
        (
            json!({ "name": "x", "template": "single-node", "colour": "red" }),
            "/colour",
        ),
        (json!({ "template": "single-node" }), "/name"),
        (json!([1, 2]), ""),
        (
            json!({ "name": "x", "spec": { "version": "9.2.1", "node_sets": [{ "name": "d", "roles": ["master"], "count": "three", "cpu_millis": 1000, "memory_mib": 2048, "storage_gib": 10 }] } }),
            "/spec/node_sets/0/count",
        ),
        (
            json!({ "name": "x", "spec": { "version": "9.2.1", "node_sets": [{ "name": "d", "roles": ["boss"], "count": 1, "cpu_millis": 1000, "memory_mib": 2048, "storage_gib": 10 }] } }),
            "/spec/node_sets/0/roles/0",
        ),
        (
            json!({ "name": "x", "spec": { "version": "9.2.1", "node_sets": [{ "name": "d", "roles": ["master"], "count": -1, "cpu_millis": 1000, "memory_mib": 2048, "storage_gib": 10 }] } }),
            "/spec/node_sets/0/count",
        ),
        (
            json!({ "name": "x", "spec": { "version": "9.2.1", "nodesets": [] } }),
            "/spec/nodesets",
        ),
    ] {
        let r = api.send(Method::POST, path, &alice.token, &body).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["errors"][0]["pointer"], pointer, "{body}: {p}");
    }

    // Valid JSON, invalid values: 422 from validation, located in the body.
    for (body, pointer) in [
        (
            json!({ "name": "Bad_Name", "template": "single-node" }),
            "/name",
        ),
        (
            json!({ "name": &"x".repeat(40), "template": "single-node" }),
            "/name",
        ),
        (json!({ "name": "ok", "template": "gigantic" }), "/template"),
        (json!({ "name": "ok" }), "/template"),
        (
            json!({ "name": "ok", "spec": { "version": "9.2.1", "node_sets": [{ "name": "d", "roles": ["master", "data"], "count": 500, "cpu_millis": 1000, "memory_mib": 2048, "storage_gib": 10 }] } }),
            "/spec/node_sets/0/count",
        ),
        (
            json!({ "name": "ok", "spec": { "version": "1.0.0", "node_sets": [{ "name": "d", "roles": ["master", "data"], "count": 1, "cpu_millis": 1000, "memory_mib": 2048, "storage_gib": 10 }] } }),
            "/spec/version",
        ),
    ] {
        let r = api.send(Method::POST, path, &alice.token, &body).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let pointers: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["pointer"].as_str())
            .collect();
        assert!(pointers.contains(&pointer), "{body}: {p}");
    }

    // Over quota: its own problem type.
    let r = api
        .send(
            Method::POST,
            path,
            &alice.token,
            &json!({ "name": "huge", "spec": { "version": "9.2.1", "node_sets": [{ "name": "d", "roles": ["master", "data"], "count": 49, "cpu_millis": 1000, "memory_mib": 2048, "storage_gib": 10 }] } }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["type"], "/api/docs#problem-quota-exceeded", "{p}");

    // Nothing was written but the one audit row of the refused request (malformed bodies write none).
    let (clusters, operations, audit_rows) = writes(&api).await;
    assert_eq!((clusters, operations), (before.0, before.1));
    assert_eq!(audit_rows, before.2 + 1);
    let (action, outcome): (String, String) =
        sqlx::query_as("SELECT action, outcome FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(&api.app.pool)
            .await
            .unwrap();
    assert_eq!(
        (action.as_str(), outcome.as_str()),
        ("cluster.create", "denied")
    );
}

#[sqlx::test]
async fn transport_problems_are_problem_json(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", true, &[(t, Role::Owner)])
        .await;
    let before = writes(&api).await;
    let path = "/api/v1/tenants/acme/clusters";

    // Not JSON: 415.
    let r = api
        .req(Method::POST, path, &alice.token)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    // Oversized, with a Content-Length and chunked.
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(esaas::MAX_BODY_BYTES));
    let r = api
        .req(Method::POST, path, &alice.token)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    // Chunked (no Content-Length): refused while reading.
    let (status, content_type) = chunked_post(&api, path, &alice.token, big.as_bytes()).await;
    assert_eq!(status, 413);
    assert_eq!(content_type, "application/problem+json");

    // Method not allowed, keeping Allow.
    let r = api
        .req(Method::PUT, path, &alice.token)
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("allow").is_some());
    problem(r, StatusCode::METHOD_NOT_ALLOWED).await;

    // Unknown routes under /api.
    problem(
        api.get("/api/v1/nothing/here", &alice.token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        api.get("/api/v2/tenants", &alice.token).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Path parameters of the wrong type.
    let r = api
        .get("/api/v1/tenants/acme/operations/not-a-uuid", &alice.token)
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["errors"][0]["parameter"], "id");
    problem(
        api.get("/api/v1/tenants/acme/clusters/nope", &alice.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        api.get(
            &format!("/api/v1/tenants/{}/clusters", "x".repeat(200)),
            &alice.token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Invalid tenant and quota input (platform admin).
    for (body, pointer) in [
        (json!({ "slug": "Bad Slug", "name": "x" }), "/slug"),
        (json!({ "slug": "admin", "name": "x" }), "/slug"),
        (json!({ "slug": "fine", "name": "" }), "/name"),
        (
            json!({ "slug": "fine", "name": "x", "owner_email": "nobody@example.com" }),
            "/owner_email",
        ),
        (
            json!({ "slug": "fine", "name": "x", "limits": { "max_clusters": -1, "max_nodes": 1, "max_cpu_millis": 1, "max_memory_mib": 1, "max_storage_gib": 1 } }),
            "/limits/max_clusters",
        ),
    ] {
        let r = api
            .send(Method::POST, "/api/v1/tenants", &alice.token, &body)
            .await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["errors"][0]["pointer"], pointer, "{body}: {p}");
    }
    let r = api
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/quota",
            &alice.token,
            &json!({ "max_clusters": 1, "max_nodes": 1, "max_cpu_millis": 1, "max_memory_mib": 1, "max_storage_gib": 2_000_000_000i64 }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/max_storage_gib");
    let r = api
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/quota",
            &alice.token,
            &json!({ "max_clusters": 1 }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/max_nodes");

    assert_eq!(writes(&api).await, before);
    assert_eq!(api.count("tenants").await, 1);
}

#[sqlx::test]
async fn action_errors_point_at_their_parameters(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    api.settle(t, "logs").await;
    let before = writes(&api).await;
    let base = "/api/v1/tenants/acme/clusters/logs";
    for (suffix, body, pointer) in [
        (
            "/scale",
            json!({ "node_set": "nope", "count": 2 }),
            "/node_set",
        ),
        (
            "/scale",
            json!({ "node_set": "default", "count": 1 }),
            "/count",
        ),
        (
            "/scale",
            json!({ "node_set": "default", "count": 0 }),
            "/count",
        ),
        (
            "/resize",
            json!({ "node_set": "default", "storage_gib": 1 }),
            "/storage_gib",
        ),
        (
            "/resize",
            json!({ "node_set": "default", "memory_mib": 1 }),
            "/memory_mib",
        ),
        ("/upgrade", json!({ "version": "7.0.0" }), "/version"),
        ("/upgrade", json!({ "version": "nine" }), "/version"),
        ("", json!({ "node_sets": [] }), "/node_sets"),
        ("", json!({}), ""),
    ] {
        let method = if suffix.is_empty() {
            Method::PATCH
        } else {
            Method::POST
        };
        let r = api
            .send(method, &format!("{base}{suffix}"), &alice.token, &body)
            .await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let pointers: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["pointer"].as_str())
            .collect();
        assert!(pointers.contains(&pointer), "{suffix} {body}: {p}");
    }
    // The delete confirmation is a query parameter.
    let r = api
        .req(Method::DELETE, base, &alice.token)
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["parameter"], "confirm_name");
    let r = api
        .req(
            Method::DELETE,
            &format!("{base}?confirm_name=other"),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(writes(&api).await, before);
}
