//! Reading what the portal applied to the simulated Kubernetes.

use kube::api::{ApiResource, GroupVersionKind};

/// The ECK Elasticsearch custom resource (`elasticsearch.k8s.elastic.co/v1`, plural `elasticsearches`).
pub fn es_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("elasticsearch.k8s.elastic.co", "v1", "Elasticsearch"),
        "elasticsearches",
    )
}
