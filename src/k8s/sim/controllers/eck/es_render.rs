//! What the simulated operator derives from an Elasticsearch resource: one StatefulSet per node set
//! (`<name>-es-<nodeset>`) with ECK's pod labels and annotations, the `<name>-es-http` and `<name>-es-transport`
//! Services and the `<name>-es-elastic-user` Secret, all controlled by the Elasticsearch.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::super::super::patch::strategic_merge;
use super::super::util::{hash10, owner_ref};
use super::{CLUSTER_LABEL, RESTART_TRIGGER, STS_LABEL, TYPE_LABEL, VERSION_LABEL};

/// The parts of an Elasticsearch the renderers use.
pub struct EsView<'a> {
    /// metadata.name.
    pub name: &'a str,
    /// metadata.namespace.
    pub ns: &'a str,
    /// metadata.uid.
    pub uid: &'a str,
    /// spec.version.
    pub version: &'a str,
    /// The whole object.
    pub obj: &'a Value,
}

impl EsView<'_> {
    fn owner(&self) -> Value {
        owner_ref(
            "elasticsearch.k8s.elastic.co/v1",
            "Elasticsearch",
            self.name,
            self.uid,
        )
    }

    fn cluster_labels(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(TYPE_LABEL.into(), json!("elasticsearch"));
        m.insert(CLUSTER_LABEL.into(), json!(self.name));
        m
    }

    pub(super) fn meta(&self, name: &str) -> Value {
        json!({ "name": name, "namespace": self.ns, "labels": self.cluster_labels(), "ownerReferences": [self.owner()] })
    }

    /// Is TLS on the HTTP layer disabled (`spec.http.tls.selfSignedCertificate.disabled`)?
    pub(super) fn http_scheme(&self) -> &'static str {
        let disabled = self
            .obj
            .pointer("/spec/http/tls/selfSignedCertificate/disabled")
            == Some(&json!(true));
        if disabled { "http" } else { "https" }
    }
}

/// StatefulSet name of a node set.
pub fn sts_name(es: &str, nodeset: &str) -> String {
    format!("{es}-es-{nodeset}")
}

/// `node.roles` of a node set config (`node.roles` flat key or nested `node: {roles}`); None = all roles.
fn roles(config: &Value) -> Option<Vec<String>> {
    let list = config
        .get("node.roles")
        .or_else(|| config.pointer("/node/roles"))?;
    Some(
        list.as_array()?
            .iter()
            .filter_map(|r| r.as_str().map(String::from))
            .collect(),
    )
}

/// ECK's node role labels (`elasticsearch.k8s.elastic.co/node-<role>` = "true"/"false").
pub fn role_labels(config: &Value) -> Map<String, Value> {
    let roles = roles(config);
    let has = |r: &str| roles.as_ref().is_none_or(|rs| rs.iter().any(|x| x == r));
    let data_any = roles
        .as_ref()
        .is_none_or(|rs| rs.iter().any(|x| x == "data" || x.starts_with("data_")));
    let mut m = Map::new();
    let mut set = |role: &str, on: bool| {
        m.insert(
            format!("elasticsearch.k8s.elastic.co/node-{role}"),
            json!(on.to_string()),
        );
    };
    set("master", has("master"));
    set("data", data_any);
    set("ingest", has("ingest"));
    set("ml", has("ml"));
    set("transform", has("transform"));
    set("remote_cluster_client", has("remote_cluster_client"));
    set(
        "voting_only",
        roles
            .as_ref()
            .is_some_and(|rs| rs.iter().any(|x| x == "voting_only")),
    );
    for tier in [
        "data_hot",
        "data_warm",
        "data_cold",
        "data_content",
        "data_frozen",
    ] {
        set(tier, has(tier) || has("data"));
    }
    m
}

fn default_claims() -> Value {
    json!([{
        "metadata": { "name": "elasticsearch-data" },
        "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": "1Gi" } } }
    }])
}

/// The StatefulSet of one node set.
pub fn statefulset(es: &EsView<'_>, nodeset: &Value) -> Value {
    let set_name = nodeset
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let name = sts_name(es.name, set_name);
    let config = nodeset.get("config").cloned().unwrap_or(json!({}));
    let pod_template = nodeset.get("podTemplate").cloned().unwrap_or(json!({}));
    let image = es
        .obj
        .pointer("/spec/image")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| {
            format!(
                "docker.elastic.co/elasticsearch/elasticsearch:{}",
                es.version
            )
        });

    let mut labels = pod_template
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.extend(es.cluster_labels());
    labels.insert(STS_LABEL.into(), json!(name));
    labels.insert(VERSION_LABEL.into(), json!(es.version));
    labels.insert(
        "elasticsearch.k8s.elastic.co/http-scheme".into(),
        json!(es.http_scheme()),
    );
    labels.extend(role_labels(&config));

    let mut annotations = pod_template
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    annotations.insert(
        "elasticsearch.k8s.elastic.co/config-hash".into(),
        json!(hash10(&config)),
    );
    if let Some(trigger) = es.obj.pointer(&format!(
        "/metadata/annotations/{}",
        RESTART_TRIGGER.replace('/', "~1")
    )) {
        annotations.insert(RESTART_TRIGGER.into(), trigger.clone());
    }

    let mut spec = json!({
        "terminationGracePeriodSeconds": 180,
        "containers": [{
            "name": "elasticsearch",
            "image": image,
            "ports": [
                { "name": es.http_scheme(), "containerPort": 9200, "protocol": "TCP" },
                { "name": "transport", "containerPort": 9300, "protocol": "TCP" }
            ],
            "env": [
                { "name": "NODE_NAME", "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } },
                { "name": "NAMESPACE", "valueFrom": { "fieldRef": { "fieldPath": "metadata.namespace" } } }
            ],
            "resources": { "requests": { "memory": "2Gi" }, "limits": { "memory": "2Gi" } },
            "volumeMounts": [{ "name": "elasticsearch-data", "mountPath": "/usr/share/elasticsearch/data" }]
        }]
    });
    if let Some(user_spec) = pod_template.get("spec").filter(|s| s.is_object()) {
        let _ = strategic_merge(&mut spec, user_spec);
    }
    let claims = nodeset
        .get("volumeClaimTemplates")
        .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
        .cloned()
        .unwrap_or_else(default_claims);
    let policy = match es
        .obj
        .pointer("/spec/volumeClaimDeletePolicy")
        .and_then(Value::as_str)
    {
        Some("DeleteOnScaledownOnly") => json!({ "whenDeleted": "Retain", "whenScaled": "Delete" }),
        _ => json!({ "whenDeleted": "Delete", "whenScaled": "Delete" }),
    };
    let mut meta = es.meta(&name);
    meta["labels"][STS_LABEL] = json!(name);
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta,
        "spec": {
            "replicas": nodeset.get("count").and_then(Value::as_i64).unwrap_or(1),
            "serviceName": name,
            "selector": { "matchLabels": { CLUSTER_LABEL: es.name, STS_LABEL: name } },
            "updateStrategy": { "type": "OnDelete" },
            "persistentVolumeClaimRetentionPolicy": policy,
            "template": { "metadata": { "labels": labels, "annotations": annotations }, "spec": spec },
            "volumeClaimTemplates": claims,
        }
    })
}

/// `<name>-es-http`, with the resource's `spec.http.service` merged in.
pub fn http_service(es: &EsView<'_>) -> Value {
    let name = format!("{}-es-http", es.name);
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": es.meta(&name),
        "spec": {
            "type": "ClusterIP",
            "selector": es.cluster_labels(),
            "ports": [{ "name": es.http_scheme(), "port": 9200, "protocol": "TCP", "targetPort": 9200 }],
        }
    });
    with_service_template(service, es.obj)
}

/// ECK's handling of `spec.http.service` (Elasticsearch and Kibana alike): its labels and annotations are
/// added to the Service's, and its `spec` (type, `loadBalancerSourceRanges`, `externalTrafficPolicy`, ...)
/// is merged over the operator's defaults; the selector and the ports stay the operator's.
pub fn with_service_template(mut service: Value, resource: &Value) -> Value {
    let Some(template) = resource.pointer("/spec/http/service") else {
        return service;
    };
    for key in ["labels", "annotations"] {
        if let Some(Value::Object(extra)) = template.pointer(&format!("/metadata/{key}")) {
            let meta = &mut service["metadata"];
            if !meta[key].is_object() {
                meta[key] = json!({});
            }
            if let Some(target) = meta[key].as_object_mut() {
                for (k, v) in extra {
                    target.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    if let Some(Value::Object(spec)) = template.get("spec") {
        let mut spec = spec.clone();
        spec.remove("selector");
        spec.remove("ports");
        let _ = strategic_merge(&mut service["spec"], &Value::Object(spec));
    }
    service
}

/// `<name>-es-transport` (headless).
pub fn transport_service(es: &EsView<'_>) -> Value {
    let name = format!("{}-es-transport", es.name);
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": es.meta(&name),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "None",
            "publishNotReadyAddresses": true,
            "selector": es.cluster_labels(),
            "ports": [{ "name": "tls-transport", "port": 9300, "protocol": "TCP", "targetPort": 9300 }],
        }
    })
}

/// `<name>-es-elastic-user` with a fresh random password under data key `elastic`.
pub fn elastic_user_secret(es: &EsView<'_>) -> Value {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let password: String = (0..24)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    let mut meta = es.meta(&format!("{}-es-elastic-user", es.name));
    meta["labels"]["eck.k8s.elastic.co/credentials"] = json!("true");
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "Opaque",
        "data": { "elastic": base64::engine::general_purpose::STANDARD.encode(password) },
    })
}
