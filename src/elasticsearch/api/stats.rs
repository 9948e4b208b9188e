//! `GET /_cluster/stats`: cluster-wide counts (indices, shards, documents, store, nodes by role).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The parts of the cluster stats the portal reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Cluster name.
    pub cluster_name: String,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
    /// Index totals.
    #[serde(default)]
    pub indices: Option<ClusterIndicesStats>,
    /// Node totals.
    #[serde(default)]
    pub nodes: Option<ClusterNodesStats>,
}

/// `indices` of cluster stats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterIndicesStats {
    /// Number of indices.
    #[serde(default)]
    pub count: u64,
    /// Documents.
    #[serde(default)]
    pub docs: Option<super::nodes::DocsStats>,
    /// Store.
    #[serde(default)]
    pub store: Option<super::nodes::StoreStats>,
}

/// `nodes` of cluster stats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterNodesStats {
    /// Node counts by role (`total`, `master`, `data`, ...).
    #[serde(default)]
    pub count: BTreeMap<String, u64>,
    /// Versions running.
    #[serde(default)]
    pub versions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_counts() {
        let s: ClusterStats = serde_json::from_str(r#"{"_nodes":{"total":3},"cluster_name":"logs","cluster_uuid":"x","timestamp":1,"status":"green",
            "indices":{"count":2,"shards":{},"docs":{"count":10,"deleted":0},"store":{"size_in_bytes":99}},
            "nodes":{"count":{"total":3,"master":3,"data":3},"versions":["9.2.1"]}}"#).unwrap();
        assert_eq!(s.indices.as_ref().unwrap().count, 2);
        assert_eq!(s.nodes.as_ref().unwrap().count["total"], 3);
    }
}
