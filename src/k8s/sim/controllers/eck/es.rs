//! The Elasticsearch reconciler: renders and applies the owned objects, deletes StatefulSets of removed node sets,
//! rolls outdated pods one at a time (a pod is deleted only when every expected pod exists and is Ready, so never
//! fewer than count-1 pods of a node set are Ready, and only while the simulated Elasticsearch is green), and
//! writes the status through `/status` when it changes. Health comes from the simulated Elasticsearch
//! ([`crate::k8s::sim::elasticsearch`]; `unknown` while no node is Ready). A downscale first migrates data off
//! the nodes to be removed, as ECK does: their names go into `cluster.routing.allocation.exclude._name`, the
//! StatefulSets keep their replicas (phase `MigratingData`) until those nodes may go, then the pods are removed
//! and the exclusion is reset to `none_excluded`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, Secret, Service};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::super::super::Shared;
use super::super::util::{
    CtrlResult, apply_if_changed, delete_pod, is_code, is_ready, ordinal, owned_by, retry_soon,
};
use super::es_render::{self, EsView};
use super::es_status::{self, Observed};
use super::{CLUSTER_LABEL, MANAGER, STS_LABEL, TYPE_LABEL, es_resource, http_certs};
use crate::k8s::sim::elasticsearch::health::Health;

struct Ctx {
    client: Client,
    shared: Arc<Shared>,
}

/// Run the Elasticsearch controller until its streams end.
pub async fn run(client: Client, shared: Arc<Shared>) {
    let ar = es_resource();
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let sts: Api<StatefulSet> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let pod_ar = ar.clone();

    let pod_cfg = watcher::Config::default().labels(&format!("{TYPE_LABEL}=elasticsearch"));
    Controller::new_with(api, watcher::Config::default(), ar)
        .owns(sts, watcher::Config::default())
        .watches(pods, pod_cfg, move |pod: Pod| {
            let ns = pod.namespace()?;
            let cluster = pod.labels().get(CLUSTER_LABEL)?.clone();
            Some(ObjectRef::new_with(&cluster, pod_ar.clone()).within(&ns))
        })
        .with_config(Config::default().debounce(Duration::from_millis(20)))
        .run(reconcile, retry_soon, Arc::new(Ctx { client, shared }))
        .for_each(|_| async {})
        .await;
}

async fn write_status(
    client: &Client,
    ns: &str,
    name: &str,
    previous: &Value,
    status: Value,
) -> Result<(), kube::Error> {
    if *previous == status {
        return Ok(());
    }
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &es_resource());
    let body = json!({ "apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch", "status": status });
    api.patch_status(
        name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await?;
    Ok(())
}

/// What the pods of each node set look like against their StatefulSet.
#[derive(Default)]
struct Rollout {
    outdated: Vec<String>,
    missing: Vec<String>,
    surplus: Vec<String>,
    pending_sts: bool,
}

fn analyse(desired: &[(String, i64, StatefulSet)], pods: &[Pod]) -> Rollout {
    let mut r = Rollout::default();
    for (sname, count, sts) in desired {
        let status = sts.status.clone().unwrap_or_default();
        let observed =
            status.observed_generation.unwrap_or(0) >= sts.metadata.generation.unwrap_or(1);
        let rev = status.update_revision.filter(|_| observed);
        r.pending_sts |= rev.is_none();
        let set_pods: Vec<&Pod> = pods
            .iter()
            .filter(|p| p.labels().get(STS_LABEL) == Some(sname))
            .collect();
        for i in 0..(*count).max(0) {
            let pname = format!("{sname}-{i}");
            if !set_pods.iter().any(|p| p.name_any() == pname) {
                r.missing.push(pname);
            }
        }
        for p in set_pods {
            let pname = p.name_any();
            if ordinal(&pname, sname).is_some_and(|i| i64::from(i) >= *count) {
                r.surplus.push(pname);
            } else if rev.is_some() && p.labels().get("controller-revision-hash") != rev.as_ref() {
                r.outdated.push(pname);
            }
        }
    }
    r
}

/// Pods that a downscale will remove: ordinals at or above their node set's count (while the StatefulSet
/// still has more replicas), and every pod of a node set that was removed.
fn leaving_nodes(
    nodesets: &[Value],
    existing: &[StatefulSet],
    uid: &str,
    es_name: &str,
    live_pods: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    for sts in existing.iter().filter(|s| owned_by(*s, uid)) {
        let sname = sts.name_any();
        let count = nodesets
            .iter()
            .find(|set| {
                es_render::sts_name(
                    es_name,
                    set.get("name").and_then(Value::as_str).unwrap_or("default"),
                ) == sname
            })
            .map_or(0, |set| {
                set.get("count").and_then(Value::as_i64).unwrap_or(1)
            });
        for pod in live_pods {
            if ordinal(pod, &sname).is_some_and(|i| i64::from(i) >= count) {
                out.push(pod.clone());
            }
        }
    }
    out.sort();
    out
}

async fn reconcile(es: Arc<DynamicObject>, ctx: Arc<Ctx>) -> CtrlResult {
    if es.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let obj = serde_json::to_value(es.as_ref())?;
    let (name, ns, uid) = (
        es.name_any(),
        es.namespace().unwrap_or_default(),
        es.uid().unwrap_or_default(),
    );
    let generation = es.metadata.generation.unwrap_or(1);
    let previous = obj.get("status").cloned().unwrap_or(json!({}));
    let client = &ctx.client;
    let version = obj.pointer("/spec/version").and_then(Value::as_str);
    let nodesets = obj.pointer("/spec/nodeSets").and_then(Value::as_array);
    let (Some(version), Some(nodesets)) = (version, nodesets) else {
        write_status(
            client,
            &ns,
            &name,
            &previous,
            es_status::invalid(
                &previous,
                generation,
                "spec.version and spec.nodeSets are required",
            ),
        )
        .await?;
        return Ok(Action::await_change());
    };
    let view = EsView {
        name: &name,
        ns: &ns,
        uid: &uid,
        version,
        obj: &obj,
    };

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let secret_name = format!("{name}-es-elastic-user");
    if secrets.get_opt(&secret_name).await?.is_none() {
        let secret: Secret = serde_json::from_value(es_render::elastic_user_secret(&view))?;
        match secrets.create(&PostParams::default(), &secret).await {
            Ok(_) => {}
            Err(e) if is_code(&e, 409) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if view.http_scheme() == "https"
        && secrets
            .get_opt(&http_certs::internal_secret_name(&name))
            .await?
            .is_none()
    {
        let (public, internal) = http_certs::secrets(&view)?;
        for body in [internal, public] {
            let secret: Secret = serde_json::from_value(body)?;
            match secrets.create(&PostParams::default(), &secret).await {
                Ok(_) => {}
                Err(e) if is_code(&e, 409) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let selector = ListParams::default().labels(&format!("{CLUSTER_LABEL}={name}"));
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    let existing_svcs = services.list(&selector).await?.items;
    for body in [
        es_render::http_service(&view),
        es_render::transport_service(&view),
    ] {
        let sname = body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let current = existing_svcs.iter().find(|s| s.name_any() == sname);
        apply_if_changed(&services, current, &sname, MANAGER, body).await?;
    }

    let sts_api: Api<StatefulSet> = Api::namespaced(client.clone(), &ns);
    let existing_sts = sts_api.list(&selector).await?.items;
    let live_pods: Vec<String> = Api::<Pod>::namespaced(client.clone(), &ns)
        .list(&selector)
        .await?
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| p.name_any())
        .collect();
    let leaving = leaving_nodes(nodesets, &existing_sts, &uid, &name, &live_pods);
    let migrating =
        !leaving.is_empty() && !ctx.shared.es.migrate(&ctx.shared, &ns, &name, &leaving);
    if leaving.is_empty() {
        ctx.shared.es.clear_exclusion(&ctx.shared, &ns, &name);
    }
    let mut desired = Vec::new();
    for set in nodesets {
        let mut body = es_render::statefulset(&view, set);
        let sname = body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut count = set.get("count").and_then(Value::as_i64).unwrap_or(1);
        let current = existing_sts.iter().find(|s| s.name_any() == sname);
        let current_replicas = current
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.replicas);
        if migrating
            && let Some(held) = current_replicas.map(i64::from)
            && held > count
        {
            count = held;
            body["spec"]["replicas"] = json!(held);
        }
        let applied = apply_if_changed(&sts_api, current, &sname, MANAGER, body).await?;
        desired.push((sname, count, applied));
    }
    for old in &existing_sts {
        if !migrating
            && owned_by(old, &uid)
            && !desired.iter().any(|(n, _, _)| *n == old.name_any())
        {
            let _ = sts_api
                .delete(&old.name_any(), &DeleteParams::default())
                .await;
        }
    }

    let pods_api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let pods: Vec<Pod> = pods_api
        .list(&selector)
        .await?
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    let r = analyse(&desired, &pods);
    let expected: i64 = desired.iter().map(|(_, c, _)| (*c).max(0)).sum();
    let all_ready =
        pods.iter().all(is_ready) && r.missing.is_empty() && r.surplus.is_empty() && !r.pending_sts;
    let mut deleted = None;
    let es_health = ctx.shared.es.health(&ctx.shared, &ns, &name);
    let es_green = es_health.is_none_or(|h| h == Health::Green);
    if all_ready
        && es_green
        && !migrating
        && let Some(victim) = r
            .outdated
            .first()
            .and_then(|n| pods.iter().find(|p| p.name_any() == *n))
    {
        delete_pod(&pods_api, victim).await?;
        deleted = Some(victim.name_any());
    }
    let status = es_status::compute(&Observed {
        version,
        generation,
        desired: expected as usize,
        pods: &pods,
        outdated: &r.outdated,
        missing: &r.missing,
        surplus: &r.surplus,
        pending_sts: r.pending_sts,
        deleted: deleted.as_deref(),
        previous: &previous,
        health: es_health.map(Health::as_str),
        migrating: if migrating { &leaving } else { &[] },
    });
    let ready = status["phase"] == "Ready" && status["health"] == "green";
    write_status(client, &ns, &name, &previous, status).await?;
    Ok(if migrating {
        Action::requeue(Duration::from_millis(300))
    } else if ready {
        Action::requeue(Duration::from_secs(300))
    } else {
        Action::requeue(Duration::from_secs(2))
    })
}
