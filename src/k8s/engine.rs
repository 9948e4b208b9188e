//! The engine seam: how a cluster becomes Kubernetes objects and how those objects say how it is. The
//! reconciler, the observer and the resync (`crate::controller`) know only this: a [`Plan`] of objects to
//! apply and to delete, an [`Observation`] of a watched object, whether a change [`Engine::is_done`], and
//! where a cluster answers. Each cluster names its engine (`clusters.engine`); [`by_name`] finds it.
//!
//! ECK is the engine today ([`crate::k8s::eck::engine::Eck`]); an engine that orchestrates plain
//! StatefulSets itself fills the same trait without touching `controller/`, `operations/` or `clusters/`. The tenant's own
//! objects (namespace, resource quota, network policy) are the same whatever the engines of its clusters.

use kube::api::ApiResource;
use serde_json::Value;
use uuid::Uuid;

use crate::k8s::apply::{DesiredObject, ObjectKey};
use crate::k8s::eck::{self, engine::Eck};
use crate::k8s::expose::Exposure;
use crate::k8s::labels;
use crate::k8s::portal_user::PortalPassword;
use crate::spec::ClusterSpec;
use crate::tenants::quota::Resources;

/// Identity of one cluster for planning.
#[derive(Debug, Clone)]
pub struct ClusterRef {
    /// Cluster id.
    pub id: Uuid,
    /// Tenant slug.
    pub tenant_slug: String,
    /// Cluster name.
    pub name: String,
    /// Current restart-trigger value.
    pub restart_trigger: Option<String>,
    /// The password of the portal's own Elasticsearch user of this cluster.
    pub portal_user_password: PortalPassword,
    /// How the platform exposes clusters (`ESAAS_EXPOSE`).
    pub exposure: Exposure,
}

/// One step of a plan.
#[derive(Debug, Clone)]
pub enum Step {
    /// Apply the object (server-side apply).
    Apply(DesiredObject),
    /// Delete the object of this kind, namespace and name if it exists.
    Delete(DesiredObject),
}

/// What to do in Kubernetes, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The steps, in the order they must run.
    pub steps: Vec<Step>,
    /// What the plan does, for the operation's log (`applied Elasticsearch and Kibana`).
    pub summary: String,
}

impl Plan {
    /// The objects to apply, in order.
    pub fn applied(&self) -> impl Iterator<Item = &DesiredObject> {
        self.steps.iter().filter_map(|s| match s {
            Step::Apply(o) => Some(o),
            Step::Delete(_) => None,
        })
    }
}

/// The status of a cluster as its engine's primary object tells it, in the portal's words.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedStatus {
    /// `green`, `yellow`, `red` or `unknown`.
    pub health: String,
    /// The engine's own word for where it is (`Ready`, `ApplyingChanges`, ...), empty when it says none.
    pub phase: String,
    /// Ready Elasticsearch nodes.
    pub available_nodes: i32,
    /// Elasticsearch nodes the object asks for.
    pub desired_nodes: i32,
    /// Lowest Elasticsearch version running, empty when unknown.
    pub version: String,
    /// The object's generation this status describes.
    pub observed_generation: Option<i64>,
    /// The object's current generation.
    pub generation: Option<i64>,
    /// Conditions as a JSON array (shown on the dashboard).
    pub conditions: Value,
    /// Changes in progress node by node, as a JSON object (shown on the dashboard).
    pub in_progress: Value,
}

/// What a watched object of an engine says.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The cluster's primary object: its status.
    Cluster(ObservedStatus),
    /// The cluster's Kibana: its health.
    Kibana {
        /// `green`, `yellow`, `red` or `unknown`.
        health: String,
    },
}

/// Where a cluster answers inside Kubernetes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalEndpoints {
    /// The Elasticsearch HTTP(S) endpoint.
    pub elasticsearch: String,
    /// The Kibana endpoint (whether or not the cluster has Kibana).
    pub kibana: String,
}

/// One way of running Elasticsearch on Kubernetes.
pub trait Engine: Send + Sync {
    /// Its name in `clusters.engine` (`eck`).
    fn name(&self) -> &'static str;
    /// Its name for people (`ECK`).
    fn label(&self) -> &'static str;
    /// The kinds of its objects the portal watches (beyond pods and services).
    fn watched(&self) -> Vec<ApiResource>;
    /// The kind of the object whose status is the cluster's, named after the cluster in the tenant
    /// namespace: its generation tracks changes, its absence means the cluster is gone.
    fn primary_kind(&self) -> &'static str;
    /// The objects of a live cluster to apply, and those to delete if present, in order.
    fn plan(&self, cluster: &ClusterRef, spec: &ClusterSpec) -> anyhow::Result<Plan>;
    /// The objects to delete to remove a cluster, in order.
    fn plan_delete(&self, tenant_slug: &str, cluster_name: &str) -> anyhow::Result<Plan>;
    /// What a watched object of kind `kind` says; `None` for kinds that are not this engine's.
    fn observe(&self, kind: &str, object: &Value) -> Option<Observation>;
    /// Whether the phase is the one of a cluster running its spec (no change under way).
    fn is_settled(&self, phase: &str) -> bool;
    /// Whether a change applied at `target_generation` is done.
    fn is_done(&self, target_generation: i64, status: &ObservedStatus) -> bool {
        self.is_settled(&status.phase)
            && status
                .observed_generation
                .is_some_and(|g| g >= target_generation)
    }
    /// Where the cluster answers inside Kubernetes.
    fn endpoints(&self, tenant_slug: &str, cluster_name: &str, tls: bool) -> InternalEndpoints;
    /// The Secret holding the password of the cluster's `elastic` user, and the key in it.
    fn elastic_user_secret(&self, cluster_name: &str) -> (String, &'static str);
    /// The key of the cluster's primary object.
    fn primary(&self, tenant_slug: &str, cluster_name: &str) -> ObjectKey {
        ObjectKey {
            kind: self.primary_kind().to_owned(),
            namespace: labels::namespace_name(tenant_slug),
            name: cluster_name.to_owned(),
        }
    }
}

static ECK: Eck = Eck;

/// Every engine the portal has.
pub fn all() -> [&'static dyn Engine; 1] {
    [&ECK]
}

/// The engine named `name` (`clusters.engine`).
pub fn by_name(name: &str) -> Option<&'static dyn Engine> {
    all().into_iter().find(|e| e.name() == name)
}

/// The engine of a cluster, as an error a caller can report when the name is unknown.
pub fn of_cluster(name: &str) -> anyhow::Result<&'static dyn Engine> {
    by_name(name).ok_or_else(|| anyhow::anyhow!("unknown engine `{name}`"))
}

/// The engine the portal gives new clusters.
pub fn default_engine() -> &'static dyn Engine {
    &ECK
}

/// What a watched object of any engine says (`None` for pods, services and the tenant's objects).
pub fn observe(kind: &str, object: &Value) -> Option<(&'static dyn Engine, Observation)> {
    all()
        .into_iter()
        .find_map(|e| e.observe(kind, object).map(|o| (e, o)))
}

/// Whether `kind` is the primary kind of some engine.
pub fn is_primary_kind(kind: &str) -> bool {
    all().into_iter().any(|e| e.primary_kind() == kind)
}

/// The namespace, resource quota and network policy of a tenant.
pub fn tenant_objects(
    tenant_slug: &str,
    quota_limits: &Resources,
) -> anyhow::Result<Vec<DesiredObject>> {
    let t = eck::render_tenant(tenant_slug, quota_limits);
    Ok(vec![
        DesiredObject::from_object(&t.namespace, "namespaces")?,
        DesiredObject::from_object(&t.resource_quota, "resourcequotas")?,
        DesiredObject::from_object(&t.network_policy, "networkpolicies")?,
    ])
}
