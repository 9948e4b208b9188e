//! Optimistic concurrency: `ETag: "<generation>"` on cluster answers, `If-Match` refusing stale changes
//! with 412, `If-None-Match` answering 304.

use std::sync::Arc;

use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{Api, problem};

#[sqlx::test]
async fn stale_if_match_is_412_and_current_if_match_passes(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    api.settle(t, "logs").await;

    let r = api
        .get("/api/v1/tenants/acme/clusters/logs", &alice.token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");
    let cluster: Value = r.json().await.unwrap();
    assert_eq!(cluster["generation"], 1);

    // Unchanged: 304.
    let r = api
        .req(
            Method::GET,
            "/api/v1/tenants/acme/clusters/logs",
            &alice.token,
        )
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers()["etag"], etag.as_str());

    // A matching If-Match lets the change through; the generation moves on.
    let r = api
        .req(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/scale",
            &alice.token,
        )
        .header("if-match", &etag)
        .json(&json!({ "node_set": "default", "count": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let op: Value = r.json().await.unwrap();
    assert_eq!(op["target_generation"], 2);
    api.settle(t, "logs").await;

    // The old ETag is now stale for every kind of change; nothing is written.
    let ops_before = api.count("operations").await;
    let stale = [
        (
            Method::POST,
            "/scale",
            Some(json!({ "node_set": "default", "count": 3 })),
        ),
        (
            Method::POST,
            "/resize",
            Some(json!({ "node_set": "default", "memory_mib": 4096 })),
        ),
        (Method::POST, "/restart", None),
        (
            Method::POST,
            "/upgrade",
            Some(json!({ "version": "9.2.1" })),
        ),
        (Method::PATCH, "", Some(json!({ "http_tls": false }))),
        (
            Method::PUT,
            "/deletion-protection",
            Some(json!({ "enabled": true })),
        ),
        (Method::DELETE, "?confirm_name=logs", None),
    ];
    for (method, suffix, body) in stale {
        let mut req = api
            .req(
                method.clone(),
                &format!("/api/v1/tenants/acme/clusters/logs{suffix}"),
                &alice.token,
            )
            .header("if-match", &etag);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.headers()["etag"], "\"2\"", "{method} {suffix}");
        let p = problem(r, StatusCode::PRECONDITION_FAILED).await;
        assert_eq!(p["type"], "/api/docs#problem-precondition-failed");
    }
    assert_eq!(api.count("operations").await, ops_before);
    let cluster: Value = api
        .get("/api/v1/tenants/acme/clusters/logs", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cluster["deletion_protection"], false);
    assert_eq!(cluster["spec"]["node_sets"][0]["count"], 2);

    // `*` matches any current generation; a list matches if it contains the current one.
    let r = api
        .req(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/restart",
            &alice.token,
        )
        .header("if-match", "\"1\", \"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    api.settle(t, "logs").await;
    let r = api
        .req(
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/deletion-protection",
            &alice.token,
        )
        .header("if-match", "*")
        .json(&json!({ "enabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"3\"");
}

#[sqlx::test]
async fn two_writers_with_the_same_etag_cannot_both_win(pool: PgPool) {
    // The portal runs on a wide pool, so both requests hold a connection at once.
    let wide = crate::wide_pool(&pool, 8).await;
    let api = Api::start(wide.clone()).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    api.settle(t, "logs").await;
    // Hold the cluster's row lock (as a third writer would), start both requests behind a barrier, and let
    // go only once both wait on that lock: they really overlap, neither saw the other's result first.
    let mut holder = wide.begin().await.unwrap();
    esaas::clusters::repo::lock_by_name(&mut holder, t, "logs")
        .await
        .unwrap();
    let start = Arc::new(tokio::sync::Barrier::new(3));
    let mut handles = Vec::new();
    for count in [2u32, 4] {
        let request = api
            .req(
                Method::POST,
                "/api/v1/tenants/acme/clusters/logs/scale",
                &alice.token,
            )
            .header("if-match", "\"1\"")
            .json(&json!({ "node_set": "default", "count": count }));
        let start = start.clone();
        handles.push(tokio::spawn(async move {
            start.wait().await;
            request.send().await.unwrap().status()
        }));
    }
    start.wait().await;
    crate::wait_for_lock_waiters(&wide, 2).await;
    assert!(handles.iter().all(|h| !h.is_finished()), "both wait");
    holder.rollback().await.unwrap();
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses[0], StatusCode::ACCEPTED, "{statuses:?}");
    assert!(
        statuses[1] == StatusCode::CONFLICT || statuses[1] == StatusCode::PRECONDITION_FAILED,
        "{statuses:?}"
    );
    let generation: i64 = sqlx::query_scalar("SELECT generation FROM clusters WHERE name = 'logs'")
        .fetch_one(api.pool())
        .await
        .unwrap();
    assert_eq!(generation, 2);
    let scales: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM operations WHERE kind = 'scale') \
              + (SELECT count(*) FROM audit_log WHERE action = 'cluster.scale')",
    )
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert_eq!(scales, 2, "one scale operation and its one audit row");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), wide.close()).await;
}

#[sqlx::test]
async fn cached_reads_see_api_changes_at_once_and_other_writers_soon(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let bob = api
        .user("bob@example.com", false, &[(t, Role::Viewer)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    api.settle(t, "logs").await;
    let api_ref = &api;
    let read = |token: String| async move {
        api_ref
            .get("/api/v1/tenants/acme/clusters/logs", &token)
            .await
    };
    assert_eq!(read(bob.token.clone()).await.status(), StatusCode::OK);

    // A change through the API is visible to the next read.
    let r = api
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/deletion-protection",
            &alice.token,
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let cluster: Value = read(bob.token.clone()).await.json().await.unwrap();
    assert_eq!(cluster["deletion_protection"], true);

    // Other writers (here: the observer's status, a membership removal) are seen within the interval.
    sqlx::query("UPDATE clusters SET health = 'green' WHERE name = 'logs'")
        .execute(api.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM tenant_members WHERE user_id = $1")
        .bind(bob.user_id)
        .execute(api.pool())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let cluster: Value = read(alice.token.clone()).await.json().await.unwrap();
    assert_eq!(cluster["status"]["health"], "green");
    problem(read(bob.token.clone()).await, StatusCode::NOT_FOUND).await;
}

#[sqlx::test]
async fn a_second_read_within_the_window_is_served_from_the_cache(pool: PgPool) {
    let api = Api::start_with(pool.clone(), |c| {
        c.api_read_cache = std::time::Duration::from_secs(60);
    })
    .await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let bob = api
        .user("bob@example.com", false, &[(t, Role::Viewer)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    api.settle(t, "logs").await;
    let read = |token: String| {
        let request = api.req(Method::GET, "/api/v1/tenants/acme/clusters/logs", &token);
        async move { request.send().await.unwrap() }
    };
    let first = read(bob.token.clone()).await;
    assert_eq!(first.headers()["etag"], "\"1\"");
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"]["health"], "unknown");

    // Another writer changes the row (as the observer or another replica does). Within the window, bob's
    // next read is answered from the cache: it did not query, or it would see the change.
    sqlx::query(
        "UPDATE clusters SET health = 'green', generation = generation + 1 WHERE name = 'logs'",
    )
    .execute(api.pool())
    .await
    .unwrap();
    let again = read(bob.token.clone()).await;
    assert_eq!(again.headers()["etag"], "\"1\"", "the cached ETag");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    // The cache is per caller: alice's first read queries and sees the row as it is.
    let fresh = read(alice.token.clone()).await;
    assert_eq!(fresh.headers()["etag"], "\"2\"");
    assert_eq!(
        fresh.json::<Value>().await.unwrap()["status"]["health"],
        "green"
    );

    // A change through the API drops the tenant's entries: bob's next read queries again.
    let r = api
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/deletion-protection",
            &alice.token,
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after = read(bob.token.clone()).await;
    assert_eq!(after.headers()["etag"], "\"2\"");
    let after: Value = after.json().await.unwrap();
    assert_eq!(after["status"]["health"], "green");
    assert_eq!(after["deletion_protection"], true);

    // With the cache off (ESAAS_API_READ_CACHE_MS=0) every read queries.
    let uncached = Api::start_with(pool, |c| c.api_read_cache = std::time::Duration::ZERO).await;
    let r = uncached
        .get("/api/v1/tenants/acme/clusters/logs", &bob.token)
        .await;
    assert_eq!(r.headers()["etag"], "\"2\"");
    sqlx::query("UPDATE clusters SET health = 'red' WHERE name = 'logs'")
        .execute(api.pool())
        .await
        .unwrap();
    let r: Value = uncached
        .get("/api/v1/tenants/acme/clusters/logs", &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"]["health"], "red");
}
