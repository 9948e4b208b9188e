//! Merge, JSON and strategic merge patches; status subresource isolation; generation bumps on spec changes only.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::common::{api_only, raw};
use crate::controllers::{es_ar, es_object};

#[tokio::test]
async fn merge_and_json_patch() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    api.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({ "metadata": { "name": "m" }, "data": { "a": "1", "b": "2" } }),
        )
        .expect("cm"),
    )
    .await
    .expect("create");
    let o = api
        .patch(
            "m",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "a": null, "c": "3" } })),
        )
        .await
        .expect("merge");
    let d = o.data.unwrap_or_default();
    assert!(!d.contains_key("a") && d.get("c").map(String::as_str) == Some("3"));

    let ops = r#"[{"op":"replace","path":"/data/b","value":"20"},{"op":"add","path":"/data/d","value":"4"}]"#;
    let (code, body) = raw(
        &sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/m",
        "application/json-patch+json",
        ops,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["b"], "20");
    assert_eq!(body["data"]["d"], "4");
    // A failing test operation is rejected without change.
    let bad = r#"[{"op":"test","path":"/data/b","value":"nope"},{"op":"remove","path":"/data/b"}]"#;
    let (code, body) = raw(
        &sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/m",
        "application/json-patch+json",
        bad,
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        api.get("m")
            .await
            .expect("get")
            .data
            .unwrap_or_default()
            .get("b")
            .map(String::as_str),
        Some("20")
    );
}

#[tokio::test]
async fn strategic_merge_patch_merges_lists_by_key() {
    let sim = api_only();
    let api: Api<Deployment> = Api::default_namespaced(sim.client());
    let dep = json!({
        "metadata": { "name": "web" },
        "spec": {
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": {
                    "containers": [{
                        "name": "app", "image": "app:1",
                        "ports": [{ "containerPort": 80 }],
                        "env": [{ "name": "A", "value": "1" }],
                        "volumeMounts": [{ "name": "data", "mountPath": "/data" }]
                    }, { "name": "sidecar", "image": "side:1" }],
                    "volumes": [{ "name": "data", "emptyDir": {} }]
                }
            }
        }
    });
    api.create(
        &PostParams::default(),
        &serde_json::from_value(dep).expect("deployment"),
    )
    .await
    .expect("create");
    let patch = json!({ "spec": { "template": { "spec": {
        "containers": [{
            "name": "app", "image": "app:2",
            "ports": [{ "containerPort": 9090, "name": "metrics" }],
            "env": [{ "name": "B", "value": "2" }],
            "volumeMounts": [{ "name": "cache", "mountPath": "/cache" }]
        }],
        "initContainers": [{ "name": "init", "image": "init:1" }],
        "volumes": [{ "name": "cache", "emptyDir": {} }]
    } } } });
    let o = api
        .patch("web", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .expect("strategic");
    let spec = o.spec.and_then(|s| s.template.spec).expect("pod spec");
    assert_eq!(spec.containers.len(), 2, "sidecar kept");
    let app = &spec.containers[0];
    assert_eq!(app.image.as_deref(), Some("app:2"));
    assert_eq!(app.ports.as_ref().map(Vec::len), Some(2));
    assert_eq!(app.env.as_ref().map(Vec::len), Some(2));
    assert_eq!(app.volume_mounts.as_ref().map(Vec::len), Some(2));
    assert_eq!(spec.volumes.as_ref().map(Vec::len), Some(2));
    assert_eq!(spec.init_containers.as_ref().map(Vec::len), Some(1));

    // $patch: delete removes one container.
    let del = json!({ "spec": { "template": { "spec": { "containers": [{ "name": "sidecar", "$patch": "delete" }] } } } });
    let o = api
        .patch("web", &PatchParams::default(), &Patch::Strategic(del))
        .await
        .expect("delete directive");
    assert_eq!(
        o.spec
            .and_then(|s| s.template.spec)
            .map(|s| s.containers.len()),
        Some(1)
    );
}

#[tokio::test]
async fn strategic_merge_is_refused_for_custom_resources() {
    let sim = api_only();
    let api: Api<DynamicObject> = Api::default_namespaced_with(sim.client(), &es_ar());
    api.create(&PostParams::default(), &es_object("sm", "8.15.0", 1))
        .await
        .expect("create");
    let (code, body) = raw(
        &sim,
        "PATCH",
        "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/default/elasticsearches/sm",
        "application/strategic-merge-patch+json",
        "{}",
    )
    .await;
    assert_eq!(code, 415, "{body}");
    let (code, _) = raw(
        &sim,
        "PATCH",
        "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/default/elasticsearches/sm",
        "text/plain",
        "{}",
    )
    .await;
    assert_eq!(code, 415);
}

#[tokio::test]
async fn status_subresource_isolation_and_generation() {
    let sim = api_only();
    let api: Api<DynamicObject> = Api::default_namespaced_with(sim.client(), &es_ar());
    let mut obj = es_object("gen", "8.15.0", 1);
    obj.data["status"] = json!({ "health": "green" });
    let created = api
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, Some(1));
    assert!(
        created.data.get("status").is_none(),
        "status dropped on create"
    );

    let o = api
        .patch_status(
            "gen",
            &PatchParams::default(),
            &Patch::Merge(
                json!({ "status": { "health": "yellow" }, "spec": { "version": "1.0.0" } }),
            ),
        )
        .await
        .expect("status");
    assert_eq!(o.data["status"]["health"], "yellow");
    assert_eq!(o.data["spec"]["version"], "8.15.0");
    assert_eq!(o.metadata.generation, Some(1));

    let o = api
        .patch(
            "gen",
            &PatchParams::default(),
            &Patch::Merge(
                json!({ "metadata": { "labels": { "x": "y" } }, "status": { "health": "red" } }),
            ),
        )
        .await
        .expect("labels");
    assert_eq!(
        o.metadata.generation,
        Some(1),
        "metadata changes do not bump generation"
    );
    assert_eq!(
        o.data["status"]["health"], "yellow",
        "main writes leave status alone"
    );

    let o = api
        .patch(
            "gen",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "version": "8.16.0" } })),
        )
        .await
        .expect("spec");
    assert_eq!(
        o.metadata.generation,
        Some(2),
        "spec change bumps generation"
    );

    // Pods have a status subresource too: a replace cannot set status.
    let pods: Api<Pod> = Api::default_namespaced(sim.client());
    let p = pods
        .create(&PostParams::default(), &serde_json::from_value(json!({ "metadata": { "name": "p" }, "spec": { "containers": [{ "name": "c", "image": "i" }] } })).expect("pod"))
        .await
        .expect("pod");
    assert_eq!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Pending")
    );
    let mut changed = p.clone();
    if let Some(s) = changed.status.as_mut() {
        s.phase = Some("Running".into());
    }
    let r = pods
        .replace("p", &PostParams::default(), &changed)
        .await
        .expect("replace");
    assert_eq!(r.status.and_then(|s| s.phase).as_deref(), Some("Pending"));
}
