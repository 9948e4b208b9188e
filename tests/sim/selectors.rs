//! Label selectors, field selectors, and paging with limit + continue.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::common::{api_only, raw};

async fn seed(api: &Api<ConfigMap>) {
    let items = [
        ("a", "hot", "es"),
        ("b", "warm", "es"),
        ("c", "cold", "kb"),
        ("d", "", "es"),
    ];
    for (name, tier, app) in items {
        let mut labels = json!({ "app": app });
        if !tier.is_empty() {
            labels["tier"] = json!(tier);
        }
        let cm: ConfigMap =
            serde_json::from_value(json!({ "metadata": { "name": name, "labels": labels } }))
                .expect("cm");
        api.create(&PostParams::default(), &cm)
            .await
            .expect("create");
    }
}

async fn names(api: &Api<ConfigMap>, lp: &ListParams) -> BTreeSet<String> {
    api.list(lp)
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn label_selector_operators() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    seed(&api).await;
    let q = |s: &str| ListParams::default().labels(s);
    assert_eq!(names(&api, &q("app=es")).await, set(&["a", "b", "d"]));
    assert_eq!(names(&api, &q("app==kb")).await, set(&["c"]));
    assert_eq!(names(&api, &q("app!=es")).await, set(&["c"]));
    assert_eq!(
        names(&api, &q("tier in (hot,cold)")).await,
        set(&["a", "c"])
    );
    assert_eq!(
        names(&api, &q("tier notin (hot)")).await,
        set(&["b", "c", "d"])
    );
    assert_eq!(names(&api, &q("tier")).await, set(&["a", "b", "c"]));
    assert_eq!(names(&api, &q("!tier")).await, set(&["d"]));
    assert_eq!(names(&api, &q("app=es,tier")).await, set(&["a", "b"]));
    let (code, body) = raw(
        &sim,
        "GET",
        "/api/v1/namespaces/default/configmaps?labelSelector=tier%20in%20(hot",
        "",
        "",
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["kind"], "Status");
}

#[tokio::test]
async fn field_selectors() {
    let sim = api_only();
    let cms: Api<ConfigMap> = Api::default_namespaced(sim.client());
    seed(&cms).await;
    assert_eq!(
        names(&cms, &ListParams::default().fields("metadata.name=b")).await,
        set(&["b"])
    );
    assert_eq!(
        names(&cms, &ListParams::default().fields("metadata.name!=b")).await,
        set(&["a", "c", "d"])
    );
    let all: Api<ConfigMap> = Api::all(sim.client());
    let in_default = all
        .list(&ListParams::default().fields("metadata.namespace=default"))
        .await
        .expect("list")
        .items
        .len();
    assert_eq!(in_default, 4);

    let pods: Api<Pod> = Api::default_namespaced(sim.client());
    for n in ["p1", "p2"] {
        let p: Pod = serde_json::from_value(json!({ "metadata": { "name": n }, "spec": { "containers": [{ "name": "c", "image": "i" }] } })).expect("pod");
        pods.create(&PostParams::default(), &p).await.expect("pod");
    }
    pods.patch_status(
        "p2",
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": { "phase": "Running" } })),
    )
    .await
    .expect("status");
    let running: Vec<String> = pods
        .list(&ListParams::default().fields("status.phase=Running"))
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    assert_eq!(running, vec!["p2"]);
    let pending = pods
        .list(&ListParams::default().fields("status.phase=Pending"))
        .await
        .expect("list")
        .items
        .len();
    assert_eq!(pending, 1);
}

#[tokio::test]
async fn limit_and_continue() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    for i in 0..25 {
        let cm: ConfigMap = serde_json::from_value(json!({ "metadata": { "name": format!("cm-{i:02}"), "labels": { "even": (i % 2 == 0).to_string() } } })).expect("cm");
        api.create(&PostParams::default(), &cm)
            .await
            .expect("create");
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut lp = ListParams::default().limit(10);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api.list(&lp).await.expect("page");
        pages += 1;
        assert!(page.items.len() <= 10);
        seen.extend(page.items.into_iter().filter_map(|c| c.metadata.name));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => token = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    // Paging combines with selectors.
    let page = api
        .list(&ListParams::default().labels("even=true").limit(5))
        .await
        .expect("page");
    assert_eq!(page.items.len(), 5);
    assert!(page.metadata.continue_.is_some_and(|c| !c.is_empty()));
    assert_eq!(page.metadata.remaining_item_count, Some(8));
    let (code, _) = raw(
        &sim,
        "GET",
        "/api/v1/namespaces/default/configmaps?limit=2&continue=garbage!",
        "",
        "",
    )
    .await;
    assert_eq!(code, 400);
}
