//! Keyset pagination: paging through clusters while others are created (names sorting before and after the
//! cursor) gives no duplicates and skips no cluster that existed throughout; filters and cursors are checked.

use std::collections::HashSet;

use esaas::tenants::Role;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

use crate::{Api, problem};

/// Insert a live cluster row directly (fast, and no quota in the way).
async fn insert(api: &Api, tenant: uuid::Uuid, name: &str, health: &str) {
    let spec = serde_json::to_value(
        &esaas::clusters::templates::template("single-node")
            .unwrap()
            .spec,
    )
    .unwrap();
    sqlx::query(
        "INSERT INTO clusters (tenant_id, name, spec, nodes, cpu_millis, memory_mib, storage_gib, health) \
         VALUES ($1, $2, $3, 1, 1000, 2048, 10, $4)",
    )
    .bind(tenant)
    .bind(name)
    .bind(spec)
    .bind(health)
    .execute(api.pool())
    .await
    .unwrap();
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test]
async fn paging_while_clusters_are_created_skips_nothing_and_repeats_nothing(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Viewer)])
        .await;
    let existing: Vec<String> = (0..25).map(|i| format!("c{:02}", i * 2)).collect();
    for name in &existing {
        insert(&api, t, name, "green").await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        let path = match &cursor {
            None => "/api/v1/tenants/acme/clusters?limit=4".to_owned(),
            Some(c) => format!("/api/v1/tenants/acme/clusters?limit=4&cursor={c}"),
        };
        let r = api.get(&path, &alice.token).await;
        assert_eq!(r.status(), StatusCode::OK);
        let page: Value = r.json().await.unwrap();
        let page_names = names(&page);
        assert!(page_names.len() <= 4);
        seen.extend(page_names.clone());
        // Between pages, clusters appear before the cursor, right after it and at the end.
        round += 1;
        insert(&api, t, &format!("a{round:02}"), "green").await;
        if let Some(last) = page_names.last() {
            insert(&api, t, &format!("{last}x"), "green").await;
        }
        insert(&api, t, &format!("z{round:02}"), "green").await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(round < 100, "paging does not end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    for name in &existing {
        assert!(unique.contains(name), "{name} skipped: {seen:?}");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen, "pages come in name order");
}

#[sqlx::test]
async fn filters_limits_and_cursors_are_checked(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Viewer)])
        .await;
    insert(&api, t, "green-one", "green").await;
    insert(&api, t, "red-one", "red").await;
    insert(&api, t, "yellow-one", "yellow").await;

    let page: Value = api
        .get("/api/v1/tenants/acme/clusters?health=red", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&page), vec!["red-one"]);
    assert!(page["next_cursor"].is_null());
    let page: Value = api
        .get("/api/v1/tenants/acme/clusters", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&page).len(), 3);
    assert!(page["next_cursor"].is_null());

    for (query, parameter) in [
        ("health=purple", "health"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJ4IjoxfQ", "cursor"),
    ] {
        let r = api
            .get(
                &format!("/api/v1/tenants/acme/clusters?{query}"),
                &alice.token,
            )
            .await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["errors"][0]["parameter"], parameter, "{query}: {p}");
    }
}

#[sqlx::test]
async fn operations_page_newest_first(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    for name in ["a", "b", "c"] {
        api.create_cluster("acme", name, &alice.token).await;
    }
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/v1/tenants/acme/operations?limit=2".to_owned(),
            Some(c) => format!("/api/v1/tenants/acme/operations?limit=2&cursor={c}"),
        };
        let page: Value = api.get(&path, &alice.token).await.json().await.unwrap();
        for op in page["items"].as_array().unwrap() {
            all.push(op["cluster"].as_str().unwrap().to_owned());
            assert_eq!(op["kind"], "create");
            assert_eq!(op["tenant"], "acme");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(all, vec!["c", "b", "a"]);
    let page: Value = api
        .get("/api/v1/tenants/acme/operations?cluster=b", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}
