//! The simulated nodes and scheduler (a pod no node can hold stays Pending with the scheduler's message), and
//! an API server that comes back empty (`Sim::restart_empty`).

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod};
use kube::api::{Api, DynamicObject, ListParams, PostParams, WatchParams};
use serde_json::json;

use esaas::k8s::sim::{Sim, SimNodes, SimOptions};

use super::{es_ar, es_object, es_status, wait_green};
use crate::common::eventually;

fn sized(nodes: SimNodes) -> Sim {
    Sim::new(SimOptions {
        kubelet_delay: Duration::from_millis(5),
        run_controllers: true,
        nodes,
        ..SimOptions::default()
    })
}

fn es_asking(name: &str, cpu: &str, memory: &str) -> DynamicObject {
    let mut o = es_object(name, "8.15.0", 1);
    o.data["spec"]["nodeSets"][0]["podTemplate"]["spec"] = json!({ "containers": [{
        "name": "elasticsearch",
        "resources": { "requests": { "cpu": cpu, "memory": memory }, "limits": { "cpu": cpu, "memory": memory } }
    }] });
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_bigger_than_every_node_stays_pending_with_the_scheduler_message() {
    let sim = sized(SimNodes {
        count: 2,
        cpu_millis: 4000,
        memory_mib: 8192,
    });
    let client = sim.client();
    let nodes: Api<Node> = Api::all(client.clone());
    let listed = nodes.list(&ListParams::default()).await.expect("nodes");
    assert_eq!(listed.items.len(), 2);
    let allocatable = listed.items[0]
        .status
        .as_ref()
        .and_then(|s| s.allocatable.clone())
        .expect("allocatable");
    assert_eq!(allocatable["cpu"].0, "4000m");
    assert_eq!(allocatable["memory"].0, "8192Mi");

    let es: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    es.create(&PostParams::default(), &es_asking("fits", "4", "8Gi"))
        .await
        .expect("create");
    es.create(&PostParams::default(), &es_asking("big", "6", "4Gi"))
        .await
        .expect("create");
    wait_green(&es, "fits", 1).await;

    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let message = eventually(Duration::from_secs(10), "an unschedulable pod", || async {
        let pod = pods.get("big-es-default-0").await.ok()?;
        let cond = pod
            .status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "PodScheduled")?
            .clone();
        assert!(
            pod.spec.as_ref().is_some_and(|s| s.node_name.is_none()),
            "not placed"
        );
        (cond.status == "False").then_some((cond.reason, cond.message))
    })
    .await;
    assert_eq!(message.0.as_deref(), Some("Unschedulable"));
    assert_eq!(
        message.1.as_deref(),
        Some(
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No \
             preemption victims found for incoming pod."
        )
    );
    let events: Api<Event> = Api::default_namespaced(client.clone());
    eventually(
        Duration::from_secs(5),
        "a FailedScheduling event",
        || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .iter()
                .any(|e| {
                    e.reason.as_deref() == Some("FailedScheduling")
                        && e.involved_object.name.as_deref() == Some("big-es-default-0")
                        && e.type_.as_deref() == Some("Warning")
                })
                .then_some(())
        },
    )
    .await;
    // It stays so: still Pending, never Ready, and the cluster is not green.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pod = pods.get("big-es-default-0").await.expect("pod");
    assert_eq!(pod.status.and_then(|s| s.phase).as_deref(), Some("Pending"));
    assert_ne!(es_status(&es, "big").await["health"], "green");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_that_restarts_empty_forgets_everything_and_ends_its_watches() {
    let sim = sized(SimNodes::default());
    let client = sim.client();
    let es: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    es.create(&PostParams::default(), &es_object("before", "8.15.0", 1))
        .await
        .expect("create");
    wait_green(&es, "before", 1).await;
    let list = es.list(&ListParams::default()).await.expect("list");
    let old_rv: u64 = list
        .metadata
        .resource_version
        .clone()
        .expect("rv")
        .parse()
        .expect("numeric rv");
    let mut watch = es
        .watch(&WatchParams::default().timeout(290), &old_rv.to_string())
        .await
        .expect("watch")
        .boxed();

    sim.restart_empty();

    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(event) = watch.next().await {
            event.expect("no error before the end");
        }
    })
    .await;
    assert!(ended.is_ok(), "the open watch ended with the restart");
    assert!(
        es.get_opt("before").await.expect("get").is_none(),
        "the object is gone"
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(
        namespaces.get_opt("default").await.expect("get").is_some(),
        "seeded again"
    );
    let nodes: Api<Node> = Api::all(client.clone());
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .expect("nodes")
            .items
            .len(),
        3
    );
    let new_rv: u64 = es
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv")
        .parse()
        .expect("numeric rv");
    assert!(
        new_rv < old_rv,
        "resourceVersions start over: {new_rv} < {old_rv}"
    );

    // The controllers restarted with fresh lists: a new cluster comes up.
    es.create(&PostParams::default(), &es_object("after", "8.15.0", 1))
        .await
        .expect("create");
    wait_green(&es, "after", 1).await;
}
