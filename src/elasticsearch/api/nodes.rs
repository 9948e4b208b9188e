//! `GET /_nodes` (info: roles, version, attributes, heap maximum, start time) and
//! `GET /_nodes/stats/jvm,os,fs,indices,process` (heap used, CPU, disk, documents, shards, uptime).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `_nodes` envelope counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodesHeader {
    /// Nodes asked.
    #[serde(default)]
    pub total: u32,
    /// Nodes that answered.
    #[serde(default)]
    pub successful: u32,
    /// Nodes that failed to answer.
    #[serde(default)]
    pub failed: u32,
}

/// `GET /_nodes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodesInfo {
    /// Envelope counts.
    #[serde(rename = "_nodes", default)]
    pub header: NodesHeader,
    /// Cluster name.
    pub cluster_name: String,
    /// By node id.
    pub nodes: BTreeMap<String, NodeInfo>,
}

/// One node of `GET /_nodes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Node name (the pod name under ECK).
    pub name: String,
    /// Host.
    #[serde(default)]
    pub host: String,
    /// IP address.
    #[serde(default)]
    pub ip: String,
    /// Elasticsearch version.
    pub version: String,
    /// Role names (`master`, `data_hot`, ...).
    #[serde(default)]
    pub roles: Vec<String>,
    /// `node.attr.*`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// JVM details.
    #[serde(default)]
    pub jvm: Option<JvmInfo>,
}

/// `jvm` of node info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JvmInfo {
    /// When the JVM started (epoch millis).
    #[serde(default)]
    pub start_time_in_millis: u64,
    /// Memory sizes.
    #[serde(default)]
    pub mem: Option<JvmInfoMem>,
}

/// `jvm.mem` of node info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JvmInfoMem {
    /// Maximum heap.
    #[serde(default)]
    pub heap_max_in_bytes: u64,
}

/// `GET /_nodes/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodesStats {
    /// Envelope counts.
    #[serde(rename = "_nodes", default)]
    pub header: NodesHeader,
    /// Cluster name.
    pub cluster_name: String,
    /// By node id.
    pub nodes: BTreeMap<String, NodeStats>,
}

/// One node of `GET /_nodes/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    /// Node name.
    pub name: String,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// `indices` metric.
    #[serde(default)]
    pub indices: Option<IndicesStats>,
    /// `os` metric.
    #[serde(default)]
    pub os: Option<OsStats>,
    /// `process` metric.
    #[serde(default)]
    pub process: Option<ProcessStats>,
    /// `jvm` metric.
    #[serde(default)]
    pub jvm: Option<JvmStats>,
    /// `fs` metric.
    #[serde(default)]
    pub fs: Option<FsStats>,
}

/// `indices` of node stats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicesStats {
    /// Documents in the primaries on this node.
    #[serde(default)]
    pub docs: Option<DocsStats>,
    /// Store size on this node.
    #[serde(default)]
    pub store: Option<StoreStats>,
    /// Shard count on this node.
    #[serde(default)]
    pub shard_stats: Option<ShardStats>,
}

/// `indices.docs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsStats {
    /// Documents.
    #[serde(default)]
    pub count: u64,
    /// Deleted documents not yet merged away.
    #[serde(default)]
    pub deleted: u64,
}

/// `indices.store`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Bytes on disk.
    #[serde(default)]
    pub size_in_bytes: u64,
}

/// `indices.shard_stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardStats {
    /// Shard copies on the node.
    #[serde(default)]
    pub total_count: u64,
}

/// `os` of node stats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OsStats {
    /// CPU.
    #[serde(default)]
    pub cpu: Option<CpuStats>,
}

/// `os.cpu` / `process.cpu`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuStats {
    /// Percent in use (`-1` when the platform cannot tell).
    #[serde(default)]
    pub percent: i32,
}

/// `process` of node stats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessStats {
    /// The Elasticsearch process's CPU.
    #[serde(default)]
    pub cpu: Option<CpuStats>,
    /// Open file descriptors.
    #[serde(default)]
    pub open_file_descriptors: i64,
}

/// `jvm` of node stats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JvmStats {
    /// Milliseconds since the JVM started.
    #[serde(default)]
    pub uptime_in_millis: u64,
    /// Memory.
    #[serde(default)]
    pub mem: Option<JvmMem>,
}

/// `jvm.mem` of node stats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JvmMem {
    /// Heap in use.
    #[serde(default)]
    pub heap_used_in_bytes: u64,
    /// Heap in use, percent of the maximum.
    #[serde(default)]
    pub heap_used_percent: u32,
    /// Maximum heap.
    #[serde(default)]
    pub heap_max_in_bytes: u64,
}

/// `fs` of node stats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsStats {
    /// Totals over the data paths.
    #[serde(default)]
    pub total: Option<FsTotal>,
}

/// `fs.total`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsTotal {
    /// Disk size.
    #[serde(default)]
    pub total_in_bytes: u64,
    /// Free bytes.
    #[serde(default)]
    pub free_in_bytes: u64,
    /// Bytes the node can use (may be less than free).
    #[serde(default)]
    pub available_in_bytes: u64,
}

impl NodeStats {
    /// Heap used, percent.
    pub fn heap_used_percent(&self) -> Option<u32> {
        self.jvm.as_ref()?.mem.as_ref().map(|m| m.heap_used_percent)
    }

    /// CPU percent of the process (else of the OS); `None` when unknown.
    pub fn cpu_percent(&self) -> Option<u32> {
        let process = self.process.as_ref().and_then(|p| p.cpu.as_ref());
        let os = self.os.as_ref().and_then(|o| o.cpu.as_ref());
        process.or(os).and_then(|c| u32::try_from(c.percent).ok())
    }

    /// Disk (used, total) bytes, used = total - available as `_cat/allocation` computes it.
    pub fn disk(&self) -> Option<(u64, u64)> {
        let t = self.fs.as_ref()?.total.as_ref()?;
        Some((
            t.total_in_bytes.saturating_sub(t.available_in_bytes),
            t.total_in_bytes,
        ))
    }

    /// Shard copies on the node.
    pub fn shards(&self) -> Option<u64> {
        Some(self.indices.as_ref()?.shard_stats.as_ref()?.total_count)
    }

    /// Uptime in milliseconds.
    pub fn uptime_millis(&self) -> Option<u64> {
        self.jvm.as_ref().map(|j| j.uptime_in_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = r#"{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"logs","nodes":{
      "8qt2rY-pT6KNZB3-hGfLnw":{"timestamp":1,"name":"logs-es-default-0","transport_address":"10.0.0.1:9300","host":"10.0.0.1",
        "ip":"10.0.0.1","roles":["data","master"],"attributes":{},
        "indices":{"docs":{"count":1200,"deleted":0},"store":{"size_in_bytes":90214,"total_data_set_size_in_bytes":90214,"reserved_in_bytes":0},
          "shard_stats":{"total_count":3}},
        "os":{"timestamp":1,"cpu":{"percent":7,"load_average":{"1m":0.42}},"mem":{"total_in_bytes":1}},
        "process":{"timestamp":1,"open_file_descriptors":300,"max_file_descriptors":65535,"cpu":{"percent":3,"total_in_millis":10}},
        "jvm":{"timestamp":1,"uptime_in_millis":3600000,"mem":{"heap_used_in_bytes":512,"heap_used_percent":37,"heap_committed_in_bytes":1024,"heap_max_in_bytes":1024}},
        "fs":{"timestamp":1,"total":{"total_in_bytes":1000,"free_in_bytes":400,"available_in_bytes":300},"data":[]}}}}"#;

    #[test]
    fn node_stats_give_heap_cpu_disk_shards_uptime() {
        let stats: NodesStats = serde_json::from_str(STATS).unwrap();
        let node = stats.nodes.values().next().unwrap();
        assert_eq!(node.heap_used_percent(), Some(37));
        assert_eq!(node.cpu_percent(), Some(3), "the process's CPU first");
        assert_eq!(node.disk(), Some((700, 1000)), "used = total - available");
        assert_eq!(node.shards(), Some(3));
        assert_eq!(node.uptime_millis(), Some(3_600_000));
    }

    #[test]
    fn unknown_cpu_is_none() {
        let mut stats: NodesStats = serde_json::from_str(STATS).unwrap();
        let node = stats.nodes.values_mut().next().unwrap();
        node.process = None;
        node.os = Some(OsStats {
            cpu: Some(CpuStats { percent: -1 }),
        });
        assert_eq!(node.cpu_percent(), None);
    }

    #[test]
    fn node_info_parses() {
        let info: NodesInfo = serde_json::from_str(r#"{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"logs","nodes":{
          "id1":{"name":"logs-es-hot-0","transport_address":"10.0.0.1:9300","host":"10.0.0.1","ip":"10.0.0.1","version":"9.2.1",
            "transport_version":1,"build_flavor":"default","build_type":"docker","build_hash":"x","roles":["data_hot","ingest"],
            "attributes":{"data":"hot"},"settings":{},"os":{"available_processors":2},
            "jvm":{"pid":1,"version":"21","start_time_in_millis":5,"mem":{"heap_init_in_bytes":1,"heap_max_in_bytes":1073741824}}}}}"#).unwrap();
        let node = &info.nodes["id1"];
        assert_eq!(node.roles, ["data_hot", "ingest"]);
        assert_eq!(node.attributes["data"], "hot");
        assert_eq!(
            node.jvm
                .as_ref()
                .unwrap()
                .mem
                .as_ref()
                .unwrap()
                .heap_max_in_bytes,
            1 << 30
        );
    }
}
