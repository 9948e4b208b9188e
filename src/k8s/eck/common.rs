//! Types shared by the ECK custom resources: HTTP/TLS settings, references between resources, health and
//! status conditions. Field names follow the ECK 3.5 CRDs (camelCase on the wire); only the fields the
//! portal sets or reads are modelled, and unknown fields are ignored when reading objects back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::ServiceSpec;
use serde::{Deserialize, Serialize};

/// `spec.http`: settings of the HTTP endpoint (Service and TLS).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpConfig {
    /// TLS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsOptions>,
    /// The HTTP Service ECK creates (`<name>-es-http`, `<name>-kb-http`): ECK merges these settings into
    /// its own (the portal sets them only to expose the cluster through a `LoadBalancer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceTemplate>,
}

/// `spec.http.service`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTemplate {
    /// Labels and annotations added to the Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ServiceTemplateMeta>,
    /// Fields of the Service's spec (type, source ranges, traffic policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<ServiceSpec>,
}

/// `spec.http.service.metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTemplateMeta {
    /// Labels of the Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations of the Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// `spec.http.tls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsOptions {
    /// The certificate ECK generates itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_signed_certificate: Option<SelfSignedCertificate>,
}

/// `spec.http.tls.selfSignedCertificate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelfSignedCertificate {
    /// `true` serves plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

impl HttpConfig {
    /// HTTPS with ECK's self-signed certificate when `tls`, plain HTTP otherwise.
    pub fn with_tls(tls: bool) -> Self {
        Self {
            tls: Some(TlsOptions {
                self_signed_certificate: Some(SelfSignedCertificate {
                    disabled: Some(!tls),
                }),
            }),
            service: None,
        }
    }

    /// Whether HTTPS is on (ECK's default when nothing is said).
    pub fn tls_enabled(&self) -> bool {
        let disabled = self
            .tls
            .as_ref()
            .and_then(|tls| tls.self_signed_certificate.as_ref())
            .and_then(|cert| cert.disabled);
        disabled != Some(true)
    }
}

/// A reference to another ECK resource (`spec.elasticsearchRef` of Kibana).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSelector {
    /// Name of the referenced resource.
    pub name: String,
    /// Namespace of the referenced resource; the referrer's namespace when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Health reported by ECK: Elasticsearch's traffic light, or `unknown` while ECK cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// All shards allocated.
    Green,
    /// All primaries allocated, some replicas not.
    Yellow,
    /// Some primaries unallocated (or, for Kibana, not available).
    Red,
    /// ECK could not reach the cluster, or reported a value this portal does not know.
    #[serde(other)]
    Unknown,
}

/// A status condition (`status.conditions[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type, e.g. `ReconciliationComplete`, `RunningDesiredVersion`, `ElasticsearchIsReachable`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<DateTime<Utc>>,
    /// Human-readable detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Condition {
    /// True when the status is `True`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// The condition of type `type_` in `conditions`, if present.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_tls_renders_and_reads_back() {
        let on = HttpConfig::with_tls(true);
        assert!(on.tls_enabled());
        assert_eq!(
            serde_json::to_value(&on).unwrap(),
            serde_json::json!({"tls": {"selfSignedCertificate": {"disabled": false}}})
        );
        assert!(!HttpConfig::with_tls(false).tls_enabled());
        assert!(
            HttpConfig::default().tls_enabled(),
            "ECK serves HTTPS by default"
        );
    }

    #[test]
    fn unknown_health_values_do_not_fail_parsing() {
        assert_eq!(
            serde_json::from_str::<Health>("\"yellow\"").unwrap(),
            Health::Yellow
        );
        assert_eq!(
            serde_json::from_str::<Health>("\"purple\"").unwrap(),
            Health::Unknown
        );
    }

    #[test]
    fn conditions_parse_from_the_wire() {
        let c: Condition = serde_json::from_value(serde_json::json!({
            "type": "ReconciliationComplete", "status": "True", "lastTransitionTime": "2025-11-02T10:00:00Z"
        }))
        .unwrap();
        assert!(c.is_true());
        assert!(find_condition(&[c], "ReconciliationComplete").is_some());
    }
}
