//! Server-side apply: creation, managedFields per manager, removal of fields a manager stops sending, conflicts
//! (409 without force, success with force), shared ownership, ownership taken by updates, list merging by key,
//! and apply to the status subresource.

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use crate::common::{api_only, raw};
use crate::controllers::{es_ar, es_object};

fn cm(data: Value) -> Value {
    json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "cfg" }, "data": data })
}

fn managers(o: &ConfigMap) -> Vec<(String, String)> {
    o.metadata
        .managed_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.manager.unwrap_or_default(),
                m.operation.unwrap_or_default(),
            )
        })
        .collect()
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict")
}

#[tokio::test]
async fn apply_creates_tracks_and_removes_fields() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let pp = PatchParams::apply("alpha");
    let o = api
        .patch("cfg", &pp, &Patch::Apply(cm(json!({ "a": "1", "b": "2" }))))
        .await
        .expect("apply creates");
    assert_eq!(
        managers(&o),
        vec![("alpha".to_string(), "Apply".to_string())]
    );
    let fields = serde_json::to_value(&o.metadata.managed_fields).expect("json");
    assert!(
        fields.pointer("/0/fieldsV1/f:data/f:b").is_some(),
        "leaf paths tracked: {fields}"
    );

    // Same config again: a no-op keeps the resourceVersion.
    let again = api
        .patch("cfg", &pp, &Patch::Apply(cm(json!({ "a": "1", "b": "2" }))))
        .await
        .expect("reapply");
    assert_eq!(again.metadata.resource_version, o.metadata.resource_version);

    // Dropping b removes it.
    let o = api
        .patch("cfg", &pp, &Patch::Apply(cm(json!({ "a": "1" }))))
        .await
        .expect("apply without b");
    let data = o.data.unwrap_or_default();
    assert_eq!(data.get("a").map(String::as_str), Some("1"));
    assert!(!data.contains_key("b"), "b must be removed");
}

#[tokio::test]
async fn conflicts_and_force() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    api.patch(
        "cfg",
        &PatchParams::apply("alpha"),
        &Patch::Apply(cm(json!({ "a": "1", "keep": "x" }))),
    )
    .await
    .expect("alpha");

    // Same value: shared ownership, no conflict.
    api.patch(
        "cfg",
        &PatchParams::apply("beta"),
        &Patch::Apply(cm(json!({ "keep": "x" }))),
    )
    .await
    .expect("same value ok");

    let err = api
        .patch(
            "cfg",
            &PatchParams::apply("beta"),
            &Patch::Apply(cm(json!({ "a": "2", "keep": "x" }))),
        )
        .await
        .expect_err("conflict");
    assert!(is_conflict(&err), "{err:?}");
    if let kube::Error::Api(s) = &err {
        assert!(
            s.message.contains("alpha") && s.message.contains(".data.a"),
            "{}",
            s.message
        );
    }
    let forced = api
        .patch(
            "cfg",
            &PatchParams::apply("beta").force(),
            &Patch::Apply(cm(json!({ "a": "2", "keep": "x" }))),
        )
        .await
        .expect("force wins");
    assert_eq!(
        forced.data.unwrap_or_default().get("a").map(String::as_str),
        Some("2")
    );

    // alpha lost `a`: re-applying without it does not remove beta's value.
    let o = api
        .patch(
            "cfg",
            &PatchParams::apply("alpha"),
            &Patch::Apply(cm(json!({ "keep": "x" }))),
        )
        .await
        .expect("alpha again");
    assert_eq!(
        o.data.unwrap_or_default().get("a").map(String::as_str),
        Some("2")
    );
}

#[tokio::test]
async fn updates_take_ownership() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    api.patch(
        "cfg",
        &PatchParams::apply("alpha"),
        &Patch::Apply(cm(json!({ "a": "1" }))),
    )
    .await
    .expect("alpha");
    let pp = PatchParams {
        field_manager: Some("editor".into()),
        ..Default::default()
    };
    let o = api
        .patch(
            "cfg",
            &pp,
            &Patch::Merge(json!({ "data": { "a": "edited" } })),
        )
        .await
        .expect("merge patch");
    assert!(managers(&o).contains(&("editor".to_string(), "Update".to_string())));
    let err = api
        .patch(
            "cfg",
            &PatchParams::apply("alpha"),
            &Patch::Apply(cm(json!({ "a": "1" }))),
        )
        .await
        .expect_err("editor owns a now");
    assert!(is_conflict(&err));
}

#[tokio::test]
async fn labels_are_owned_per_key_and_containers_merge_by_name() {
    let sim = api_only();
    let pods: Api<Pod> = Api::default_namespaced(sim.client());
    let pod = |labels: Value, containers: Value| json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p", "labels": labels }, "spec": { "containers": containers } });
    pods.patch(
        "p",
        &PatchParams::apply("one"),
        &Patch::Apply(pod(
            json!({ "a": "1" }),
            json!([{ "name": "c1", "image": "i1" }]),
        )),
    )
    .await
    .expect("one");
    let o = pods
        .patch(
            "p",
            &PatchParams::apply("two"),
            &Patch::Apply(pod(
                json!({ "b": "2" }),
                json!([{ "name": "c2", "image": "i2" }]),
            )),
        )
        .await
        .expect("two");
    let names: Vec<String> = o
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["c1", "c2"]);
    assert_eq!(o.metadata.labels.as_ref().map(|l| l.len()), Some(2));
    // `one` drops its label and its container; `two`'s stay.
    let o = pods
        .patch(
            "p",
            &PatchParams::apply("one"),
            &Patch::Apply(
                json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p" } }),
            ),
        )
        .await
        .expect("one shrinks");
    let labels = o.metadata.labels.unwrap_or_default();
    assert!(!labels.contains_key("a") && labels.contains_key("b"));
    let names: Vec<String> = o
        .spec
        .map(|s| s.containers.into_iter().map(|c| c.name).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["c2"]);
}

#[tokio::test]
async fn apply_to_status_changes_only_status() {
    let sim = api_only();
    let api: Api<DynamicObject> = Api::default_namespaced_with(sim.client(), &es_ar());
    let created = api
        .patch(
            "es1",
            &PatchParams::apply("portal"),
            &Patch::Apply(serde_json::to_value(es_object("es1", "8.15.0", 1)).expect("json")),
        )
        .await
        .expect("apply es");
    assert_eq!(created.metadata.generation, Some(1));
    let body = json!({
        "apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
        "metadata": { "labels": { "ignored": "yes" } },
        "spec": { "version": "9.9.9" },
        "status": { "health": "green", "phase": "Ready" }
    });
    let o = api
        .patch_status(
            "es1",
            &PatchParams::apply("operator").force(),
            &Patch::Apply(body),
        )
        .await
        .expect("status apply");
    assert_eq!(o.data["status"]["health"], "green");
    assert_eq!(
        o.data["spec"]["version"], "8.15.0",
        "spec must not change through /status"
    );
    assert!(o.metadata.labels.unwrap_or_default().is_empty());
    assert_eq!(
        o.metadata.generation,
        Some(1),
        "status writes do not bump generation"
    );
    // The main resource cannot write status.
    let main = json!({ "apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch", "status": { "health": "red" } });
    let o = api
        .patch("es1", &PatchParams::apply("portal2"), &Patch::Apply(main))
        .await
        .expect("main apply");
    assert_eq!(o.data["status"]["health"], "green");
}

#[tokio::test]
async fn apply_requires_a_field_manager() {
    let sim = api_only();
    let (code, body) = raw(
        &sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x",
        "application/apply-patch+yaml",
        "apiVersion: v1\nkind: ConfigMap\n",
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(body["reason"], "BadRequest");
    // YAML bodies are accepted.
    let (code, body) = raw(
        &sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x?fieldManager=yaml",
        "application/apply-patch+yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: v\n",
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["data"]["k"], "v");
}

#[tokio::test]
async fn keys_added_to_a_map_owned_as_a_whole_do_not_conflict() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let with_annotations = |ann: Value| json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "cfg", "annotations": ann } });
    api.patch(
        "cfg",
        &PatchParams::apply("creator"),
        &Patch::Apply(with_annotations(json!({}))),
    )
    .await
    .expect("empty map");
    let o = api
        .patch(
            "cfg",
            &PatchParams::apply("other"),
            &Patch::Apply(with_annotations(json!({ "k": "v" }))),
        )
        .await
        .expect("a new key inside an owned empty map is not a conflict");
    assert_eq!(
        o.metadata
            .annotations
            .unwrap_or_default()
            .get("k")
            .map(String::as_str),
        Some("v")
    );
}
