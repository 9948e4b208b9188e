//! Node roles: what the nodes of a node set do in the Elasticsearch cluster.
//!
//! Names are Elasticsearch's own `node.roles` values, except `coordinating`, which Elasticsearch spells as an
//! empty list (`node.roles: []`): a coordinating-only node routes requests and merges results but holds no
//! data and is not master-eligible, so it cannot be combined with another role.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A role of the nodes in a node set. The declaration order is the display and rendering order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// Master-eligible: can be elected to manage the cluster state.
    Master,
    /// Generic data node: holds shards of every tier.
    Data,
    /// Hot tier: recent, frequently written and searched data.
    DataHot,
    /// Warm tier: older data, still searched, rarely written.
    DataWarm,
    /// Cold tier: rarely searched data, cheap storage.
    DataCold,
    /// Content tier: data without a time series lifecycle (and system indices).
    DataContent,
    /// Runs ingest pipelines.
    Ingest,
    /// Runs machine learning jobs.
    Ml,
    /// Coordinating only: no roles at all (`node.roles: []`). Must be the only role of its node set.
    Coordinating,
}

impl NodeRole {
    /// Every role, in display order.
    pub const ALL: [NodeRole; 9] = [
        NodeRole::Master,
        NodeRole::Data,
        NodeRole::DataHot,
        NodeRole::DataWarm,
        NodeRole::DataCold,
        NodeRole::DataContent,
        NodeRole::Ingest,
        NodeRole::Ml,
        NodeRole::Coordinating,
    ];

    /// The role's name as used in forms, the API and (except `coordinating`) Elasticsearch's `node.roles`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Master => "master",
            NodeRole::Data => "data",
            NodeRole::DataHot => "data_hot",
            NodeRole::DataWarm => "data_warm",
            NodeRole::DataCold => "data_cold",
            NodeRole::DataContent => "data_content",
            NodeRole::Ingest => "ingest",
            NodeRole::Ml => "ml",
            NodeRole::Coordinating => "coordinating",
        }
    }

    /// Parses a role name (exact, lowercase).
    pub fn parse(value: &str) -> Result<Self, String> {
        NodeRole::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| {
                let known: Vec<&str> = NodeRole::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role `{value}`; use one of {}", known.join(", "))
            })
    }

    /// True for roles that hold shards (`data` and the tier roles).
    pub fn holds_data(self) -> bool {
        self == NodeRole::Data || self.is_tier()
    }

    /// True for the data tier roles (`data_hot`, `data_warm`, `data_cold`, `data_content`).
    pub fn is_tier(self) -> bool {
        matches!(
            self,
            NodeRole::DataHot | NodeRole::DataWarm | NodeRole::DataCold | NodeRole::DataContent
        )
    }

    /// The value Elasticsearch expects in `node.roles`, `None` for `coordinating` (which is the empty list).
    pub fn elasticsearch_role(self) -> Option<&'static str> {
        match self {
            NodeRole::Coordinating => None,
            other => Some(other.as_str()),
        }
    }
}

impl fmt::Display for NodeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_role_by_its_name() {
        for role in NodeRole::ALL {
            assert_eq!(NodeRole::parse(role.as_str()), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
    }

    #[test]
    fn rejects_unknown_roles_listing_the_known_ones() {
        let err = NodeRole::parse("data_frozen").unwrap_err();
        assert!(err.contains("unknown role `data_frozen`"), "{err}");
        assert!(err.contains("coordinating"), "{err}");
        assert!(NodeRole::parse("Master").is_err());
        assert!(NodeRole::parse("").is_err());
    }

    #[test]
    fn classifies_data_roles() {
        assert!(NodeRole::Data.holds_data());
        assert!(NodeRole::DataCold.holds_data());
        assert!(!NodeRole::Data.is_tier());
        assert!(NodeRole::DataContent.is_tier());
        assert!(!NodeRole::Master.holds_data());
        assert!(!NodeRole::Coordinating.holds_data());
        assert!(!NodeRole::Ingest.holds_data());
    }

    #[test]
    fn coordinating_has_no_elasticsearch_role() {
        assert_eq!(NodeRole::Coordinating.elasticsearch_role(), None);
        assert_eq!(NodeRole::DataHot.elasticsearch_role(), Some("data_hot"));
    }

    #[test]
    fn serializes_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&NodeRole::DataHot).unwrap(),
            "\"data_hot\""
        );
        assert_eq!(
            serde_json::from_str::<NodeRole>("\"ml\"").unwrap(),
            NodeRole::Ml
        );
    }
}
