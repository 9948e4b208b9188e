//! The cluster view's `state` and `state_detail` (issue 10 point 5): the same words the web pages show,
//! from `clusters::state::state_of`, following the cluster from creation to ready and through a change;
//! the existing fields stay, a second change while one is pending is still a 409, and the OpenAPI document
//! describes the new fields.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::Api;

async fn view(api: &Api, token: &str) -> Value {
    let r = api.get("/api/v1/tenants/acme/clusters/logs", token).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[sqlx::test]
async fn the_cluster_view_says_its_state_in_words(pool: PgPool) {
    let api = Api::start_with(pool, |c| c.api_read_cache = std::time::Duration::ZERO).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user(
            "alice@example.com",
            false,
            &[(t, esaas::tenants::Role::Member)],
        )
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;

    // Just requested: Creating, with the nodes ready so far; the raw fields are still there.
    let v = view(&api, &alice.token).await;
    assert_eq!(v["state"], "creating", "{v}");
    assert_eq!(v["state_detail"], "0 of 1 node ready");
    assert_eq!(v["status"]["health"], "unknown");
    assert!(v["status"].get("phase").is_some() && v.get("deleting").is_some());

    // Created and observed green: Ready, nothing to add.
    api.settle(t, "logs").await;
    sqlx::query(
        "UPDATE clusters SET health = 'green', phase = 'Ready', available_nodes = 1, \
         status_observed_at = now() WHERE name = 'logs'",
    )
    .execute(api.pool())
    .await
    .unwrap();
    let v = view(&api, &alice.token).await;
    assert_eq!(v["state"], "ready", "{v}");
    assert_eq!(v["state_detail"], "");

    // Yellow: Degraded.
    sqlx::query("UPDATE clusters SET health = 'yellow' WHERE name = 'logs'")
        .execute(api.pool())
        .await
        .unwrap();
    let v = view(&api, &alice.token).await;
    assert_eq!(v["state"], "degraded", "{v}");
    sqlx::query("UPDATE clusters SET health = 'green' WHERE name = 'logs'")
        .execute(api.pool())
        .await
        .unwrap();

    // A scale: Changing, saying what; a second change meanwhile is refused as before (409).
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/scale",
            &alice.token,
            &json!({ "node_set": "default", "count": 3 }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v = view(&api, &alice.token).await;
    assert_eq!(v["state"], "changing", "{v}");
    assert_eq!(
        v["state_detail"],
        "scaling node set default to 3 nodes (queued)"
    );
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/restart",
            &alice.token,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Stalled: the reason is given.
    sqlx::query(
        "UPDATE operations SET stalled_reason = 'no progress from Kubernetes for 600 s' \
         WHERE state IN ('pending', 'applying', 'waiting')",
    )
    .execute(api.pool())
    .await
    .unwrap();
    let v = view(&api, &alice.token).await;
    assert_eq!(v["state"], "stalled", "{v}");
    assert!(
        v["state_detail"]
            .as_str()
            .unwrap()
            .ends_with("no progress from Kubernetes for 600 s"),
        "{v}"
    );

    // The list carries the same state.
    let r = api.get("/api/v1/tenants/acme/clusters", &alice.token).await;
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["items"][0]["state"], "stalled");

    // Deleting beats the rest.
    sqlx::query("UPDATE clusters SET deleting = true WHERE name = 'logs'")
        .execute(api.pool())
        .await
        .unwrap();
    let v = view(&api, &alice.token).await;
    assert_eq!(v["state"], "deleting", "{v}");

    // The OpenAPI document describes both fields and every state.
    let doc: Value = api
        .http
        .get(api.app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    let props = &schemas["ClusterView"]["properties"];
    assert!(
        props.get("state").is_some() && props.get("state_detail").is_some(),
        "{props}"
    );
    assert!(props.get("status").is_some(), "existing fields stay");
    let states: Vec<&str> = schemas["ClusterStateName"]["enum"]
        .as_array()
        .expect("the states as an enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        states,
        [
            "creating",
            "ready",
            "changing",
            "degraded",
            "unavailable",
            "stalled",
            "deleting"
        ]
    );
}
