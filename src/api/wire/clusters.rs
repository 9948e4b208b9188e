//! Clusters on the wire: the cluster, its status, state, endpoints, resources, pods and pages of clusters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::spec::SpecView;
use crate::clusters::endpoints::Endpoint;
use crate::clusters::repo::Cluster;
use crate::clusters::repo::PodRow;
use crate::clusters::state::StateKind;
use crate::k8s::expose::Exposure;

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
