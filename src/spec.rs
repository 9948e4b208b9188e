//! The validated cluster spec: what a tenant asked for, stored as JSON (the desired state) and rendered by the
//! engines. A [`ClusterSpec`] only exists after [`validate`] accepted a [`ClusterSpecInput`] (or after
//! deserializing a stored spec, which re-checks every newtype), so code past the edge can trust it.
//!
//! This module is pure: no database, no Kubernetes. The cluster *name* is not part of the spec (it is the
//! cluster's identity, fixed at creation): parse it with [`ClusterName::parse`] and report errors at `name`.
//!
//! Submodules: [`names`], [`version`], [`roles`], [`attributes`] (the newtypes), [`input`] (the unvalidated
//! form), [`rules`] (bounds and allow-lists), [`storage_classes`] (the allowed classes and the default),
//! [`validate`](mod@validate) (the rules applied), and
//! [`operations`] (scale, resize, upgrade as spec edits), [`patch`] (partial changes, merged under the
//! cluster's lock).

pub mod allow_list;
pub mod attributes;
pub mod edits;
pub mod input;
pub mod names;
pub mod patch;
pub mod roles;
pub mod rules;
pub mod storage_classes;
pub mod validate;
pub mod version;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::tenants::quota::Resources;

pub use allow_list::SourceRange;
pub use attributes::{NodeAttributeKey, NodeAttributeValue};
pub use edits::{NodeSetSize, resized, scaled, upgraded};
pub use input::{ClusterSpecInput, KibanaInput, NodeSetInput, NumberInput};
pub use names::{ClusterName, NodeSetName, StorageClassName};
pub use patch::{SizeChange, SpecPatch};
pub use roles::NodeRole;
pub use rules::{SizeBounds, SpecRules};
pub use storage_classes::StorageClassPolicy;
pub use validate::validate;
pub use version::{EsVersion, check_upgrade, is_upgrade_allowed};

/// The desired shape of one Elasticsearch cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSpec {
    /// Elasticsearch (and Kibana) version.
    pub version: EsVersion,
    /// Groups of identical nodes; names are unique, at least one is master-eligible and one holds data.
    pub node_sets: Vec<NodeSetSpec>,
    /// Kibana, when the tenant asked for it.
    pub kibana: Option<KibanaSpec>,
    /// Serve HTTPS (a self-signed certificate the engine makes) on the Elasticsearch and Kibana HTTP endpoints.
    pub http_tls: bool,
    /// The IP allow-list of the external endpoints (traffic filter); empty: open to anyone who can reach them.
    /// Absent from specs stored before it existed, and left out of the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_allow_list: Vec<SourceRange>,
}

/// A group of Elasticsearch nodes sharing roles, size and configuration (a node set: one StatefulSet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSetSpec {
    /// Unique within the cluster; part of the pod names.
    pub name: NodeSetName,
    /// Never empty; `coordinating` is alone when present.
    pub roles: BTreeSet<NodeRole>,
    /// Number of nodes (pods).
    pub count: u32,
    /// CPU per node in millicores (request and limit).
    pub cpu_millis: u32,
    /// Memory per node in MiB (request and limit; the JVM heap is sized from it).
    pub memory_mib: u32,
    /// Persistent volume size per node in GiB. Can grow, never shrink.
    pub storage_gib: u32,
    /// Storage class of the data volumes; `None` uses the Kubernetes cluster's default class.
    pub storage_class: Option<StorageClassName>,
    /// Node attributes rendered as `node.attr.<key>: <value>`.
    pub attributes: BTreeMap<NodeAttributeKey, NodeAttributeValue>,
}

/// Kibana instances attached to the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KibanaSpec {
    /// Number of Kibana instances.
    pub count: u32,
    /// CPU per instance in millicores.
    pub cpu_millis: u32,
    /// Memory per instance in MiB.
    pub memory_mib: u32,
}

impl ClusterSpec {
    /// What this cluster takes from its tenant's quota: one cluster, its Elasticsearch nodes, CPU and memory of
    /// the nodes plus Kibana, and the nodes' storage.
    pub fn resources(&self) -> Resources {
        let mut total = Resources {
            clusters: 1,
            ..Resources::default()
        };
        for set in &self.node_sets {
            let count = i64::from(set.count);
            total.nodes += count;
            total.cpu_millis += count * i64::from(set.cpu_millis);
            total.memory_mib += count * i64::from(set.memory_mib);
            total.storage_gib += count * i64::from(set.storage_gib);
        }
        if let Some(kibana) = &self.kibana {
            let count = i64::from(kibana.count);
            total.cpu_millis += count * i64::from(kibana.cpu_millis);
            total.memory_mib += count * i64::from(kibana.memory_mib);
        }
        total
    }

    /// The node set called `name`, if any.
    pub fn node_set(&self, name: &str) -> Option<&NodeSetSpec> {
        self.node_sets.iter().find(|set| set.name.as_str() == name)
    }

    /// Total number of master-eligible nodes.
    pub fn master_eligible_nodes(&self) -> u32 {
        self.node_sets
            .iter()
            .filter(|set| set.is_master_eligible())
            .map(|set| set.count)
            .sum()
    }
}

impl NodeSetSpec {
    /// True when the nodes can be elected master.
    pub fn is_master_eligible(&self) -> bool {
        self.roles.contains(&NodeRole::Master)
    }

    /// True when the nodes hold shards (any data role).
    pub fn holds_data(&self) -> bool {
        self.roles.iter().any(|role| role.holds_data())
    }

    /// The roles as Elasticsearch's `node.roles` list (empty for coordinating-only nodes), in a stable order.
    pub fn elasticsearch_roles(&self) -> Vec<&'static str> {
        self.roles
            .iter()
            .filter_map(|role| role.elasticsearch_role())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, roles: &[NodeRole], count: u32) -> NodeSetSpec {
        NodeSetSpec {
            name: NodeSetName::parse(name).unwrap(),
            roles: roles.iter().copied().collect(),
            count,
            cpu_millis: 1000,
            memory_mib: 2048,
            storage_gib: 10,
            storage_class: None,
            attributes: BTreeMap::new(),
        }
    }

    fn spec() -> ClusterSpec {
        ClusterSpec {
            version: EsVersion::new(9, 2, 1),
            node_sets: vec![
                set("master", &[NodeRole::Master], 3),
                set("data", &[NodeRole::Data, NodeRole::Ingest], 2),
            ],
            kibana: Some(KibanaSpec {
                count: 1,
                cpu_millis: 500,
                memory_mib: 1024,
            }),
            http_tls: true,
            ip_allow_list: Vec::new(),
        }
    }

    #[test]
    fn resources_sum_nodes_and_kibana() {
        let r = spec().resources();
        assert_eq!(
            r,
            Resources {
                clusters: 1,
                nodes: 5,
                cpu_millis: 5 * 1000 + 500,
                memory_mib: 5 * 2048 + 1024,
                storage_gib: 50,
            }
        );
    }

    #[test]
    fn resources_without_kibana() {
        let mut s = spec();
        s.kibana = None;
        assert_eq!(s.resources().cpu_millis, 5000);
        assert_eq!(s.resources().memory_mib, 5 * 2048);
    }

    #[test]
    fn finds_node_sets_and_counts_masters() {
        let s = spec();
        assert_eq!(s.node_set("data").unwrap().count, 2);
        assert!(s.node_set("nope").is_none());
        assert_eq!(s.master_eligible_nodes(), 3);
        assert!(s.node_sets[0].is_master_eligible());
        assert!(s.node_sets[1].holds_data());
    }

    #[test]
    fn coordinating_renders_as_no_roles() {
        let coordinating = set("coord", &[NodeRole::Coordinating], 2);
        assert!(coordinating.elasticsearch_roles().is_empty());
        let hot = set(
            "hot",
            &[NodeRole::Ingest, NodeRole::DataHot, NodeRole::DataContent],
            2,
        );
        assert_eq!(
            hot.elasticsearch_roles(),
            vec!["data_hot", "data_content", "ingest"]
        );
    }

    #[test]
    fn round_trips_through_json() {
        let s = spec();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["version"], "9.2.1");
        assert_eq!(json["node_sets"][0]["roles"], serde_json::json!(["master"]));
        assert!(json.get("ip_allow_list").is_none(), "empty lists stay out");
        let back: ClusterSpec = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
        let mut listed = s.clone();
        listed.ip_allow_list = vec![SourceRange::parse("203.0.113.0/24").unwrap()];
        let json = serde_json::to_value(&listed).unwrap();
        assert_eq!(json["ip_allow_list"], serde_json::json!(["203.0.113.0/24"]));
        assert_eq!(serde_json::from_value::<ClusterSpec>(json).unwrap(), listed);
    }

    #[test]
    fn stored_json_is_revalidated_on_read() {
        let mut json = serde_json::to_value(spec()).unwrap();
        json["node_sets"][0]["name"] = "Not A Name".into();
        assert!(serde_json::from_value::<ClusterSpec>(json).is_err());
    }
}
