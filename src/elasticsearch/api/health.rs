//! `GET /_cluster/health` (and `?level=indices`): the traffic light and the shard counts it comes from.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// `green`, `yellow` or `red`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Every shard copy is assigned.
    Green,
    /// Every primary is assigned, some replica is not.
    Yellow,
    /// Some primary is not assigned.
    Red,
}

impl HealthStatus {
    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Green => "green",
            HealthStatus::Yellow => "yellow",
            HealthStatus::Red => "red",
        }
    }

    /// Parse the lower-case word (`_cat/indices` writes `red*` when unknown: read as red).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim_end_matches('*') {
            "green" => Some(HealthStatus::Green),
            "yellow" => Some(HealthStatus::Yellow),
            "red" => Some(HealthStatus::Red),
            _ => None,
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cluster health answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterHealth {
    /// Cluster name.
    pub cluster_name: String,
    /// Worst status of all indices.
    pub status: HealthStatus,
    /// A `wait_for_*` condition was not met.
    #[serde(default)]
    pub timed_out: bool,
    /// Nodes in the cluster.
    pub number_of_nodes: u32,
    /// Data-capable nodes.
    pub number_of_data_nodes: u32,
    /// Shards whose primary is active.
    pub active_primary_shards: u32,
    /// Active shard copies.
    pub active_shards: u32,
    /// Copies moving between nodes.
    pub relocating_shards: u32,
    /// Copies being recovered.
    pub initializing_shards: u32,
    /// Copies not assigned to any node.
    pub unassigned_shards: u32,
    /// Unassigned primaries (8.16+; 0 when absent).
    #[serde(default)]
    pub unassigned_primary_shards: u32,
    /// Unassigned copies waiting for `index.unassigned.node_left.delayed_timeout`.
    #[serde(default)]
    pub delayed_unassigned_shards: u32,
    /// Cluster-state updates queued on the master.
    #[serde(default)]
    pub number_of_pending_tasks: u32,
    /// Active copies as a percentage of all copies.
    #[serde(default)]
    pub active_shards_percent_as_number: f64,
    /// Per index, with `level=indices`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indices: BTreeMap<String, IndexHealth>,
}

/// `indices.<name>` of a `level=indices` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexHealth {
    /// Worst shard status.
    pub status: HealthStatus,
    /// Primaries.
    pub number_of_shards: u32,
    /// Replicas per primary.
    pub number_of_replicas: u32,
    /// Shards whose primary is active.
    pub active_primary_shards: u32,
    /// Active copies.
    pub active_shards: u32,
    /// Relocating copies.
    #[serde(default)]
    pub relocating_shards: u32,
    /// Initializing copies.
    #[serde(default)]
    pub initializing_shards: u32,
    /// Unassigned copies.
    #[serde(default)]
    pub unassigned_shards: u32,
    /// Unassigned primaries.
    #[serde(default)]
    pub unassigned_primary_shards: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_example_with_indices() {
        let h: ClusterHealth = serde_json::from_str(r#"{"cluster_name":"prod","status":"yellow","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1,
 "active_primary_shards":3,"active_shards":3,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":1,
 "unassigned_primary_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,
 "task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":75.0,
 "indices":{"logs":{"status":"yellow","number_of_shards":1,"number_of_replicas":1,"active_primary_shards":1,
  "active_shards":1,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":1,"unassigned_primary_shards":0}}}"#).unwrap();
        assert_eq!(h.status, HealthStatus::Yellow);
        assert_eq!(h.unassigned_shards, 1);
        assert_eq!(h.indices["logs"].number_of_replicas, 1);
        assert!((h.active_shards_percent_as_number - 75.0).abs() < f64::EPSILON);
    }

    #[test]
    fn older_versions_without_unassigned_primaries_parse() {
        let h: ClusterHealth = serde_json::from_str(r#"{"cluster_name":"c","status":"green","number_of_nodes":3,"number_of_data_nodes":3,
            "active_primary_shards":0,"active_shards":0,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0}"#).unwrap();
        assert_eq!(h.unassigned_primary_shards, 0);
        assert!(h.indices.is_empty());
    }

    #[test]
    fn statuses_order_from_best_to_worst() {
        assert!(
            HealthStatus::Green < HealthStatus::Yellow && HealthStatus::Yellow < HealthStatus::Red
        );
        assert_eq!(HealthStatus::parse("red*"), Some(HealthStatus::Red));
        assert_eq!(HealthStatus::parse(""), None);
    }
}
