//! `_cluster/allocation/explain`: which copy to explain (the body's `index`/`shard`/`primary`/`current_node`,
//! or the first unassigned copy, primaries first, with the `note`), and the explanation in Elasticsearch's
//! shape: for an unassigned copy `can_allocate`, `allocate_explanation`, the delay, and per data node the
//! deciders that said NO or THROTTLE (all of them with `include_yes_decisions`); for an assigned one whether
//! it can remain, move and rebalance; for a recovering one only `explanation`.

use serde_json::{Map, Value, json};

use super::allocator::{self, candidates, delayed, remaining_delay_ms};
use super::deciders::{Decision, Verdict, can_allocate, can_remain, overall};
use super::model::{Cluster, Node, RecoverySource, ShardCopy, ShardState};
use super::rest::{Reply, error, illegal, index_not_found, ok};
use super::settings::node_left_delay_ms;

/// `Explanations.Allocation.NO`.
pub const NO: &str = "Elasticsearch isn't allowed to allocate this shard to any of the nodes in the cluster. Choose a node to which you expect this shard to be allocated, find this node in the node-by-node explanation, and address the reasons which prevent Elasticsearch from allocating this shard there.";
const THROTTLED: &str = "Elasticsearch is currently busy with other activities. It expects to be able to allocate this shard when those activities finish. Please wait.";
const YES: &str = "Elasticsearch can allocate the shard.";
const NO_COPIES: &str = "Elasticsearch can't allocate this shard because there are no copies of its data in the cluster. Elasticsearch will allocate this shard when a node holding a good copy of its data joins the cluster. If no such node is available, restore this index from a recent snapshot.";
const NOTE: &str = "No shard was specified in the explain API request, so this response explains a randomly chosen unassigned shard. There may be other unassigned shards in this cluster which cannot be assigned for different reasons. It may not be possible to assign this shard until one of the other shards is assigned correctly. To explain the allocation of other shards (whether assigned or unassigned) you must specify the target shard in the request to this API. See https://www.elastic.co/guide/en/elasticsearch/reference/8.15/cluster-allocation-explain.html for more information.";

fn iso(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn time_text(ms: u64) -> String {
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms >= 1000 {
        format!("{}s", super::settings::one_decimal(ms as f64 / 1000.0))
    } else {
        format!("{ms}ms")
    }
}

fn node_json(n: &Node, prefix: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(format!("{prefix}id"), json!(n.id));
    m.insert(format!("{prefix}name"), json!(n.name));
    m.insert("transport_address".into(), json!(n.transport_address()));
    if !n.attributes.is_empty() {
        let key = if prefix.is_empty() {
            "attributes"
        } else {
            "node_attributes"
        };
        m.insert(key.into(), json!(n.attributes));
    }
    m.insert("roles".into(), json!(n.roles));
    m
}

fn deciders_json(ds: &[Decision], include_yes: bool) -> Value {
    json!(ds
        .iter()
        .filter(|d| include_yes || d.verdict != Verdict::Yes)
        .map(|d| json!({ "decider": d.decider, "decision": d.verdict.as_str(), "explanation": d.explanation }))
        .collect::<Vec<_>>())
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Yes => "yes",
        Verdict::Throttle => "throttled",
        Verdict::No => "no",
    }
}

/// Per data node decisions for `s`, ranked: (node, decisions, verdict, weight ranking).
fn node_decisions<'a>(
    c: &'a Cluster,
    s: &ShardCopy,
) -> Vec<(&'a Node, Vec<Decision>, Verdict, usize)> {
    let mut by_weight: Vec<&Node> = c.nodes.values().filter(|n| n.is_data()).collect();
    by_weight.sort_by_key(|n| (c.copies_on(&n.id).count(), n.id.clone()));
    let mut out: Vec<_> = by_weight
        .iter()
        .enumerate()
        .map(|(rank, n)| {
            let ds = can_allocate(c, s, n);
            let v = overall(&ds);
            (*n, ds, v, rank + 1)
        })
        .collect();
    out.sort_by_key(|(_, _, v, rank)| (*v, *rank));
    out
}

fn decisions_json(
    list: &[(&Node, Vec<Decision>, Verdict, usize)],
    include_yes: bool,
    store: bool,
) -> Value {
    json!(
        list.iter()
            .map(|(n, ds, v, rank)| {
                let mut m = node_json(n, "node_");
                m.insert("node_decision".into(), json!(verdict_word(*v)));
                if store {
                    m.insert("store".into(), json!({ "found": false }));
                }
                m.insert("weight_ranking".into(), json!(rank));
                m.insert("deciders".into(), deciders_json(ds, include_yes));
                Value::Object(m)
            })
            .collect::<Vec<_>>()
    )
}

fn pick<'a>(c: &'a Cluster, target: &Value) -> Result<(&'a ShardCopy, bool), Reply> {
    let given = target.as_object().is_some_and(|m| !m.is_empty());
    if !given {
        let mut unassigned: Vec<&ShardCopy> = c
            .shards
            .iter()
            .filter(|s| s.state == ShardState::Unassigned)
            .collect();
        unassigned.sort_by_key(|s| !s.primary);
        return unassigned.first().map(|s| (*s, true)).ok_or_else(|| {
            illegal("No shard was specified in the request which means the response should explain a randomly-chosen unassigned shard, but there are no unassigned shards in this cluster. To explain the allocation of an assigned shard you must specify the target shard in the request.")
        });
    }
    let mut missing = Vec::new();
    let index = target.get("index").and_then(Value::as_str);
    let shard = target.get("shard").and_then(Value::as_u64);
    let primary = target.get("primary").and_then(Value::as_bool);
    if index.is_none() {
        missing.push("index must be specified");
    }
    if shard.is_none() {
        missing.push("shard must be specified");
    }
    if primary.is_none() {
        missing.push("primary must be specified");
    }
    let (Some(index), Some(shard), Some(primary)) = (index, shard, primary) else {
        let text = missing
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{}: {m};", i + 1))
            .collect::<String>();
        return Err(error(
            400,
            "action_request_validation_exception",
            &format!("Validation Failed: {text}"),
            Map::new(),
        ));
    };
    if !c.indices.contains_key(index) {
        return Err(index_not_found(index));
    }
    let node = target
        .get("current_node")
        .and_then(Value::as_str)
        .map(|n| c.node_by_id_or_name(n).map(|n| n.id.clone()));
    let mut copies: Vec<&ShardCopy> = c
        .shards
        .iter()
        .filter(|s| s.index == index && u64::from(s.shard) == shard && s.primary == primary)
        .collect();
    match node {
        Some(Some(id)) => copies.retain(|s| s.node.as_deref() == Some(id.as_str())),
        Some(None) => copies.clear(),
        None => copies.sort_by_key(|s| s.state != ShardState::Unassigned),
    }
    match copies.first() {
        Some(s) => Ok((*s, false)),
        None => {
            let current = target.get("current_node").and_then(Value::as_str);
            Err(illegal(&match (current, primary) {
                (Some(n), true) => format!("unable to find primary shard assigned to node [{n}]"),
                (Some(n), false) => {
                    format!("unable to find a replica shard assigned to node [{n}]")
                }
                _ => format!(
                    "unable to find any shards to explain [[{index}][{shard}]] in the routing table"
                ),
            }))
        }
    }
}

/// The explain response.
pub fn explain(c: &Cluster, target: &Value, include_yes: bool, include_disk: bool) -> Reply {
    let (s, chosen) = match pick(c, target) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut out = Map::new();
    if chosen {
        out.insert("note".into(), json!(NOTE));
    }
    out.insert("index".into(), json!(s.index));
    out.insert("shard".into(), json!(s.shard));
    out.insert("primary".into(), json!(s.primary));
    out.insert(
        "current_state".into(),
        json!(s.state.as_str().to_lowercase()),
    );
    if let Some(u) = &s.unassigned {
        let mut info = Map::new();
        info.insert("reason".into(), json!(u.reason));
        info.insert("at".into(), json!(iso(u.at_ms)));
        if let Some(d) = &u.details {
            info.insert("details".into(), json!(d));
        }
        info.insert("last_allocation_status".into(), json!(u.last_status));
        out.insert("unassigned_info".into(), Value::Object(info));
    }
    if include_disk {
        let mut nodes = Map::new();
        for n in c.nodes.values() {
            let used = c.disk_used(n);
            nodes.insert(n.id.clone(), json!({
                "node_name": n.name,
                "least_available": { "path": "/usr/share/elasticsearch/data", "total_bytes": n.disk_total_bytes, "used_bytes": used, "free_bytes": n.disk_total_bytes - used, "free_disk_percent": 100.0 - used as f64 * 100.0 / n.disk_total_bytes.max(1) as f64, "used_disk_percent": used as f64 * 100.0 / n.disk_total_bytes.max(1) as f64 },
                "most_available": { "path": "/usr/share/elasticsearch/data", "total_bytes": n.disk_total_bytes, "used_bytes": used, "free_bytes": n.disk_total_bytes - used, "free_disk_percent": 100.0 - used as f64 * 100.0 / n.disk_total_bytes.max(1) as f64, "used_disk_percent": used as f64 * 100.0 / n.disk_total_bytes.max(1) as f64 },
            }));
        }
        out.insert("cluster_info".into(), json!({ "nodes": nodes }));
    }
    let current = s.node.as_deref().and_then(|id| c.nodes.get(id));
    match s.state {
        ShardState::Unassigned => {
            let list: Vec<_> = node_decisions(c, s)
                .into_iter()
                .filter(|(n, ..)| candidates(c, s).iter().any(|m| m.id == n.id))
                .collect();
            let lost_primary = s.primary && s.recovery_source == RecoverySource::ExistingStore;
            let best = list
                .iter()
                .map(|(_, _, v, _)| *v)
                .min()
                .unwrap_or(Verdict::No);
            if lost_primary && list.is_empty() {
                out.insert("can_allocate".into(), json!("no_valid_shard_copy"));
                out.insert("allocate_explanation".into(), json!(NO_COPIES));
                out.insert(
                    "node_allocation_decisions".into(),
                    decisions_json(&node_decisions(c, s), include_yes, true),
                );
            } else if delayed(c, s) {
                let total = c.indices.get(&s.index).map_or(0, node_left_delay_ms);
                let left = remaining_delay_ms(c, s);
                out.insert("can_allocate".into(), json!("allocation_delayed"));
                let text = if best == Verdict::No {
                    format!(
                        "The node containing this shard's data has left the cluster. Elasticsearch is waiting for it to return. If the node does not return within [{}] then Elasticsearch will attempt to allocate this shard to another node, but it cannot be allocated to any of the current nodes in the cluster. If you expect this shard to be allocated to another node, find this node in the node-by-node explanation and address the reasons which prevent Elasticsearch from allocating this shard there.",
                        time_text(left)
                    )
                } else {
                    format!(
                        "The node containing this shard's data has left the cluster. Elasticsearch is waiting for it to return. If the node does not return within [{}] then Elasticsearch will allocate this shard to another node. Please wait.",
                        time_text(left)
                    )
                };
                out.insert("allocate_explanation".into(), json!(text));
                out.insert("configured_delay".into(), json!(time_text(total)));
                out.insert("configured_delay_in_millis".into(), json!(total));
                out.insert("remaining_delay".into(), json!(time_text(left)));
                out.insert("remaining_delay_in_millis".into(), json!(left));
                out.insert(
                    "node_allocation_decisions".into(),
                    decisions_json(&list, include_yes, false),
                );
            } else {
                out.insert("can_allocate".into(), json!(verdict_word(best)));
                out.insert(
                    "allocate_explanation".into(),
                    json!(match best {
                        Verdict::Yes => YES,
                        Verdict::Throttle => THROTTLED,
                        Verdict::No => NO,
                    }),
                );
                out.insert(
                    "node_allocation_decisions".into(),
                    decisions_json(&list, include_yes, false),
                );
            }
        }
        ShardState::Initializing => {
            if let Some(n) = current {
                out.insert("current_node".into(), Value::Object(node_json(n, "")));
            }
            out.insert("explanation".into(), json!(format!(
                "the shard is in the process of initializing on node [{}], wait until initialization has completed",
                current.map_or("", |n| n.name.as_str())
            )));
        }
        ShardState::Relocating => {
            if let Some(n) = current {
                out.insert("current_node".into(), Value::Object(node_json(n, "")));
            }
            let to = s.relocating_to.as_deref().map_or("", |t| c.node_name(t));
            out.insert("explanation".into(), json!(format!(
                "the shard is in the process of relocating from node [{}] to node [{to}], wait until relocation has completed",
                current.map_or("", |n| n.name.as_str())
            )));
        }
        ShardState::Started => {
            let Some(n) = current else {
                return ok(200, Value::Object(out));
            };
            let mut cn = node_json(n, "");
            let list = node_decisions(c, s);
            let rank = list
                .iter()
                .find(|(m, ..)| m.id == n.id)
                .map_or(1, |(.., r)| *r);
            cn.insert("weight_ranking".into(), json!(rank));
            out.insert("current_node".into(), Value::Object(cn));
            let remain = can_remain(c, s, n);
            let others: Vec<_> = list.into_iter().filter(|(m, ..)| m.id != n.id).collect();
            let can_move = others.iter().any(|(_, _, v, _)| *v == Verdict::Yes);
            if overall(&remain) == Verdict::No {
                out.insert("can_remain_on_current_node".into(), json!("no"));
                out.insert(
                    "can_remain_decisions".into(),
                    deciders_json(&remain, include_yes),
                );
                out.insert(
                    "can_move_to_other_node".into(),
                    json!(if can_move { "yes" } else { "no" }),
                );
                out.insert("move_explanation".into(), json!(if can_move {
                    "This shard may not remain on its current node, but Elasticsearch can move it to another node."
                } else {
                    "This shard may not remain on its current node, but Elasticsearch isn't allowed to move it to another node. Choose a node to which you expect this shard to be allocated, find this node in the node-by-node explanation, and address the reasons which prevent Elasticsearch from allocating this shard there."
                }));
            } else {
                out.insert("can_remain_on_current_node".into(), json!("yes"));
                let move_target = allocator::move_target(c, s);
                let better = move_target
                    .as_ref()
                    .is_some_and(|t| c.copies_on(t).count() + 1 < c.copies_on(&n.id).count());
                out.insert("can_rebalance_cluster".into(), json!("yes"));
                out.insert(
                    "can_rebalance_to_other_node".into(),
                    json!(if better { "yes" } else { "no" }),
                );
                out.insert("rebalance_explanation".into(), json!(if better {
                    "Elasticsearch can rebalance this shard to another node."
                } else {
                    "Elasticsearch cannot rebalance this shard to another node since there is no node to which allocation is permitted which would improve the cluster balance. If you expect this shard to be rebalanced to another node, find this node in the node-by-node explanation and address the reasons which prevent Elasticsearch from rebalancing this shard there."
                }));
            }
            out.insert(
                "node_allocation_decisions".into(),
                decisions_json(&others, include_yes, false),
            );
        }
    }
    ok(200, Value::Object(out))
}
