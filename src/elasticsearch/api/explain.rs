//! `GET|POST /_cluster/allocation/explain`: why a shard copy is where it is, or why it is nowhere.

use serde::{Deserialize, Serialize};

/// The body naming the shard copy to explain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainRequest {
    /// Index name.
    pub index: String,
    /// Shard number.
    pub shard: u64,
    /// The primary (else a replica).
    pub primary: bool,
}

/// The explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationExplain {
    /// Index name.
    pub index: String,
    /// Shard number.
    pub shard: u64,
    /// Primary or replica.
    pub primary: bool,
    /// `unassigned`, `initializing`, `started` or `relocating`.
    pub current_state: String,
    /// Why it is unassigned.
    #[serde(default)]
    pub unassigned_info: Option<UnassignedInfo>,
    /// `yes`, `no`, `throttled`, `allocation_delayed`, `no_valid_shard_copy`, ... for unassigned copies.
    #[serde(default)]
    pub can_allocate: Option<String>,
    /// Elasticsearch's own summary.
    #[serde(default)]
    pub allocate_explanation: Option<String>,
    /// For initializing/relocating copies.
    #[serde(default)]
    pub explanation: Option<String>,
    /// How long a delayed allocation still waits.
    #[serde(default)]
    pub remaining_delay_in_millis: Option<u64>,
    /// Per node.
    #[serde(default)]
    pub node_allocation_decisions: Vec<NodeDecision>,
}

/// `unassigned_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnassignedInfo {
    /// `INDEX_CREATED`, `NODE_LEFT`, ...
    pub reason: String,
    /// When it became unassigned.
    #[serde(default)]
    pub at: Option<String>,
    /// Failed attempts (only when > 0).
    #[serde(default)]
    pub failed_allocation_attempts: Option<u32>,
    /// Detail.
    #[serde(default)]
    pub details: Option<String>,
    /// `no`, `throttled`, ...
    #[serde(default)]
    pub last_allocation_status: Option<String>,
}

/// `node_allocation_decisions[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDecision {
    /// Node id.
    pub node_id: String,
    /// Node name.
    pub node_name: String,
    /// `yes`, `no`, `throttled`, `worse_balance`, ...
    pub node_decision: String,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The deciders that said NO or THROTTLE.
    #[serde(default)]
    pub deciders: Vec<Decider>,
}

/// `deciders[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decider {
    /// `same_shard`, `filter`, `disk_threshold`, `data_tier`, ...
    pub decider: String,
    /// `YES`, `NO` or `THROTTLE`.
    pub decision: String,
    /// Elasticsearch's reason.
    pub explanation: String,
}

impl AllocationExplain {
    /// The decider names that refused the copy on every node that refused it, most frequent first.
    pub fn refusing_deciders(&self) -> Vec<(&str, usize)> {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for node in &self.node_allocation_decisions {
            for d in node.deciders.iter().filter(|d| d.decision == "NO") {
                match counts.iter_mut().find(|(name, _)| *name == d.decider) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((d.decider.as_str(), 1)),
                }
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_example() {
        let e: AllocationExplain = serde_json::from_str(r#"{"index":"logs","shard":0,"primary":false,"current_state":"unassigned",
 "unassigned_info":{"reason":"INDEX_CREATED","at":"2024-05-01T10:00:00.000Z","last_allocation_status":"no"},
 "can_allocate":"no","allocate_explanation":"Elasticsearch isn't allowed to allocate this shard to any of the nodes",
 "node_allocation_decisions":[{"node_id":"8qt2rY-pT6KNZB3-hGfLnw","node_name":"es-0","transport_address":"10.0.0.1:9300",
  "roles":["data_content","data_hot"],"node_decision":"no","weight_ranking":1,
  "deciders":[{"decider":"same_shard","decision":"NO","explanation":"a copy of this shard is already allocated to this node [[logs][0], node[8qt2rY-pT6KNZB3-hGfLnw], [P], s[STARTED], a[id=eV9P8BN1QPqRc3B4PLx6cg]]"}]}]}"#).unwrap();
        assert_eq!(e.can_allocate.as_deref(), Some("no"));
        assert_eq!(e.unassigned_info.unwrap().reason, "INDEX_CREATED");
        assert_eq!(
            e.node_allocation_decisions[0].deciders[0].decider,
            "same_shard"
        );
    }
}
