//! The simulated controllers: an Elasticsearch goes Ready/green with ECK's objects and labels; the submodules cover
//! scaling and deletion, rolling changes and failures, and the workload controllers (Kibana, StatefulSet).

mod rolling;
mod scaling;
mod scheduling;
mod workloads;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, Secret, Service};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use crate::common::{eventually, with_controllers};
pub use crate::ready_watch::is_ready;

pub fn es_ar() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("elasticsearch.k8s.elastic.co", "v1", "Elasticsearch"),
        "elasticsearches",
    )
}

pub fn es_object(name: &str, version: &str, count: i64) -> DynamicObject {
    let mut o = DynamicObject::new(name, &es_ar());
    o.data = json!({ "spec": { "version": version, "nodeSets": [{
        "name": "default",
        "count": count,
        "config": { "node.roles": ["master", "data"] },
        "podTemplate": { "metadata": { "labels": { "esaas.io/cluster": name } } }
    }] } });
    o
}

/// The status of Elasticsearch `name`: `Null` while it has none or when it does not exist (404); any other
/// API error fails the test, so a check on the status cannot pass because the request failed.
pub async fn es_status(api: &Api<DynamicObject>, name: &str) -> Value {
    api.get_opt(name)
        .await
        .unwrap_or_else(|e| panic!("GET elasticsearch {name}: {e}"))
        .and_then(|o| o.data.get("status").cloned())
        .unwrap_or(Value::Null)
}

pub async fn wait_green(api: &Api<DynamicObject>, name: &str, nodes: i64) -> Value {
    eventually(
        Duration::from_secs(20),
        "health green and phase Ready",
        || async {
            let s = es_status(api, name).await;
            (s["health"] == "green" && s["phase"] == "Ready" && s["availableNodes"] == nodes)
                .then_some(s)
        },
    )
    .await
}

/// Every pod of Elasticsearch `cluster` in `ns`, ready or not; an API error fails the test (an empty list
/// means there are none).
pub async fn cluster_pods(client: &Client, ns: &str, cluster: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().labels(&format!(
        "elasticsearch.k8s.elastic.co/cluster-name={cluster}"
    ));
    pods.list(&lp)
        .await
        .unwrap_or_else(|e| panic!("list pods of {cluster}: {e}"))
        .items
}

/// Create `index` (`shards` primaries, `replicas` replicas each) in the simulated Elasticsearch of `cluster`, as
/// `elastic` with the password from ECK's Secret; the cluster's health then follows its shards.
pub async fn create_index(
    sim: &esaas::k8s::sim::Sim,
    ns: &str,
    cluster: &str,
    index: &str,
    shards: u32,
    replicas: u32,
) {
    use base64::Engine;
    let secrets: Api<Secret> = Api::namespaced(sim.client(), ns);
    let secret = secrets
        .get(&format!("{cluster}-es-elastic-user"))
        .await
        .expect("elastic user Secret");
    let password = secret.data.expect("data")["elastic"].0.clone();
    let basic = base64::engine::general_purpose::STANDARD
        .encode([b"elastic:".as_slice(), password.as_slice()].concat());
    let body =
        json!({ "settings": { "number_of_shards": shards, "number_of_replicas": replicas } });
    let request = http::Request::put(format!("/{index}"))
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/json")
        .body(bytes::Bytes::from(body.to_string()))
        .unwrap();
    let answer = sim
        .elasticsearch_request(ns, cluster, request)
        .await
        .expect("the cluster answers");
    assert_eq!(answer.status(), 200, "{:?}", answer.body());
    // A new index is red until its primaries start, then yellow until its replicas do: wait as a client of
    // Elasticsearch would, so no test acts on copies that exist on one node only.
    let request = http::Request::get("/_cluster/health?wait_for_status=green&timeout=20s")
        .header("authorization", format!("Basic {basic}"))
        .body(bytes::Bytes::new())
        .unwrap();
    let answer = sim
        .elasticsearch_request(ns, cluster, request)
        .await
        .expect("the cluster answers");
    let health: Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(health["status"], "green", "{health}");
}

pub fn pod_names(pods: &[Pod]) -> BTreeSet<String> {
    pods.iter().map(|p| p.name_any()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_becomes_green_with_owned_objects() {
    let sim = with_controllers();
    let client = sim.client();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &es_ar());
    api.create(&PostParams::default(), &es_object("logs", "8.15.0", 3))
        .await
        .expect("create es");
    let s = wait_green(&api, "logs", 3).await;
    assert_eq!(s["version"], "8.15.0");
    assert_eq!(s["observedGeneration"], 1);
    let conds: BTreeMap<String, String> = s["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["type"].as_str().unwrap_or("").to_string(),
                        c["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for c in [
        "ReconciliationComplete",
        "RunningDesiredVersion",
        "ElasticsearchIsReachable",
        "ResourcesAwareManagement",
    ] {
        assert_eq!(
            conds.get(c).map(String::as_str),
            Some("True"),
            "condition {c}: {s}"
        );
    }
    assert!(
        s["inProgressOperations"]["upscale"]["nodes"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );

    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    let set = sts.get("logs-es-default").await.expect("sts");
    assert_eq!(set.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert!(
        set.owner_references()
            .iter()
            .any(|r| r.kind == "Elasticsearch" && r.controller == Some(true))
    );
    // The StatefulSet's status is written by its own controller, after the pods it counts are Ready.
    let st = eventually(
        Duration::from_secs(10),
        "StatefulSet status with 3 ready replicas",
        || async {
            let st = sts.get("logs-es-default").await.ok()?.status?;
            (st.ready_replicas == Some(3)).then_some(st)
        },
    )
    .await;
    assert_eq!(st.current_revision, st.update_revision);

    let pods = cluster_pods(&client, "default", "logs").await;
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let l = p.labels();
        assert_eq!(
            l.get("common.k8s.elastic.co/type").map(String::as_str),
            Some("elasticsearch")
        );
        assert_eq!(
            l.get("elasticsearch.k8s.elastic.co/statefulset-name")
                .map(String::as_str),
            Some("logs-es-default")
        );
        assert_eq!(
            l.get("elasticsearch.k8s.elastic.co/node-master")
                .map(String::as_str),
            Some("true")
        );
        assert_eq!(
            l.get("elasticsearch.k8s.elastic.co/node-ml")
                .map(String::as_str),
            Some("false")
        );
        assert_eq!(
            l.get("elasticsearch.k8s.elastic.co/version")
                .map(String::as_str),
            Some("8.15.0")
        );
        assert_eq!(l.get("esaas.io/cluster").map(String::as_str), Some("logs"));
        assert!(
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_some_and(|n| n.starts_with("sim-node-"))
        );
    }
    let svcs: Api<Service> = Api::default_namespaced(client.clone());
    svcs.get("logs-es-http").await.expect("http service");
    let transport = svcs
        .get("logs-es-transport")
        .await
        .expect("transport service");
    assert_eq!(
        transport.spec.and_then(|s| s.cluster_ip).as_deref(),
        Some("None")
    );
    let secrets: Api<Secret> = Api::default_namespaced(client.clone());
    let secret = secrets.get("logs-es-elastic-user").await.expect("secret");
    let pw = secret
        .data
        .and_then(|d| d.get("elastic").cloned())
        .expect("elastic key");
    assert!(pw.0.len() >= 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_requests_are_not_counted() {
    let sim = with_controllers();
    let client = sim.client();
    let api: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    sim.reset_request_counts();
    api.create(&PostParams::default(), &es_object("cnt", "8.15.0", 2))
        .await
        .expect("create");
    wait_green(&api, "cnt", 2).await;
    let counts = sim.request_counts();
    assert_eq!(counts.get("create"), Some(&1));
    let keys: Vec<&String> = counts.keys().collect();
    assert_eq!(
        keys,
        vec!["create", "get"],
        "only the test's own requests: {counts:?}"
    );
}
