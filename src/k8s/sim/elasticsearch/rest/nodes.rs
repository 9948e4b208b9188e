//! `_nodes` (info) and `_nodes/stats`: every node (or those named by id, name, `_all`, `_local`, `_master`,
//! `master:true`, `data:true`), and the metrics asked for (all by default).

use serde_json::{Map, Value, json};

use super::super::load;
use super::super::model::{Cluster, Node, ShardState};
use super::{Reply, Req, ok};

const INFO_METRICS: [&str; 11] = [
    "settings",
    "os",
    "process",
    "jvm",
    "thread_pool",
    "transport",
    "http",
    "plugins",
    "modules",
    "ingest",
    "indices",
];
const STATS_METRICS: [&str; 8] = [
    "indices",
    "os",
    "process",
    "jvm",
    "fs",
    "thread_pool",
    "transport",
    "http",
];

/// Split `/_nodes/{a}/{b}` into node filters and metrics.
fn split(parts: &[String], known: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut nodes = Vec::new();
    let mut metrics = Vec::new();
    for p in parts {
        if let Some(n) = p.strip_prefix("node:") {
            nodes.extend(n.split(',').map(String::from));
            continue;
        }
        let items: Vec<&str> = p.split(',').collect();
        if items
            .iter()
            .all(|i| known.contains(i) || *i == "_all" || *i == "_none")
        {
            metrics.extend(items.iter().map(|s| s.to_string()));
        } else {
            nodes.extend(items.iter().map(|s| s.to_string()));
        }
    }
    (nodes, metrics)
}

fn selected<'a>(c: &'a Cluster, filters: &[String]) -> Vec<&'a Node> {
    if filters.is_empty() || filters.iter().any(|f| f == "_all") {
        return c.nodes.values().collect();
    }
    c.nodes
        .values()
        .filter(|n| {
            filters.iter().any(|f| match f.as_str() {
                "_local" | "_master" => c.master.as_deref() == Some(n.id.as_str()),
                "master:true" => n.is_master_eligible(),
                "data:true" => n.is_data(),
                "ingest:true" => n.has_role("ingest"),
                other => {
                    n.id == other || super::super::settings::glob(other, &n.name) || n.ip == other
                }
            })
        })
        .collect()
}

fn wants(metrics: &[String], m: &str) -> bool {
    metrics.is_empty() || metrics.iter().any(|x| x == m || x == "_all")
}

fn envelope(c: &Cluster, nodes: Map<String, Value>) -> Reply {
    ok(
        200,
        json!({
            "_nodes": { "total": nodes.len(), "successful": nodes.len(), "failed": 0 },
            "cluster_name": c.name,
            "nodes": nodes,
        }),
    )
}

/// `GET /_nodes[/{node}][/{metric}]`.
pub fn info(c: &Cluster, parts: &[String], _req: &Req) -> Reply {
    let (filters, metrics) = split(parts, &INFO_METRICS);
    let mut nodes = Map::new();
    for n in selected(c, &filters) {
        let mut m = Map::new();
        m.insert("name".into(), json!(n.name));
        m.insert("transport_address".into(), json!(n.transport_address()));
        m.insert("host".into(), json!(n.ip));
        m.insert("ip".into(), json!(n.ip));
        m.insert("version".into(), json!(n.version));
        m.insert("transport_version".into(), json!(8_702_002));
        m.insert("build_flavor".into(), json!("default"));
        m.insert("build_type".into(), json!("docker"));
        m.insert(
            "build_hash".into(),
            json!("1a77947f34deddb41af25e6f0ddb8e830159c179"),
        );
        m.insert("total_indexing_buffer".into(), json!(n.heap_max_bytes / 10));
        m.insert("roles".into(), json!(n.roles));
        m.insert("attributes".into(), json!(n.attributes));
        if wants(&metrics, "settings") {
            let mut node = json!({ "name": n.name, "roles": n.roles, "attr": n.attributes });
            node["store"] = json!({ "allow_mmap": "false" });
            m.insert("settings".into(), json!({
                "cluster": { "name": c.name },
                "node": node,
                "path": { "data": ["/usr/share/elasticsearch/data"], "logs": "/usr/share/elasticsearch/logs", "home": "/usr/share/elasticsearch" },
                "network": { "host": "0", "publish_host": n.ip },
                "xpack": { "security": { "enabled": "true" } },
            }));
        }
        if wants(&metrics, "os") {
            m.insert("os".into(), json!({
                "refresh_interval_in_millis": 1000, "name": "Linux", "pretty_name": "Ubuntu 22.04.4 LTS", "arch": "amd64",
                "version": "6.8.0", "available_processors": n.processors, "allocated_processors": n.processors,
            }));
        }
        if wants(&metrics, "process") {
            m.insert(
                "process".into(),
                json!({ "refresh_interval_in_millis": 1000, "id": 7, "mlockall": false }),
            );
        }
        if wants(&metrics, "jvm") {
            m.insert("jvm".into(), json!({
                "pid": 7, "version": "22.0.1", "vm_name": "OpenJDK 64-Bit Server VM", "vm_version": "22.0.1+8-16",
                "vm_vendor": "Oracle Corporation", "bundled_jdk": true, "using_bundled_jdk": true,
                "start_time_in_millis": n.started_ms,
                "mem": { "heap_init_in_bytes": n.heap_max_bytes, "heap_max_in_bytes": n.heap_max_bytes, "non_heap_init_in_bytes": 7_667_712, "non_heap_max_in_bytes": 0, "direct_max_in_bytes": 0 },
                "gc_collectors": ["G1 Young Generation", "G1 Concurrent GC", "G1 Old Generation"],
                "memory_pools": ["CodeHeap 'non-nmethods'", "Metaspace", "CodeHeap 'profiled nmethods'", "Compressed Class Space", "G1 Eden Space", "G1 Old Gen", "G1 Survivor Space", "CodeHeap 'non-profiled nmethods'"],
                "using_compressed_ordinary_object_pointers": "true",
                "input_arguments": [format!("-Xms{}m", n.heap_max_bytes >> 20), format!("-Xmx{}m", n.heap_max_bytes >> 20)],
            }));
        }
        if wants(&metrics, "plugins") {
            m.insert("plugins".into(), json!([]));
            m.insert("modules".into(), json!([]));
        }
        nodes.insert(n.id.clone(), Value::Object(m));
    }
    envelope(c, nodes)
}

/// `GET /_nodes/stats[/{metric}]`, `/_nodes/{node}/stats`.
pub fn stats(c: &Cluster, parts: &[String], _req: &Req) -> Reply {
    let (filters, metrics) = split(parts, &STATS_METRICS);
    let mut nodes = Map::new();
    for n in selected(c, &filters) {
        let f = load::figures(c, n);
        let l = load::counters(c, n);
        let mut m = Map::new();
        m.insert("timestamp".into(), json!(c.now_ms));
        m.insert("name".into(), json!(n.name));
        m.insert("transport_address".into(), json!(n.transport_address()));
        m.insert("host".into(), json!(n.ip));
        m.insert("ip".into(), json!(n.ip));
        m.insert("roles".into(), json!(n.roles));
        m.insert("attributes".into(), json!(n.attributes));
        if wants(&metrics, "indices") {
            let copies: Vec<_> = c
                .shards
                .iter()
                .filter(|s| {
                    s.node.as_deref() == Some(n.id.as_str()) && s.state != ShardState::Unassigned
                })
                .collect();
            let docs: u64 = copies
                .iter()
                .filter(|s| s.primary)
                .filter_map(|s| {
                    c.indices
                        .get(&s.index)
                        .and_then(|i| i.docs.get(s.shard as usize))
                })
                .sum();
            let store: u64 = c.copies_on(&n.id).map(|s| c.copy_bytes(s)).sum();
            m.insert("indices".into(), json!({
                "docs": { "count": docs, "deleted": 0 },
                "shard_stats": { "total_count": copies.len() },
                "store": { "size_in_bytes": store, "total_data_set_size_in_bytes": store, "reserved_in_bytes": 0 },
                "indexing": { "index_total": l.index_total, "index_time_in_millis": l.index_total / 20, "index_current": 0, "index_failed": 0, "delete_total": 0, "delete_time_in_millis": 0, "delete_current": 0, "noop_update_total": 0, "is_throttled": false, "throttle_time_in_millis": 0 },
                "get": { "total": 0, "time_in_millis": 0, "exists_total": 0, "exists_time_in_millis": 0, "missing_total": 0, "missing_time_in_millis": 0, "current": 0 },
                "search": { "open_contexts": 0, "query_total": l.query_total, "query_time_in_millis": l.query_total * 3, "query_current": 0, "fetch_total": l.query_total, "fetch_time_in_millis": l.query_total, "fetch_current": 0, "scroll_total": 0, "scroll_time_in_millis": 0, "scroll_current": 0, "suggest_total": 0, "suggest_time_in_millis": 0, "suggest_current": 0 },
                "merges": { "current": 0, "current_docs": 0, "current_size_in_bytes": 0, "total": l.index_total / 10_000, "total_time_in_millis": l.index_total / 100, "total_docs": l.index_total, "total_size_in_bytes": store },
                "refresh": { "total": l.index_total / 1000, "total_time_in_millis": l.index_total / 500, "listeners": 0 },
                "flush": { "total": l.index_total / 50_000, "periodic": 0, "total_time_in_millis": 0 },
                "query_cache": { "memory_size_in_bytes": 0, "total_count": 0, "hit_count": 0, "miss_count": 0, "cache_size": 0, "cache_count": 0, "evictions": 0 },
                "fielddata": { "memory_size_in_bytes": 0, "evictions": 0 },
                "segments": { "count": copies.len() * 4, "memory_in_bytes": 0 },
                "translog": { "operations": 0, "size_in_bytes": 55 * copies.len() },
                "request_cache": { "memory_size_in_bytes": 0, "evictions": 0, "hit_count": 0, "miss_count": 0 },
                "recovery": { "current_as_source": 0, "current_as_target": c.shards.iter().filter(|s| s.state == ShardState::Initializing && s.node.as_deref() == Some(n.id.as_str())).count(), "throttle_time_in_millis": 0 },
                "mappings": { "total_count": c.indices.len(), "total_estimated_overhead_in_bytes": 1024 * c.indices.len() },
            }));
        }
        if wants(&metrics, "os") {
            let used = n.memory_bytes * f.ram_percent / 100;
            m.insert("os".into(), json!({
                "timestamp": c.now_ms,
                "cpu": { "percent": f.cpu_percent, "load_average": { "1m": f.load[0], "5m": f.load[1], "15m": f.load[2] } },
                "mem": { "total_in_bytes": n.memory_bytes, "adjusted_total_in_bytes": n.memory_bytes, "free_in_bytes": n.memory_bytes - used, "used_in_bytes": used, "free_percent": 100 - f.ram_percent, "used_percent": f.ram_percent },
                "swap": { "total_in_bytes": 0, "free_in_bytes": 0, "used_in_bytes": 0 },
                "cgroup": { "memory": { "control_group": "/", "limit_in_bytes": n.memory_bytes.to_string(), "usage_in_bytes": used.to_string() } },
            }));
        }
        if wants(&metrics, "process") {
            let uptime = c.now_ms.saturating_sub(n.started_ms);
            m.insert("process".into(), json!({
                "timestamp": c.now_ms, "open_file_descriptors": 400 + c.copies_on(&n.id).count() * 20, "max_file_descriptors": 1_048_576,
                "cpu": { "percent": f.cpu_percent, "total_in_millis": uptime * f.cpu_percent / 100 * u64::from(n.processors) },
                "mem": { "total_virtual_in_bytes": n.memory_bytes * 3 },
            }));
        }
        if wants(&metrics, "jvm") {
            m.insert("jvm".into(), json!({
                "timestamp": c.now_ms,
                "uptime_in_millis": c.now_ms.saturating_sub(n.started_ms),
                "mem": {
                    "heap_used_in_bytes": f.heap_used_bytes, "heap_used_percent": f.heap_used_percent,
                    "heap_committed_in_bytes": n.heap_max_bytes, "heap_max_in_bytes": n.heap_max_bytes,
                    "non_heap_used_in_bytes": 180 << 20, "non_heap_committed_in_bytes": 190 << 20,
                    "pools": {
                        "young": { "used_in_bytes": f.heap_used_bytes / 4, "max_in_bytes": 0, "peak_used_in_bytes": n.heap_max_bytes / 3, "peak_max_in_bytes": 0 },
                        "survivor": { "used_in_bytes": f.heap_used_bytes / 40, "max_in_bytes": 0, "peak_used_in_bytes": n.heap_max_bytes / 20, "peak_max_in_bytes": 0 },
                        "old": { "used_in_bytes": f.heap_used_bytes - f.heap_used_bytes / 4 - f.heap_used_bytes / 40, "max_in_bytes": n.heap_max_bytes, "peak_used_in_bytes": n.heap_max_bytes / 2, "peak_max_in_bytes": n.heap_max_bytes },
                    },
                },
                "threads": { "count": 60 + 4 * n.processors, "peak_count": 70 + 4 * n.processors },
                "gc": { "collectors": {
                    "young": { "collection_count": f.gc[0], "collection_time_in_millis": f.gc[0] * 8 },
                    "old": { "collection_count": f.gc[1], "collection_time_in_millis": f.gc[1] * 40 },
                } },
                "buffer_pools": { "direct": { "count": 40, "used_in_bytes": 8 << 20, "total_capacity_in_bytes": 8 << 20 } },
                "classes": { "current_loaded_count": 27_000, "total_loaded_count": 27_000, "total_unloaded_count": 0 },
            }));
        }
        if wants(&metrics, "fs") {
            let used = c.disk_used(n);
            let free = n.disk_total_bytes.saturating_sub(used);
            m.insert("fs".into(), json!({
                "timestamp": c.now_ms,
                "total": { "total_in_bytes": n.disk_total_bytes, "free_in_bytes": free, "available_in_bytes": free },
                "data": [{ "path": "/usr/share/elasticsearch/data", "mount": "/usr/share/elasticsearch/data (/dev/sdb)", "type": "ext4", "total_in_bytes": n.disk_total_bytes, "free_in_bytes": free, "available_in_bytes": free }],
            }));
        }
        if wants(&metrics, "thread_pool") {
            let pool = |completed: u64| json!({ "threads": n.processors, "queue": 0, "active": 0, "rejected": 0, "largest": n.processors, "completed": completed });
            m.insert("thread_pool".into(), json!({ "write": pool(l.index_total / 100), "search": pool(l.query_total), "get": pool(0), "management": pool(c.now_ms / 10_000 % 100_000) }));
        }
        if wants(&metrics, "transport") {
            m.insert("transport".into(), json!({ "server_open": 13 * c.nodes.len().saturating_sub(1), "total_outbound_connections": 13 * c.nodes.len().saturating_sub(1), "rx_count": 0, "rx_size_in_bytes": 0, "tx_count": 0, "tx_size_in_bytes": 0 }));
        }
        if wants(&metrics, "http") {
            m.insert(
                "http".into(),
                json!({ "current_open": 2, "total_opened": 10 }),
            );
        }
        nodes.insert(n.id.clone(), Value::Object(m));
    }
    envelope(c, nodes)
}
