//! The Kibana reconciler with its Deployment, and the StatefulSet controller on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Service};
use kube::ResourceExt;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use serde_json::json;

use esaas::k8s::sim::{Sim, SimOptions};

use super::{es_ar, es_object, is_ready, pod_names};
use crate::common::{eventually, with_controllers};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kibana_deployment_service_and_status() {
    let sim = with_controllers();
    let client = sim.client();
    let es: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &es_ar());
    es.create(&PostParams::default(), &es_object("kes", "8.15.0", 1))
        .await
        .expect("es");
    let kb_ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kibana.k8s.elastic.co", "v1", "Kibana"),
        "kibanas",
    );
    let kb: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &kb_ar);
    let mut obj = DynamicObject::new("dash", &kb_ar);
    obj.data = json!({ "spec": { "version": "8.15.0", "count": 2, "elasticsearchRef": { "name": "kes" } } });
    kb.create(&PostParams::default(), &obj)
        .await
        .expect("kibana");
    let s = eventually(Duration::from_secs(20), "kibana green", || async {
        let s = kb.get("dash").await.ok()?.data.get("status").cloned()?;
        (s["health"] == "green" && s["availableNodes"] == 2).then_some(s)
    })
    .await;
    assert_eq!(s["associationStatus"], "Established");
    assert_eq!(s["version"], "8.15.0");
    let deps: Api<Deployment> = Api::default_namespaced(client.clone());
    let d = deps.get("dash-kb").await.expect("deployment");
    assert!(d.owner_references().iter().any(|r| r.kind == "Kibana"));
    let svcs: Api<Service> = Api::default_namespaced(client.clone());
    svcs.get("dash-kb-http").await.expect("service");
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let kb_pods = pods
        .list(&ListParams::default().labels("kibana.k8s.elastic.co/name=dash"))
        .await
        .expect("pods")
        .items;
    assert_eq!(kb_pods.len(), 2);
    assert!(kb_pods.iter().all(|p| p.name_any().starts_with("dash-kb-")
        && p.name_any().len() == "dash-kb-".len() + 10 + 1 + 5));

    // A pod template change rolls the deployment to new pods without losing availability.
    let old: BTreeSet<String> = pod_names(&kb_pods);
    let patch = json!({ "spec": { "podTemplate": { "metadata": { "labels": { "rev": "2" } } } } });
    kb.patch("dash", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .expect("template change");
    eventually(Duration::from_secs(20), "rolled", || async {
        let now = pods
            .list(&ListParams::default().labels("kibana.k8s.elastic.co/name=dash"))
            .await
            .ok()?
            .items;
        let ready = now.iter().filter(|p| is_ready(p)).count();
        assert!(ready >= 1, "a deployment rollout keeps pods available");
        let fresh = now
            .iter()
            .all(|p| !old.contains(&p.name_any()) && p.labels().get("rev").is_some());
        (fresh && now.len() == 2 && ready == 2).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_scales_up_in_order_and_keeps_claims() {
    let sim = Sim::new(SimOptions {
        kubelet_delay: Duration::from_millis(30),
        run_controllers: true,
        ..SimOptions::default()
    });
    let client = sim.client();
    let sts: Api<StatefulSet> = Api::default_namespaced(client.clone());
    let body = json!({
        "metadata": { "name": "web" },
        "spec": {
            "replicas": 3,
            "serviceName": "web",
            "selector": { "matchLabels": { "app": "web" } },
            "template": { "metadata": { "labels": { "app": "web" } }, "spec": { "containers": [{ "name": "c", "image": "i:1" }] } },
            "volumeClaimTemplates": [{ "metadata": { "name": "data" }, "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": "2Gi" } } } }]
        }
    });
    sts.create(
        &PostParams::default(),
        &serde_json::from_value(body).expect("sts"),
    )
    .await
    .expect("create");
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let ordered = Arc::new(AtomicBool::new(true));
    eventually(Duration::from_secs(10), "three ready pods", || {
        let (pods, ordered) = (pods.clone(), ordered.clone());
        async move {
            let list = pods
                .list(&ListParams::default().labels("app=web"))
                .await
                .ok()?
                .items;
            let by_name: BTreeMap<String, &Pod> = list.iter().map(|p| (p.name_any(), p)).collect();
            for i in 1..3 {
                if by_name.contains_key(&format!("web-{i}"))
                    && !by_name
                        .get(&format!("web-{}", i - 1))
                        .is_some_and(|p| is_ready(p))
                {
                    ordered.store(false, Ordering::Relaxed);
                }
            }
            (list.len() == 3 && list.iter().all(is_ready)).then_some(())
        }
    })
    .await;
    assert!(
        ordered.load(Ordering::Relaxed),
        "a pod was created before its predecessor was Ready"
    );
    eventually(Duration::from_secs(5), "status readyReplicas 3", || async {
        let s = sts.get("web").await.ok()?.status?;
        (s.replicas == 3 && s.ready_replicas == Some(3) && s.current_revision == s.update_revision)
            .then_some(())
    })
    .await;
    let p0 = pods.get("web-0").await.expect("pod");
    assert_eq!(
        p0.labels()
            .get("statefulset.kubernetes.io/pod-name")
            .map(String::as_str),
        Some("web-0")
    );
    assert!(
        p0.owner_references()
            .iter()
            .any(|r| r.kind == "StatefulSet" && r.controller == Some(true))
    );
    let vols = p0.spec.and_then(|s| s.volumes).unwrap_or_default();
    assert!(vols.iter().any(|v| {
        v.persistent_volume_claim
            .as_ref()
            .is_some_and(|c| c.claim_name == "data-web-0")
    }));

    sts.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "replicas": 1 } })),
    )
    .await
    .expect("scale down");
    eventually(Duration::from_secs(10), "one pod", || async {
        let list = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .ok()?
            .items;
        (list.len() == 1 && list[0].name_any() == "web-0").then_some(())
    })
    .await;
    let pvcs: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let claims = pvcs
        .list(&ListParams::default())
        .await
        .expect("pvcs")
        .items
        .len();
    assert_eq!(
        claims, 3,
        "default retention policy keeps claims on scale-down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_delay_events_and_killing() {
    let sim = with_controllers();
    sim.set_kubelet_delay(Duration::from_millis(400));
    let client = sim.client();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let body = json!({ "metadata": { "name": "slow" }, "spec": { "containers": [{ "name": "app", "image": "app:1" }] } });
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(body).expect("pod"),
    )
    .await
    .expect("create");
    let scheduled = eventually(Duration::from_secs(5), "scheduled", || async {
        let p = pods.get("slow").await.ok()?;
        p.spec.as_ref()?.node_name.clone().map(|_| p)
    })
    .await;
    assert!(!is_ready(&scheduled), "not Ready before the kubelet delay");
    assert_eq!(
        scheduled.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Pending")
    );
    let ready = eventually(Duration::from_secs(5), "ready", || async {
        let p = pods.get("slow").await.ok()?;
        is_ready(&p).then_some(p)
    })
    .await;
    assert_eq!(
        ready.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Running")
    );
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::default_namespaced(client.clone());
    let reasons = |list: Vec<k8s_openapi::api::core::v1::Event>| -> BTreeSet<String> {
        list.into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some("slow"))
            .filter_map(|e| e.reason)
            .collect()
    };
    let seen = reasons(
        events
            .list(&ListParams::default())
            .await
            .expect("events")
            .items,
    );
    for r in ["Scheduled", "Pulled", "Created", "Started"] {
        assert!(seen.contains(r), "event {r} in {seen:?}");
    }
    pods.delete("slow", &Default::default())
        .await
        .expect("delete");
    eventually(Duration::from_secs(5), "Killing event", || async {
        reasons(events.list(&ListParams::default()).await.ok()?.items)
            .contains("Killing")
            .then_some(())
    })
    .await;
}
