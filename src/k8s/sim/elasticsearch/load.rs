//! Node figures that move plausibly with load: indexing and search rates (smoothed every second), CPU from
//! those rates, heap as a sawtooth between garbage collections that grows with indexing, load averages, and the
//! counters `_nodes/stats` reports.

use super::model::{Cluster, Node, NodeLoad};

/// Fold the counts since the last fold into the smoothed rates (at most once a second).
pub fn fold(c: &mut Cluster) {
    let now = c.now_ms;
    let last = c.seq_fold_ms();
    let dt = now.saturating_sub(last);
    if dt < 1000 {
        return;
    }
    let secs = dt as f64 / 1000.0;
    for l in c.load.values_mut() {
        let alpha = (secs / 10.0).min(1.0);
        l.index_rate = l.index_rate * (1.0 - alpha) + (l.pending_index as f64 / secs) * alpha;
        l.query_rate = l.query_rate * (1.0 - alpha) + (l.pending_query as f64 / secs) * alpha;
        l.pending_index = 0;
        l.pending_query = 0;
    }
    c.set_fold_ms(now);
}

/// Count `docs` indexed on a node.
pub fn indexed(c: &mut Cluster, node_name: &str, docs: u64) {
    let l = c.load.entry(node_name.to_string()).or_default();
    l.index_total += docs;
    l.pending_index += docs;
}

/// Count a search on a node.
pub fn searched(c: &mut Cluster, node_name: &str) {
    let l = c.load.entry(node_name.to_string()).or_default();
    l.query_total += 1;
    l.pending_query += 1;
}

/// What `_nodes/stats` and `_cat/nodes` show of a node now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// CPU percent (0..100).
    pub cpu_percent: u64,
    /// Heap used bytes.
    pub heap_used_bytes: u64,
    /// Heap used percent.
    pub heap_used_percent: u64,
    /// RAM used percent (the JVM plus page cache: high, as on real nodes).
    pub ram_percent: u64,
    /// Load averages 1m, 5m, 15m.
    pub load: [f64; 3],
    /// Young and old GC counts.
    pub gc: [u64; 2],
}

fn jitter(seed: &str, t: u64) -> f64 {
    let h = super::model::short_id(&format!("{seed}/{t}"));
    (h.as_bytes()[0] as f64) / 255.0
}

/// The figures of a node.
pub fn figures(c: &Cluster, n: &Node) -> Figures {
    let l = c.load.get(&n.name).cloned().unwrap_or_default();
    let rate = l.index_rate + l.query_rate * 2.0;
    let per_cpu = rate / f64::from(n.processors.max(1));
    let secs = c.now_ms / 1000;
    let cpu = (2.0 + per_cpu / 20.0 + jitter(&n.id, secs / 5) * 3.0).min(100.0);
    let uptime_s = c.now_ms.saturating_sub(n.started_ms) / 1000;
    // A GC cycle every 20 s idle, faster under load; heap climbs from 20 % to 20 % + growth between cycles.
    let cycle = (20.0 / (1.0 + per_cpu / 500.0)).max(2.0);
    let phase = (uptime_s as f64 % cycle) / cycle;
    let heap_pct = (20.0 + (15.0 + per_cpu / 50.0).min(55.0) * phase).min(95.0);
    let young = (uptime_s as f64 / cycle) as u64;
    Figures {
        cpu_percent: cpu as u64,
        heap_used_bytes: (n.heap_max_bytes as f64 * heap_pct / 100.0) as u64,
        heap_used_percent: heap_pct as u64,
        ram_percent: (70.0 + jitter(&n.name, secs / 30) * 20.0) as u64,
        load: [
            cpu / 100.0 * f64::from(n.processors),
            cpu / 110.0 * f64::from(n.processors),
            cpu / 120.0 * f64::from(n.processors),
        ],
        gc: [young, young / 50],
    }
}

/// Load counters of a node.
pub fn counters(c: &Cluster, n: &Node) -> NodeLoad {
    c.load.get(&n.name).cloned().unwrap_or_default()
}
