//! Rolling changes (restart trigger, version upgrade) one pod at a time, and a failing pod keeping health not green.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;

use esaas::k8s::sim::{Sim, SimOptions};

use super::{es_ar, es_object, es_status, is_ready, ready_pods, wait_green};
use crate::common::{eventually, with_controllers};

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
    let before: BTreeMap<String, String> = ready_pods(&client, "default", "rr")
        .await
        .iter()
        .map(|p| (p.name_any(), p.uid().unwrap_or_default()))
        .collect();
    assert_eq!(before.len(), 3);
    let annotate = json!({ "metadata": { "annotations": { "eck.k8s.elastic.co/restart-trigger": "2024-01-01T00:00:00Z" } } });
    api.patch("rr", &PatchParams::default(), &Patch::Merge(annotate))
        .await
        .expect("annotate");
    let mut min_ready = 3;
    let mut saw_not_green = false;
    let start = std::time::Instant::now();
    loop {
        let pods = ready_pods(&client, "default", "rr").await;
        let ready = pods.iter().filter(|p| is_ready(p)).count();
        min_ready = min_ready.min(ready);
        assert!(ready >= 2, "never fewer than count-1 Ready, saw {ready}");
        saw_not_green |= es_status(&api, "rr").await["health"] != "green";
        let replaced = pods
            .iter()
            .filter(|p| before.get(&p.name_any()) != p.uid().as_ref())
            .count();
        let annotated = pods.iter().all(|p| {
            p.annotations()
                .get("eck.k8s.elastic.co/restart-trigger")
                .is_some()
        });
        if replaced == 3 && ready == 3 && annotated {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "restart did not finish"
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    assert_eq!(min_ready, 2, "pods were restarted one at a time");
    assert!(saw_not_green, "health leaves green during the restart");
    wait_green(&api, "rr", 3).await;
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
    for p in ready_pods(&client, "default", "up").await {
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
