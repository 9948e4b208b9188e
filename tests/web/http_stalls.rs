//! A cluster Kubernetes cannot place: a create asking for more CPU than any (simulated) node has stalls, and
//! the API and the dashboard say why in the scheduler's words.

use std::time::Duration;

use esaas::accounts::tokens::NewToken;
use esaas::tenants::Role;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{Fixture, ROOMY};

#[sqlx::test]
async fn a_create_bigger_than_any_node_shows_the_scheduler_reason(pool: PgPool) {
    let f = Fixture::with_config(pool, ROOMY, |c| {
        c.stall_timeout = Duration::from_secs(1);
    })
    .await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    let token = crate::common::create_token(
        &f.app.pool,
        owner.user_id,
        NewToken {
            name: "ci".into(),
            tenant_id: None,
            read_only: false,
            expires_in_days: 30,
        },
    )
    .await;
    let http = reqwest::Client::new();
    let r = http
        .post(f.app.url("/api/v1/tenants/acme/clusters"))
        .bearer_auth(&token)
        .json(
            &json!({ "name": "big", "spec": { "version": "9.2.1", "node_sets": [{
            "name": "default", "roles": ["master", "data"], "count": 1,
            "cpu_millis": 12000, "memory_mib": 4096, "storage_gib": 10 }] } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        202,
        "the quota has room; only the nodes are too small"
    );
    let op: Value = r.json().await.unwrap();
    let id = op["id"].as_str().expect("operation id").to_owned();

    let expected =
        "pod big-es-default-0 cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu";
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let op = loop {
        let op: Value = http
            .get(f.app.url(&format!("/api/v1/tenants/acme/operations/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if op["stalled_reason"].is_string() {
            break op;
        }
        assert!(std::time::Instant::now() < deadline, "never stalled: {op}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(op["stalled_reason"], expected, "{op}");
    assert_eq!(
        op["state"], "waiting",
        "stalled is a mark on a waiting operation"
    );

    let (status, html) = owner.get(&f.app, "/t/acme/clusters/big").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("class=\"tag tag-stalled\">stalled"),
        "stall shown"
    );
    assert!(html.contains(expected), "the reason on the dashboard");
}
