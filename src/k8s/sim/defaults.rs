//! Per-kind admission: validation (DNS-1123 names, labels, required fields of the ECK CRDs) and defaulting (initial
//! status, Service ClusterIP allocation, Secret `stringData`, PVCs bound at once, workload defaults).

use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine;
use serde_json::{Map, Value, json};

use super::meta;
use super::registry::ResourceKind;

/// Validation problems as `(field, message)` pairs; empty when the object is acceptable.
pub fn validate(kind: &ResourceKind, obj: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let name = meta::name(obj);
    let label_only = matches!(kind.plural.as_str(), "namespaces" | "services");
    if name.is_empty() {
        out.push((
            "metadata.name".into(),
            "Required value: name or generateName is required".into(),
        ));
    } else if label_only && !meta::is_dns1123_label(name) {
        out.push((
            "metadata.name".into(),
            format!("Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"),
        ));
    } else if !label_only && !meta::is_dns1123_subdomain(name) {
        out.push((
            "metadata.name".into(),
            format!("Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        ));
    }
    out.extend(meta::validate_labels(obj));
    if let Some(f) = obj.pointer("/metadata/finalizers")
        && !f.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    {
        out.push((
            "metadata.finalizers".into(),
            "Invalid value: must be a list of strings".into(),
        ));
    }
    if let Some(spec) = obj.get("spec") {
        match kind.kind.as_str() {
            "Elasticsearch" => {
                if !spec.get("version").is_some_and(Value::is_string) {
                    out.push(("spec.version".into(), "Required value".into()));
                }
                match spec.get("nodeSets").and_then(Value::as_array) {
                    None => out.push(("spec.nodeSets".into(), "Required value".into())),
                    Some(sets) => {
                        for (i, s) in sets.iter().enumerate() {
                            if !s.get("name").is_some_and(Value::is_string) {
                                out.push((
                                    format!("spec.nodeSets[{i}].name"),
                                    "Required value".into(),
                                ));
                            }
                            if s.get("count").is_some_and(|c| !c.is_i64()) {
                                out.push((
                                    format!("spec.nodeSets[{i}].count"),
                                    "Invalid value: must be an integer".into(),
                                ));
                            }
                        }
                    }
                }
            }
            "Kibana" if !spec.get("version").is_some_and(Value::is_string) => {
                out.push(("spec.version".into(), "Required value".into()));
            }
            _ => {}
        }
    }
    out
}

/// The status a new object starts with (client-sent status is dropped for kinds with a status subresource).
pub fn initial_status(kind: &ResourceKind, obj: &Value) -> Option<Value> {
    match kind.plural.as_str() {
        "namespaces" => Some(json!({ "phase": "Active" })),
        "pods" => Some(json!({ "phase": "Pending", "qosClass": "BestEffort" })),
        "persistentvolumeclaims" => {
            let spec = obj.get("spec").cloned().unwrap_or(json!({}));
            Some(json!({
                "phase": "Bound",
                "accessModes": spec.get("accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])),
                "capacity": { "storage": spec.pointer("/resources/requests/storage").cloned().unwrap_or(json!("1Gi")) },
            }))
        }
        "resourcequotas" => {
            let hard = obj.pointer("/spec/hard").cloned().unwrap_or(json!({}));
            let used: Map<String, Value> = hard
                .as_object()
                .map(|m| m.keys().map(|k| (k.clone(), json!("0"))).collect())
                .unwrap_or_default();
            Some(json!({ "hard": hard, "used": used }))
        }
        "nodes" => obj.get("status").cloned(),
        _ => None,
    }
}

/// A simulated ClusterIP from the 10.96.0.0/16 service range.
fn alloc_ip(ips: &AtomicU32) -> String {
    let n = ips.fetch_add(1, Ordering::Relaxed) + 11;
    format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff)
}

fn set_default(m: &mut Map<String, Value>, key: &str, v: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.into(), v);
    }
}

/// Defaulting applied to every create and update; `old` is the stored object on updates.
pub fn apply_defaults(kind: &ResourceKind, old: Option<&Value>, obj: &mut Value, ips: &AtomicU32) {
    let uid = meta::uid(obj).to_string();
    let Some(top) = obj.as_object_mut() else {
        return;
    };
    match kind.plural.as_str() {
        "namespaces" => {
            let name = top
                .get("metadata")
                .and_then(|m| m.get("name"))
                .cloned()
                .unwrap_or(json!(""));
            let labels = meta::ensure_object(
                meta::ensure_object(top.entry("metadata").or_insert(json!({})))
                    .entry("labels")
                    .or_insert(json!({})),
            );
            labels.insert("kubernetes.io/metadata.name".into(), name);
        }
        "secrets" => {
            if let Some(Value::Object(sd)) = top.remove("stringData") {
                let data = meta::ensure_object(top.entry("data").or_insert(json!({})));
                for (k, v) in sd {
                    let text = v
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string());
                    data.insert(
                        k,
                        json!(base64::engine::general_purpose::STANDARD.encode(text)),
                    );
                }
            }
            set_default(top, "type", json!("Opaque"));
        }
        "services" => {
            let spec = meta::ensure_object(top.entry("spec").or_insert(json!({})));
            set_default(spec, "type", json!("ClusterIP"));
            set_default(spec, "sessionAffinity", json!("None"));
            let old_ip = old.and_then(|o| o.pointer("/spec/clusterIP")).cloned();
            if spec.get("clusterIP").is_none_or(|v| v.is_null() || v == "") {
                let ip = old_ip.unwrap_or_else(|| json!(alloc_ip(ips)));
                spec.insert("clusterIP".into(), ip);
            }
            let ip = spec.get("clusterIP").cloned().unwrap_or(json!("None"));
            spec.insert("clusterIPs".into(), json!([ip]));
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    set_default(p, "protocol", json!("TCP"));
                    if let Some(port) = p.get("port").cloned() {
                        set_default(p, "targetPort", port);
                    }
                }
            }
        }
        "persistentvolumeclaims" => {
            let spec = meta::ensure_object(top.entry("spec").or_insert(json!({})));
            set_default(spec, "storageClassName", json!("standard"));
            set_default(spec, "volumeMode", json!("Filesystem"));
            set_default(spec, "volumeName", json!(format!("pvc-{uid}")));
        }
        "statefulsets" => {
            let spec = meta::ensure_object(top.entry("spec").or_insert(json!({})));
            set_default(spec, "replicas", json!(1));
            set_default(spec, "podManagementPolicy", json!("OrderedReady"));
            set_default(
                spec,
                "updateStrategy",
                json!({ "type": "RollingUpdate", "rollingUpdate": { "partition": 0 } }),
            );
            set_default(spec, "revisionHistoryLimit", json!(10));
        }
        "deployments" => {
            let spec = meta::ensure_object(top.entry("spec").or_insert(json!({})));
            set_default(spec, "replicas", json!(1));
            set_default(
                spec,
                "strategy",
                json!({ "type": "RollingUpdate", "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": "25%" } }),
            );
        }
        "events" => {
            let now = json!(meta::now());
            set_default(top, "count", json!(1));
            set_default(top, "firstTimestamp", now.clone());
            set_default(top, "lastTimestamp", now);
        }
        _ => {}
    }
}
