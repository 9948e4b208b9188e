//! Renders a [`ClusterSpec`] into the ECK custom resources: one `Elasticsearch` and, when asked, one `Kibana`,
//! both named after the cluster in the tenant namespace. The output is deterministic (sorted maps, roles in
//! a fixed order) so that applying it twice is a no-op and snapshots are stable.
//!
//! Decisions:
//! - Node sets map one to one: `node.roles` from the roles (`[]` for coordinating), `node.attr.<key>` from
//!   the attributes, CPU and memory as both requests and limits (Guaranteed QoS, so quota and reality
//!   agree; ECK sizes the JVM heap from the memory limit), one `elasticsearch-data` volume claim per node.
//! - `node.store.allow_mmap: false`, as in ECK's quickstart: Elasticsearch then starts on any Kubernetes node
//!   without raising `vm.max_map_count` (which needs a privileged init container or a node DaemonSet).
//!   A platform that tunes its nodes can drop it.
//! - Restart: a restart is a change of the `eck.k8s.elastic.co/restart-trigger` annotation. It is written on
//!   the Elasticsearch object and on every node set's pod template; a changed pod template is what makes ECK
//!   roll the nodes one at a time. Kibana is not restarted. The reconciler must pass the cluster's *latest*
//!   restart trigger on every render (not only during the restart operation): dropping it would change the
//!   pod templates and restart the cluster again.
//! - The portal's own Elasticsearch user (`esaas-portal`, role `esaas_portal`) is a `kubernetes.io/basic-auth`
//!   Secret `<cluster>-esaas-portal-user` declared in `spec.auth.fileRealm`; the same Secret's `roles.yml`
//!   defines the role and is named in `spec.auth.roles`. The password comes in the context (derived by
//!   `k8s::portal_user`), so rendering stays pure and deterministic.
//! - Kibana connects through `elasticsearchRef` to the Elasticsearch of the same name and uses the same
//!   version and HTTP TLS setting. When the spec has no Kibana, `kibana` is `None` and the reconciler
//!   deletes any existing Kibana of that name.
//! - Exposure (`k8s::expose`): with an Ingress, [`super::ingress`] renders it; with load balancers, the
//!   HTTP Services of Elasticsearch and Kibana get `spec.http.service` with type `LoadBalancer`, the
//!   cluster's labels (so the portal's watch sees them and their addresses), `externalTrafficPolicy: Local`
//!   and the IP allow-list as `loadBalancerSourceRanges`, and [`super::traffic_filter`] renders the
//!   policy that lets the traffic in. Internal only, `spec.http` carries TLS alone, as before.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{
    Container, PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec, ResourceRequirements, Secret,
    ServiceSpec, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{HttpConfig, ObjectSelector, ServiceTemplate, ServiceTemplateMeta};
use super::elasticsearch::{
    Auth, Elasticsearch, ElasticsearchSpec, NodeSet, SecretSource, VolumeClaimTemplate,
};
use super::kibana::{Kibana, KibanaSpec};
use super::quantity;
use crate::k8s::expose::Exposure;
use crate::k8s::labels::{self, Component};
use crate::k8s::portal_user::{self, PortalPassword};
use crate::spec::{ClusterSpec, NodeSetSpec};

/// Annotation whose change makes ECK restart the Elasticsearch nodes.
pub const RESTART_TRIGGER_ANNOTATION: &str = "eck.k8s.elastic.co/restart-trigger";
/// Name of the data volume claim template (ECK's default name, which its default volume mount expects).
pub const DATA_VOLUME_NAME: &str = "elasticsearch-data";
/// Name of the Elasticsearch container in ECK pods.
pub const ELASTICSEARCH_CONTAINER: &str = "elasticsearch";
/// Name of the Kibana container in ECK pods.
pub const KIBANA_CONTAINER: &str = "kibana";

/// Who and what is being rendered, besides the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderContext {
    /// Tenant slug; the namespace is `esaas-<slug>`.
    pub tenant_slug: String,
    /// Cluster name: the name of the Elasticsearch and Kibana resources.
    pub cluster_name: String,
    /// Cluster id, written as a label.
    pub cluster_id: Uuid,
    /// The cluster's latest restart trigger (e.g. the id of its last restart operation), `None` if it was
    /// never restarted. Pass it on every render: see the module docs.
    pub restart_trigger: Option<String>,
    /// The password of the portal's own Elasticsearch user of this cluster.
    pub portal_user_password: PortalPassword,
    /// How the platform exposes clusters outside Kubernetes.
    pub exposure: Exposure,
}

/// The custom resources of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedCluster {
    /// The Elasticsearch resource.
    pub elasticsearch: Elasticsearch,
    /// The Kibana resource, when the spec asks for Kibana.
    pub kibana: Option<Kibana>,
    /// The Secret of the portal's own Elasticsearch user (`spec.auth.fileRealm` names it).
    pub portal_user: Secret,
    /// The Ingress, when the platform exposes clusters through one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Ingress>,
    /// The traffic filter policy, when the platform exposes clusters through load balancers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_filter: Option<NetworkPolicy>,
}

/// Renders `spec` for the cluster described by `ctx`.
pub fn render(ctx: &RenderContext, spec: &ClusterSpec) -> RenderedCluster {
    RenderedCluster {
        elasticsearch: render_elasticsearch(ctx, spec),
        kibana: spec.kibana.as_ref().map(|kibana| Kibana {
            metadata: object_meta(ctx, Component::Kibana),
            spec: KibanaSpec {
                version: spec.version.to_string(),
                count: Some(count(kibana.count)),
                elasticsearch_ref: Some(ObjectSelector {
                    name: ctx.cluster_name.clone(),
                    namespace: None,
                }),
                http: Some(http_config(ctx, spec, Component::Kibana)),
                pod_template: Some(pod_template(
                    labels_for(ctx, Component::Kibana),
                    None,
                    KIBANA_CONTAINER,
                    kibana.cpu_millis,
                    kibana.memory_mib,
                )),
            },
            status: None,
        }),
        portal_user: render_portal_user(ctx),
        ingress: match &ctx.exposure {
            Exposure::Ingress(settings) => {
                Some(super::ingress::render_ingress(ctx, spec, settings))
            }
            _ => None,
        },
        traffic_filter: (ctx.exposure == Exposure::LoadBalancer)
            .then(|| super::traffic_filter::render_traffic_filter(ctx, spec)),
    }
}

/// `spec.http`: TLS, and with load balancers the Service settings (see the module docs).
fn http_config(ctx: &RenderContext, spec: &ClusterSpec, component: Component) -> HttpConfig {
    let mut http = HttpConfig::with_tls(spec.http_tls);
    if ctx.exposure == Exposure::LoadBalancer {
        let ranges: Vec<String> = spec.ip_allow_list.iter().map(ToString::to_string).collect();
        http.service = Some(ServiceTemplate {
            metadata: Some(ServiceTemplateMeta {
                labels: Some(labels_for(ctx, component)),
                annotations: None,
            }),
            spec: Some(ServiceSpec {
                type_: Some("LoadBalancer".to_owned()),
                external_traffic_policy: Some("Local".to_owned()),
                load_balancer_source_ranges: (!ranges.is_empty()).then_some(ranges),
                ..ServiceSpec::default()
            }),
        });
    }
    http
}

/// The Secret of the portal's own Elasticsearch user (also re-applied by the inspector when Elasticsearch
/// refuses the portal's password).
pub fn render_portal_user(ctx: &RenderContext) -> Secret {
    let data = BTreeMap::from([
        (
            "username".to_owned(),
            ByteString(portal_user::USERNAME.as_bytes().to_vec()),
        ),
        (
            "password".to_owned(),
            ByteString(ctx.portal_user_password.expose().as_bytes().to_vec()),
        ),
        (
            "roles".to_owned(),
            ByteString(portal_user::ROLES.as_bytes().to_vec()),
        ),
        (
            "roles.yml".to_owned(),
            ByteString(portal_user::ROLE_DEFINITION.as_bytes().to_vec()),
        ),
    ]);
    Secret {
        metadata: ObjectMeta {
            name: Some(portal_user::secret_name(&ctx.cluster_name)),
            namespace: Some(labels::namespace_name(&ctx.tenant_slug)),
            labels: Some(labels_for(ctx, Component::Elasticsearch)),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/basic-auth".to_owned()),
        data: Some(data),
        ..Secret::default()
    }
}

fn render_elasticsearch(ctx: &RenderContext, spec: &ClusterSpec) -> Elasticsearch {
    let node_sets = spec
        .node_sets
        .iter()
        .map(|set| render_node_set(ctx, set))
        .collect();
    Elasticsearch {
        metadata: object_meta(ctx, Component::Elasticsearch),
        spec: ElasticsearchSpec {
            version: spec.version.to_string(),
            http: Some(http_config(ctx, spec, Component::Elasticsearch)),
            auth: Some(Auth {
                file_realm: vec![SecretSource {
                    secret_name: portal_user::secret_name(&ctx.cluster_name),
                }],
                roles: vec![SecretSource {
                    secret_name: portal_user::secret_name(&ctx.cluster_name),
                }],
            }),
            node_sets,
        },
        status: None,
    }
}

fn render_node_set(ctx: &RenderContext, set: &NodeSetSpec) -> NodeSet {
    let mut config = BTreeMap::new();
    config.insert("node.roles".to_owned(), json!(set.elasticsearch_roles()));
    config.insert("node.store.allow_mmap".to_owned(), Value::Bool(false));
    for (key, value) in &set.attributes {
        config.insert(format!("node.attr.{key}"), Value::String(value.to_string()));
    }

    let mut pod_labels = labels_for(ctx, Component::Elasticsearch);
    pod_labels.insert(labels::NODE_SET.to_owned(), set.name.to_string());

    NodeSet {
        name: set.name.to_string(),
        count: count(set.count),
        config: Some(config),
        pod_template: Some(pod_template(
            pod_labels,
            restart_annotations(ctx),
            ELASTICSEARCH_CONTAINER,
            set.cpu_millis,
            set.memory_mib,
        )),
        volume_claim_templates: vec![VolumeClaimTemplate {
            metadata: ObjectMeta {
                name: Some(DATA_VOLUME_NAME.to_owned()),
                ..ObjectMeta::default()
            },
            spec: PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_owned(),
                        quantity::storage_gib(i64::from(set.storage_gib)),
                    )])),
                    limits: None,
                }),
                storage_class_name: set.storage_class.as_ref().map(ToString::to_string),
                ..PersistentVolumeClaimSpec::default()
            },
        }],
    }
}

fn object_meta(ctx: &RenderContext, component: Component) -> ObjectMeta {
    ObjectMeta {
        name: Some(ctx.cluster_name.clone()),
        namespace: Some(labels::namespace_name(&ctx.tenant_slug)),
        labels: Some(labels_for(ctx, component)),
        annotations: match component {
            Component::Elasticsearch => restart_annotations(ctx),
            Component::Kibana => None,
        },
        ..ObjectMeta::default()
    }
}

fn labels_for(ctx: &RenderContext, component: Component) -> BTreeMap<String, String> {
    labels::cluster_labels(
        &ctx.tenant_slug,
        &ctx.cluster_name,
        ctx.cluster_id,
        component,
    )
}

fn restart_annotations(ctx: &RenderContext) -> Option<BTreeMap<String, String>> {
    ctx.restart_trigger
        .as_ref()
        .map(|trigger| BTreeMap::from([(RESTART_TRIGGER_ANNOTATION.to_owned(), trigger.clone())]))
}

/// A pod template with labels, optional annotations and one container sized `cpu_millis`/`memory_mib`
/// (requests = limits).
fn pod_template(
    labels: BTreeMap<String, String>,
    annotations: Option<BTreeMap<String, String>>,
    container: &str,
    cpu_millis: u32,
    memory_mib: u32,
) -> PodTemplateSpec {
    let size: BTreeMap<String, Quantity> = BTreeMap::from([
        ("cpu".to_owned(), quantity::cpu(i64::from(cpu_millis))),
        (
            "memory".to_owned(),
            quantity::memory_mib(i64::from(memory_mib)),
        ),
    ]);
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations,
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: container.to_owned(),
                resources: Some(ResourceRequirements {
                    requests: Some(size.clone()),
                    limits: Some(size),
                    claims: None,
                }),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
    }
}

/// Counts are bounded far below `i32::MAX` by validation; saturate rather than wrap if that ever changes.
fn count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
