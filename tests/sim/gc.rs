//! Finalizers, owner references with cascading deletion (background, foreground, orphan), namespace deletion, and
//! cluster-scoped owners.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

use crate::common::{api_only, eventually};

fn cm(name: &str, extra_meta: Value) -> ConfigMap {
    let mut meta = json!({ "name": name });
    if let (Some(m), Some(e)) = (meta.as_object_mut(), extra_meta.as_object()) {
        m.extend(e.clone());
    }
    serde_json::from_value(json!({ "metadata": meta })).expect("cm")
}

fn owner(kind: &str, api_version: &str, o: &impl ResourceExt) -> Value {
    json!([{ "apiVersion": api_version, "kind": kind, "name": o.name_any(), "uid": o.uid().unwrap_or_default() }])
}

#[tokio::test]
async fn finalizers_hold_deletion() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    api.create(
        &PostParams::default(),
        &cm("fin", json!({ "finalizers": ["example.com/hold"] })),
    )
    .await
    .expect("create");
    let answer = api
        .delete("fin", &DeleteParams::default())
        .await
        .expect("delete");
    let obj = answer.left().expect("object answered");
    assert!(obj.metadata.deletion_timestamp.is_some());
    assert!(
        api.get("fin")
            .await
            .expect("still there")
            .metadata
            .deletion_timestamp
            .is_some()
    );
    let err = api
        .patch(
            "fin",
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "finalizers": ["example.com/hold", "new"] } })),
        )
        .await
        .expect_err("no new finalizers while deleting");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 422));
    api.patch(
        "fin",
        &PatchParams::default(),
        &Patch::Merge(json!({ "metadata": { "finalizers": null } })),
    )
    .await
    .expect("drop finalizer");
    assert!(
        api.get_opt("fin").await.expect("get").is_none(),
        "last finalizer removed deletes"
    );
}

#[tokio::test]
async fn owner_references_cascade() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let root = api
        .create(&PostParams::default(), &cm("root", json!({})))
        .await
        .expect("root");
    let child = api
        .create(
            &PostParams::default(),
            &cm(
                "child",
                json!({ "ownerReferences": owner("ConfigMap", "v1", &root) }),
            ),
        )
        .await
        .expect("child");
    api.create(
        &PostParams::default(),
        &cm(
            "grandchild",
            json!({ "ownerReferences": owner("ConfigMap", "v1", &child) }),
        ),
    )
    .await
    .expect("grandchild");
    api.delete("root", &DeleteParams::background())
        .await
        .expect("delete root");
    for n in ["root", "child", "grandchild"] {
        assert!(
            api.get_opt(n).await.expect("get").is_none(),
            "{n} collected"
        );
    }

    // Orphan keeps dependents and strips the reference.
    let root = api
        .create(&PostParams::default(), &cm("root2", json!({})))
        .await
        .expect("root2");
    api.create(
        &PostParams::default(),
        &cm(
            "kept",
            json!({ "ownerReferences": owner("ConfigMap", "v1", &root) }),
        ),
    )
    .await
    .expect("kept");
    api.delete("root2", &DeleteParams::orphan())
        .await
        .expect("orphan delete");
    let kept = api.get("kept").await.expect("kept survives");
    assert!(kept.owner_references().is_empty());

    // Foreground: the owner waits for a dependent held by a finalizer.
    let root = api
        .create(&PostParams::default(), &cm("root3", json!({})))
        .await
        .expect("root3");
    api.create(
        &PostParams::default(),
        &cm(
            "slow",
            json!({ "ownerReferences": owner("ConfigMap", "v1", &root), "finalizers": ["x/y"] }),
        ),
    )
    .await
    .expect("slow");
    api.delete("root3", &DeleteParams::foreground())
        .await
        .expect("foreground delete");
    let waiting = api.get("root3").await.expect("owner still there");
    assert!(
        waiting
            .finalizers()
            .iter()
            .any(|f| f == "foregroundDeletion")
    );
    api.patch(
        "slow",
        &PatchParams::default(),
        &Patch::Merge(json!({ "metadata": { "finalizers": null } })),
    )
    .await
    .expect("release");
    assert!(api.get_opt("slow").await.expect("get").is_none());
    assert!(
        api.get_opt("root3").await.expect("get").is_none(),
        "owner goes once dependents are gone"
    );
}

#[tokio::test]
async fn namespace_deletion_removes_contents() {
    let sim = api_only();
    let client = sim.client();
    let nss: Api<Namespace> = Api::all(client.clone());
    for n in ["doomed", "other"] {
        nss.create(
            &PostParams::default(),
            &serde_json::from_value(json!({ "metadata": { "name": n } })).expect("ns"),
        )
        .await
        .expect("ns");
    }
    let doomed: Api<ConfigMap> = Api::namespaced(client.clone(), "doomed");
    doomed
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .expect("a");
    doomed
        .create(
            &PostParams::default(),
            &cm("held", json!({ "finalizers": ["x/y"] })),
        )
        .await
        .expect("held");
    // A cluster-scoped owner: an object elsewhere owned by the namespace goes too.
    let ns_obj = nss.get("doomed").await.expect("ns");
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "other");
    other
        .create(
            &PostParams::default(),
            &cm(
                "owned",
                json!({ "ownerReferences": owner("Namespace", "v1", &ns_obj) }),
            ),
        )
        .await
        .expect("owned");

    nss.delete("doomed", &DeleteParams::default())
        .await
        .expect("delete ns");
    let ns_now = nss
        .get("doomed")
        .await
        .expect("terminating ns stays while a finalizer holds content");
    assert_eq!(
        ns_now.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(doomed.get_opt("a").await.expect("get").is_none());
    let err = doomed
        .create(&PostParams::default(), &cm("late", json!({})))
        .await
        .expect_err("terminating");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 403));
    doomed
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "finalizers": null } })),
        )
        .await
        .expect("release");
    eventually(Duration::from_secs(5), "namespace gone", || async {
        nss.get_opt("doomed")
            .await
            .ok()
            .flatten()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        other.get_opt("owned").await.expect("get").is_none(),
        "dependent of the namespace collected"
    );
}
