//! The cluster spec on the wire: as answered (`SpecView`) and as requested (`SpecRequest`), node roles.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::spec::ClusterSpec;
use crate::spec::ClusterSpecInput;
use crate::spec::KibanaInput;
use crate::spec::NodeRole;
use crate::spec::NodeSetInput;
use crate::spec::NumberInput;

/// A role of the nodes of a node set (`coordinating` = no role: routes requests only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeRoleName {
    /// Master-eligible.
    Master,
    /// Generic data node.
    Data,
    /// Hot tier.
    DataHot,
    /// Warm tier.
    DataWarm,
    /// Cold tier.
    DataCold,
    /// Content tier.
    DataContent,
    /// Ingest pipelines.
    Ingest,
    /// Machine learning.
    Ml,
    /// Coordinating only (must be the only role).
    Coordinating,
}

impl NodeRoleName {
    fn from_role(role: NodeRole) -> Self {
        match role {
            NodeRole::Master => Self::Master,
            NodeRole::Data => Self::Data,
            NodeRole::DataHot => Self::DataHot,
            NodeRole::DataWarm => Self::DataWarm,
            NodeRole::DataCold => Self::DataCold,
            NodeRole::DataContent => Self::DataContent,
            NodeRole::Ingest => Self::Ingest,
            NodeRole::Ml => Self::Ml,
            NodeRole::Coordinating => Self::Coordinating,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Master => "master",
            Self::Data => "data",
            Self::DataHot => "data_hot",
            Self::DataWarm => "data_warm",
            Self::DataCold => "data_cold",
            Self::DataContent => "data_content",
            Self::Ingest => "ingest",
            Self::Ml => "ml",
            Self::Coordinating => "coordinating",
        }
    }
}

/// A cluster's desired spec.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SpecView {
    /// Elasticsearch (and Kibana) version.
    #[schema(example = "9.2.1")]
    pub version: String,
    /// Node sets.
    pub node_sets: Vec<NodeSetView>,
    /// Kibana, when present.
    pub kibana: Option<KibanaView>,
    /// HTTPS on the HTTP endpoints.
    pub http_tls: bool,
    /// IP allow-list of the external endpoints (networks in CIDR notation); empty: open to anyone who can
    /// reach them.
    #[schema(example = json!(["203.0.113.0/24"]))]
    pub ip_allow_list: Vec<String>,
}

/// A node set of a spec.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeSetView {
    /// Name (unique in the cluster).
    pub name: String,
    /// Roles.
    pub roles: Vec<NodeRoleName>,
    /// Nodes.
    pub count: u32,
    /// CPU per node, millicores.
    pub cpu_millis: u32,
    /// Memory per node, MiB.
    pub memory_mib: u32,
    /// Storage per node, GiB.
    pub storage_gib: u32,
    /// Storage class (`null`: the Kubernetes default).
    pub storage_class: Option<String>,
    /// Node attributes (`node.attr.<key>`).
    pub attributes: BTreeMap<String, String>,
}

/// Kibana of a spec.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KibanaView {
    /// Instances.
    pub count: u32,
    /// CPU per instance, millicores.
    pub cpu_millis: u32,
    /// Memory per instance, MiB.
    pub memory_mib: u32,
}

impl From<&ClusterSpec> for SpecView {
    fn from(s: &ClusterSpec) -> Self {
        Self {
            version: s.version.to_string(),
            node_sets: s
                .node_sets
                .iter()
                .map(|n| NodeSetView {
                    name: n.name.to_string(),
                    roles: n
                        .roles
                        .iter()
                        .map(|r| NodeRoleName::from_role(*r))
                        .collect(),
                    count: n.count,
                    cpu_millis: n.cpu_millis,
                    memory_mib: n.memory_mib,
                    storage_gib: n.storage_gib,
                    storage_class: n.storage_class.as_ref().map(ToString::to_string),
                    attributes: n
                        .attributes
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                })
                .collect(),
            kibana: s.kibana.as_ref().map(|k| KibanaView {
                count: k.count,
                cpu_millis: k.cpu_millis,
                memory_mib: k.memory_mib,
            }),
            http_tls: s.http_tls,
            ip_allow_list: s.ip_allow_list.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A cluster spec in a request. Sizes are validated against the platform's bounds and the tenant's quota.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecRequest {
    /// Elasticsearch version: one of `GET /versions`.
    #[schema(example = "9.2.1", pattern = "^[0-9]+\\.[0-9]+\\.[0-9]+$")]
    pub version: String,
    /// Node sets (at least one master-eligible and one holding data).
    pub node_sets: Vec<NodeSetRequest>,
    /// Kibana (absent or `null`: none).
    #[serde(default)]
    pub kibana: Option<KibanaRequest>,
    /// HTTPS on the HTTP endpoints (default `true`).
    #[serde(default)]
    pub http_tls: Option<bool>,
    /// IP allow-list of the external endpoints: IPv4/IPv6 networks in CIDR notation or single addresses,
    /// at most 32 (absent or empty: open to anyone who can reach the endpoints).
    #[serde(default)]
    #[schema(max_items = 32, example = json!(["203.0.113.0/24"]))]
    pub ip_allow_list: Option<Vec<String>>,
}

/// A node set in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeSetRequest {
    /// Name: lowercase letters, digits and `-`, at most 23 characters.
    #[schema(
        example = "default",
        pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        max_length = 23
    )]
    pub name: String,
    /// Roles (at least one; `coordinating` for a node without roles).
    #[schema(min_items = 1)]
    pub roles: Vec<NodeRoleName>,
    /// Nodes.
    #[schema(example = 3)]
    pub count: u32,
    /// CPU per node, millicores.
    #[schema(example = 1000)]
    pub cpu_millis: u32,
    /// Memory per node, MiB.
    #[schema(example = 2048)]
    pub memory_mib: u32,
    /// Storage per node, GiB (can grow, never shrink).
    #[schema(example = 10)]
    pub storage_gib: u32,
    /// Storage class (absent: the Kubernetes default).
    #[serde(default)]
    pub storage_class: Option<String>,
    /// Node attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Kibana in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KibanaRequest {
    /// Instances.
    pub count: u32,
    /// CPU per instance, millicores.
    pub cpu_millis: u32,
    /// Memory per instance, MiB.
    pub memory_mib: u32,
}

impl NodeSetRequest {
    /// The domain's unvalidated form of this node set.
    pub fn to_input(&self) -> NodeSetInput {
        NodeSetInput {
            name: self.name.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            count: Some(NumberInput::from(self.count)),
            cpu_millis: Some(NumberInput::from(self.cpu_millis)),
            memory_mib: Some(NumberInput::from(self.memory_mib)),
            storage_gib: Some(NumberInput::from(self.storage_gib)),
            storage_class: self.storage_class.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

impl KibanaRequest {
    /// The domain's unvalidated form.
    pub fn to_input(&self) -> KibanaInput {
        KibanaInput {
            count: Some(NumberInput::from(self.count)),
            cpu_millis: Some(NumberInput::from(self.cpu_millis)),
            memory_mib: Some(NumberInput::from(self.memory_mib)),
        }
    }
}

impl SpecRequest {
    /// The domain's unvalidated form.
    pub fn to_input(&self) -> ClusterSpecInput {
        ClusterSpecInput {
            version: self.version.clone(),
            node_sets: self
                .node_sets
                .iter()
                .map(NodeSetRequest::to_input)
                .collect(),
            kibana: self.kibana.as_ref().map(KibanaRequest::to_input),
            http_tls: self.http_tls,
            ip_allow_list: self.ip_allow_list.clone(),
        }
    }
}
