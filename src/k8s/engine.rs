//! The engine seam: what Kubernetes objects a tenant and a cluster should have, as [`DesiredObject`]s the
//! reconciler applies and the resync compares. ECK is the engine today (`crate::k8s::eck`); a native
//! StatefulSet engine would produce its own objects behind the same two functions.

use uuid::Uuid;

use crate::clusters::spec::ClusterSpec;
use crate::elasticsearch::portal_user::PortalPassword;
use crate::k8s::apply::{DesiredObject, ObjectKey};
use crate::k8s::eck::{self, RenderContext};
use crate::k8s::expose::Exposure;
use crate::k8s::labels;
use crate::tenants::quota::Resources;

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

/// Identity of one cluster for rendering.
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

/// The objects of one cluster: the Elasticsearch resource, and the Kibana one when the spec asks for it.
pub struct ClusterObjects {
    /// Elasticsearch.
    pub elasticsearch: DesiredObject,
    /// Kibana, when asked for.
    pub kibana: Option<DesiredObject>,
    /// The Secret of the portal's own Elasticsearch user.
    pub portal_user: DesiredObject,
    /// The Ingress, when clusters are exposed through one (absent: any existing one is deleted).
    pub ingress: Option<DesiredObject>,
    /// The traffic filter NetworkPolicy, when clusters are exposed through load balancers (absent: any
    /// existing one is deleted).
    pub traffic_filter: Option<DesiredObject>,
}

/// Render a cluster's objects.
pub fn cluster_objects(cluster: &ClusterRef, spec: &ClusterSpec) -> anyhow::Result<ClusterObjects> {
    let ctx = RenderContext {
        tenant_slug: cluster.tenant_slug.clone(),
        cluster_name: cluster.name.clone(),
        cluster_id: cluster.id,
        restart_trigger: cluster.restart_trigger.clone(),
        portal_user_password: cluster.portal_user_password.clone(),
        exposure: cluster.exposure.clone(),
    };
    let rendered = eck::render(&ctx, spec);
    Ok(ClusterObjects {
        elasticsearch: DesiredObject::from_object(&rendered.elasticsearch, "elasticsearches")?,
        kibana: rendered
            .kibana
            .as_ref()
            .map(|k| DesiredObject::from_object(k, "kibanas"))
            .transpose()?,
        portal_user: DesiredObject::from_object(&rendered.portal_user, "secrets")?,
        ingress: rendered
            .ingress
            .as_ref()
            .map(|i| DesiredObject::from_object(i, "ingresses"))
            .transpose()?,
        traffic_filter: rendered
            .traffic_filter
            .as_ref()
            .map(|p| DesiredObject::from_object(p, "networkpolicies"))
            .transpose()?,
    })
}

/// The Ingress of a cluster, to delete (with the cluster, or when the platform stops using Ingresses).
pub fn ingress_for_deletion(
    tenant_slug: &str,
    cluster_name: &str,
) -> anyhow::Result<DesiredObject> {
    DesiredObject::from_object(
        &serde_json::json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": { "name": cluster_name, "namespace": labels::namespace_name(tenant_slug) }
        }),
        "ingresses",
    )
}

/// The traffic filter NetworkPolicy of a cluster, to delete.
pub fn traffic_filter_for_deletion(
    tenant_slug: &str,
    cluster_name: &str,
) -> anyhow::Result<DesiredObject> {
    DesiredObject::from_object(
        &serde_json::json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {
                "name": eck::traffic_filter::policy_name(cluster_name),
                "namespace": labels::namespace_name(tenant_slug)
            }
        }),
        "networkpolicies",
    )
}

/// The exposure objects of a cluster with what to do about each: apply the rendered one, or delete the
/// one of that name when none is rendered (so a change of `ESAAS_EXPOSE` cleans up after itself).
pub fn exposure_objects(
    objects: &ClusterObjects,
    tenant_slug: &str,
    cluster_name: &str,
) -> anyhow::Result<Vec<Exposed>> {
    let ingress = match &objects.ingress {
        Some(o) => Exposed::Apply(o.clone()),
        None => Exposed::Delete(ingress_for_deletion(tenant_slug, cluster_name)?),
    };
    let policy = match &objects.traffic_filter {
        Some(o) => Exposed::Apply(o.clone()),
        None => Exposed::Delete(traffic_filter_for_deletion(tenant_slug, cluster_name)?),
    };
    Ok(vec![ingress, policy])
}

/// What to do with one exposure object.
#[derive(Debug, Clone)]
pub enum Exposed {
    /// Apply it.
    Apply(DesiredObject),
    /// Delete it if present.
    Delete(DesiredObject),
}

/// Keys of a cluster's custom resources (for deletion and for finding them in the watch cache).
pub fn cluster_keys(tenant_slug: &str, cluster_name: &str) -> (ObjectKey, ObjectKey) {
    let namespace = labels::namespace_name(tenant_slug);
    (
        ObjectKey {
            kind: "Elasticsearch".into(),
            namespace: namespace.clone(),
            name: cluster_name.to_owned(),
        },
        ObjectKey {
            kind: "Kibana".into(),
            namespace,
            name: cluster_name.to_owned(),
        },
    )
}

/// A Kibana object to delete (when a cluster drops Kibana or is deleted): name and namespace are enough.
pub fn kibana_for_deletion(tenant_slug: &str, cluster_name: &str) -> anyhow::Result<DesiredObject> {
    DesiredObject::from_object(
        &serde_json::json!({
            "apiVersion": "kibana.k8s.elastic.co/v1", "kind": "Kibana",
            "metadata": { "name": cluster_name, "namespace": labels::namespace_name(tenant_slug) }
        }),
        "kibanas",
    )
}

/// An Elasticsearch object to delete.
pub fn elasticsearch_for_deletion(
    tenant_slug: &str,
    cluster_name: &str,
) -> anyhow::Result<DesiredObject> {
    DesiredObject::from_object(
        &serde_json::json!({
            "apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
            "metadata": { "name": cluster_name, "namespace": labels::namespace_name(tenant_slug) }
        }),
        "elasticsearches",
    )
}

/// The portal user's Secret of a cluster, to delete with the cluster.
pub fn portal_user_for_deletion(
    tenant_slug: &str,
    cluster_name: &str,
) -> anyhow::Result<DesiredObject> {
    DesiredObject::from_object(
        &serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {
                "name": crate::elasticsearch::portal_user::secret_name(cluster_name),
                "namespace": labels::namespace_name(tenant_slug)
            }
        }),
        "secrets",
    )
}
