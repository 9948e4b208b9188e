//! Response formats: plain JSON objects and lists, `PartialObjectMetadata(List)` (kube-rs metadata watches) and a
//! minimal server-side `Table` (what `kubectl get` asks for), chosen from the `Accept` header.

use serde_json::{Map, Value, json};

use super::read::ListPage;
use super::registry::ResourceKind;
use super::stored::Stored;

/// Representation asked for by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Full objects.
    Json,
    /// `as=PartialObjectMetadata` / `as=PartialObjectMetadataList`.
    Metadata,
    /// `as=Table`; the flag says whether rows carry their object (`includeObject` not `None`).
    Table(bool),
    /// Full objects without `metadata.managedFields` (answers to the simulated controllers).
    Lean,
    /// Partial object metadata without `managedFields` (answers to the simulated controllers).
    LeanMetadata,
}

impl Format {
    /// The same format without managedFields (for the internal client of the simulated controllers).
    pub fn lean(self) -> Self {
        match self {
            Format::Json => Format::Lean,
            Format::Metadata => Format::LeanMetadata,
            other => other,
        }
    }

    /// Pick from the Accept header (first supported alternative wins) and `includeObject`.
    pub fn from_accept(accept: &str, include_object: Option<&str>) -> Self {
        for alt in accept.split(',') {
            let alt = alt.trim();
            if alt.contains("as=Table") {
                return Format::Table(include_object != Some("None"));
            }
            if alt.contains("as=PartialObjectMetadata") {
                return Format::Metadata;
            }
            if alt.starts_with("application/json") || alt.starts_with("*/*") || alt.is_empty() {
                return Format::Json;
            }
        }
        Format::Json
    }
}

fn partial(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// Append one object in the requested format to `out` (JSON and metadata formats copy stored bytes).
pub fn write_object(out: &mut Vec<u8>, k: &ResourceKind, obj: &Stored, fmt: Format) {
    match fmt {
        Format::Json => obj.write_object(out, false),
        Format::Lean => obj.write_object(out, true),
        Format::Metadata | Format::LeanMetadata => {
            out.extend_from_slice(
                br#"{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":"#,
            );
            obj.write_metadata(out, fmt == Format::LeanMetadata);
            out.push(b'}');
        }
        Format::Table(with_obj) => {
            let v = obj.value();
            if serde_json::to_writer(&mut *out, &table(k, &[&v], "", with_obj)).is_err() {
                out.extend_from_slice(b"{}");
            }
        }
    }
}

/// Serialize one object in the requested format.
pub fn object_bytes(k: &ResourceKind, obj: &Stored, fmt: Format) -> Vec<u8> {
    let mut out = Vec::with_capacity(obj.json().len() + 128);
    write_object(&mut out, k, obj, fmt);
    out
}

/// Serialize a list page in the requested format, streaming items without cloning them.
pub fn list_bytes(k: &ResourceKind, page: &ListPage, fmt: Format) -> Vec<u8> {
    let mut lmeta = Map::new();
    lmeta.insert("resourceVersion".into(), json!(page.rv.to_string()));
    if let Some(c) = &page.cont {
        lmeta.insert("continue".into(), json!(c));
    }
    if let Some(r) = page.remaining {
        lmeta.insert("remainingItemCount".into(), json!(r));
    }
    if let Format::Table(with_obj) = fmt {
        let values: Vec<Value> = page.items.iter().map(|a| a.value()).collect();
        let objs: Vec<&Value> = values.iter().collect();
        let mut t = table(k, &objs, &page.rv.to_string(), with_obj);
        t["metadata"] = Value::Object(lmeta);
        return serde_json::to_vec(&t).unwrap_or_default();
    }
    let (kind, av) = match fmt {
        Format::Metadata | Format::LeanMetadata => (
            "PartialObjectMetadataList".to_string(),
            "meta.k8s.io/v1".to_string(),
        ),
        _ => (k.list_kind(), k.api_version()),
    };
    let size: usize = page.items.iter().map(|o| o.json().len() + 1).sum();
    let mut out = Vec::with_capacity(256 + size);
    out.extend_from_slice(b"{\"kind\":");
    out.extend_from_slice(json!(kind).to_string().as_bytes());
    out.extend_from_slice(b",\"apiVersion\":");
    out.extend_from_slice(json!(av).to_string().as_bytes());
    out.extend_from_slice(b",\"metadata\":");
    out.extend_from_slice(Value::Object(lmeta).to_string().as_bytes());
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_object(&mut out, k, item, fmt);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Human age like kubectl prints it (`45s`, `12m`, `3h`, `5d`).
fn age(obj: &Value) -> String {
    let Some(ts) = obj
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
    else {
        return "<unknown>".into();
    };
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) else {
        return "<unknown>".into();
    };
    let s = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

fn text(obj: &Value, ptr: &str) -> Value {
    match obj.pointer(ptr) {
        Some(Value::String(s)) => json!(s),
        Some(Value::Null) | None => json!(""),
        Some(v) => json!(v.to_string()),
    }
}

fn pod_cells(o: &Value) -> Vec<Value> {
    let statuses = o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    let total = o
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = statuses.map_or(0, |s| s.iter().filter(|c| c["ready"] == true).count());
    let restarts: i64 = statuses.map_or(0, |s| {
        s.iter().filter_map(|c| c["restartCount"].as_i64()).sum()
    });
    let waiting = statuses.and_then(|s| {
        s.iter()
            .find_map(|c| c.pointer("/state/waiting/reason").and_then(Value::as_str))
    });
    let phase = if o.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating".to_string()
    } else {
        waiting
            .map(String::from)
            .unwrap_or_else(|| text(o, "/status/phase").as_str().unwrap_or("").to_string())
    };
    vec![
        json!(format!("{ready}/{total}")),
        json!(phase),
        json!(restarts),
    ]
}

fn columns(k: &ResourceKind) -> Vec<(&'static str, &'static str)> {
    match k.plural.as_str() {
        "pods" => vec![
            ("Ready", "string"),
            ("Status", "string"),
            ("Restarts", "integer"),
        ],
        "statefulsets" => vec![("Ready", "string")],
        "deployments" => vec![
            ("Ready", "string"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
        ],
        "services" => vec![("Type", "string"), ("Cluster-IP", "string")],
        "namespaces" => vec![("Status", "string")],
        "persistentvolumeclaims" => vec![("Status", "string"), ("Capacity", "string")],
        "elasticsearches" => vec![
            ("Health", "string"),
            ("Nodes", "integer"),
            ("Version", "string"),
            ("Phase", "string"),
        ],
        "kibanas" => vec![
            ("Health", "string"),
            ("Nodes", "integer"),
            ("Version", "string"),
        ],
        "events" => vec![
            ("Type", "string"),
            ("Reason", "string"),
            ("Object", "string"),
            ("Message", "string"),
        ],
        "secrets" => vec![("Type", "string")],
        _ => vec![],
    }
}

fn cells(k: &ResourceKind, o: &Value) -> Vec<Value> {
    let n = |p: &str| o.pointer(p).cloned().unwrap_or(json!(0));
    match k.plural.as_str() {
        "pods" => pod_cells(o),
        "statefulsets" => vec![json!(format!(
            "{}/{}",
            n("/status/readyReplicas"),
            n("/spec/replicas")
        ))],
        "deployments" => vec![
            json!(format!(
                "{}/{}",
                n("/status/readyReplicas"),
                n("/spec/replicas")
            )),
            n("/status/updatedReplicas"),
            n("/status/availableReplicas"),
        ],
        "services" => vec![text(o, "/spec/type"), text(o, "/spec/clusterIP")],
        "namespaces" => vec![text(o, "/status/phase")],
        "persistentvolumeclaims" => vec![
            text(o, "/status/phase"),
            text(o, "/status/capacity/storage"),
        ],
        "elasticsearches" => vec![
            text(o, "/status/health"),
            n("/status/availableNodes"),
            text(o, "/status/version"),
            text(o, "/status/phase"),
        ],
        "kibanas" => vec![
            text(o, "/status/health"),
            n("/status/availableNodes"),
            text(o, "/status/version"),
        ],
        "events" => vec![
            text(o, "/type"),
            text(o, "/reason"),
            json!(format!(
                "{}/{}",
                text(o, "/involvedObject/kind")
                    .as_str()
                    .unwrap_or("")
                    .to_lowercase(),
                text(o, "/involvedObject/name").as_str().unwrap_or("")
            )),
            text(o, "/message"),
        ],
        "secrets" => vec![text(o, "/type")],
        _ => vec![],
    }
}

/// A `meta.k8s.io/v1` Table of objects.
pub fn table(k: &ResourceKind, objs: &[&Value], rv: &str, with_obj: bool) -> Value {
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}),
    ];
    for (name, ty) in columns(k) {
        defs.push(
            json!({"name": name, "type": ty, "format": "", "description": name, "priority": 0}),
        );
    }
    defs.push(
        json!({"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0}),
    );
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let mut c = vec![text(o, "/metadata/name")];
            c.extend(cells(k, o));
            c.push(json!(age(o)));
            let mut row = json!({ "cells": c });
            if with_obj {
                row["object"] = partial(o);
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": { "resourceVersion": rv },
        "columnDefinitions": defs,
        "rows": rows,
    })
}
