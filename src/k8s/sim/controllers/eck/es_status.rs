//! ECK-style Elasticsearch status: phase (ApplyingChanges / MigratingData / Ready / Invalid), health (from the
//! simulated Elasticsearch: red / yellow / green, unknown while no node is ready),
//! availableNodes, version (lowest running; spec.version once every pod runs it), observedGeneration, conditions
//! with lastTransitionTime, and inProgressOperations (upscale, downscale, upgrade).

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use serde_json::{Value, json};

use super::super::super::meta;
use super::super::util::is_ready;
use super::{VERSION_LABEL, version_key};

/// Observed facts the status is computed from.
pub struct Observed<'a> {
    /// spec.version.
    pub version: &'a str,
    /// metadata.generation.
    pub generation: i64,
    /// Sum of node set counts.
    pub desired: usize,
    /// Pods of the cluster (not being deleted).
    pub pods: &'a [Pod],
    /// Pods whose template is outdated, by name.
    pub outdated: &'a [String],
    /// Expected pod names that do not exist yet.
    pub missing: &'a [String],
    /// Pods beyond their node set count.
    pub surplus: &'a [String],
    /// A StatefulSet has not observed its latest spec yet.
    pub pending_sts: bool,
    /// The pod deleted by this reconcile for a rolling change, if any.
    pub deleted: Option<&'a str>,
    /// Previous status.
    pub previous: &'a Value,
    /// Health of the simulated Elasticsearch (None: no node is ready).
    pub health: Option<&'a str>,
    /// Nodes whose data is being migrated off before a downscale.
    pub migrating: &'a [String],
}

fn condition(prev: &Value, ty: &str, ok: bool, message: &str, now: &str) -> Value {
    let status = if ok { "True" } else { "False" };
    let old = prev
        .get("conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == ty));
    let since = match old {
        Some(c) if c["status"] == status => {
            c.get("lastTransitionTime").cloned().unwrap_or(json!(now))
        }
        _ => json!(now),
    };
    json!({ "type": ty, "status": status, "message": message, "lastTransitionTime": since })
}

fn operation(prev: &Value, op: &str, nodes: Vec<Value>, now: &str) -> Value {
    let old = prev.pointer(&format!("/inProgressOperations/{op}"));
    let unchanged = old
        .and_then(|o| o.get("nodes"))
        .map_or(nodes.is_empty(), |n| *n == json!(nodes));
    let time = match old.and_then(|o| o.get("lastUpdatedTime")) {
        Some(t) if unchanged => t.clone(),
        _ => json!(now),
    };
    json!({ "nodes": nodes, "lastUpdatedTime": time })
}

/// Compute the status.
pub fn compute(o: &Observed<'_>) -> Value {
    let now = meta::now();
    let ready = o.pods.iter().filter(|p| is_ready(p)).count();
    let up_to_date =
        o.outdated.is_empty() && o.missing.is_empty() && o.surplus.is_empty() && !o.pending_sts;
    let health = match (o.desired, ready) {
        (0, _) | (_, 0) => "unknown",
        _ => o.health.unwrap_or("unknown"),
    };
    let phase = if !o.migrating.is_empty() {
        "MigratingData"
    } else if ready >= o.desired && o.desired > 0 && up_to_date {
        "Ready"
    } else {
        "ApplyingChanges"
    };
    let running: Vec<&str> = o
        .pods
        .iter()
        .filter_map(|p| p.labels().get(VERSION_LABEL).map(String::as_str))
        .collect();
    let lowest = running.iter().min_by_key(|v| version_key(v)).copied();
    let all_desired = !running.is_empty()
        && running.len() == o.pods.len()
        && running.iter().all(|v| *v == o.version);
    let version = if all_desired && o.outdated.is_empty() {
        Some(o.version)
    } else {
        lowest
    };
    let conditions = vec![
        condition(
            o.previous,
            "ReconciliationComplete",
            phase == "Ready",
            if phase == "Ready" {
                ""
            } else {
                "Reconciliation in progress"
            },
            &now,
        ),
        condition(
            o.previous,
            "RunningDesiredVersion",
            all_desired,
            &if all_desired {
                String::new()
            } else {
                format!("Not all nodes run version {}", o.version)
            },
            &now,
        ),
        condition(
            o.previous,
            "ElasticsearchIsReachable",
            ready > 0,
            if ready > 0 {
                "Service has endpoints"
            } else {
                "Service has no endpoint"
            },
            &now,
        ),
        condition(
            o.previous,
            "ResourcesAwareManagement",
            true,
            &format!(
                "Successfully calculated compute and storage resources from Elasticsearch resource generation {}",
                o.generation
            ),
            &now,
        ),
    ];
    let upscale: Vec<Value> = o.missing.iter().map(|n| json!({ "name": n, "status": "PENDING", "message": "Waiting for the pod to be created" })).collect();
    let downscale: Vec<Value> = o
        .surplus
        .iter()
        .chain(o.migrating.iter())
        .map(|n| json!({ "name": n, "shutdownStatus": "IN_PROGRESS" }))
        .collect();
    let upgrade: Vec<Value> = o
        .outdated
        .iter()
        .map(|n| {
            if Some(n.as_str()) == o.deleted {
                json!({ "name": n, "status": "DELETED", "message": "Deleting pod for rolling upgrade" })
            } else {
                json!({ "name": n, "status": "PENDING", "message": "Waiting for the cluster to be ready", "predicate": "require_ready" })
            }
        })
        .collect();
    let mut status = json!({
        "phase": phase,
        "health": health,
        "availableNodes": ready,
        "observedGeneration": o.generation,
        "conditions": conditions,
        "inProgressOperations": {
            "upscale": operation(o.previous, "upscale", upscale, &now),
            "downscale": operation(o.previous, "downscale", downscale, &now),
            "upgrade": operation(o.previous, "upgrade", upgrade, &now),
        },
    });
    if let Some(v) = version {
        status["version"] = json!(v);
    }
    status
}

/// The status of a resource whose spec cannot be reconciled.
pub fn invalid(previous: &Value, generation: i64, message: &str) -> Value {
    let now = meta::now();
    json!({
        "phase": "Invalid",
        "health": "unknown",
        "availableNodes": previous.get("availableNodes").cloned().unwrap_or(json!(0)),
        "observedGeneration": generation,
        "conditions": [condition(previous, "ReconciliationComplete", false, message, &now)],
        "inProgressOperations": {
            "upscale": operation(previous, "upscale", vec![], &now),
            "downscale": operation(previous, "downscale", vec![], &now),
            "upgrade": operation(previous, "upgrade", vec![], &now),
        },
    })
}
