//! Cluster-level APIs: `GET /`, `_cluster/health` (levels, `wait_for_status` with `timeout`), `_cluster/settings`
//! GET and PUT (persistent and transient, flat or nested, `null` and wildcard resets, validation of the
//! allocation settings the simulation understands), `_cluster/stats` and `_cluster/allocation/explain`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::super::health::{self, Health};
use super::super::model::{Cluster, flatten, nest};
use super::super::settings::{parse_duration_ms, parse_watermark};
use super::super::{allocator, explain, load};
use super::{Reply, Req, error, illegal, index_not_found, ok};

/// Elasticsearch versions and their Lucene versions (for `GET /`).
fn lucene(version: &str) -> &'static str {
    let minor = version.split('.').take(2).collect::<Vec<_>>().join(".");
    match minor.as_str() {
        "8.11" | "8.12" => "9.8.0",
        "8.13" => "9.10.0",
        "8.14" | "8.15" => "9.11.1",
        "8.16" => "9.12.0",
        "8.17" | "8.18" => "9.12.1",
        v if v.starts_with("9.") => "10.1.0",
        _ => "9.11.1",
    }
}

/// `GET /`.
pub fn root(c: &Cluster) -> Reply {
    let node = c
        .master
        .as_deref()
        .and_then(|m| c.nodes.get(m))
        .or_else(|| c.nodes.values().next());
    let version = node.map_or(c.version.clone(), |n| n.version.clone());
    ok(
        200,
        json!({
            "name": node.map_or("", |n| n.name.as_str()),
            "cluster_name": c.name,
            "cluster_uuid": c.uuid,
            "version": {
                "number": version,
                "build_flavor": "default",
                "build_type": "docker",
                "build_hash": super::super::model::short_id(&version).chars().take(12).collect::<String>().to_lowercase(),
                "build_date": "2024-08-05T10:05:34.233336849Z",
                "build_snapshot": false,
                "lucene_version": lucene(&version),
                "minimum_wire_compatibility_version": if version.starts_with("9.") { "8.18.0" } else { "7.17.0" },
                "minimum_index_compatibility_version": if version.starts_with("9.") { "8.0.0" } else { "7.0.0" },
            },
            "tagline": "You Know, for Search",
        }),
    )
}

/// When a `wait_for_*` health request gives up.
pub fn wait_deadline(req: &Req) -> Option<tokio::time::Instant> {
    let waits = [
        "wait_for_status",
        "wait_for_nodes",
        "wait_for_no_relocating_shards",
        "wait_for_no_initializing_shards",
        "wait_for_active_shards",
    ];
    if req.segs.first().is_none_or(|s| s != "_cluster")
        || !waits.iter().any(|w| req.q.contains_key(*w))
    {
        return None;
    }
    let ms = req
        .q
        .get("timeout")
        .and_then(|t| parse_duration_ms(t))
        .unwrap_or(30_000);
    Some(tokio::time::Instant::now() + std::time::Duration::from_millis(ms))
}

fn counts_json(n: &health::Counts) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("active_primary_shards".into(), json!(n.active_primary));
    m.insert("active_shards".into(), json!(n.active));
    m.insert("relocating_shards".into(), json!(n.relocating));
    m.insert("initializing_shards".into(), json!(n.initializing));
    m.insert("unassigned_shards".into(), json!(n.unassigned));
    m.insert(
        "unassigned_primary_shards".into(),
        json!(n.unassigned_primary),
    );
    m
}

fn parse_health(s: &str) -> Option<Health> {
    match s {
        "green" => Some(Health::Green),
        "yellow" => Some(Health::Yellow),
        "red" => Some(Health::Red),
        _ => None,
    }
}

fn wait_met(c: &Cluster, status: Health, n: &health::Counts, req: &Req) -> bool {
    let mut met = true;
    if let Some(want) = req.q.get("wait_for_status").and_then(|s| parse_health(s)) {
        met &= status <= want;
    }
    if let Some(spec) = req.q.get("wait_for_nodes") {
        let count = c.nodes.len() as u64;
        let (op, num) = spec
            .strip_prefix(">=")
            .map(|r| (">=", r))
            .or_else(|| spec.strip_prefix("<=").map(|r| ("<=", r)))
            .or_else(|| spec.strip_prefix('>').map(|r| (">", r)))
            .or_else(|| spec.strip_prefix('<').map(|r| ("<", r)))
            .or_else(|| {
                spec.strip_prefix("ge(")
                    .and_then(|r| r.strip_suffix(')'))
                    .map(|r| (">=", r))
            })
            .unwrap_or(("==", spec.as_str()));
        let want: u64 = num.parse().unwrap_or(0);
        met &= match op {
            ">=" => count >= want,
            "<=" => count <= want,
            ">" => count > want,
            "<" => count < want,
            _ => count == want,
        };
    }
    if req.flag("wait_for_no_relocating_shards") {
        met &= n.relocating == 0;
    }
    if req.flag("wait_for_no_initializing_shards") {
        met &= n.initializing == 0;
    }
    if let Some(active) = req.q.get("wait_for_active_shards") {
        let (_, _, copies) = health::cluster(c, None);
        let want = if active == "all" {
            copies
        } else {
            active.parse().unwrap_or(0)
        };
        met &= n.active >= want;
    }
    met
}

/// `GET /_cluster/health[/{index}]`.
pub fn health(c: &Cluster, index: Option<&str>, req: &Req) -> Reply {
    let names: Option<Vec<String>> = match index {
        None | Some("_all") | Some("*") => None,
        Some(list) => {
            let mut names = Vec::new();
            for pattern in list.split(',') {
                let found: Vec<String> = c
                    .indices
                    .keys()
                    .filter(|k| super::super::settings::glob(pattern, k))
                    .cloned()
                    .collect();
                if found.is_empty() && !pattern.contains('*') {
                    return index_not_found(pattern);
                }
                names.extend(found);
            }
            Some(names)
        }
    };
    let (status, n, copies) = health::cluster(c, names.as_deref());
    let timed_out = !wait_met(c, status, &n, req);
    let mut body = Map::new();
    body.insert("cluster_name".into(), json!(c.name));
    body.insert("status".into(), json!(status.as_str()));
    body.insert("timed_out".into(), json!(timed_out));
    body.insert("number_of_nodes".into(), json!(c.nodes.len()));
    body.insert(
        "number_of_data_nodes".into(),
        json!(c.nodes.values().filter(|n| n.is_data()).count()),
    );
    body.extend(counts_json(&n));
    body.insert("delayed_unassigned_shards".into(), json!(n.delayed));
    body.insert("number_of_pending_tasks".into(), json!(0));
    body.insert("number_of_in_flight_fetch".into(), json!(0));
    body.insert("task_max_waiting_in_queue_millis".into(), json!(0));
    let percent = if copies == 0 {
        100.0
    } else {
        n.active as f64 * 100.0 / copies as f64
    };
    body.insert("active_shards_percent_as_number".into(), json!(percent));
    let level = req.q.get("level").map(String::as_str).unwrap_or("cluster");
    if level == "indices" || level == "shards" {
        let mut indices = Map::new();
        for i in c.indices.values() {
            if names.as_ref().is_some_and(|ns| !ns.contains(&i.name)) {
                continue;
            }
            let (h, ic) = health::index(c, i);
            let mut m = Map::new();
            m.insert("status".into(), json!(h.as_str()));
            m.insert("number_of_shards".into(), json!(i.shards));
            m.insert("number_of_replicas".into(), json!(i.replicas));
            m.extend(counts_json(&ic));
            if level == "shards" {
                let mut shards = Map::new();
                for sh in 0..i.shards {
                    let (sh_h, sc) = health::shard(c, &i.name, sh);
                    let mut s = Map::new();
                    s.insert("status".into(), json!(sh_h.as_str()));
                    s.insert("primary_active".into(), json!(sc.active_primary > 0));
                    s.insert("active_shards".into(), json!(sc.active));
                    s.insert("relocating_shards".into(), json!(sc.relocating));
                    s.insert("initializing_shards".into(), json!(sc.initializing));
                    s.insert("unassigned_shards".into(), json!(sc.unassigned));
                    s.insert(
                        "unassigned_primary_shards".into(),
                        json!(sc.unassigned_primary),
                    );
                    shards.insert(sh.to_string(), Value::Object(s));
                }
                m.insert("shards".into(), Value::Object(shards));
            }
            indices.insert(i.name.clone(), Value::Object(m));
        }
        body.insert("indices".into(), Value::Object(indices));
    }
    ok(if timed_out { 408 } else { 200 }, Value::Object(body))
}

/// `GET|POST /_cluster/allocation/explain`.
pub fn explain(c: &Cluster, req: &Req) -> Reply {
    let body = match req.json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut target = body.unwrap_or(Value::Null);
    for key in ["index", "shard", "primary", "current_node"] {
        if let Some(v) = req.q.get(key) {
            let v = match key {
                "shard" => v.parse::<u64>().map(|n| json!(n)).unwrap_or(json!(v)),
                "primary" => json!(v == "true"),
                _ => json!(v),
            };
            if !target.is_object() {
                target = json!({});
            }
            target[key] = v;
        }
    }
    explain::explain(
        c,
        &target,
        req.flag("include_yes_decisions"),
        req.flag("include_disk_info"),
    )
}

fn scope_settings(c: &Cluster, scope: &str) -> BTreeMap<String, String> {
    if scope == "persistent" {
        c.persistent.clone()
    } else {
        c.transient.clone()
    }
}

fn render_settings(map: &BTreeMap<String, String>, flat: bool) -> Value {
    if flat {
        Value::Object(map.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
    } else {
        nest(map)
    }
}

/// `GET /_cluster/settings`.
pub fn get_settings(c: &Cluster, req: &Req) -> Reply {
    let flat = req.flag("flat_settings");
    let mut body = json!({
        "persistent": render_settings(&scope_settings(c, "persistent"), flat),
        "transient": render_settings(&scope_settings(c, "transient"), flat),
    });
    if req.flag("include_defaults") {
        let defaults: BTreeMap<String, String> = [
            ("cluster.routing.allocation.enable", "all"),
            ("cluster.routing.rebalance.enable", "all"),
            ("cluster.routing.allocation.disk.threshold_enabled", "true"),
            ("cluster.routing.allocation.disk.watermark.low", "85%"),
            ("cluster.routing.allocation.disk.watermark.high", "90%"),
            (
                "cluster.routing.allocation.disk.watermark.flood_stage",
                "95%",
            ),
            ("cluster.routing.allocation.node_concurrent_recoveries", "2"),
            (
                "cluster.routing.allocation.node_initial_primaries_recoveries",
                "4",
            ),
            (
                "cluster.routing.allocation.cluster_concurrent_rebalance",
                "2",
            ),
            ("indices.recovery.max_bytes_per_sec", "40mb"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        body["defaults"] = render_settings(&defaults, flat);
    }
    ok(200, body)
}

/// Dynamic cluster settings the simulation accepts (prefixes end with `.`).
const DYNAMIC: [&str; 16] = [
    "cluster.routing.allocation.enable",
    "cluster.routing.rebalance.enable",
    "cluster.routing.allocation.allow_rebalance",
    "cluster.routing.allocation.require.",
    "cluster.routing.allocation.include.",
    "cluster.routing.allocation.exclude.",
    "cluster.routing.allocation.disk.",
    "cluster.routing.allocation.node_concurrent_",
    "cluster.routing.allocation.node_initial_primaries_recoveries",
    "cluster.routing.allocation.cluster_concurrent_rebalance",
    "cluster.routing.allocation.awareness.",
    "cluster.routing.allocation.same_shard.host",
    "cluster.max_shards_per_node",
    "indices.recovery.",
    "action.",
    "logger.",
];

fn validate(scope: &str, key: &str, value: Option<&str>) -> Result<(), String> {
    if key.starts_with("node.") {
        return Err(format!(
            "{scope} setting [{key}], not dynamically updateable"
        ));
    }
    if !DYNAMIC.iter().any(|d| {
        if d.ends_with('.') || d.ends_with('_') {
            key.starts_with(d)
        } else {
            key == *d
        }
    }) {
        return Err(format!("{scope} setting [{key}], not recognized"));
    }
    let Some(v) = value else { return Ok(()) };
    if key == "cluster.routing.allocation.enable"
        && !["all", "primaries", "new_primaries", "none"].contains(&v.to_ascii_lowercase().as_str())
    {
        return Err(format!(
            "Illegal allocation.enable value [{}]",
            v.to_ascii_uppercase()
        ));
    }
    if key.starts_with("cluster.routing.allocation.disk.watermark.")
        && !key.ends_with("max_headroom")
        && parse_watermark(v).is_none()
    {
        return Err(format!(
            "unable to consistently parse [{key}={v}], [{v}] as percentage or bytes"
        ));
    }
    Ok(())
}

/// Apply `{key: value|null}` to a scope; wildcards in keys reset many.
fn apply(
    target: &mut BTreeMap<String, String>,
    changes: &[(String, Option<String>)],
) -> BTreeMap<String, String> {
    let mut applied = BTreeMap::new();
    for (k, v) in changes {
        match v {
            Some(v) => {
                target.insert(k.clone(), v.clone());
                applied.insert(k.clone(), v.clone());
            }
            None if k.contains('*') => {
                target.retain(|key, _| !super::super::settings::glob(k, key))
            }
            None => {
                target.remove(k);
            }
        }
    }
    applied
}

/// Flattened settings of one scope: `(key, value)`, `None` for a reset (`null`).
type SettingChanges = Vec<(String, Option<String>)>;

/// `PUT /_cluster/settings`.
pub fn put_settings(c: &mut Cluster, req: &Req) -> Reply {
    let body = match req.json() {
        Ok(Some(b)) => b,
        Ok(None) => {
            return error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: no settings to update;",
                Map::new(),
            );
        }
        Err(r) => return r,
    };
    let mut changes: [(&str, SettingChanges); 2] = [("persistent", vec![]), ("transient", vec![])];
    for (scope, list) in changes.iter_mut() {
        if let Some(v) = body.get(*scope) {
            flatten("", v, list);
            for (k, v) in list.iter() {
                if !k.contains('*')
                    && let Err(reason) = validate(scope, k, v.as_deref())
                {
                    return illegal(&reason);
                }
            }
        }
    }
    let persistent = apply(&mut c.persistent, &changes[0].1);
    let transient = apply(&mut c.transient, &changes[1].1);
    allocator::reroute(c);
    let flat = req.flag("flat_settings");
    let mut out = json!({ "acknowledged": true });
    out["persistent"] = render_settings(&persistent, flat);
    out["transient"] = render_settings(&transient, flat);
    ok(200, out)
}

/// `GET /_cluster/stats`.
pub fn stats(c: &Cluster) -> Reply {
    let (status, n, _) = health::cluster(c, None);
    let docs: u64 = c.indices.values().map(|i| i.doc_count()).sum();
    let store: u64 = c.shards.iter().map(|s| c.copy_bytes(s)).sum();
    let mut roles: BTreeMap<String, u64> = BTreeMap::new();
    let mut versions: Vec<String> = Vec::new();
    let (mut heap_used, mut heap_max, mut disk_total, mut disk_free, mut mem) = (0, 0, 0, 0, 0);
    let mut cpu_sum = 0;
    for node in c.nodes.values() {
        for r in &node.roles {
            *roles.entry(r.clone()).or_default() += 1;
        }
        if !versions.contains(&node.version) {
            versions.push(node.version.clone());
        }
        let f = load::figures(c, node);
        heap_used += f.heap_used_bytes;
        heap_max += node.heap_max_bytes;
        disk_total += node.disk_total_bytes;
        disk_free += node.disk_total_bytes.saturating_sub(c.disk_used(node));
        mem += node.memory_bytes;
        cpu_sum += f.cpu_percent;
    }
    let mut count = json!({ "total": c.nodes.len() });
    for (r, k) in &roles {
        count[r] = json!(k);
    }
    let shards_total = n.active + n.initializing;
    ok(
        200,
        json!({
            "_nodes": { "total": c.nodes.len(), "successful": c.nodes.len(), "failed": 0 },
            "cluster_name": c.name,
            "cluster_uuid": c.uuid,
            "timestamp": c.now_ms,
            "status": status.as_str(),
            "indices": {
                "count": c.indices.len(),
                "shards": {
                    "total": shards_total,
                    "primaries": n.active_primary,
                    "replication": if n.active_primary == 0 { 0.0 } else { (n.active as f64 - n.active_primary as f64) / n.active_primary as f64 },
                },
                "docs": { "count": docs, "deleted": 0 },
                "store": { "size_in_bytes": store, "total_data_set_size_in_bytes": store, "reserved_in_bytes": 0 },
            },
            "nodes": {
                "count": count,
                "versions": versions,
                "os": { "available_processors": c.nodes.values().map(|n| n.processors).sum::<u32>(), "mem": { "total_in_bytes": mem } },
                "process": { "cpu": { "percent": if c.nodes.is_empty() { 0 } else { cpu_sum / c.nodes.len() as u64 } } },
                "jvm": { "mem": { "heap_used_in_bytes": heap_used, "heap_max_in_bytes": heap_max } },
                "fs": { "total_in_bytes": disk_total, "free_in_bytes": disk_free, "available_in_bytes": disk_free },
            },
        }),
    )
}
