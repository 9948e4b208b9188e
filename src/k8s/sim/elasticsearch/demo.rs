//! The demo load (`ESAAS_SIM_ES_DEMO`): every cluster with a Ready node gets a daily `logs-YYYY.MM.DD` index
//! and a `metrics` index (one replica each), is indexed into on every tick (about 25 documents a second) and
//! searched now and then, and keeps only the two newest `logs-*` indices (as an ILM delete phase would), so
//! dashboards move without filling the simulated disks.

use super::model::Cluster;
use super::rest::index_docs;

/// Documents per tick and index.
const DOCS_PER_TICK: u64 = 3;

/// One tick of load.
pub fn step(c: &mut Cluster) {
    let day = chrono::DateTime::from_timestamp_millis(c.now_ms as i64)
        .map(|d| d.format("%Y.%m.%d").to_string())
        .unwrap_or_default();
    let logs = format!("logs-{day}");
    for (index, size) in [(logs.as_str(), 420), ("metrics", 180)] {
        index_docs(c, index, DOCS_PER_TICK, size);
    }
    let mut old: Vec<String> = c
        .indices
        .keys()
        .filter(|k| k.starts_with("logs-"))
        .cloned()
        .collect();
    old.sort();
    while old.len() > 2 {
        let name = old.remove(0);
        super::allocator::delete_index(c, &name);
    }
    if c.seq.is_multiple_of(5) {
        super::rest::search_docs(c, "logs-*");
    }
}
