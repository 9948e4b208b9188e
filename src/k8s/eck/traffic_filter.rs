//! The traffic filter of a cluster exposed through `LoadBalancer` Services (`ESAAS_EXPOSE=loadbalancer`): a
//! NetworkPolicy `<cluster>-traffic-filter` selecting the cluster's pods that admits the cluster's IP
//! allow-list (or any address when the list is empty) on the HTTP ports, 9200 and, with Kibana, 5601.
//!
//! Why only for load balancers: the tenant isolation policy (`tenant.rs`, left as it is) admits only the
//! namespace itself, the platform namespaces and the ECK operator, so traffic arriving from a load balancer
//! would be dropped; this policy opens the HTTP ports to the listed sources and nothing else (NetworkPolicies
//! add up). The Services keep the client's address (`externalTrafficPolicy: Local`) so the `ipBlock`s see it,
//! and the same list is the Services' `loadBalancerSourceRanges`, which cloud load balancers enforce before
//! the traffic reaches Kubernetes. Through an Ingress, the pods only ever see the ingress controller (already
//! admitted), so there the list is enforced by the controller and no policy is rendered: one would only
//! widen what reaches the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::ingress::{ELASTICSEARCH_PORT, KIBANA_PORT};
use super::render::RenderContext;
use crate::k8s::labels::{self, Component};
use crate::spec::ClusterSpec;

/// The name of a cluster's traffic filter policy.
pub fn policy_name(cluster: &str) -> String {
    format!("{cluster}-traffic-filter")
}

/// The allow-list as the networks to admit: the list itself, or every IPv4 and IPv6 address when empty.
pub fn allowed_networks(spec: &ClusterSpec) -> Vec<String> {
    if spec.ip_allow_list.is_empty() {
        vec!["0.0.0.0/0".to_owned(), "::/0".to_owned()]
    } else {
        spec.ip_allow_list.iter().map(ToString::to_string).collect()
    }
}

/// The traffic filter policy of the cluster of `ctx`.
pub fn render_traffic_filter(ctx: &RenderContext, spec: &ClusterSpec) -> NetworkPolicy {
    let port = |number: i32| NetworkPolicyPort {
        port: Some(IntOrString::Int(number)),
        protocol: Some("TCP".to_owned()),
        end_port: None,
    };
    let mut ports = vec![port(ELASTICSEARCH_PORT)];
    if spec.kibana.is_some() {
        ports.push(port(KIBANA_PORT));
    }
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(policy_name(&ctx.cluster_name)),
            namespace: Some(labels::namespace_name(&ctx.tenant_slug)),
            labels: Some(labels::cluster_labels(
                &ctx.tenant_slug,
                &ctx.cluster_name,
                ctx.cluster_id,
                Component::Elasticsearch,
            )),
            ..ObjectMeta::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    labels::CLUSTER.to_owned(),
                    ctx.cluster_name.clone(),
                )])),
                match_expressions: None,
            }),
            policy_types: Some(vec!["Ingress".to_owned()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(
                    allowed_networks(spec)
                        .into_iter()
                        .map(|cidr| NetworkPolicyPeer {
                            ip_block: Some(IPBlock { cidr, except: None }),
                            ..NetworkPolicyPeer::default()
                        })
                        .collect(),
                ),
                ports: Some(ports),
            }]),
            egress: None,
        }),
    }
}
