//! The JSON shapes of the API (answers and the cluster spec in requests), with their OpenAPI schemas.
//! Domain types stay free of API concerns; this module maps them to stable wire types, so a change inside
//! the domain does not silently change the API.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clusters::endpoints::Endpoint;
use crate::clusters::repo::{Cluster, PodRow};
use crate::clusters::state::StateKind;
use crate::k8s::expose::Exposure;
use crate::operations::model::{OperationKind, OperationState};
use crate::operations::repo::{Operation, TenantOperation};
use crate::spec::{
    ClusterSpec, ClusterSpecInput, KibanaInput, NodeRole, NodeSetInput, NumberInput,
};
use crate::tenants::Role;
use crate::tenants::quota::Resources;

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

/// A member's role in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Everything, including managing owners.
    Owner,
    /// Everything except touching owners.
    Admin,
    /// Requests and changes clusters; sees credentials.
    Member,
    /// Reads only.
    Viewer,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::Member => Self::Member,
            Role::Viewer => Self::Viewer,
        }
    }
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Owner => Role::Owner,
            RoleName::Admin => Role::Admin,
            RoleName::Member => Role::Member,
            RoleName::Viewer => Role::Viewer,
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

/// Totals a cluster takes from its tenant's quota.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct ClusterResources {
    /// Elasticsearch nodes.
    pub nodes: i64,
    /// CPU, millicores (nodes and Kibana).
    pub cpu_millis: i64,
    /// Memory, MiB (nodes and Kibana).
    pub memory_mib: i64,
    /// Storage, GiB.
    pub storage_gib: i64,
}

/// What the observer last saw of a cluster in Kubernetes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClusterStatus {
    /// `green`, `yellow`, `red` or `unknown`.
    pub health: String,
    /// ECK phase (`Ready`, `ApplyingChanges`, ...), empty before the first observation.
    pub phase: String,
    /// Ready Elasticsearch nodes.
    pub available_nodes: i32,
    /// Nodes in the desired spec.
    pub desired_nodes: i64,
    /// Version the nodes run.
    pub observed_version: String,
    /// Desired generation (the `ETag`).
    pub generation: i64,
    /// Generation last applied to Kubernetes.
    pub applied_generation: i64,
    /// Generation ECK last reconciled.
    pub observed_generation: i64,
    /// Kibana health (empty without Kibana).
    pub kibana_health: String,
    /// When the status was last written (`null`: never observed).
    pub observed_at: Option<DateTime<Utc>>,
    /// ECK's conditions.
    pub conditions: serde_json::Value,
    /// ECK's in-progress operations.
    pub in_progress: serde_json::Value,
}

/// A cluster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClusterView {
    /// Name (unique in the tenant).
    pub name: String,
    /// Tenant slug.
    pub tenant: String,
    /// Engine (`eck`).
    pub engine: String,
    /// Desired generation: bumped by every accepted change; the `ETag` is `"<generation>"`.
    pub generation: i64,
    /// Held to production rules (odd number of master-eligible nodes).
    pub production: bool,
    /// Deletion is refused while on.
    pub deletion_protection: bool,
    /// A delete was accepted.
    pub deleting: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Creator's email.
    pub created_by: Option<String>,
    /// In-cluster HTTP endpoint (the same as `endpoints.elasticsearch.internal`).
    pub endpoint: String,
    /// Where Elasticsearch and Kibana are reached, inside Kubernetes and from outside.
    pub endpoints: EndpointsView,
    /// Desired spec.
    pub spec: SpecView,
    /// Quota footprint.
    pub resources: ClusterResources,
    /// Observed status.
    pub status: ClusterStatus,
    /// The state in people's words (the same the web pages show): `creating`, `ready`, `changing`,
    /// `degraded` (yellow, or nodes missing), `unavailable` (red, or no status), `stalled`, `deleting`.
    pub state: ClusterStateName,
    /// What the state means now: what is changing, why it is stalled, how many nodes are ready while
    /// creating, what is missing; empty when `ready`. Example: `scaling node set data to 5 nodes`.
    pub state_detail: String,
}

/// A cluster's state (see `ClusterView.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClusterStateName {
    /// Being created.
    Creating,
    /// Green, every node ready, nothing in progress.
    Ready,
    /// A change is being applied.
    Changing,
    /// Yellow, or fewer nodes ready than requested.
    Degraded,
    /// Red, health unknown, or no status yet.
    Unavailable,
    /// An operation made no progress for too long.
    Stalled,
    /// A delete was accepted.
    Deleting,
}

impl From<StateKind> for ClusterStateName {
    fn from(k: StateKind) -> Self {
        match k {
            StateKind::Creating => Self::Creating,
            StateKind::Ready => Self::Ready,
            StateKind::Changing => Self::Changing,
            StateKind::Degraded => Self::Degraded,
            StateKind::Unavailable => Self::Unavailable,
            StateKind::Stalled => Self::Stalled,
            StateKind::Deleting => Self::Deleting,
        }
    }
}

/// One HTTP endpoint of a cluster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EndpointView {
    /// Inside Kubernetes (the Service's `.svc` name).
    #[schema(example = "https://logs-es-http.esaas-acme.svc:9200")]
    pub internal: String,
    /// From outside Kubernetes: `null` when the platform keeps clusters internal, or while a load balancer
    /// has no address yet.
    #[schema(example = "https://logs-acme.search.example.com")]
    pub external: Option<String>,
}

/// A cluster's endpoints.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EndpointsView {
    /// Elasticsearch's HTTP API.
    pub elasticsearch: EndpointView,
    /// Kibana (`null`: the cluster has no Kibana).
    pub kibana: Option<EndpointView>,
}

impl From<Endpoint> for EndpointView {
    fn from(e: Endpoint) -> Self {
        Self {
            internal: e.internal,
            external: e.external,
        }
    }
}

impl ClusterView {
    /// The view of a cluster of tenant `tenant_slug`, with its endpoints under the platform's `exposure`.
    pub fn new(c: &Cluster, tenant_slug: &str, exposure: &Exposure) -> Self {
        let endpoints = crate::clusters::endpoints::of(exposure, tenant_slug, c);
        let endpoint = endpoints.elasticsearch.internal.clone();
        let state = c.state();
        Self {
            endpoints: EndpointsView {
                elasticsearch: endpoints.elasticsearch.into(),
                kibana: endpoints.kibana.map(Into::into),
            },
            name: c.name.clone(),
            tenant: tenant_slug.to_owned(),
            engine: c.engine.clone(),
            generation: c.generation,
            production: c.production,
            deletion_protection: c.deletion_protection,
            deleting: c.deleting,
            created_at: c.created_at,
            created_by: c.created_by_email.clone(),
            endpoint,
            spec: SpecView::from(&c.spec),
            resources: ClusterResources {
                nodes: c.resources.nodes,
                cpu_millis: c.resources.cpu_millis,
                memory_mib: c.resources.memory_mib,
                storage_gib: c.resources.storage_gib,
            },
            status: ClusterStatus::new(c),
            state: state.kind.into(),
            state_detail: state.detail,
        }
    }
}

impl ClusterStatus {
    /// The status block of a cluster.
    pub fn new(c: &Cluster) -> Self {
        Self {
            health: c.status.health.clone(),
            phase: c.status.phase.clone(),
            available_nodes: c.status.available_nodes,
            desired_nodes: c.resources.nodes,
            observed_version: c.status.observed_version.clone(),
            generation: c.generation,
            applied_generation: c.applied_generation,
            observed_generation: c.status.observed_generation,
            kibana_health: c.status.kibana_health.clone(),
            observed_at: c.status.observed_at,
            conditions: c.status.conditions.clone(),
            in_progress: c.status.in_progress.clone(),
        }
    }
}

/// A page of clusters.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClusterPage {
    /// Clusters, by name.
    pub items: Vec<ClusterView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A pod of a cluster as the observer last saw it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PodView {
    /// Pod name.
    pub name: String,
    /// Node set (empty for Kibana).
    pub node_set: String,
    /// `elasticsearch` or `kibana`.
    pub component: String,
    /// Kubernetes phase.
    pub phase: String,
    /// Ready.
    pub ready: bool,
    /// Container restarts.
    pub restarts: i32,
    /// Kubernetes node.
    pub node_name: String,
    /// Why it is not ready.
    pub reason: String,
    /// Start time.
    pub started_at: Option<DateTime<Utc>>,
    /// When last observed.
    pub observed_at: DateTime<Utc>,
}

impl From<PodRow> for PodView {
    fn from(p: PodRow) -> Self {
        Self {
            name: p.name,
            node_set: p.node_set,
            component: p.component,
            phase: p.phase,
            ready: p.ready,
            restarts: p.restarts,
            node_name: p.node_name,
            reason: p.reason,
            started_at: p.started_at,
            observed_at: p.observed_at,
        }
    }
}

/// The pods of a cluster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PodList {
    /// Pods, Elasticsearch first, by name.
    pub items: Vec<PodView>,
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperationKindName {
    /// Create the cluster.
    Create,
    /// Change node counts.
    Scale,
    /// Change CPU, memory, storage.
    Resize,
    /// Rolling restart.
    Restart,
    /// Change the version.
    Upgrade,
    /// Other spec changes.
    Reconfigure,
    /// Remove the cluster.
    Delete,
}

impl From<OperationKind> for OperationKindName {
    fn from(k: OperationKind) -> Self {
        match k {
            OperationKind::Create => Self::Create,
            OperationKind::Scale => Self::Scale,
            OperationKind::Resize => Self::Resize,
            OperationKind::Restart => Self::Restart,
            OperationKind::Upgrade => Self::Upgrade,
            OperationKind::Reconfigure => Self::Reconfigure,
            OperationKind::Delete => Self::Delete,
        }
    }
}

/// Where an operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperationStateName {
    /// Recorded, not picked up yet.
    Pending,
    /// Being applied to Kubernetes.
    Applying,
    /// Applied; waiting for the cluster to be Ready at the new generation.
    Waiting,
    /// Done.
    Succeeded,
    /// Given up (`last_error` says why).
    Failed,
    /// Cancelled by a user (its change is rolled back), or ended by a delete ("superseded by delete").
    Cancelled,
    /// Replaced, while waiting or stalled, by a newer scale, resize, reconfigure or upgrade.
    Superseded,
}

impl From<OperationState> for OperationStateName {
    fn from(s: OperationState) -> Self {
        match s {
            OperationState::Pending => Self::Pending,
            OperationState::Applying => Self::Applying,
            OperationState::Waiting => Self::Waiting,
            OperationState::Succeeded => Self::Succeeded,
            OperationState::Failed => Self::Failed,
            OperationState::Cancelled => Self::Cancelled,
            OperationState::Superseded => Self::Superseded,
        }
    }
}

/// One entry of an operation's progress log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepView {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub message: String,
}

/// An operation: a requested change and its progress.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OperationView {
    /// Id.
    pub id: Uuid,
    /// Tenant slug.
    pub tenant: String,
    /// Cluster name.
    pub cluster: String,
    /// What it does.
    pub kind: OperationKindName,
    /// Where it is; `succeeded`, `failed`, `cancelled` and `superseded` are final.
    pub state: OperationStateName,
    /// True once the state is final.
    pub done: bool,
    /// Request parameters (depend on the kind).
    pub params: serde_json::Value,
    /// The cluster generation this operation produces.
    pub target_generation: i64,
    /// Progress log.
    pub steps: Vec<StepView>,
    /// The last error (a Kubernetes error while retrying, or why it failed).
    pub last_error: Option<String>,
    /// Why it seems stuck, when no progress was seen for a while.
    pub stalled_reason: Option<String>,
    /// Apply attempts so far.
    pub attempts: i32,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// Requested at.
    pub created_at: DateTime<Utc>,
    /// First picked up at.
    pub started_at: Option<DateTime<Utc>>,
    /// Applied to Kubernetes at.
    pub applied_at: Option<DateTime<Utc>>,
    /// Finished at.
    pub finished_at: Option<DateTime<Utc>>,
}

impl OperationView {
    /// The view of an operation on cluster `cluster` of tenant `tenant`.
    pub fn new(op: &Operation, tenant: &str, cluster: &str) -> Self {
        Self {
            id: op.id,
            tenant: tenant.to_owned(),
            cluster: cluster.to_owned(),
            kind: op.kind.into(),
            state: op.state.into(),
            done: !op.state.is_active(),
            params: op.params.clone(),
            target_generation: op.target_generation,
            steps: op
                .steps
                .iter()
                .map(|s| StepView {
                    at: s.at,
                    message: s.message.clone(),
                })
                .collect(),
            last_error: op.last_error.clone(),
            stalled_reason: op.stalled_reason.clone(),
            attempts: op.attempts,
            requested_by: op.requested_by,
            created_at: op.created_at,
            started_at: op.started_at,
            applied_at: op.applied_at,
            finished_at: op.finished_at,
        }
    }

    /// The view of an entry of a tenant's operations page.
    pub fn listed(op: TenantOperation, tenant: &str) -> Self {
        Self {
            id: op.id,
            tenant: tenant.to_owned(),
            cluster: op.cluster,
            kind: op.kind.into(),
            state: op.state.into(),
            done: !op.state.is_active(),
            params: op.params,
            target_generation: op.target_generation,
            steps: op
                .steps
                .into_iter()
                .map(|s| StepView {
                    at: s.at,
                    message: s.message,
                })
                .collect(),
            last_error: op.last_error,
            stalled_reason: op.stalled_reason,
            attempts: op.attempts,
            requested_by: op.requested_by,
            created_at: op.created_at,
            started_at: op.started_at,
            applied_at: op.applied_at,
            finished_at: op.finished_at,
        }
    }
}

/// A page of operations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OperationPage {
    /// Operations, newest first.
    pub items: Vec<OperationView>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Quota limits of a tenant (also the body of `PUT .../quota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaLimits {
    /// Most clusters.
    #[schema(example = 5, minimum = 0, maximum = 10_000)]
    pub max_clusters: i64,
    /// Most Elasticsearch nodes.
    #[schema(example = 20, minimum = 0, maximum = 100_000)]
    pub max_nodes: i64,
    /// Most CPU, millicores.
    #[schema(example = 20000, minimum = 0, maximum = 1_000_000_000)]
    pub max_cpu_millis: i64,
    /// Most memory, MiB.
    #[schema(example = 65536, minimum = 0, maximum = 1_000_000_000)]
    pub max_memory_mib: i64,
    /// Most storage, GiB.
    #[schema(example = 1000, minimum = 0, maximum = 1_000_000_000)]
    pub max_storage_gib: i64,
}

impl From<Resources> for QuotaLimits {
    fn from(r: Resources) -> Self {
        Self {
            max_clusters: r.clusters,
            max_nodes: r.nodes,
            max_cpu_millis: r.cpu_millis,
            max_memory_mib: r.memory_mib,
            max_storage_gib: r.storage_gib,
        }
    }
}

impl From<QuotaLimits> for Resources {
    fn from(q: QuotaLimits) -> Self {
        Resources {
            clusters: q.max_clusters,
            nodes: q.max_nodes,
            cpu_millis: q.max_cpu_millis,
            memory_mib: q.max_memory_mib,
            storage_gib: q.max_storage_gib,
        }
    }
}

/// Resource usage of a tenant, summed over its live clusters' desired specs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    /// Live clusters.
    pub clusters: i64,
    /// Elasticsearch nodes.
    pub nodes: i64,
    /// CPU, millicores.
    pub cpu_millis: i64,
    /// Memory, MiB.
    pub memory_mib: i64,
    /// Storage, GiB.
    pub storage_gib: i64,
}

impl From<Resources> for Usage {
    fn from(r: Resources) -> Self {
        Self {
            clusters: r.clusters,
            nodes: r.nodes,
            cpu_millis: r.cpu_millis,
            memory_mib: r.memory_mib,
            storage_gib: r.storage_gib,
        }
    }
}

/// A tenant's quota: limits, usage, and the dimensions above their limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotaView {
    /// Limits.
    pub limits: QuotaLimits,
    /// Usage.
    pub usage: Usage,
    /// Dimensions (`clusters`, `nodes`, `cpu_millis`, `memory_mib`, `storage_gib`) whose usage is above the
    /// limit (after a limit was lowered): growth there is refused until usage drops.
    pub over_limit: Vec<String>,
}

/// A tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantView {
    /// Id.
    pub id: Uuid,
    /// Slug (URL segment).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Your role in it (`null`: you see it as a platform admin, not a member).
    pub role: Option<RoleName>,
    /// Quota limits.
    pub limits: QuotaLimits,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of name or limits.
    pub updated_at: DateTime<Utc>,
}

/// The tenants you can see.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantList {
    /// Tenants, by name.
    pub items: Vec<TenantView>,
}

/// A member of a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// User id.
    pub user_id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: RoleName,
    /// The account is disabled.
    pub disabled: bool,
    /// Joined at.
    pub created_at: DateTime<Utc>,
}

/// The members of a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    /// Members, owners first.
    pub items: Vec<MemberView>,
}
