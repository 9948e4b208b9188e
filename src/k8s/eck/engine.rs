//! The ECK engine behind the seam ([`crate::k8s::engine::Engine`]): a cluster is an `Elasticsearch` custom
//! resource (its status is the cluster's), an optional `Kibana`, the Secret of the portal's own
//! Elasticsearch user, and the exposure objects (an Ingress, or a traffic-filter NetworkPolicy beside
//! load-balanced Services). ECK makes the StatefulSets, Services, certificates and the `elastic` user's
//! Secret; a change is done when ECK reports the phase `Ready` at the generation the reconciler applied.

use kube::api::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use super::{ElasticsearchStatus, RenderContext, render, traffic_filter};
use crate::k8s::apply::DesiredObject;
use crate::k8s::engine::{
    ClusterRef, Engine, InternalEndpoints, Observation, ObservedStatus, Plan, Step,
};
use crate::k8s::labels;
use crate::spec::ClusterSpec;

/// Elastic Cloud on Kubernetes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Eck;

const ES_KIND: &str = "Elasticsearch";
const KIBANA_KIND: &str = "Kibana";

/// An object of `kind` named `name` in the tenant's namespace, to delete: name and namespace are enough.
fn to_delete(
    api_version: &str,
    kind: &str,
    plural: &str,
    tenant_slug: &str,
    name: &str,
) -> anyhow::Result<DesiredObject> {
    DesiredObject::from_object(
        &json!({
            "apiVersion": api_version, "kind": kind,
            "metadata": { "name": name, "namespace": labels::namespace_name(tenant_slug) }
        }),
        plural,
    )
}

fn kibana_to_delete(tenant_slug: &str, cluster_name: &str) -> anyhow::Result<DesiredObject> {
    to_delete(
        "kibana.k8s.elastic.co/v1",
        KIBANA_KIND,
        "kibanas",
        tenant_slug,
        cluster_name,
    )
}

fn ingress_to_delete(tenant_slug: &str, cluster_name: &str) -> anyhow::Result<DesiredObject> {
    to_delete(
        "networking.k8s.io/v1",
        "Ingress",
        "ingresses",
        tenant_slug,
        cluster_name,
    )
}

fn traffic_filter_to_delete(
    tenant_slug: &str,
    cluster_name: &str,
) -> anyhow::Result<DesiredObject> {
    to_delete(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        tenant_slug,
        &traffic_filter::policy_name(cluster_name),
    )
}

/// The health word of a status value (`green`, `yellow`, `red`), `unknown` otherwise.
fn health_word(value: &Value) -> String {
    match value.as_str() {
        Some(h @ ("green" | "yellow" | "red")) => h.to_owned(),
        _ => "unknown".to_owned(),
    }
}

impl Engine for Eck {
    fn name(&self) -> &'static str {
        "eck"
    }

    fn label(&self) -> &'static str {
        "ECK"
    }

    fn watched(&self) -> Vec<ApiResource> {
        let r = |group: &str, kind: &str, plural: &str| {
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural)
        };
        vec![
            r("elasticsearch.k8s.elastic.co", ES_KIND, "elasticsearches"),
            r("kibana.k8s.elastic.co", KIBANA_KIND, "kibanas"),
        ]
    }

    fn primary_kind(&self) -> &'static str {
        ES_KIND
    }

    fn plan(&self, cluster: &ClusterRef, spec: &ClusterSpec) -> anyhow::Result<Plan> {
        let ctx = RenderContext {
            tenant_slug: cluster.tenant_slug.clone(),
            cluster_name: cluster.name.clone(),
            cluster_id: cluster.id,
            restart_trigger: cluster.restart_trigger.clone(),
            portal_user_password: cluster.portal_user_password.clone(),
            exposure: cluster.exposure.clone(),
        };
        let rendered = render(&ctx, spec);
        let (slug, name) = (cluster.tenant_slug.as_str(), cluster.name.as_str());
        // The portal user's Secret first: ECK reads it when it reconciles the Elasticsearch resource.
        let mut steps = vec![
            Step::Apply(DesiredObject::from_object(
                &rendered.portal_user,
                "secrets",
            )?),
            Step::Apply(DesiredObject::from_object(
                &rendered.elasticsearch,
                "elasticsearches",
            )?),
        ];
        steps.push(match &rendered.kibana {
            Some(k) => Step::Apply(DesiredObject::from_object(k, "kibanas")?),
            None => Step::Delete(kibana_to_delete(slug, name)?),
        });
        // After the Elasticsearch and Kibana resources: the Ingress names the Services ECK makes for them.
        // An exposure object that is not rendered is deleted, so a change of `ESAAS_EXPOSE` cleans up.
        steps.push(match &rendered.ingress {
            Some(i) => Step::Apply(DesiredObject::from_object(i, "ingresses")?),
            None => Step::Delete(ingress_to_delete(slug, name)?),
        });
        steps.push(match &rendered.traffic_filter {
            Some(p) => Step::Apply(DesiredObject::from_object(p, "networkpolicies")?),
            None => Step::Delete(traffic_filter_to_delete(slug, name)?),
        });
        Ok(Plan {
            steps,
            summary: format!(
                "applied Elasticsearch{}",
                if rendered.kibana.is_some() {
                    " and Kibana"
                } else {
                    ""
                }
            ),
        })
    }

    fn plan_delete(&self, tenant_slug: &str, cluster_name: &str) -> anyhow::Result<Plan> {
        Ok(Plan {
            steps: vec![
                Step::Delete(ingress_to_delete(tenant_slug, cluster_name)?),
                Step::Delete(traffic_filter_to_delete(tenant_slug, cluster_name)?),
                Step::Delete(kibana_to_delete(tenant_slug, cluster_name)?),
                Step::Delete(to_delete(
                    "elasticsearch.k8s.elastic.co/v1",
                    ES_KIND,
                    "elasticsearches",
                    tenant_slug,
                    cluster_name,
                )?),
                Step::Delete(to_delete(
                    "v1",
                    "Secret",
                    "secrets",
                    tenant_slug,
                    &crate::k8s::portal_user::secret_name(cluster_name),
                )?),
            ],
            summary: "Elasticsearch and Kibana resources deleted".into(),
        })
    }

    fn observe(&self, kind: &str, object: &Value) -> Option<Observation> {
        match kind {
            ES_KIND => {
                let status: ElasticsearchStatus =
                    serde_json::from_value(object["status"].clone()).unwrap_or_default();
                let health = status
                    .health
                    .and_then(|h| serde_json::to_value(h).ok())
                    .map_or_else(|| "unknown".to_owned(), |v| health_word(&v));
                let desired = object["spec"]["nodeSets"]
                    .as_array()
                    .map(|sets| sets.iter().filter_map(|s| s["count"].as_i64()).sum::<i64>())
                    .unwrap_or(0);
                let conditions = &object["status"]["conditions"];
                let in_progress = &object["status"]["inProgressOperations"];
                Some(Observation::Cluster(ObservedStatus {
                    health,
                    phase: object["status"]["phase"].as_str().unwrap_or("").to_owned(),
                    available_nodes: status.available_nodes.unwrap_or(0),
                    desired_nodes: i32::try_from(desired).unwrap_or(i32::MAX),
                    version: status.version.unwrap_or_default(),
                    observed_generation: status.observed_generation,
                    generation: object["metadata"]["generation"].as_i64(),
                    conditions: if conditions.is_array() {
                        conditions.clone()
                    } else {
                        Value::Array(vec![])
                    },
                    in_progress: if in_progress.is_object() {
                        in_progress.clone()
                    } else {
                        json!({})
                    },
                }))
            }
            KIBANA_KIND => Some(Observation::Kibana {
                health: object["status"]["health"]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_owned(),
            }),
            _ => None,
        }
    }

    fn is_settled(&self, phase: &str) -> bool {
        phase == "Ready"
    }

    fn endpoints(&self, tenant_slug: &str, cluster_name: &str, tls: bool) -> InternalEndpoints {
        let scheme = if tls { "https" } else { "http" };
        let namespace = labels::namespace_name(tenant_slug);
        InternalEndpoints {
            elasticsearch: format!("{scheme}://{cluster_name}-es-http.{namespace}.svc:9200"),
            kibana: format!("{scheme}://{cluster_name}-kb-http.{namespace}.svc:5601"),
        }
    }

    fn elastic_user_secret(&self, cluster_name: &str) -> (String, &'static str) {
        (format!("{cluster_name}-es-elastic-user"), "elastic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observes_the_status_in_the_portal_words() {
        let obj = json!({
            "metadata": { "generation": 4 },
            "spec": { "nodeSets": [{ "count": 3 }, { "count": 2 }] },
            "status": { "health": "yellow", "phase": "ApplyingChanges", "availableNodes": 4,
                        "version": "9.2.1", "observedGeneration": 3 }
        });
        let Some(Observation::Cluster(s)) = Eck.observe("Elasticsearch", &obj) else {
            panic!("an Elasticsearch object is the cluster's status");
        };
        assert_eq!(
            (
                s.health.as_str(),
                s.phase.as_str(),
                s.available_nodes,
                s.desired_nodes
            ),
            ("yellow", "ApplyingChanges", 4, 5)
        );
        assert_eq!((s.observed_generation, s.generation), (Some(3), Some(4)));
        assert!(!Eck.is_done(3, &s), "not Ready yet");
        let ready = ObservedStatus {
            phase: "Ready".into(),
            ..s.clone()
        };
        assert!(Eck.is_done(3, &ready));
        assert!(!Eck.is_done(4, &ready), "ECK has not seen generation 4");
        assert_eq!(
            Eck.observe("Kibana", &json!({ "status": { "health": "green" } })),
            Some(Observation::Kibana {
                health: "green".into()
            })
        );
        assert_eq!(Eck.observe("Pod", &json!({})), None);
        let empty = Eck.observe("Elasticsearch", &json!({}));
        let Some(Observation::Cluster(s)) = empty else {
            panic!()
        };
        assert_eq!(s.health, "unknown");
    }

    #[test]
    fn deletion_removes_exposure_then_kibana_elasticsearch_and_the_portal_user() {
        let plan = Eck.plan_delete("acme", "logs").unwrap();
        let kinds: Vec<String> = plan
            .steps
            .iter()
            .map(|s| match s {
                Step::Delete(o) => o.resource.kind.clone(),
                Step::Apply(_) => panic!("a deletion applies nothing"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "Ingress",
                "NetworkPolicy",
                "Kibana",
                "Elasticsearch",
                "Secret"
            ]
        );
    }
}
