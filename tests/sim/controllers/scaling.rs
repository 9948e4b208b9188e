//! Scaling an Elasticsearch up and down, and deleting it with everything it owns.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret, Service};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::{cluster_pods, es_ar, es_object, pod_names, wait_green};
use crate::common::{eventually, with_controllers};

async fn scale(api: &Api<DynamicObject>, name: &str, count: i64) {
    let patch = json!({ "spec": { "nodeSets": [{ "name": "default", "count": count, "config": { "node.roles": ["master", "data"] } }] } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .expect("scale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_up_and_down() {
    let sim = with_controllers();
    let client = sim.client();
    let api: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    api.create(&PostParams::default(), &es_object("sc", "8.15.0", 3))
        .await
        .expect("create");
    wait_green(&api, "sc", 3).await;
    scale(&api, "sc", 5).await;
    let s = wait_green(&api, "sc", 5).await;
    assert_eq!(s["observedGeneration"], 2);
    assert_eq!(cluster_pods(&client, "default", "sc").await.len(), 5);
    scale(&api, "sc", 2).await;
    wait_green(&api, "sc", 2).await;
    let names = eventually(Duration::from_secs(10), "two pods left", || async {
        let pods = cluster_pods(&client, "default", "sc").await;
        (pods.len() == 2).then(|| pod_names(&pods))
    })
    .await;
    assert_eq!(
        names,
        ["sc-es-default-0", "sc-es-default-1"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let claims = pvcs
        .list(&ListParams::default().labels("elasticsearch.k8s.elastic.co/cluster-name=sc"))
        .await
        .expect("pvcs")
        .items;
    let claim_names: BTreeSet<String> = claims.iter().map(|c| c.name_any()).collect();
    assert_eq!(
        claim_names.len(),
        2,
        "PVCs of removed ordinals deleted (ECK default policy): {claim_names:?}"
    );
    assert!(
        claims
            .iter()
            .all(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_elasticsearch_cascades() {
    let sim = with_controllers();
    let client = sim.client();
    let api: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    api.create(&PostParams::default(), &es_object("del", "8.15.0", 2))
        .await
        .expect("create");
    wait_green(&api, "del", 2).await;
    api.delete("del", &DeleteParams::default())
        .await
        .expect("delete");
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    let svcs: Api<Service> = Api::default_namespaced(client.clone());
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let left = || async {
        let mut left = Vec::new();
        if sts
            .get_opt("del-es-default")
            .await
            .expect("get sts")
            .is_some()
        {
            left.push("statefulset".to_string());
        }
        left.extend(
            cluster_pods(&client, "default", "del")
                .await
                .iter()
                .map(|p| p.name_any()),
        );
        for s in ["del-es-http", "del-es-transport"] {
            if svcs.get_opt(s).await.expect("get service").is_some() {
                left.push(s.to_string());
            }
        }
        if secrets
            .get_opt("del-es-elastic-user")
            .await
            .expect("get secret")
            .is_some()
        {
            left.push("secret".into());
        }
        let claims = pvcs
            .list(&ListParams::default().labels("elasticsearch.k8s.elastic.co/cluster-name=del"))
            .await
            .expect("list claims")
            .items;
        left.extend(claims.iter().map(|c| c.name_any()));
        left
    };
    let start = std::time::Instant::now();
    while !left().await.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "left after delete: {:?}",
            left().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Nothing comes back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(svcs.get_opt("del-es-http").await.expect("get").is_none());
    assert!(cluster_pods(&client, "default", "del").await.is_empty());
}
