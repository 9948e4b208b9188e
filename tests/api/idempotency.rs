//! `Idempotency-Key`: replay of the first answer, refusal of a reused key with another request, concurrent
//! duplicates, scoping to the token, and answers with secrets.

use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{Api, problem};

async fn operations_of(api: &Api, name: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM operations o JOIN clusters c ON c.id = o.cluster_id WHERE c.name = $1",
    )
    .bind(name)
    .fetch_one(api.pool())
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_retry_replays_the_first_answer_and_runs_once(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let body = json!({ "name": "logs", "template": "single-node" });
    let send = || {
        api.req(Method::POST, "/api/v1/tenants/acme/clusters", &alice.token)
            .header("idempotency-key", "create-logs-1")
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let first: Value = first.json().await.unwrap();

    let second = send().await.unwrap();
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.headers()["location"], location.as_str());
    assert_eq!(second.headers()["content-type"], "application/json");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(operations_of(&api, "logs").await, 1);
    let audits: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'cluster.create'")
            .fetch_one(api.pool())
            .await
            .unwrap();
    assert_eq!(audits, 1);

    // Without the key the same request runs again (and conflicts on the name).
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &alice.token,
            &body,
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[sqlx::test]
async fn the_same_key_with_another_request_is_422(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let post = |name: &str, path: &str| {
        api.req(Method::POST, path, &alice.token)
            .header("idempotency-key", "k1")
            .json(&json!({ "name": name, "template": "single-node" }))
            .send()
    };
    assert_eq!(
        post("logs", "/api/v1/tenants/acme/clusters")
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    let p = problem(
        post("metrics", "/api/v1/tenants/acme/clusters")
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["type"], "/api/docs#problem-idempotency-key-reused");
    // Another path with the same key is another request too.
    let other = api.tenant("beta").await;
    sqlx::query("INSERT INTO tenant_members (tenant_id, user_id, role) VALUES ($1, $2, 'owner')")
        .bind(other)
        .bind(alice.user_id)
        .execute(api.pool())
        .await
        .unwrap();
    problem(
        post("logs", "/api/v1/tenants/beta/clusters").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(operations_of(&api, "metrics").await, 0);
    let clusters: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters")
        .fetch_one(api.pool())
        .await
        .unwrap();
    assert_eq!(clusters, 1);

    // Keys are per token: another token may use the same key for its own request.
    let other_token = api.token(alice.user_id, None, false).await;
    let r = api
        .req(Method::POST, "/api/v1/tenants/acme/clusters", &other_token)
        .header("idempotency-key", "k1")
        .json(&json!({ "name": "metrics", "template": "single-node" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[sqlx::test]
async fn concurrent_duplicates_run_once(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let body = json!({ "name": "logs", "template": "single-node" });
    let requests = (0..8).map(|_| {
        api.req(Method::POST, "/api/v1/tenants/acme/clusters", &alice.token)
            .header("idempotency-key", "same-key")
            .json(&body)
            .send()
    });
    let answers = futures::future::join_all(requests).await;
    let mut accepted = 0;
    let mut ids = std::collections::HashSet::new();
    for r in answers {
        let r = r.unwrap();
        match r.status() {
            StatusCode::ACCEPTED => {
                accepted += 1;
                let v: Value = r.json().await.unwrap();
                ids.insert(v["id"].as_str().unwrap().to_owned());
            }
            StatusCode::CONFLICT => {
                assert_eq!(r.headers()["retry-after"], "1");
                let p = problem(r, StatusCode::CONFLICT).await;
                assert_eq!(p["type"], "/api/docs#problem-idempotency-in-progress");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(accepted >= 1);
    assert_eq!(ids.len(), 1, "every 202 is the same operation");
    assert_eq!(operations_of(&api, "logs").await, 1);
}

#[sqlx::test]
async fn errors_are_replayed_but_server_errors_and_secrets_are_not_kept(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    // A validation error is an answer like any other: replayed.
    let bad = || {
        api.req(Method::POST, "/api/v1/tenants/acme/clusters", &alice.token)
            .header("idempotency-key", "bad")
            .json(&json!({ "name": "Bad Name", "template": "single-node" }))
            .send()
    };
    problem(bad().await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    let again = bad().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    problem(again, StatusCode::UNPROCESSABLE_ENTITY).await;

    // A new token's secret is never stored: the retry is refused, and no second token is made.
    let create = || {
        api.req(Method::POST, "/api/v1/tokens", &alice.token)
            .header("idempotency-key", "tok")
            .json(&json!({ "name": "ci" }))
            .send()
    };
    let first = create().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let secret = first.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = problem(create().await.unwrap(), StatusCode::CONFLICT).await;
    assert_eq!(p["type"], "/api/docs#problem-idempotency-secret-not-kept");
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE name = 'ci'")
        .fetch_one(api.pool())
        .await
        .unwrap();
    assert_eq!(tokens, 1);
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM idempotency_keys WHERE body IS NOT NULL AND position($1::bytea in body) > 0",
    )
    .bind(secret.as_bytes())
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert_eq!(stored, 0);

    // Invalid keys are refused.
    let r = api
        .req(Method::POST, "/api/v1/tokens", &alice.token)
        .header("idempotency-key", "x".repeat(300))
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["errors"][0]["parameter"], "Idempotency-Key");
}

#[sqlx::test]
async fn keys_expire_after_a_day(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let send = |name: &str| {
        api.req(Method::POST, "/api/v1/tenants/acme/clusters", &alice.token)
            .header("idempotency-key", "old")
            .json(&json!({ "name": name, "template": "single-node" }))
            .send()
    };
    assert_eq!(send("one").await.unwrap().status(), StatusCode::ACCEPTED);
    sqlx::query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        .execute(api.pool())
        .await
        .unwrap();
    // Expired: the key is free again, for any request.
    assert_eq!(send("two").await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(operations_of(&api, "two").await, 1);
}

#[sqlx::test]
async fn a_method_the_route_lacks_is_405_and_records_no_key(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let create = api
        .req(Method::POST, "/api/v1/tenants/acme/clusters", &alice.token)
        .header("idempotency-key", "k1")
        .json(&json!({ "name": "logs", "template": "single-node" }))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), StatusCode::ACCEPTED);
    let keys_before = api.count("idempotency_keys").await;
    // The quota route has GET and PUT only: POST is the router's 405, even with a used key.
    for key in ["k1", "k2"] {
        let r = api
            .req(Method::POST, "/api/v1/tenants/acme/quota", &alice.token)
            .header("idempotency-key", key)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "key {key}");
    }
    assert_eq!(api.count("idempotency_keys").await, keys_before);
}

#[sqlx::test]
async fn an_empty_if_match_is_400_not_412(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    for value in ["", " "] {
        let r = api
            .req(
                Method::POST,
                "/api/v1/tenants/acme/clusters/logs/restart",
                &alice.token,
            )
            .header("if-match", value)
            .send()
            .await
            .unwrap();
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["errors"][0]["parameter"], "If-Match", "{p}");
    }
    assert_eq!(operations_of(&api, "logs").await, 1, "only the create");
}
