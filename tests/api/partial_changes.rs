//! Partial changes (`PATCH .../clusters/{name}`, a `resize` naming only some sizes) are merged into the
//! cluster's spec under its row lock, so a change committed while the request waited is kept, not silently
//! overwritten with what the request saw before (issue 9, point 6).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use esaas::clusters::repo;
use esaas::spec::ClusterSpec;
use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use crate::Api;

/// Lock cluster `logs` (on a connection of its own, as a concurrent writer does), start `request` once the
/// lock is held (behind a barrier), wait until the request waits on that lock, then commit `other` (a
/// change to a different field) and return the request's status and the spec both left behind.
async fn race(
    api: &Api,
    tenant_id: Uuid,
    request: impl Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
    other: impl FnOnce(&mut ClusterSpec),
) -> (StatusCode, ClusterSpec) {
    let wide = PgPoolOptions::new()
        .max_connections(3)
        .connect_with(api.pool().connect_options().as_ref().clone())
        .await
        .unwrap();
    let mut tx = wide.begin().await.unwrap();
    let cluster = repo::lock_by_name(&mut tx, tenant_id, "logs")
        .await
        .unwrap();
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let task = {
        let start = start.clone();
        tokio::spawn(async move {
            start.wait().await;
            request.await.unwrap().status()
        })
    };
    start.wait().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'",
        )
        .fetch_one(&wide)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(!task.is_finished(), "the request did not wait for the lock");
        assert!(
            Instant::now() < deadline,
            "the request never reached the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut spec = cluster.spec.clone();
    other(&mut spec);
    repo::update_spec(
        &mut tx,
        cluster.id,
        &spec,
        cluster.restart_trigger.as_deref(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let status = task.await.unwrap();
    let mut conn = wide.acquire().await.unwrap();
    let after = repo::get_by_name(&mut conn, tenant_id, "logs")
        .await
        .unwrap();
    drop(conn);
    wide.close().await;
    (status, after.spec)
}

async fn setup(api: &Api) -> (Uuid, String) {
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    api.settle(t, "logs").await;
    (t, alice.token)
}

#[sqlx::test]
async fn a_patch_keeps_a_change_committed_while_it_waited(pool: PgPool) {
    let api = Api::start(pool).await;
    let (t, token) = setup(&api).await;
    let request = api
        .req(Method::PATCH, "/api/v1/tenants/acme/clusters/logs", &token)
        .json(&json!({ "http_tls": false }))
        .send();
    let (status, spec) = race(&api, t, request, |spec| spec.kibana = None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(!spec.http_tls, "the patch is applied");
    assert_eq!(spec.kibana, None, "the other change survives");
}

#[sqlx::test]
async fn a_partial_resize_keeps_a_change_committed_while_it_waited(pool: PgPool) {
    let api = Api::start(pool).await;
    let (t, token) = setup(&api).await;
    let request = api
        .req(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/resize",
            &token,
        )
        .json(&json!({ "node_set": "default", "memory_mib": 4096 }))
        .send();
    let (status, spec) = race(&api, t, request, |spec| {
        spec.node_sets[0].cpu_millis = 2000;
    })
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(spec.node_sets[0].memory_mib, 4096, "the resize is applied");
    assert_eq!(
        spec.node_sets[0].cpu_millis, 2000,
        "the other change survives"
    );
}

#[sqlx::test]
async fn a_resize_of_an_unknown_node_set_is_refused_at_the_field(pool: PgPool) {
    let api = Api::start(pool).await;
    let (_t, token) = setup(&api).await;
    let ops = api.count("operations").await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/resize",
            &token,
            &json!({ "node_set": "nope", "memory_mib": 4096 }),
        )
        .await;
    let p = crate::problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p.to_string().contains("node sets: default"), "{p}");
    assert_eq!(api.count("operations").await, ops, "nothing written");
}
