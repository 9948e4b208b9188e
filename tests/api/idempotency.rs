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
    api.add_member(other, alice.user_id, Role::Owner).await;
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
    let wide = crate::wide_pool(&pool, 14).await;
    let api = Api::start(wide.clone()).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    // Hold the tenant's row lock, which a create takes for its quota check: the request that claims the key
    // stops there, still running, while its seven duplicates arrive (all behind one barrier).
    let mut holder = wide.begin().await.unwrap();
    esaas::tenants::repo::lock(&mut holder, t).await.unwrap();
    let body = json!({ "name": "logs", "template": "single-node" });
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(9));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let request = api
                .req(Method::POST, "/api/v1/tenants/acme/clusters", &alice.token)
                .header("idempotency-key", "same-key")
                .json(&body);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let r = request.send().await.unwrap();
                let status = r.status();
                let retry_after = r.headers().get("retry-after").cloned();
                (status, retry_after, r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    start.wait().await;
    crate::wait_for_lock_waiters(&wide, 1).await;
    // Seven are answered while the one that runs is still blocked.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while handles.iter().filter(|h| h.is_finished()).count() < 7 {
        assert!(std::time::Instant::now() < deadline, "the duplicates wait");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(handles.iter().filter(|h| h.is_finished()).count(), 7);
    holder.rollback().await.unwrap();
    let mut accepted = 0;
    for h in handles {
        let (status, retry_after, doc) = h.await.unwrap();
        match status {
            StatusCode::ACCEPTED => {
                accepted += 1;
                assert_eq!(doc["kind"], "create");
            }
            StatusCode::CONFLICT => {
                assert_eq!(retry_after.unwrap(), "1");
                assert_eq!(doc["type"], "/api/docs#problem-idempotency-in-progress");
            }
            other => panic!("unexpected {other}: {doc}"),
        }
    }
    assert_eq!(accepted, 1, "one ran, seven were told it is in progress");
    assert_eq!(operations_of(&api, "logs").await, 1);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), wide.close()).await;
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

    // A server error is not an answer: the key is released and a retry runs again. Postgres refuses new
    // clusters (a trigger), so the create fails with a 500 after the key was claimed.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_clusters() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$; \
         CREATE TRIGGER refuse_clusters BEFORE INSERT ON clusters \
         FOR EACH ROW EXECUTE FUNCTION refuse_clusters();",
    )
    .execute(api.pool())
    .await
    .unwrap();
    let create = || {
        api.req(Method::POST, "/api/v1/tenants/acme/clusters", &alice.token)
            .header("idempotency-key", "flaky")
            .json(&json!({ "name": "logs", "template": "single-node" }))
            .send()
    };
    for attempt in 0..2 {
        let r = create().await.unwrap();
        assert!(
            r.headers().get("idempotent-replayed").is_none(),
            "attempt {attempt} ran"
        );
        problem(r, StatusCode::INTERNAL_SERVER_ERROR).await;
        let kept: i64 =
            sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE key = 'flaky'")
                .fetch_one(api.pool())
                .await
                .unwrap();
        assert_eq!(kept, 0, "attempt {attempt}: the key was released");
    }
    sqlx::raw_sql("DROP TRIGGER refuse_clusters ON clusters")
        .execute(api.pool())
        .await
        .unwrap();
    let r = create().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "the retry ran again");
    assert!(r.headers().get("idempotent-replayed").is_none());
    assert_eq!(operations_of(&api, "logs").await, 1);
    let replayed = create().await.unwrap();
    assert_eq!(replayed.status(), StatusCode::ACCEPTED);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");

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

#[sqlx::test]
async fn put_patch_and_delete_replay_the_first_answer_and_run_once(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    api.settle(t, "logs").await;
    let cluster: Value = api
        .get("/api/v1/tenants/acme/clusters/logs", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let http_tls = cluster["spec"]["http_tls"].as_bool().unwrap();
    let generation = || {
        let pool = api.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT generation FROM clusters WHERE name = 'logs'")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let audits = |action: &'static str| {
        let pool = api.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_log WHERE action = $1")
                .bind(action)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let cases = [
        (
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/deletion-protection",
            Some(json!({ "enabled": true })),
            StatusCode::OK,
            "cluster.deletion_protection",
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/acme/clusters/logs",
            Some(json!({ "http_tls": !http_tls })),
            StatusCode::ACCEPTED,
            "cluster.reconfigure",
        ),
        (
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/deletion-protection",
            Some(json!({ "enabled": false })),
            StatusCode::OK,
            "cluster.deletion_protection",
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/acme/clusters/logs?confirm_name=logs",
            None,
            StatusCode::ACCEPTED,
            "cluster.delete",
        ),
    ];
    for (i, (method, path, body, status, action)) in cases.into_iter().enumerate() {
        let key = format!("change-{i}");
        let send = || {
            let mut req = api
                .req(method.clone(), path, &alice.token)
                .header("idempotency-key", &key);
            if let Some(b) = &body {
                req = req.json(b);
            }
            req.send()
        };
        let first = send().await.unwrap();
        assert_eq!(first.status(), status, "{method} {path}");
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first_etag = first.headers().get("etag").cloned();
        let first: Value = first.json().await.unwrap();
        let (generation_after, ops_after, audits_after) = (
            generation().await,
            operations_of(&api, "logs").await,
            audits(action).await,
        );

        let again = send().await.unwrap();
        assert_eq!(again.status(), status, "{method} {path}: the first answer");
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers().get("etag").cloned(), first_etag);
        assert_eq!(
            again.json::<Value>().await.unwrap(),
            first,
            "{method} {path}"
        );
        assert_eq!(
            generation().await,
            generation_after,
            "{method} {path} ran once"
        );
        assert_eq!(operations_of(&api, "logs").await, ops_after);
        assert_eq!(audits(action).await, audits_after, "{method} {path}");
        api.settle(t, "logs").await;
    }
    // Without a key the delete runs again, and is refused (the cluster is being deleted): the replay above
    // did not run it.
    let r = api
        .req(
            Method::DELETE,
            "/api/v1/tenants/acme/clusters/logs?confirm_name=logs",
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}
