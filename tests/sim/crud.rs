//! Basic verbs through the typed kube-rs client: create, get, list, replace, delete, generateName, dry-run,
//! resourceVersion and generation semantics.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use serde_json::json;

use crate::common::api_only;

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..Default::default()
    }
}

#[tokio::test]
async fn create_get_list_replace_delete() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let created = api
        .create(&PostParams::default(), &cm("one", &[("a", "1")]))
        .await
        .expect("create");
    let meta = &created.metadata;
    assert!(meta.uid.as_deref().is_some_and(|u| !u.is_empty()));
    assert!(meta.creation_timestamp.is_some());
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    let rv1: u64 = meta
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("numeric rv");

    let got = api.get("one").await.expect("get");
    assert_eq!(
        got.data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(String::as_str),
        Some("1")
    );

    let mut changed = got.clone();
    changed.data = Some([("a".to_string(), "2".to_string())].into());
    let replaced = api
        .replace("one", &PostParams::default(), &changed)
        .await
        .expect("replace");
    let rv2: u64 = replaced
        .metadata
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("rv");
    assert!(rv2 > rv1, "resourceVersion must increase");

    // Replacing with the stale object conflicts.
    let err = api
        .replace("one", &PostParams::default(), &got)
        .await
        .expect_err("stale replace");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"));

    let list = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());

    let deleted = api
        .delete("one", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(
        deleted
            .left()
            .is_some_and(|o| o.metadata.name.as_deref() == Some("one"))
    );
    let err = api.get("one").await.expect_err("gone");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 404 && s.reason == "NotFound"));
}

#[tokio::test]
async fn generate_name_and_dry_run() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let mut c = cm("", &[]);
    c.metadata.name = None;
    c.metadata.generate_name = Some("gen-".into());
    let a = api
        .create(&PostParams::default(), &c)
        .await
        .expect("create a");
    let b = api
        .create(&PostParams::default(), &c)
        .await
        .expect("create b");
    let (na, nb) = (
        a.metadata.name.unwrap_or_default(),
        b.metadata.name.unwrap_or_default(),
    );
    assert!(na.starts_with("gen-") && na.len() == 9, "{na}");
    assert_ne!(na, nb);

    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    api.create(&dry, &cm("dry", &[]))
        .await
        .expect("dry-run create");
    assert!(
        api.get_opt("dry").await.expect("get_opt").is_none(),
        "dry-run must not store"
    );
}

#[tokio::test]
async fn cluster_scoped_namespaces() {
    let sim = api_only();
    let ns: Api<Namespace> = Api::all(sim.client());
    let n = Namespace {
        metadata: ObjectMeta {
            name: Some("team-a".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let created = ns
        .create(&PostParams::default(), &n)
        .await
        .expect("create ns");
    assert_eq!(created.metadata.namespace, None);
    assert_eq!(
        created.status.and_then(|s| s.phase).as_deref(),
        Some("Active")
    );
    let names: Vec<String> = ns
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.contains(&"default".to_string()) && names.contains(&"team-a".to_string()));
    let cms: Api<ConfigMap> = Api::namespaced(sim.client(), "team-a");
    cms.create(&PostParams::default(), &cm("x", &[]))
        .await
        .expect("create in new ns");
    let missing: Api<ConfigMap> = Api::namespaced(sim.client(), "nope");
    let err = missing
        .create(&PostParams::default(), &cm("x", &[]))
        .await
        .expect_err("missing ns");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 404));
}

#[tokio::test]
async fn dry_run_patch_and_delete_change_nothing() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let created = api
        .create(&PostParams::default(), &cm("keep", &[("a", "1")]))
        .await
        .expect("create");
    let pp = kube::api::PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let preview = api
        .patch(
            "keep",
            &pp,
            &kube::api::Patch::Merge(json!({ "data": { "a": "2" } })),
        )
        .await
        .expect("dry-run patch");
    assert_eq!(
        preview
            .data
            .unwrap_or_default()
            .get("a")
            .map(String::as_str),
        Some("2")
    );
    let dp = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    api.delete("keep", &dp).await.expect("dry-run delete");
    let now = api.get("keep").await.expect("still there");
    assert_eq!(
        now.data.unwrap_or_default().get("a").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        now.metadata.resource_version,
        created.metadata.resource_version
    );
}
