//! The simulated Deployment controller: pods `<deploy>-<template-hash>-<random>` owned directly by the Deployment
//! (no ReplicaSet objects), a rolling update with one surge pod and no unavailability, scale up/down, and status
//! (replicas, updatedReplicas, readyReplicas, availableReplicas, conditions, observedGeneration).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::super::meta;
use super::util::{
    CtrlError, CtrlResult, delete_pod, hash10, is_code, is_ready, owned_by, owner_ref, retry_soon,
    selector_string,
};

struct Ctx {
    client: Client,
}

/// Run the controller until its streams end.
pub async fn run(client: Client) {
    let deps: Api<Deployment> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    Controller::new(deps, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .with_config(Config::default().debounce(Duration::from_millis(20)))
        .run(reconcile, retry_soon, Arc::new(Ctx { client }))
        .for_each(|_| async {})
        .await;
}

fn template_hash(pod: &Pod) -> Option<&str> {
    pod.labels().get("pod-template-hash").map(String::as_str)
}

async fn reconcile(dep: Arc<Deployment>, ctx: Arc<Ctx>) -> CtrlResult {
    if dep.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let spec = dep
        .spec
        .clone()
        .ok_or_else(|| CtrlError("deployment without spec".into()))?;
    let (name, ns, uid) = (
        dep.name_any(),
        dep.namespace().unwrap_or_default(),
        dep.uid().unwrap_or_default(),
    );
    let replicas = spec.replicas.unwrap_or(1).max(0) as usize;
    let template = serde_json::to_value(&spec.template)?;
    let hash = hash10(&template);
    let selector = spec.selector.match_labels.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let pods: Vec<Pod> = api
        .list(&ListParams::default().labels(&selector_string(&selector)))
        .await?
        .items
        .into_iter()
        .filter(|p| owned_by(p, &uid) && p.metadata.deletion_timestamp.is_none())
        .collect();
    let (new, old): (Vec<&Pod>, Vec<&Pod>) = pods
        .iter()
        .partition(|p| template_hash(p) == Some(hash.as_str()));
    let ready_new = new.iter().filter(|p| is_ready(p)).count();
    let mut busy = false;
    if new.len() < replicas && pods.len() < replicas + 1 {
        create_pod(&api, &name, &ns, &uid, &template, &hash).await?;
        busy = true;
    }
    if let Some(p) = old.iter().find(|p| !is_ready(p)) {
        delete_pod(&api, p).await?;
        busy = true;
    } else if let Some(p) = old.first()
        && ready_new + old.len() > replicas
    {
        delete_pod(&api, p).await?;
        busy = true;
    }
    if old.is_empty() && new.len() > replicas {
        let mut surplus: Vec<&&Pod> = new.iter().collect();
        surplus.sort_by_key(|p| is_ready(p));
        for p in surplus.into_iter().take(new.len() - replicas) {
            delete_pod(&api, p).await?;
        }
        busy = true;
    }
    busy |= new.len() != replicas || ready_new != replicas || !old.is_empty();
    let ready = pods.iter().filter(|p| is_ready(p)).count();
    let now = meta::now();
    let available = ready >= replicas;
    let status = json!({
        "observedGeneration": dep.metadata.generation.unwrap_or(1),
        "replicas": pods.len(),
        "updatedReplicas": new.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": replicas.saturating_sub(ready),
        "conditions": [
            { "type": "Available", "status": if available { "True" } else { "False" },
              "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
              "lastUpdateTime": now, "lastTransitionTime": now },
            { "type": "Progressing", "status": "True",
              "reason": if busy { "ReplicaSetUpdated" } else { "NewReplicaSetAvailable" },
              "lastUpdateTime": now, "lastTransitionTime": now },
        ],
    });
    let old_status = dep
        .status
        .as_ref()
        .map(serde_json::to_value)
        .transpose()?
        .unwrap_or(json!({}));
    let same = |k: &str| old_status.get(k) == status.get(k);
    let cond_status = |s: &Value| -> Vec<(Value, Value)> {
        s.get("conditions")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .map(|c| (c["type"].clone(), c["status"].clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let unchanged = [
        "observedGeneration",
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ]
    .iter()
    .all(|k| same(k))
        && cond_status(&old_status) == cond_status(&status);
    if !unchanged {
        let dapi: Api<Deployment> = Api::namespaced(ctx.client.clone(), &ns);
        dapi.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "status": status })),
        )
        .await?;
    }
    Ok(if busy {
        Action::requeue(Duration::from_secs(1))
    } else {
        Action::await_change()
    })
}

async fn create_pod(
    api: &Api<Pod>,
    name: &str,
    ns: &str,
    uid: &str,
    template: &Value,
    hash: &str,
) -> Result<(), CtrlError> {
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    labels["pod-template-hash"] = json!(hash);
    let body = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("{name}-{hash}-{}", meta::random_suffix(5)),
            "namespace": ns,
            "labels": labels,
            "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
            "ownerReferences": [owner_ref("apps/v1", "Deployment", name, uid)],
        },
        "spec": template.get("spec").cloned().unwrap_or(json!({})),
    });
    match api
        .create(&PostParams::default(), &serde_json::from_value(body)?)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, 409) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
