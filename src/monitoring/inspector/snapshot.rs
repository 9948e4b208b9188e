//! What the inspector keeps of one cluster: the latest [`Snapshot`] (health detail, nodes, indices, shards,
//! explained problems), stored as JSONB and read back by the pages and the API. Built from the client's typed
//! answers by [`build`]; pure code.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::elasticsearch::api::{CatIndex, CatShard, ClusterHealth, NodesInfo, NodesStats};

/// Health detail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthDetail {
    /// `green`, `yellow` or `red`.
    pub status: String,
    /// Nodes.
    pub number_of_nodes: u32,
    /// Data nodes.
    pub number_of_data_nodes: u32,
    /// Shards whose primary is active.
    pub active_primary_shards: u32,
    /// Active copies.
    pub active_shards: u32,
    /// Relocating copies.
    pub relocating_shards: u32,
    /// Initializing copies.
    pub initializing_shards: u32,
    /// Unassigned copies.
    pub unassigned_shards: u32,
    /// Active copies, percent of all.
    pub active_shards_percent: f64,
}

/// The disk watermarks in force (`cluster.routing.allocation.disk.watermark.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Watermarks {
    /// No new shards above it, e.g. `85%`.
    pub low: String,
    /// Shards move away above it.
    pub high: String,
    /// Indices become read-only above it.
    pub flood_stage: String,
}

impl Default for Watermarks {
    fn default() -> Self {
        Self {
            low: "85%".into(),
            high: "90%".into(),
            flood_stage: "95%".into(),
        }
    }
}

impl Watermarks {
    /// The percentages (when the watermarks are percentages).
    pub fn percents(&self) -> Option<(f64, f64, f64)> {
        let p = |s: &str| s.trim().strip_suffix('%')?.parse::<f64>().ok();
        Some((p(&self.low)?, p(&self.high)?, p(&self.flood_stage)?))
    }
}

/// One node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NodeView {
    /// Node name (the pod).
    pub name: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Data tier(s): `hot`, `warm`, `cold`, `frozen`, `content`, `all` (generic `data`), or empty.
    pub tier: String,
    /// The elected master (`None` when unknown).
    pub master: Option<bool>,
    /// Elasticsearch version.
    pub version: String,
    /// Heap used, percent.
    pub heap_used_percent: Option<u32>,
    /// CPU of the Elasticsearch process, percent.
    pub cpu_percent: Option<u32>,
    /// Disk used (total - available).
    pub disk_used_bytes: Option<u64>,
    /// Disk size.
    pub disk_total_bytes: Option<u64>,
    /// Shard copies on the node.
    pub shards: u64,
    /// Milliseconds since the node started.
    pub uptime_millis: Option<u64>,
}

/// One index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IndexView {
    /// Index name.
    pub name: String,
    /// `green`, `yellow`, `red` (empty for closed indices).
    pub health: String,
    /// `open` or `close`.
    pub status: String,
    /// Primaries.
    pub primaries: u64,
    /// Replicas per primary.
    pub replicas: u64,
    /// Documents (primaries).
    pub docs_count: u64,
    /// Bytes of all copies.
    pub store_bytes: u64,
    /// Tier(s) of the nodes holding its primaries.
    pub tier: String,
}

/// One shard copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShardView {
    /// Index name.
    pub index: String,
    /// Shard number.
    pub shard: u64,
    /// Primary (else replica).
    pub primary: bool,
    /// `STARTED`, `INITIALIZING`, `RELOCATING` or `UNASSIGNED`.
    pub state: String,
    /// Node holding it (null when unassigned).
    pub node: Option<String>,
    /// Why it is unassigned (`INDEX_CREATED`, `NODE_LEFT`, ...).
    pub unassigned_reason: Option<String>,
    /// Documents.
    pub docs: Option<u64>,
    /// Bytes.
    pub store_bytes: Option<u64>,
}

/// A fix the portal can apply itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FixAction {
    /// The index.
    pub index: String,
    /// Set its `number_of_replicas` to this.
    pub replicas: u32,
}

/// A reason the cluster is not green, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = HealthProblem)]
pub struct Problem {
    /// What is wrong, e.g. "1 replica of `logs` cannot be assigned: every other data node already holds a copy."
    pub summary: String,
    /// The indices concerned.
    pub indices: Vec<String>,
    /// What to do.
    pub fix: String,
    /// The fix the portal can apply (set replicas), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<FixAction>,
}

/// Everything the inspector keeps of one poll.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Health detail.
    pub health: HealthDetail,
    /// Disk watermarks.
    pub watermarks: Watermarks,
    /// Nodes by name.
    pub nodes: Vec<NodeView>,
    /// Indices by name.
    pub indices: Vec<IndexView>,
    /// Shard copies by index, shard, primary first.
    pub shards: Vec<ShardView>,
    /// Why it is not green.
    pub problems: Vec<Problem>,
}

/// The data tiers of a node's roles.
pub fn tier_of(roles: &[String]) -> String {
    let mut tiers: Vec<&str> = Vec::new();
    for role in roles {
        let tier = match role.as_str() {
            "data" => "all",
            "data_content" => "content",
            "data_hot" => "hot",
            "data_warm" => "warm",
            "data_cold" => "cold",
            "data_frozen" => "frozen",
            _ => continue,
        };
        if !tiers.contains(&tier) {
            tiers.push(tier);
        }
    }
    tiers.join(",")
}

/// The answers one poll gathers.
pub struct Answers {
    /// `_cluster/health?level=indices`.
    pub health: ClusterHealth,
    /// `_nodes`.
    pub nodes_info: NodesInfo,
    /// `_nodes/stats`.
    pub nodes_stats: NodesStats,
    /// `_cat/indices`.
    pub indices: Vec<CatIndex>,
    /// `_cat/shards`.
    pub shards: Vec<CatShard>,
    /// The elected master's name (`_cat/nodes` `master=*`), when known.
    pub elected_master: Option<String>,
    /// Watermarks from the cluster settings.
    pub watermarks: Watermarks,
}

/// Build the snapshot (without problems: see `explain`).
pub fn build(a: &Answers) -> Snapshot {
    let h = &a.health;
    let health = HealthDetail {
        status: h.status.as_str().to_owned(),
        number_of_nodes: h.number_of_nodes,
        number_of_data_nodes: h.number_of_data_nodes,
        active_primary_shards: h.active_primary_shards,
        active_shards: h.active_shards,
        relocating_shards: h.relocating_shards,
        initializing_shards: h.initializing_shards,
        unassigned_shards: h.unassigned_shards,
        active_shards_percent: h.active_shards_percent_as_number,
    };
    let mut shards_on: BTreeMap<&str, u64> = BTreeMap::new();
    for s in &a.shards {
        if let Some(node) = s.node_name() {
            *shards_on.entry(node).or_default() += 1;
        }
    }
    let stats_by_name: BTreeMap<&str, _> = a
        .nodes_stats
        .nodes
        .values()
        .map(|n| (n.name.as_str(), n))
        .collect();
    let mut nodes: Vec<NodeView> = a
        .nodes_info
        .nodes
        .values()
        .map(|info| {
            let stats = stats_by_name.get(info.name.as_str());
            let disk = stats.and_then(|s| s.disk());
            NodeView {
                name: info.name.clone(),
                roles: info.roles.clone(),
                tier: tier_of(&info.roles),
                master: a.elected_master.as_ref().map(|m| *m == info.name),
                version: info.version.clone(),
                heap_used_percent: stats.and_then(|s| s.heap_used_percent()),
                cpu_percent: stats.and_then(|s| s.cpu_percent()),
                disk_used_bytes: disk.map(|d| d.0),
                disk_total_bytes: disk.map(|d| d.1),
                shards: shards_on
                    .get(info.name.as_str())
                    .copied()
                    .or_else(|| stats.and_then(|s| s.shards()))
                    .unwrap_or(0),
                uptime_millis: stats.and_then(|s| s.uptime_millis()),
            }
        })
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let tier_by_node: BTreeMap<&str, &str> = nodes
        .iter()
        .map(|n| (n.name.as_str(), n.tier.as_str()))
        .collect();
    let mut index_tiers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in a.shards.iter().filter(|s| s.is_primary()) {
        if let Some(tier) = s.node_name().and_then(|n| tier_by_node.get(n)) {
            index_tiers
                .entry(s.index.as_str())
                .or_default()
                .insert(tier);
        }
    }
    let mut indices: Vec<IndexView> = a
        .indices
        .iter()
        .map(|i| IndexView {
            name: i.index.clone(),
            health: i
                .health
                .clone()
                .unwrap_or_default()
                .trim_end_matches('*')
                .to_owned(),
            status: i.status.clone().unwrap_or_default(),
            primaries: i.pri.unwrap_or(0),
            replicas: i.rep.unwrap_or(0),
            docs_count: i.docs_count.unwrap_or(0),
            store_bytes: i.store_size.unwrap_or(0),
            tier: index_tiers
                .get(i.index.as_str())
                .map(|t| t.iter().copied().collect::<Vec<_>>().join(","))
                .unwrap_or_default(),
        })
        .collect();
    indices.sort_by(|a, b| a.name.cmp(&b.name));
    let mut shards: Vec<ShardView> = a
        .shards
        .iter()
        .map(|s| ShardView {
            index: s.index.clone(),
            shard: s.shard.unwrap_or(0),
            primary: s.is_primary(),
            state: s.state.clone(),
            node: s.node.clone(),
            unassigned_reason: s
                .unassigned_reason
                .clone()
                .filter(|_| s.state == "UNASSIGNED"),
            docs: s.docs,
            store_bytes: s.store,
        })
        .collect();
    shards.sort_by(|a, b| {
        (a.index.as_str(), a.shard, !a.primary, a.node.as_deref()).cmp(&(
            b.index.as_str(),
            b.shard,
            !b.primary,
            b.node.as_deref(),
        ))
    });
    Snapshot {
        health,
        watermarks: a.watermarks.clone(),
        nodes,
        indices,
        shards,
        problems: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_read_from_roles() {
        let roles = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(tier_of(&roles(&["master", "data"])), "all");
        assert_eq!(
            tier_of(&roles(&["data_hot", "data_content", "ingest"])),
            "hot,content"
        );
        assert_eq!(tier_of(&roles(&["master"])), "");
    }

    #[test]
    fn watermark_percentages() {
        assert_eq!(Watermarks::default().percents(), Some((85.0, 90.0, 95.0)));
        let bytes = Watermarks {
            low: "10gb".into(),
            ..Watermarks::default()
        };
        assert_eq!(bytes.percents(), None);
    }
}
