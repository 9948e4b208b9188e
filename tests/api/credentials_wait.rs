//! Credentials reveal against a slow Kubernetes: the request holds no database connection while it waits
//! (a pool of one connection stays usable), and the wait is bounded (504 with a clear message).

use std::time::{Duration, Instant};

use esaas::tenants::Role;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api as KubeApi;
use kube::api::PostParams;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::common::TestApp;
use crate::{Api, problem};

#[sqlx::test]
async fn the_reveal_waits_on_kubernetes_without_a_connection_and_not_for_ever(pool: PgPool) {
    // One connection for the whole portal: whatever holds it blocks everybody else.
    let small = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(2))
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let app = TestApp::spawn_with(small, |c| c.kube_read_timeout = Duration::from_secs(3)).await;
    let api = Api {
        app,
        http: reqwest::Client::new(),
    };
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Member)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    let kube = api.app.state.kube.client.clone();
    let ns: Namespace =
        serde_json::from_value(json!({ "metadata": { "name": "esaas-acme" } })).unwrap();
    KubeApi::<Namespace>::all(kube.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": { "name": "logs-es-elastic-user" },
        "stringData": { "elastic": "s3cret-pass" }
    }))
    .unwrap();
    KubeApi::<Secret>::namespaced(kube, "esaas-acme")
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let sim = api
        .app
        .state
        .kube
        .sim
        .clone()
        .expect("simulated Kubernetes");
    let url = api
        .app
        .url("/api/v1/tenants/acme/clusters/logs/credentials");
    let reveal = |url: String, token: String| async move {
        let r = reqwest::Client::new()
            .request(Method::POST, url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };

    // Kubernetes takes 1.5 s: meanwhile the one connection is free for other requests.
    sim.set_latency(Duration::from_millis(1500));
    let slow = tokio::spawn(reveal(url.clone(), alice.token.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut conn = tokio::time::timeout(Duration::from_millis(500), api.app.state.db.acquire())
        .await
        .expect("the pool's only connection is not held by the waiting reveal")
        .unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    drop(conn);
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let creds: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(creds["password"], "s3cret-pass");

    // Kubernetes takes longer than the 3 s bound: a clear 504, nothing audited.
    sim.set_latency(Duration::from_secs(8));
    let started = Instant::now();
    let r = api
        .req(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/credentials",
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    let doc = problem(r, StatusCode::GATEWAY_TIMEOUT).await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(
        doc["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Kubernetes did not answer within 3 s")),
        "{doc}"
    );
    sim.set_latency(Duration::ZERO);
    let reveals: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'cluster.credentials_reveal'",
    )
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert_eq!(
        reveals, 1,
        "only the reveal that showed the password is audited"
    );
}
