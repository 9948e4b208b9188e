//! The engine seam: what Kubernetes objects a tenant and a cluster should have, as [`DesiredObject`]s the
//! reconciler applies and the resync compares. ECK is the engine today (`crate::k8s::eck`); a native
//! StatefulSet engine would produce its own objects behind the same two functions.

use uuid::Uuid;

use crate::clusters::spec::ClusterSpec;
use crate::elasticsearch::portal_user::PortalPassword;
use crate::k8s::apply::{DesiredObject, ObjectKey};
use crate::k8s::eck::{self, RenderContext};
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
}

/// The objects of one cluster: the Elasticsearch resource, and the Kibana one when the spec asks for it.
pub struct ClusterObjects {
    /// Elasticsearch.
    pub elasticsearch: DesiredObject,
    /// Kibana, when asked for.
    pub kibana: Option<DesiredObject>,
    /// The Secret of the portal's own Elasticsearch user.
    pub portal_user: DesiredObject,
}

/// Render a cluster's objects.
pub fn cluster_objects(cluster: &ClusterRef, spec: &ClusterSpec) -> anyhow::Result<ClusterObjects> {
    let ctx = RenderContext {
        tenant_slug: cluster.tenant_slug.clone(),
        cluster_name: cluster.name.clone(),
        cluster_id: cluster.id,
        restart_trigger: cluster.restart_trigger.clone(),
        portal_user_password: cluster.portal_user_password.clone(),
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
    })
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
