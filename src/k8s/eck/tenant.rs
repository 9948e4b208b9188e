//! Renders a tenant's Kubernetes home: its namespace, a `ResourceQuota` mirroring the tenant quota (defence
//! in depth: the portal's own quota check in Postgres is the exact one) and a `NetworkPolicy` keeping other
//! tenants out. Engine-independent; it lives with the ECK engine because that is the only engine so far.
//!
//! Decisions:
//! - ResourceQuota `esaas-tenant-quota`: `requests/limits.cpu` and `requests/limits.memory` are the quota plus
//!   [`QUOTA_HEADROOM_PERCENT`], because a Kibana Deployment rolling update briefly runs one extra pod (and a
//!   stuck rollout is worse than a few percent of slack); `requests.storage` and the object counts
//!   (`count/elasticsearches...`, `count/kibanas...`, at most one Kibana per cluster) are exact.
//! - NetworkPolicy `esaas-tenant-isolation` selects every pod of the namespace and allows ingress only from
//!   (a) pods of the same namespace (Kibana to Elasticsearch, node to node), (b) namespaces labelled
//!   `esaas.io/platform-access=true` (the portal itself, the ingress controller, monitoring: label them
//!   when installing), and (c) the ECK operator's namespace `elastic-system`, which must reach
//!   Elasticsearch's HTTP port to manage the cluster. Egress stays open (snapshots to object storage).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Namespace, ResourceQuota, ResourceQuotaSpec};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;

use super::quantity;
use crate::k8s::labels;
use crate::tenants::quota::Resources;

/// Name of the tenant's ResourceQuota.
pub const RESOURCE_QUOTA_NAME: &str = "esaas-tenant-quota";
/// Name of the tenant's NetworkPolicy.
pub const NETWORK_POLICY_NAME: &str = "esaas-tenant-isolation";
/// Namespace of the ECK operator (its default install namespace).
pub const ECK_OPERATOR_NAMESPACE: &str = "elastic-system";
/// Extra CPU and memory allowed by the ResourceQuota over the tenant quota, in percent.
pub const QUOTA_HEADROOM_PERCENT: i64 = 10;

/// The Kubernetes objects of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedTenant {
    /// `esaas-<slug>`.
    pub namespace: Namespace,
    /// Mirror of the tenant quota.
    pub resource_quota: ResourceQuota,
    /// Isolation from other tenants.
    pub network_policy: NetworkPolicy,
}

/// Renders the namespace, quota and network policy of tenant `tenant_slug` with quota `quota_limits`.
pub fn render_tenant(tenant_slug: &str, quota_limits: &Resources) -> RenderedTenant {
    let namespace = labels::namespace_name(tenant_slug);
    let meta = |name: &str, namespaced: bool| ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespaced.then(|| namespace.clone()),
        labels: Some(labels::tenant_labels(tenant_slug)),
        ..ObjectMeta::default()
    };

    let cpu = quantity::cpu(with_headroom(quota_limits.cpu_millis));
    let memory = quantity::memory_mib(with_headroom(quota_limits.memory_mib));
    let clusters = Quantity(quota_limits.clusters.max(0).to_string());
    let hard = BTreeMap::from([
        ("requests.cpu".to_owned(), cpu.clone()),
        ("limits.cpu".to_owned(), cpu),
        ("requests.memory".to_owned(), memory.clone()),
        ("limits.memory".to_owned(), memory),
        (
            "requests.storage".to_owned(),
            quantity::storage_gib(quota_limits.storage_gib.max(0)),
        ),
        (
            "count/elasticsearches.elasticsearch.k8s.elastic.co".to_owned(),
            clusters.clone(),
        ),
        ("count/kibanas.kibana.k8s.elastic.co".to_owned(), clusters),
    ]);

    let namespace_peer = |key: &str, value: &str| NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(key.to_owned(), value.to_owned())])),
            match_expressions: None,
        }),
        ..NetworkPolicyPeer::default()
    };

    RenderedTenant {
        namespace: Namespace {
            metadata: meta(&namespace, false),
            ..Namespace::default()
        },
        resource_quota: ResourceQuota {
            metadata: meta(RESOURCE_QUOTA_NAME, true),
            spec: Some(ResourceQuotaSpec {
                hard: Some(hard),
                ..ResourceQuotaSpec::default()
            }),
            status: None,
        },
        network_policy: NetworkPolicy {
            metadata: meta(NETWORK_POLICY_NAME, true),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector::default()),
                policy_types: Some(vec!["Ingress".to_owned()]),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: Some(vec![
                        NetworkPolicyPeer {
                            pod_selector: Some(LabelSelector::default()),
                            ..NetworkPolicyPeer::default()
                        },
                        namespace_peer(labels::PLATFORM_ACCESS, "true"),
                        namespace_peer("kubernetes.io/metadata.name", ECK_OPERATOR_NAMESPACE),
                    ]),
                    ports: None,
                }]),
                egress: None,
            }),
        },
    }
}

/// `value` plus [`QUOTA_HEADROOM_PERCENT`], rounded up; negative values count as zero.
fn with_headroom(value: i64) -> i64 {
    let value = value.max(0);
    value + (value * QUOTA_HEADROOM_PERCENT + 99) / 100
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota() -> Resources {
        Resources {
            clusters: 3,
            nodes: 12,
            cpu_millis: 12_000,
            memory_mib: 24_576,
            storage_gib: 500,
        }
    }

    #[test]
    fn quota_mirrors_the_tenant_quota_with_headroom() {
        let tenant = render_tenant("acme", &quota());
        let hard = tenant.resource_quota.spec.unwrap().hard.unwrap();
        assert_eq!(hard["requests.cpu"].0, "13200m");
        assert_eq!(hard["limits.memory"].0, "27034Mi");
        assert_eq!(hard["requests.storage"].0, "500Gi");
        assert_eq!(
            hard["count/elasticsearches.elasticsearch.k8s.elastic.co"].0,
            "3"
        );
    }

    #[test]
    fn everything_lives_in_the_tenant_namespace() {
        let tenant = render_tenant("acme", &quota());
        assert_eq!(
            tenant.namespace.metadata.name.as_deref(),
            Some("esaas-acme")
        );
        assert_eq!(tenant.namespace.metadata.namespace, None);
        assert_eq!(
            tenant.resource_quota.metadata.namespace.as_deref(),
            Some("esaas-acme")
        );
        assert_eq!(
            tenant.network_policy.metadata.namespace.as_deref(),
            Some("esaas-acme")
        );
        let labels = tenant.namespace.metadata.labels.unwrap();
        assert_eq!(labels[labels::TENANT], "acme");
    }

    #[test]
    fn headroom_rounds_up_and_ignores_negative_values() {
        assert_eq!(with_headroom(1000), 1100);
        assert_eq!(with_headroom(1), 2);
        assert_eq!(with_headroom(0), 0);
        assert_eq!(with_headroom(-5), 0);
    }
}
