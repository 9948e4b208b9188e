//! The Kibana reconciler: a Deployment `<name>-kb` and a Service `<name>-kb-http` owned by the Kibana, and a
//! status with health (green once every desired pod is Ready and up to date, red otherwise), availableNodes,
//! version, count, selector, observedGeneration and the Elasticsearch association status.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Map, Value, json};

use super::super::super::patch::strategic_merge;
use super::super::util::{
    CtrlResult, apply_if_changed, hash10, is_ready, owner_ref, retry_soon, selector_string,
};
use super::{MANAGER, RESTART_TRIGGER, TYPE_LABEL, es_resource, kibana_resource, version_key};

const NAME_LABEL: &str = "kibana.k8s.elastic.co/name";
const VERSION_LABEL: &str = "kibana.k8s.elastic.co/version";

struct Ctx {
    client: Client,
}

/// Run the Kibana controller until its streams end.
pub async fn run(client: Client) {
    let ar = kibana_resource();
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let deps: Api<Deployment> = Api::all(client.clone());
    Controller::new_with(api, watcher::Config::default(), ar)
        .owns(deps, watcher::Config::default())
        .with_config(Config::default().debounce(Duration::from_millis(20)))
        .run(reconcile, retry_soon, Arc::new(Ctx { client }))
        .for_each(|_| async {})
        .await;
}

fn deployment(obj: &Value, name: &str, ns: &str, uid: &str, version: &str) -> Value {
    let owner = owner_ref("kibana.k8s.elastic.co/v1", "Kibana", name, uid);
    let dep_name = format!("{name}-kb");
    let selector = json!({ TYPE_LABEL: "kibana", NAME_LABEL: name });
    let pod_template = obj
        .pointer("/spec/podTemplate")
        .cloned()
        .unwrap_or(json!({}));
    let mut labels: Map<String, Value> = pod_template
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.insert(TYPE_LABEL.into(), json!("kibana"));
    labels.insert(NAME_LABEL.into(), json!(name));
    labels.insert(VERSION_LABEL.into(), json!(version));
    let mut annotations = pod_template
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    annotations.insert(
        "kibana.k8s.elastic.co/config-hash".into(),
        json!(hash10(
            &obj.pointer("/spec/config").cloned().unwrap_or(json!({}))
        )),
    );
    if let Some(t) = obj.pointer(&format!(
        "/metadata/annotations/{}",
        RESTART_TRIGGER.replace('/', "~1")
    )) {
        annotations.insert(RESTART_TRIGGER.into(), t.clone());
    }
    let image = obj
        .pointer("/spec/image")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| format!("docker.elastic.co/kibana/kibana:{version}"));
    let mut spec = json!({
        "containers": [{
            "name": "kibana",
            "image": image,
            "ports": [{ "name": "https", "containerPort": 5601, "protocol": "TCP" }],
            "resources": { "requests": { "memory": "1Gi" }, "limits": { "memory": "1Gi" } },
        }]
    });
    if let Some(user) = pod_template.get("spec").filter(|s| s.is_object()) {
        let _ = strategic_merge(&mut spec, user);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": dep_name, "namespace": ns, "labels": selector, "ownerReferences": [owner] },
        "spec": {
            "replicas": obj.pointer("/spec/count").and_then(Value::as_i64).unwrap_or(1),
            "selector": { "matchLabels": selector },
            "template": { "metadata": { "labels": labels, "annotations": annotations }, "spec": spec },
        }
    })
}

fn service(name: &str, ns: &str, uid: &str, kibana: &Value) -> Value {
    let selector = json!({ TYPE_LABEL: "kibana", NAME_LABEL: name });
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": format!("{name}-kb-http"), "namespace": ns, "labels": selector,
            "ownerReferences": [owner_ref("kibana.k8s.elastic.co/v1", "Kibana", name, uid)],
        },
        "spec": { "type": "ClusterIP", "selector": selector, "ports": [{ "name": "https", "port": 5601, "protocol": "TCP", "targetPort": 5601 }] }
    });
    super::es_render::with_service_template(service, kibana)
}

async fn association(
    client: &Client,
    obj: &Value,
    ns: &str,
) -> Result<Option<&'static str>, kube::Error> {
    let Some(es_name) = obj
        .pointer("/spec/elasticsearchRef/name")
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let es_ns = obj
        .pointer("/spec/elasticsearchRef/namespace")
        .and_then(Value::as_str)
        .unwrap_or(ns);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), es_ns, &es_resource());
    Ok(Some(if api.get_opt(es_name).await?.is_some() {
        "Established"
    } else {
        "Pending"
    }))
}

async fn reconcile(kb: Arc<DynamicObject>, ctx: Arc<Ctx>) -> CtrlResult {
    if kb.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let obj = serde_json::to_value(kb.as_ref())?;
    let (name, ns, uid) = (
        kb.name_any(),
        kb.namespace().unwrap_or_default(),
        kb.uid().unwrap_or_default(),
    );
    let generation = kb.metadata.generation.unwrap_or(1);
    let previous = obj.get("status").cloned().unwrap_or(json!({}));
    let client = &ctx.client;
    let mut status =
        json!({ "observedGeneration": generation, "health": "red", "availableNodes": 0 });
    if let Some(version) = obj.pointer("/spec/version").and_then(Value::as_str) {
        let deps: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        let dep_name = format!("{name}-kb");
        let current = deps.get_opt(&dep_name).await?;
        let body = deployment(&obj, &name, &ns, &uid, version);
        let dep = apply_if_changed(&deps, current.as_ref(), &dep_name, MANAGER, body).await?;
        let services: Api<Service> = Api::namespaced(client.clone(), &ns);
        let svc_name = format!("{name}-kb-http");
        let current = services.get_opt(&svc_name).await?;
        let svc = service(&name, &ns, &uid, &obj);
        apply_if_changed(&services, current.as_ref(), &svc_name, MANAGER, svc).await?;
        let count = obj
            .pointer("/spec/count")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            .max(0) as usize;
        let labels = [
            (TYPE_LABEL.to_string(), "kibana".to_string()),
            (NAME_LABEL.to_string(), name.clone()),
        ]
        .into();
        let pods_api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let pods: Vec<Pod> = pods_api
            .list(&ListParams::default().labels(&selector_string(&labels)))
            .await?
            .items
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        let ready = pods.iter().filter(|p| is_ready(p)).count();
        let ds = dep.status.clone().unwrap_or_default();
        let observed = ds.observed_generation.unwrap_or(0) >= dep.metadata.generation.unwrap_or(1);
        let updated = ds.updated_replicas.unwrap_or(0) as usize;
        let green = observed && updated == count && ready >= count && pods.len() == count;
        let lowest = pods
            .iter()
            .filter_map(|p| p.labels().get(VERSION_LABEL))
            .min_by_key(|v| version_key(v));
        status["health"] = json!(if green { "green" } else { "red" });
        status["availableNodes"] = json!(ready);
        status["count"] = json!(count);
        status["selector"] = json!(selector_string(&labels));
        if let Some(v) = if green {
            Some(version.to_string())
        } else {
            lowest.cloned()
        } {
            status["version"] = json!(v);
        }
        if let Some(a) = association(client, &obj, &ns).await? {
            status["associationStatus"] = json!(a);
            status["elasticsearchAssociationStatus"] = json!(a);
        }
    }
    let green = status["health"] == "green";
    if previous != status {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &kibana_resource());
        let body =
            json!({ "apiVersion": "kibana.k8s.elastic.co/v1", "kind": "Kibana", "status": status });
        api.patch_status(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await?;
    }
    Ok(if green {
        Action::requeue(Duration::from_secs(300))
    } else {
        Action::requeue(Duration::from_secs(2))
    })
}
