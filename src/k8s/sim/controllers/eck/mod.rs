//! The ECK-like operator: reconciles Elasticsearch and Kibana custom resources (handled as `DynamicObject`
//! JSON, independent of any typed ECK structs) into StatefulSets, Deployments, Services and Secrets, rolls pods
//! one at a time on template changes, and reports ECK-style status through `/status`.

pub mod es;
mod es_render;
mod es_status;
pub mod http_certs;
pub mod kibana;

use kube::core::{ApiResource, GroupVersionKind};

/// Field manager of everything the simulated operator writes.
pub const MANAGER: &str = "elastic-operator";

/// `common.k8s.elastic.co/type`.
pub const TYPE_LABEL: &str = "common.k8s.elastic.co/type";
/// `elasticsearch.k8s.elastic.co/cluster-name`.
pub const CLUSTER_LABEL: &str = "elasticsearch.k8s.elastic.co/cluster-name";
/// `elasticsearch.k8s.elastic.co/statefulset-name`.
pub const STS_LABEL: &str = "elasticsearch.k8s.elastic.co/statefulset-name";
/// `elasticsearch.k8s.elastic.co/version`.
pub const VERSION_LABEL: &str = "elasticsearch.k8s.elastic.co/version";
/// Annotation whose change restarts every pod.
pub const RESTART_TRIGGER: &str = "eck.k8s.elastic.co/restart-trigger";

/// The Elasticsearch custom resource.
pub fn es_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("elasticsearch.k8s.elastic.co", "v1", "Elasticsearch"),
        "elasticsearches",
    )
}

/// The Kibana custom resource.
pub fn kibana_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kibana.k8s.elastic.co", "v1", "Kibana"),
        "kibanas",
    )
}

/// Compare dotted versions numerically (`8.10.0` > `8.9.1`).
pub fn version_key(v: &str) -> Vec<u64> {
    v.split(['.', '-'])
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}
