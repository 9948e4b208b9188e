//! The simulated StatefulSet controller: pods `<sts>-0..N-1` and PVCs `<claim>-<sts>-<ordinal>` from the
//! template, ordered scale-up (next pod once the previous is Ready, unless `podManagementPolicy: Parallel`),
//! scale-down from the highest ordinal, RollingUpdate (highest outdated pod first, one at a time) or OnDelete,
//! PVC retention per `persistentVolumeClaimRetentionPolicy` (default Retain: PVCs stay on scale-down and deletion),
//! and status (replicas, readyReplicas, currentRevision/updateRevision, observedGeneration).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::util::{
    CtrlError, CtrlResult, delete_pod, hash10, is_code, is_ready, ordinal, owned_by, owner_ref,
    retry_soon, selector_string,
};

struct Ctx {
    client: Client,
}

/// Run the controller until its streams end.
pub async fn run(client: Client) {
    let sts: Api<StatefulSet> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    Controller::new(sts, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .with_config(Config::default().debounce(Duration::from_millis(20)))
        .run(reconcile, retry_soon, Arc::new(Ctx { client }))
        .for_each(|_| async {})
        .await;
}

/// Everything the reconcile needs from the StatefulSet spec.
struct Plan {
    name: String,
    ns: String,
    uid: String,
    replicas: u32,
    template: Value,
    revision: String,
    selector: BTreeMap<String, String>,
    ordered: bool,
    on_delete: bool,
    partition: u32,
    claims: Vec<Value>,
    delete_pvc_on_scale: bool,
    delete_pvc_with_set: bool,
    service: String,
}

fn plan(sts: &StatefulSet) -> Result<Plan, CtrlError> {
    let spec = sts
        .spec
        .clone()
        .ok_or_else(|| CtrlError("statefulset without spec".into()))?;
    let name = sts.name_any();
    let template = serde_json::to_value(&spec.template)?;
    let policy = spec
        .persistent_volume_claim_retention_policy
        .clone()
        .unwrap_or_default();
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    Ok(Plan {
        revision: format!("{name}-{}", hash10(&template)),
        ns: sts.namespace().unwrap_or_default(),
        uid: sts.uid().unwrap_or_default(),
        replicas: spec.replicas.unwrap_or(1).max(0) as u32,
        template,
        selector: spec.selector.match_labels.clone().unwrap_or_default(),
        ordered: spec.pod_management_policy.as_deref() != Some("Parallel"),
        on_delete: strategy.type_.as_deref() == Some("OnDelete"),
        partition: strategy
            .rolling_update
            .and_then(|r| r.partition)
            .unwrap_or(0)
            .max(0) as u32,
        claims: spec
            .volume_claim_templates
            .unwrap_or_default()
            .iter()
            .filter_map(|c| serde_json::to_value(c).ok())
            .collect(),
        delete_pvc_on_scale: policy.when_scaled.as_deref() == Some("Delete"),
        delete_pvc_with_set: policy.when_deleted.as_deref() == Some("Delete"),
        service: spec.service_name.unwrap_or_default(),
        name,
    })
}

fn claim_name(claim: &Value, sts: &str, i: u32) -> String {
    format!(
        "{}-{sts}-{i}",
        claim
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("data")
    )
}

async fn ensure_pvcs(ctx: &Ctx, p: &Plan, i: u32) -> Result<(), CtrlError> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &p.ns);
    for claim in &p.claims {
        let mut labels = claim
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        for (k, v) in &p.selector {
            labels[k] = json!(v);
        }
        let mut pvc = json!({
            "metadata": { "name": claim_name(claim, &p.name, i), "namespace": p.ns, "labels": labels },
            "spec": claim.get("spec").cloned().unwrap_or(json!({})),
        });
        if p.delete_pvc_with_set {
            pvc["metadata"]["ownerReferences"] =
                json!([owner_ref("apps/v1", "StatefulSet", &p.name, &p.uid)]);
        }
        match api
            .create(&PostParams::default(), &serde_json::from_value(pvc)?)
            .await
        {
            Ok(_) => {}
            Err(e) if is_code(&e, 409) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn pod_body(p: &Plan, i: u32) -> Value {
    let pod_name = format!("{}-{i}", p.name);
    let t = &p.template;
    let mut labels = t.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
    labels["controller-revision-hash"] = json!(p.revision);
    labels["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
    labels["apps.kubernetes.io/pod-index"] = json!(i.to_string());
    let mut spec = t.get("spec").cloned().unwrap_or(json!({}));
    spec["hostname"] = json!(pod_name);
    if !p.service.is_empty() {
        spec["subdomain"] = json!(p.service);
    }
    let mut volumes = spec
        .get("volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for claim in &p.claims {
        let vname = claim
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("data");
        if !volumes.iter().any(|v| v["name"] == vname) {
            volumes.push(json!({ "name": vname, "persistentVolumeClaim": { "claimName": claim_name(claim, &p.name, i) } }));
        }
    }
    if !volumes.is_empty() {
        spec["volumes"] = json!(volumes);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "namespace": p.ns,
            "labels": labels,
            "annotations": t.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
            "ownerReferences": [owner_ref("apps/v1", "StatefulSet", &p.name, &p.uid)],
        },
        "spec": spec,
    })
}

async fn create_pod(ctx: &Ctx, api: &Api<Pod>, p: &Plan, i: u32) -> Result<(), CtrlError> {
    ensure_pvcs(ctx, p, i).await?;
    match api
        .create(
            &PostParams::default(),
            &serde_json::from_value(pod_body(p, i))?,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, 409) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn delete_claims(ctx: &Ctx, p: &Plan, i: u32) {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &p.ns);
    for claim in &p.claims {
        let _ = api
            .delete(&claim_name(claim, &p.name, i), &DeleteParams::default())
            .await;
    }
}

fn revision_of(pod: &Pod) -> Option<&str> {
    pod.labels()
        .get("controller-revision-hash")
        .map(String::as_str)
}

async fn reconcile(sts: Arc<StatefulSet>, ctx: Arc<Ctx>) -> CtrlResult {
    if sts.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let p = plan(&sts)?;
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &p.ns);
    let lp = ListParams::default().labels(&selector_string(&p.selector));
    let pods: BTreeMap<u32, Pod> = api
        .list(&lp)
        .await?
        .items
        .into_iter()
        .filter(|pod| owned_by(pod, &p.uid))
        .filter_map(|pod| ordinal(&pod.name_any(), &p.name).map(|i| (i, pod)))
        .collect();
    let mut busy = false;
    // Create missing pods (ordered: only when every lower ordinal is Ready).
    for i in 0..p.replicas {
        if pods.contains_key(&i) {
            continue;
        }
        if p.ordered && !(0..i).all(|j| pods.get(&j).is_some_and(is_ready)) {
            busy = true;
            break;
        }
        create_pod(&ctx, &api, &p, i).await?;
        busy = true;
        if p.ordered {
            break;
        }
    }
    // Scale down from the highest ordinal.
    let extra: Vec<(&u32, &Pod)> = pods.range(p.replicas..).rev().collect();
    for (i, pod) in &extra {
        busy = true;
        if pod.metadata.deletion_timestamp.is_none() {
            delete_pod(&api, pod).await?;
            if p.delete_pvc_on_scale {
                delete_claims(&ctx, &p, **i).await;
            }
        }
        if p.ordered {
            break;
        }
    }
    // Rolling update: replace the highest outdated pod once everything is Ready.
    let complete = (0..p.replicas).all(|i| pods.get(&i).is_some_and(is_ready)) && extra.is_empty();
    if !p.on_delete && complete {
        let outdated = pods
            .range(p.partition..)
            .rev()
            .find(|(_, pod)| revision_of(pod) != Some(p.revision.as_str()));
        if let Some((_, pod)) = outdated {
            delete_pod(&api, pod).await?;
            busy = true;
        }
    }
    write_status(&ctx, &sts, &p, &pods).await?;
    Ok(if busy {
        Action::requeue(Duration::from_secs(1))
    } else {
        Action::await_change()
    })
}

async fn write_status(
    ctx: &Ctx,
    sts: &StatefulSet,
    p: &Plan,
    pods: &BTreeMap<u32, Pod>,
) -> Result<(), CtrlError> {
    let old = sts
        .status
        .as_ref()
        .map(serde_json::to_value)
        .transpose()?
        .unwrap_or(json!({}));
    let live: Vec<&Pod> = pods
        .values()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .collect();
    let ready = live.iter().filter(|pod| is_ready(pod)).count();
    let updated = live
        .iter()
        .filter(|pod| revision_of(pod) == Some(p.revision.as_str()))
        .count();
    let all_updated = updated == live.len() && live.len() == p.replicas as usize;
    let current_rev = match old.get("currentRevision").and_then(Value::as_str) {
        Some(c) if !all_updated => c.to_string(),
        _ => p.revision.clone(),
    };
    let current = live
        .iter()
        .filter(|pod| revision_of(pod) == Some(current_rev.as_str()))
        .count();
    let status = json!({
        "observedGeneration": sts.metadata.generation.unwrap_or(1),
        "replicas": live.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "currentRevision": current_rev,
        "updateRevision": p.revision,
        "collisionCount": 0,
    });
    let same = status
        .as_object()
        .is_some_and(|m| m.iter().all(|(k, v)| old.get(k) == Some(v)));
    if !same {
        let api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &p.ns);
        let body = json!({ "status": status });
        api.patch_status(&p.name, &PatchParams::default(), &Patch::Merge(&body))
            .await?;
    }
    Ok(())
}
