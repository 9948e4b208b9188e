//! The state of one simulated Elasticsearch cluster: its nodes (from the Elasticsearch resource's Ready pods),
//! indices, the routing table (one [`ShardCopy`] per primary or replica) and the cluster settings. Pure data:
//! the rules that change it live in [`super::allocator`], the figures derived from it in [`super::health`] and
//! [`super::load`].

use std::collections::BTreeMap;

use serde_json::Value;

/// Every role a node has when `node.roles` is not set (as Elasticsearch 8.x).
pub const ALL_ROLES: [&str; 12] = [
    "data",
    "data_cold",
    "data_content",
    "data_frozen",
    "data_hot",
    "data_warm",
    "ingest",
    "master",
    "ml",
    "remote_cluster_client",
    "transform",
    "voting_only",
];

/// Bytes of an empty shard on disk (segments metadata), as a fresh index reports.
pub const EMPTY_SHARD_BYTES: u64 = 249;

/// One Elasticsearch node: a Ready pod of the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Node id (stable per pod name, as the id kept in the data path).
    pub id: String,
    /// Node name (the pod name, as ECK sets `node.name`).
    pub name: String,
    /// Roles, sorted.
    pub roles: Vec<String>,
    /// `node.attr.*`.
    pub attributes: BTreeMap<String, String>,
    /// Pod IP.
    pub ip: String,
    /// Elasticsearch version.
    pub version: String,
    /// Heap (half the container memory limit).
    pub heap_max_bytes: u64,
    /// Container memory.
    pub memory_bytes: u64,
    /// Data volume size.
    pub disk_total_bytes: u64,
    /// Processors.
    pub processors: u32,
    /// When the node joined (ms since the epoch).
    pub started_ms: u64,
}

impl Node {
    /// Does the node have the role?
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Can the node hold shards (`data` or any `data_*` role)?
    pub fn is_data(&self) -> bool {
        self.roles
            .iter()
            .any(|r| r == "data" || r.starts_with("data_"))
    }

    /// Is the node in the tier (`data` counts as every tier)?
    pub fn in_tier(&self, tier: &str) -> bool {
        self.has_role("data") || self.has_role(tier)
    }

    /// Master-eligible?
    pub fn is_master_eligible(&self) -> bool {
        self.has_role("master")
    }

    /// `ip:9300`.
    pub fn transport_address(&self) -> String {
        format!("{}:9300", self.ip)
    }

    /// The `_cat/nodes` role abbreviations, sorted (`-` without roles).
    pub fn role_letters(&self) -> String {
        let mut letters: Vec<char> = self
            .roles
            .iter()
            .filter_map(|r| {
                Some(match r.as_str() {
                    "master" => 'm',
                    "data" => 'd',
                    "data_content" => 's',
                    "data_hot" => 'h',
                    "data_warm" => 'w',
                    "data_cold" => 'c',
                    "data_frozen" => 'f',
                    "ingest" => 'i',
                    "ml" => 'l',
                    "remote_cluster_client" => 'r',
                    "transform" => 't',
                    "voting_only" => 'v',
                    _ => return None,
                })
            })
            .collect();
        letters.sort_unstable();
        if letters.is_empty() {
            "-".into()
        } else {
            letters.into_iter().collect()
        }
    }
}

/// State of a shard copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardState {
    /// Not on any node.
    Unassigned,
    /// Recovering onto its node.
    Initializing,
    /// Active.
    Started,
    /// Active, and being copied to another node.
    Relocating,
}

impl ShardState {
    /// Upper-case name (`_cat/shards`).
    pub fn as_str(self) -> &'static str {
        match self {
            ShardState::Unassigned => "UNASSIGNED",
            ShardState::Initializing => "INITIALIZING",
            ShardState::Started => "STARTED",
            ShardState::Relocating => "RELOCATING",
        }
    }

    /// Started or relocating.
    pub fn active(self) -> bool {
        matches!(self, ShardState::Started | ShardState::Relocating)
    }
}

/// Where an initializing or unassigned copy gets its data from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverySource {
    /// A new primary (new index): nothing to copy.
    EmptyStore,
    /// A primary that had data (lost with its node).
    ExistingStore,
    /// A replica, copied from the primary.
    Peer,
}

impl RecoverySource {
    /// Name as `_cat/shards` `recoverysource.type` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            RecoverySource::EmptyStore => "empty_store",
            RecoverySource::ExistingStore => "existing_store",
            RecoverySource::Peer => "peer",
        }
    }
}

/// Why a copy is unassigned (`UnassignedInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct Unassigned {
    /// `INDEX_CREATED`, `NODE_LEFT`, `REPLICA_ADDED`, ...
    pub reason: &'static str,
    /// When (ms since the epoch).
    pub at_ms: u64,
    /// Details (`node_left [id]`).
    pub details: Option<String>,
    /// Name of the node it was on, when it left with it.
    pub last_node: Option<String>,
    /// `last_allocation_status`: `no_attempt`, `no`, `throttled`, `allocation_delayed`, `no_valid_shard_copy`.
    pub last_status: &'static str,
    /// Subject to `index.unassigned.node_left.delayed_timeout` (Elasticsearch's `UnassignedInfo.delayed`): a
    /// copy whose node left without being shut down for removal. A node ECK removes (it excluded the node
    /// from allocation first, as the node shutdown API's `remove` type does) leaves no delayed copies.
    pub delayed: bool,
}

/// One copy (primary or replica) of one shard.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardCopy {
    /// Index name.
    pub index: String,
    /// Shard number.
    pub shard: u32,
    /// Primary?
    pub primary: bool,
    /// State.
    pub state: ShardState,
    /// Node id it is on (source when relocating).
    pub node: Option<String>,
    /// Target node id while relocating.
    pub relocating_to: Option<String>,
    /// Bytes already copied by the running recovery or relocation.
    pub recovered_bytes: f64,
    /// Bytes the running recovery has to copy.
    pub recovery_bytes: u64,
    /// Allocation id.
    pub allocation_id: String,
    /// Recovery source (while unassigned or initializing).
    pub recovery_source: RecoverySource,
    /// Set while unassigned.
    pub unassigned: Option<Unassigned>,
}

impl ShardCopy {
    /// The shard as Elasticsearch describes it in decider explanations.
    pub fn describe(&self) -> String {
        format!(
            "[{}][{}], node[{}], {}s[{}], a[id={}], failed_attempts[0]",
            self.index,
            self.shard,
            self.node.as_deref().unwrap_or("null"),
            if self.primary { "[P], " } else { "[R], " },
            self.state.as_str(),
            self.allocation_id
        )
    }
}

/// One index.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// Name.
    pub name: String,
    /// UUID.
    pub uuid: String,
    /// `index.number_of_shards`.
    pub shards: u32,
    /// `index.number_of_replicas`.
    pub replicas: u32,
    /// Other index settings, flat (`index.routing.allocation.require._name`), values as JSON strings.
    pub settings: BTreeMap<String, String>,
    /// Documents per shard.
    pub docs: Vec<u64>,
    /// Store bytes per shard (of one copy).
    pub bytes: Vec<u64>,
    /// Creation time (ms since the epoch).
    pub created_ms: u64,
    /// Documents indexed (counting every request).
    pub index_total: u64,
    /// Searches served.
    pub query_total: u64,
}

impl Index {
    /// A flat index setting.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }

    /// `_tier_preference` (None when explicitly null/empty).
    pub fn tier_preference(&self) -> Vec<String> {
        self.setting("index.routing.allocation.include._tier_preference")
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Under the flood-stage block?
    pub fn read_only_allow_delete(&self) -> bool {
        self.setting("index.blocks.read_only_allow_delete") == Some("true")
    }

    /// Documents of all primaries.
    pub fn doc_count(&self) -> u64 {
        self.docs.iter().sum()
    }
}

/// Who may call the cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Users {
    /// username -> (password, roles).
    pub users: BTreeMap<String, (String, Vec<String>)>,
    /// Custom roles (from `spec.auth.roles`), by name.
    pub roles: BTreeMap<String, super::auth::RoleDef>,
}

/// Per node load counters (moved by indexing and search, decaying over time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeLoad {
    /// Documents indexed on the node's shards (primary and replica writes).
    pub index_total: u64,
    /// Searches.
    pub query_total: u64,
    /// Recent indexing rate (docs/s, exponentially smoothed).
    pub index_rate: f64,
    /// Recent search rate.
    pub query_rate: f64,
    /// Docs indexed since the rate was last folded in.
    pub pending_index: u64,
    /// Searches since the rate was last folded in.
    pub pending_query: u64,
    /// Test override of used disk bytes.
    pub disk_used_override: Option<u64>,
}

/// One simulated Elasticsearch cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// `cluster.name` (the resource name, as ECK sets it).
    pub name: String,
    /// Cluster UUID.
    pub uuid: String,
    /// Nodes by id.
    pub nodes: BTreeMap<String, Node>,
    /// Load counters by node name (kept when a node restarts).
    pub load: BTreeMap<String, NodeLoad>,
    /// Elected master node id.
    pub master: Option<String>,
    /// Indices by name.
    pub indices: BTreeMap<String, Index>,
    /// The routing table.
    pub shards: Vec<ShardCopy>,
    /// `persistent` cluster settings, flat, values as strings.
    pub persistent: BTreeMap<String, String>,
    /// `transient` cluster settings.
    pub transient: BTreeMap<String, String>,
    /// Users allowed to call.
    pub users: Users,
    /// Recovery speed (bytes per second).
    pub recovery_bytes_per_sec: f64,
    /// Simulated time the cluster was last advanced to (ms since the epoch).
    pub now_ms: u64,
    /// Counter for ids.
    pub seq: u64,
    /// Version of the resource (for `GET /` when no node runs).
    pub version: String,
    /// When the load rates were last folded (ms since the epoch).
    pub fold_ms: u64,
    /// Changed by a request or by new nodes since the background tick last looked at its health (the tick
    /// also looks at every cluster whose shards are still moving).
    pub touched: bool,
}

impl Cluster {
    /// An empty cluster.
    pub fn new(name: &str, uuid: &str, version: &str, now_ms: u64) -> Cluster {
        Cluster {
            name: name.into(),
            uuid: uuid.into(),
            nodes: BTreeMap::new(),
            load: BTreeMap::new(),
            master: None,
            indices: BTreeMap::new(),
            shards: Vec::new(),
            persistent: BTreeMap::new(),
            transient: BTreeMap::new(),
            users: Users::default(),
            recovery_bytes_per_sec: super::DEFAULT_RECOVERY_BYTES_PER_SEC,
            now_ms,
            seq: 0,
            version: version.into(),
            fold_ms: now_ms,
            touched: true,
        }
    }

    /// When the load rates were last folded.
    pub fn seq_fold_ms(&self) -> u64 {
        self.fold_ms
    }

    /// Record a fold.
    pub fn set_fold_ms(&mut self, ms: u64) {
        self.fold_ms = ms;
    }

    /// A cluster setting: transient, then persistent.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.transient
            .get(key)
            .or_else(|| self.persistent.get(key))
            .map(String::as_str)
    }

    /// A fresh id of 22 URL-safe characters (as Elasticsearch's UUIDs).
    pub fn new_id(&mut self) -> String {
        self.seq += 1;
        short_id(&format!("{}/{}/{}", self.uuid, self.seq, self.now_ms))
    }

    /// Node by id or name.
    pub fn node_by_id_or_name(&self, key: &str) -> Option<&Node> {
        self.nodes
            .get(key)
            .or_else(|| self.nodes.values().find(|n| n.name == key))
    }

    /// Node name of an id (the id itself when unknown).
    pub fn node_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.nodes.get(id).map_or(id, |n| n.name.as_str())
    }

    /// Copies on a node (assigned there, or relocating to it).
    pub fn copies_on<'a>(&'a self, node_id: &'a str) -> impl Iterator<Item = &'a ShardCopy> + 'a {
        self.shards.iter().filter(move |s| {
            s.node.as_deref() == Some(node_id) || s.relocating_to.as_deref() == Some(node_id)
        })
    }

    /// Disk used on a node: the store of its copies plus a fixed overhead (or the test override).
    pub fn disk_used(&self, node: &Node) -> u64 {
        if let Some(used) = self.load.get(&node.name).and_then(|l| l.disk_used_override) {
            return used.min(node.disk_total_bytes);
        }
        let store: u64 = self.copies_on(&node.id).map(|s| self.copy_bytes(s)).sum();
        (store + node.disk_total_bytes / 50).min(node.disk_total_bytes)
    }

    /// Store bytes of a copy (what it holds now: a recovering copy holds what it copied so far).
    pub fn copy_bytes(&self, s: &ShardCopy) -> u64 {
        let full = self
            .indices
            .get(&s.index)
            .and_then(|i| i.bytes.get(s.shard as usize))
            .copied()
            .unwrap_or(EMPTY_SHARD_BYTES);
        match s.state {
            ShardState::Unassigned => 0,
            ShardState::Initializing => (s.recovered_bytes as u64).min(full),
            _ => full,
        }
    }
}

/// 22 URL-safe base64 characters derived from `seed` (stable).
pub fn short_id(seed: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// A JSON value as an Elasticsearch setting string (`true`, `1`, `a,b` for arrays); None for null.
pub fn setting_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(setting_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

/// Flatten nested settings (`{"cluster":{"routing":{..}}}`) into dotted keys.
pub fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Option<String>)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), setting_string(other))),
    }
}

/// Nest dotted keys into objects (`flat_settings=false` output).
pub fn nest(flat: &BTreeMap<String, String>) -> Value {
    let mut root = serde_json::Map::new();
    for (k, v) in flat {
        let parts: Vec<&str> = k.split('.').collect();
        let mut cur = &mut root;
        for p in &parts[..parts.len() - 1] {
            let entry = cur
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(serde_json::Map::new());
            }
            cur = entry.as_object_mut().expect("object");
        }
        cur.insert(parts[parts.len() - 1].to_string(), Value::String(v.clone()));
    }
    Value::Object(root)
}
