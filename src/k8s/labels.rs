//! Labels and names on everything the portal creates in Kubernetes, and the label selectors the observer
//! watches with. Keep these stable: changing a key orphans existing objects.
//!
//! - `app.kubernetes.io/managed-by=esaas` and `app.kubernetes.io/part-of=esaas` on every object;
//! - `esaas.io/tenant=<slug>` on every object of a tenant (and on its namespace `esaas-<slug>`);
//! - `esaas.io/cluster=<name>` and `esaas.io/cluster-id=<uuid>` on every object of a cluster, plus
//!   `app.kubernetes.io/name` (`elasticsearch` or `kibana`) and, on Elasticsearch pods, `esaas.io/node-set`.
//!
//! The cluster id label lets the observer tell a cluster from an older, deleted one of the same name.
//! A tenant slug must be a DNS label of at most 57 characters so that `esaas-<slug>` is a valid namespace name.

use std::collections::BTreeMap;

use uuid::Uuid;

/// `app.kubernetes.io/managed-by`: who manages the object.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY`] (and the server-side apply field manager name).
pub const MANAGER: &str = "esaas";
/// `app.kubernetes.io/part-of`: the larger application.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// Value of [`PART_OF`].
pub const PRODUCT: &str = "esaas";
/// `app.kubernetes.io/name`: the application the object runs ([`Component`]).
pub const NAME: &str = "app.kubernetes.io/name";
/// The tenant slug.
pub const TENANT: &str = "esaas.io/tenant";
/// The cluster name (unique within a tenant).
pub const CLUSTER: &str = "esaas.io/cluster";
/// The cluster's id (UUID) in the portal database.
pub const CLUSTER_ID: &str = "esaas.io/cluster-id";
/// The node set of an Elasticsearch pod.
pub const NODE_SET: &str = "esaas.io/node-set";
/// Namespace label (value `"true"`) that lets a namespace reach every tenant namespace through the tenant
/// NetworkPolicy: put it on the portal's, the ingress controller's and the monitoring namespaces.
pub const PLATFORM_ACCESS: &str = "esaas.io/platform-access";
/// Prefix of tenant namespace names.
pub const NAMESPACE_PREFIX: &str = "esaas-";

/// The application an object belongs to, the value of [`NAME`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// Elasticsearch nodes.
    Elasticsearch,
    /// Kibana instances.
    Kibana,
}

impl Component {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Elasticsearch => "elasticsearch",
            Component::Kibana => "kibana",
        }
    }
}

/// The namespace of a tenant: `esaas-<slug>`.
pub fn namespace_name(tenant_slug: &str) -> String {
    format!("{NAMESPACE_PREFIX}{tenant_slug}")
}

/// Labels of objects that belong to a tenant but to no cluster (namespace, quota, network policy).
pub fn tenant_labels(tenant_slug: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (PART_OF.to_owned(), PRODUCT.to_owned()),
        (TENANT.to_owned(), tenant_slug.to_owned()),
    ])
}

/// Labels of the objects of one cluster.
pub fn cluster_labels(
    tenant_slug: &str,
    cluster_name: &str,
    cluster_id: Uuid,
    component: Component,
) -> BTreeMap<String, String> {
    let mut labels = tenant_labels(tenant_slug);
    labels.insert(CLUSTER.to_owned(), cluster_name.to_owned());
    labels.insert(CLUSTER_ID.to_owned(), cluster_id.to_string());
    labels.insert(NAME.to_owned(), component.as_str().to_owned());
    labels
}

/// Selector for everything the portal manages, in every namespace.
pub fn managed_selector() -> String {
    format!("{MANAGED_BY}={MANAGER}")
}

/// Selector for everything the portal manages for one tenant.
pub fn tenant_selector(tenant_slug: &str) -> String {
    format!("{},{TENANT}={tenant_slug}", managed_selector())
}

/// Selector for the objects of one cluster.
pub fn cluster_selector(tenant_slug: &str, cluster_name: &str) -> String {
    format!("{},{CLUSTER}={cluster_name}", tenant_selector(tenant_slug))
}

/// Which cluster an observed object belongs to, read back from its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIdentity {
    /// Tenant slug.
    pub tenant_slug: String,
    /// Cluster name.
    pub cluster_name: String,
    /// Cluster id, when the label is present and a valid UUID.
    pub cluster_id: Option<Uuid>,
}

/// The cluster identity of an object the portal manages, or `None` for objects it does not manage or that
/// belong to no cluster.
pub fn cluster_identity(labels: &BTreeMap<String, String>) -> Option<ClusterIdentity> {
    if labels.get(MANAGED_BY).map(String::as_str) != Some(MANAGER) {
        return None;
    }
    Some(ClusterIdentity {
        tenant_slug: labels.get(TENANT)?.clone(),
        cluster_name: labels.get(CLUSTER)?.clone(),
        cluster_id: labels
            .get(CLUSTER_ID)
            .and_then(|id| Uuid::parse_str(id).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Uuid {
        Uuid::parse_str("0190f5a4-0000-7000-8000-000000000001").unwrap()
    }

    #[test]
    fn namespace_is_prefixed() {
        assert_eq!(namespace_name("acme"), "esaas-acme");
    }

    #[test]
    fn cluster_labels_carry_tenant_cluster_and_component() {
        let labels = cluster_labels("acme", "logs", id(), Component::Kibana);
        assert_eq!(labels[MANAGED_BY], "esaas");
        assert_eq!(labels[PART_OF], "esaas");
        assert_eq!(labels[TENANT], "acme");
        assert_eq!(labels[CLUSTER], "logs");
        assert_eq!(labels[CLUSTER_ID], id().to_string());
        assert_eq!(labels[NAME], "kibana");
    }

    #[test]
    fn label_keys_and_values_are_valid_kubernetes_labels() {
        let value =
            regex::Regex::new(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$").unwrap();
        let key = regex::Regex::new(
            r"^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        )
        .unwrap();
        let longest_cluster = "c".repeat(36);
        for (k, v) in cluster_labels("acme", &longest_cluster, id(), Component::Elasticsearch) {
            assert!(key.is_match(&k), "{k}");
            assert!(value.is_match(&v), "{k}={v}");
        }
        assert!(key.is_match(PLATFORM_ACCESS) && key.is_match(NODE_SET));
    }

    #[test]
    fn selectors_narrow_down() {
        assert_eq!(managed_selector(), "app.kubernetes.io/managed-by=esaas");
        assert_eq!(
            tenant_selector("acme"),
            "app.kubernetes.io/managed-by=esaas,esaas.io/tenant=acme"
        );
        assert_eq!(
            cluster_selector("acme", "logs"),
            "app.kubernetes.io/managed-by=esaas,esaas.io/tenant=acme,esaas.io/cluster=logs"
        );
    }

    #[test]
    fn identity_is_read_back_from_labels() {
        let labels = cluster_labels("acme", "logs", id(), Component::Elasticsearch);
        let identity = cluster_identity(&labels).unwrap();
        assert_eq!(identity.tenant_slug, "acme");
        assert_eq!(identity.cluster_name, "logs");
        assert_eq!(identity.cluster_id, Some(id()));
        assert!(cluster_identity(&tenant_labels("acme")).is_none());
        let mut foreign = labels.clone();
        foreign.insert(MANAGED_BY.into(), "helm".into());
        assert!(cluster_identity(&foreign).is_none());
    }
}
