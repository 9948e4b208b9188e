//! Rolling changes (restart trigger, version upgrade) one pod at a time, and a failing pod keeping health not green.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

use esaas::k8s::sim::{Sim, SimOptions};

use super::{cluster_pods, create_index, es_ar, es_object, es_status, is_ready, wait_green};
use crate::common::{eventually, with_controllers};
use crate::ready_watch::ReadyWatch;

/// Every `status.health` Elasticsearch `name` reports from now on, in order (from a watch).
async fn watch_healths(api: &Api<DynamicObject>, name: &str) -> Arc<Mutex<Vec<String>>> {
    let rv = api
        .get(name)
        .await
        .expect("get")
        .resource_version()
        .expect("resourceVersion");
    let params = WatchParams::default()
        .fields(&format!("metadata.name={name}"))
        .timeout(290);
    let mut stream = api.watch(&params, &rv).await.expect("watch").boxed();
    let healths = Arc::new(Mutex::new(Vec::new()));
    let seen = healths.clone();
    tokio::spawn(async move {
        while let Ok(Some(WatchEvent::Modified(o))) = stream.try_next().await {
            let health = o.data["status"]["health"].as_str().unwrap_or("").to_owned();
            seen.lock().unwrap().push(health);
        }
    });
    healths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_trigger_rolls_one_pod_at_a_time() {
    let sim = Sim::new(SimOptions {
        kubelet_delay: Duration::from_millis(40),
        run_controllers: true,
        ..SimOptions::default()
    });
    let client = sim.client();
    let api: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    api.create(&PostParams::default(), &es_object("rr", "8.15.0", 3))
        .await
        .expect("create");
    wait_green(&api, "rr", 3).await;
    // With a replica of every shard, a node that restarts leaves the cluster yellow until its copies recover.
    create_index(&sim, "default", "rr", "logs", 3, 1).await;
    let before: BTreeMap<String, String> = cluster_pods(&client, "default", "rr")
        .await
        .iter()
        .map(|p| (p.name_any(), p.uid().unwrap_or_default()))
        .collect();
    assert_eq!(before.len(), 3);
    // Every change of the pods and of the Elasticsearch status is seen through watches, not sampled.
    let watch = ReadyWatch::start(
        Api::default_namespaced(client.clone()),
        "elasticsearch.k8s.elastic.co/cluster-name=rr",
    )
    .await;
    let healths = watch_healths(&api, "rr").await;
    let annotate = json!({ "metadata": { "annotations": { "eck.k8s.elastic.co/restart-trigger": "2024-01-01T00:00:00Z" } } });
    api.patch("rr", &PatchParams::default(), &Patch::Merge(annotate))
        .await
        .expect("annotate");
    let after = eventually(
        Duration::from_secs(20),
        "every pod replaced, annotated and Ready",
        || async {
            let pods = cluster_pods(&client, "default", "rr").await;
            let done = pods.len() == 3
                && pods.iter().all(|p| {
                    before.get(&p.name_any()) != p.uid().as_ref()
                        && is_ready(p)
                        && p.annotations()
                            .contains_key("eck.k8s.elastic.co/restart-trigger")
                });
            done.then(|| {
                pods.iter()
                    .map(|p| (p.name_any(), (p.uid().unwrap_or_default(), true)))
                    .collect::<BTreeMap<_, _>>()
            })
        },
    )
    .await;
    // The watch has caught up with the end state, so its minimum covers the whole restart.
    eventually(Duration::from_secs(5), "the watch caught up", || async {
        (watch.pods() == after).then_some(())
    })
    .await;
    assert_eq!(watch.min_ready(), 2, "pods were restarted one at a time");
    wait_green(&api, "rr", 3).await;
    eventually(
        Duration::from_secs(5),
        "health left green during the restart and came back",
        || async {
            let seen = healths.lock().unwrap();
            let left = seen.iter().position(|h| h != "green")?;
            seen[left..].iter().any(|h| h == "green").then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_upgrade_rolls_and_reports_version() {
    let sim = with_controllers();
    let client = sim.client();
    let api: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    api.create(&PostParams::default(), &es_object("up", "8.15.0", 3))
        .await
        .expect("create");
    wait_green(&api, "up", 3).await;
    api.patch(
        "up",
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "version": "8.16.1" } })),
    )
    .await
    .expect("upgrade");
    let s = eventually(Duration::from_secs(20), "upgraded", || async {
        let s = es_status(&api, "up").await;
        if s["health"] == "green" && s["version"] == "8.16.1" {
            return Some(s);
        }
        // Until every pod runs the new version, the status reports the lowest running version.
        assert!(
            s["version"] == "8.15.0" || s["version"] == "8.16.1" || s["version"].is_null(),
            "{s}"
        );
        None
    })
    .await;
    assert_eq!(s["observedGeneration"], 2);
    for p in cluster_pods(&client, "default", "up").await {
        let image = p
            .spec
            .and_then(|s| s.containers.first().and_then(|c| c.image.clone()))
            .unwrap_or_default();
        assert!(image.ends_with(":8.16.1"), "{image}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_pod_keeps_health_not_green() {
    let sim = with_controllers();
    let client = sim.client();
    let api: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    api.create(&PostParams::default(), &es_object("ff", "8.15.0", 3))
        .await
        .expect("create");
    wait_green(&api, "ff", 3).await;
    create_index(&sim, "default", "ff", "logs", 3, 1).await;
    sim.fail_pod("default", "ff-es-default-1");
    let s = eventually(Duration::from_secs(10), "yellow", || async {
        let s = es_status(&api, "ff").await;
        (s["health"] == "yellow" && s["availableNodes"] == 2).then_some(s)
    })
    .await;
    assert_eq!(s["phase"], "ApplyingChanges");
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let p = eventually(Duration::from_secs(10), "restarts", || async {
        let p = pods.get("ff-es-default-1").await.ok()?;
        let cs = p.status.clone()?.container_statuses?.into_iter().next()?;
        (cs.restart_count >= 2).then_some(cs)
    })
    .await;
    assert_eq!(
        p.state
            .and_then(|s| s.waiting)
            .and_then(|w| w.reason)
            .as_deref(),
        Some("CrashLoopBackOff")
    );
    assert_ne!(es_status(&api, "ff").await["health"], "green");
    sim.clear_pod_failure("default", "ff-es-default-1");
    wait_green(&api, "ff", 3).await;
}
