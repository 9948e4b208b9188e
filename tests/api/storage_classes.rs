//! Storage classes: platform admins manage the offered classes (`standard` is there from the start, as the
//! default); a node set naming a class outside the list is refused at the field, one naming none gets the
//! default, and a cluster keeps a class that was removed from the list later.

use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{Api, problem};

fn spec(class: Option<&str>) -> Value {
    let mut set = json!({
        "name": "default", "roles": ["master", "data", "ingest"], "count": 1,
        "cpu_millis": 500, "memory_mib": 1024, "storage_gib": 2
    });
    if let Some(c) = class {
        set["storage_class"] = json!(c);
    }
    json!({ "version": "9.2.1", "node_sets": [set], "kibana": null, "http_tls": true })
}

async fn stored_class(api: &Api, name: &str) -> Value {
    sqlx::query_scalar::<_, Value>(
        "SELECT spec->'node_sets'->0->'storage_class' FROM clusters WHERE name = $1 AND deleted_at IS NULL",
    )
    .bind(name)
    .fetch_one(api.pool())
    .await
    .unwrap()
}

#[sqlx::test]
async fn storage_classes_are_an_admin_managed_list_enforced_at_the_field(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let root = api.user("root@example.com", true, &[]).await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;

    let list: Value = api
        .get("/api/v1/storage-classes", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"],
        json!([{ "name": "standard", "default": true }])
    );

    // Only platform admins change the list; names are DNS subdomains.
    let r = api
        .send(
            Method::PUT,
            "/api/v1/storage-classes/fast-ssd",
            &alice.token,
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = api
        .send(
            Method::PUT,
            "/api/v1/storage-classes/Fast_SSD",
            &root.token,
            &json!({}),
        )
        .await;
    let doc = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(doc["errors"][0]["pointer"], "/name", "{doc}");
    let r = api
        .send(
            Method::PUT,
            "/api/v1/storage-classes/fast-ssd",
            &root.token,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = api
        .send(
            Method::PUT,
            "/api/v1/storage-classes/fast-ssd",
            &root.token,
            &json!({}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "putting it again changes nothing"
    );

    // A class outside the list is refused at the field, and nothing is written.
    let clusters = api.count("clusters").await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &alice.token,
            &json!({ "name": "gold", "spec": spec(Some("gold")) }),
        )
        .await;
    let doc = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        doc["errors"][0]["pointer"], "/spec/node_sets/0/storage_class",
        "{doc}"
    );
    let detail = doc["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("\u{201c}fast-ssd\u{201d}, \u{201c}standard\u{201d}"),
        "{detail}"
    );
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &alice.token,
            &json!({ "name": "bad", "spec": spec(Some("Not A Name")) }),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(api.count("clusters").await, clusters);

    // A listed class is kept; none means the default.
    for (name, class) in [("fast", Some("fast-ssd")), ("plain", None)] {
        let r = api
            .send(
                Method::POST,
                "/api/v1/tenants/acme/clusters",
                &alice.token,
                &json!({ "name": name, "spec": spec(class) }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{name}");
        api.settle(t, name).await;
    }
    assert_eq!(stored_class(&api, "fast").await, "fast-ssd");
    assert_eq!(stored_class(&api, "plain").await, "standard");

    // The default moves; removing a class keeps it on the clusters that use it.
    let r = api
        .send(
            Method::PUT,
            "/api/v1/storage-classes/fast-ssd",
            &root.token,
            &json!({ "default": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = api
        .req(
            Method::DELETE,
            "/api/v1/storage-classes/standard",
            &root.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let list: Value = api
        .get("/api/v1/storage-classes", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"],
        json!([{ "name": "fast-ssd", "default": true }])
    );
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters/plain/scale",
            &alice.token,
            &json!({ "node_set": "default", "count": 3 }),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "a removed class stays on its node sets"
    );
    assert_eq!(stored_class(&api, "plain").await, "standard");
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &alice.token,
            &json!({ "name": "again", "spec": spec(Some("standard")) }),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = api
        .req(
            Method::DELETE,
            "/api/v1/storage-classes/standard",
            &root.token,
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;

    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT action || ' ' || target FROM audit_log WHERE target_kind = 'storage_class' ORDER BY id",
    )
    .fetch_all(api.pool())
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            "storage_class.put fast-ssd",
            "storage_class.put fast-ssd",
            "storage_class.put fast-ssd",
            "storage_class.remove standard"
        ]
    );
}
