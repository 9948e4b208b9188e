//! The `Elasticsearch` custom resource (`elasticsearch.k8s.elastic.co/v1`), reduced to the fields the portal
//! renders (spec) and observes (status). Deserializing a live object ignores the fields not modelled here, so
//! the observer can read objects ECK has defaulted. Everything rendered is checked against the real ECK CRD
//! schema by the engine tests.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::common::{Condition, Health, HttpConfig};

/// `spec` of an Elasticsearch resource.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "elasticsearch.k8s.elastic.co",
    version = "v1",
    kind = "Elasticsearch",
    plural = "elasticsearches",
    shortname = "es",
    namespaced,
    status = "ElasticsearchStatus",
    schema = "disabled",
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct ElasticsearchSpec {
    /// Elasticsearch version, e.g. `9.2.1`.
    pub version: String,
    /// HTTP endpoint settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpConfig>,
    /// Users and roles ECK adds to the cluster (the portal's own file-realm user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// Groups of nodes sharing configuration and pod template.
    pub node_sets: Vec<NodeSet>,
}

/// `spec.auth`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Auth {
    /// Secrets of users to add to the file realm (`kubernetes.io/basic-auth` with `username`, `password`,
    /// `roles`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_realm: Vec<SecretSource>,
    /// Secrets whose `roles.yml` defines custom roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<SecretSource>,
}

/// `spec.auth.fileRealm[]` and `spec.auth.roles[]`: a Secret by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretSource {
    /// The Secret's name (same namespace).
    pub secret_name: String,
}

/// `spec.nodeSets[]`: a group of Elasticsearch nodes (one StatefulSet).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSet {
    /// Node set name (at most 23 characters), part of the pod names `<cluster>-es-<name>-<ordinal>`.
    pub name: String,
    /// Number of nodes.
    #[serde(default)]
    pub count: i32,
    /// `elasticsearch.yml` settings as flat dotted keys (`node.roles`, `node.attr.data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<BTreeMap<String, serde_json::Value>>,
    /// Pod template: labels and the `elasticsearch` container's resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplateSpec>,
    /// Persistent volume claims per pod; the portal renders exactly one, `elasticsearch-data`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_claim_templates: Vec<VolumeClaimTemplate>,
}

/// `spec.nodeSets[].volumeClaimTemplates[]`. Not a full `PersistentVolumeClaim` because that type always
/// serializes `apiVersion` and `kind`, which templates do not need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeClaimTemplate {
    /// Only `name` is used.
    pub metadata: ObjectMeta,
    /// Access modes, size and storage class.
    pub spec: PersistentVolumeClaimSpec,
}

/// `status` of an Elasticsearch resource, written by ECK and read by the observer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElasticsearchStatus {
    /// Cluster health as reported by Elasticsearch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Where ECK is in applying the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ElasticsearchPhase>,
    /// Number of available (ready) nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_nodes: Option<i32>,
    /// Lowest version running (during an upgrade, older and newer nodes coexist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The `metadata.generation` this status describes; older than the object's generation while ECK has
    /// not yet looked at the latest spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions (`ReconciliationComplete`, `RunningDesiredVersion`, `ElasticsearchIsReachable`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Changes ECK is applying node by node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress_operations: Option<InProgressOperations>,
}

/// `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ElasticsearchPhase {
    /// The cluster runs the desired spec.
    Ready,
    /// ECK is working towards the desired spec; the cluster may be unavailable.
    ApplyingChanges,
    /// Waiting for shards to move off nodes being removed.
    MigratingData,
    /// A node shutdown cannot make progress.
    Stalled,
    /// The resource is invalid (admission webhook not installed?).
    Invalid,
    /// A phase this portal does not know.
    #[serde(other)]
    Unknown,
}

/// `status.inProgressOperations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InProgressOperations {
    /// Nodes being removed.
    #[serde(default)]
    pub downscale: DownscaleOperation,
    /// Nodes being restarted for an upgrade or a spec change.
    #[serde(default)]
    pub upgrade: UpgradeOperation,
    /// Nodes being added.
    #[serde(default)]
    pub upscale: UpscaleOperation,
}

/// `status.inProgressOperations.downscale`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownscaleOperation {
    /// Last change of this section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_time: Option<DateTime<Utc>>,
    /// Nodes scheduled for removal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<DownscaledNode>,
    /// No progress can be made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stalled: Option<bool>,
}

/// A node being removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownscaledNode {
    /// Elasticsearch node name (= pod name).
    pub name: String,
    /// Shutdown status from Elasticsearch's shutdown API.
    pub shutdown_status: String,
    /// Detail about the shutdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// `status.inProgressOperations.upgrade`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeOperation {
    /// Last change of this section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_time: Option<DateTime<Utc>>,
    /// Nodes that must be restarted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<UpgradedNode>,
}

/// A node to be restarted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradedNode {
    /// Elasticsearch node name.
    pub name: String,
    /// Being deleted for the upgrade, or blocked (see `predicate`, `message`).
    pub status: String,
    /// Why the node cannot be restarted yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The predicate blocking the restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

/// `status.inProgressOperations.upscale`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpscaleOperation {
    /// Last change of this section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_time: Option<DateTime<Utc>>,
    /// Nodes expected to be added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NewNode>,
}

/// A node being added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewNode {
    /// Elasticsearch node name.
    pub name: String,
    /// `PENDING` (delayed) or `EXPECTED` (StatefulSet scaled up).
    pub status: String,
    /// Why the node is delayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource;

    #[test]
    fn resource_identity_matches_the_crd() {
        assert_eq!(
            Elasticsearch::api_version(&()),
            "elasticsearch.k8s.elastic.co/v1"
        );
        assert_eq!(Elasticsearch::kind(&()), "Elasticsearch");
        assert_eq!(Elasticsearch::plural(&()), "elasticsearches");
    }

    #[test]
    fn reads_a_status_written_by_eck() {
        let status: ElasticsearchStatus = serde_json::from_value(serde_json::json!({
            "availableNodes": 3,
            "health": "green",
            "phase": "Ready",
            "version": "9.2.1",
            "observedGeneration": 4,
            "conditions": [{"type": "ReconciliationComplete", "status": "True"}],
            "inProgressOperations": {
                "downscale": {"lastUpdatedTime": null},
                "upgrade": {"nodes": [{"name": "logs-es-default-0", "status": "PENDING"}]},
                "upscale": {}
            },
            "somethingNew": true
        }))
        .unwrap();
        assert_eq!(status.health, Some(Health::Green));
        assert_eq!(status.phase, Some(ElasticsearchPhase::Ready));
        assert_eq!(status.available_nodes, Some(3));
        assert_eq!(
            status.in_progress_operations.unwrap().upgrade.nodes.len(),
            1
        );
    }

    #[test]
    fn unknown_phases_do_not_fail_parsing() {
        let phase: ElasticsearchPhase = serde_json::from_str("\"Rebalancing\"").unwrap();
        assert_eq!(phase, ElasticsearchPhase::Unknown);
    }
}
