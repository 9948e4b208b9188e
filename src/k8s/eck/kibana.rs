//! The `Kibana` custom resource (`kibana.k8s.elastic.co/v1`), reduced to the fields the portal renders and
//! observes. Like [`super::elasticsearch`], unknown fields are ignored when reading live objects.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::common::{Condition, Health, HttpConfig, ObjectSelector};

/// `spec` of a Kibana resource.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "kibana.k8s.elastic.co",
    version = "v1",
    kind = "Kibana",
    plural = "kibanas",
    shortname = "kb",
    namespaced,
    status = "KibanaStatus",
    schema = "disabled",
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct KibanaSpec {
    /// Kibana version; always the Elasticsearch version.
    pub version: String,
    /// Number of instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    /// The Elasticsearch resource Kibana connects to (same namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elasticsearch_ref: Option<ObjectSelector>,
    /// HTTP endpoint settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpConfig>,
    /// Pod template: labels and the `kibana` container's resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplateSpec>,
}

/// `status` of a Kibana resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KibanaStatus {
    /// `green` when all instances are available, `red` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Number of available instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_nodes: Option<i32>,
    /// Number of instances (desired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    /// Lowest version running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// State of the association with Elasticsearch (`Established`, `Pending`, `Failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elasticsearch_association_status: Option<String>,
    /// Label selector of the Kibana pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Conditions, when ECK reports any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl KibanaStatus {
    /// When the latest condition changed, if ECK reported conditions with times.
    pub fn last_transition(&self) -> Option<DateTime<Utc>> {
        self.conditions
            .iter()
            .filter_map(|c| c.last_transition_time)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource;

    #[test]
    fn resource_identity_matches_the_crd() {
        assert_eq!(Kibana::api_version(&()), "kibana.k8s.elastic.co/v1");
        assert_eq!(Kibana::kind(&()), "Kibana");
        assert_eq!(Kibana::plural(&()), "kibanas");
    }

    #[test]
    fn reads_a_status_written_by_eck() {
        let status: KibanaStatus = serde_json::from_value(serde_json::json!({
            "availableNodes": 1, "count": 1, "health": "green", "version": "9.2.1",
            "associationStatus": "Established", "elasticsearchAssociationStatus": "Established",
            "selector": "common.k8s.elastic.co/type=kibana,kibana.k8s.elastic.co/name=logs",
            "observedGeneration": 2
        }))
        .unwrap();
        assert_eq!(status.health, Some(Health::Green));
        assert_eq!(
            status.elasticsearch_association_status.as_deref(),
            Some("Established")
        );
        assert_eq!(status.last_transition(), None);
    }
}
