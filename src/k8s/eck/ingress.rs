//! The Ingress of a cluster (with `ESAAS_EXPOSE=ingress`): one `networking.k8s.io/v1` Ingress named after the
//! cluster in the tenant namespace, labelled like the cluster's other objects, with the host
//! `<cluster>-<tenant>.<domain>` routed to ECK's `<cluster>-es-http` Service (port 9200) and, when the cluster
//! has Kibana, `<cluster>-<tenant>-kibana.<domain>` to `<cluster>-kb-http` (port 5601).
//!
//! Decisions:
//! - Annotations are ingress-nginx's (the common controller; other controllers ignore them):
//!   `backend-protocol: HTTPS` when the cluster serves HTTPS itself (ECK's self-signed certificate, which
//!   nginx does not verify by default), `whitelist-source-range` with the cluster's IP allow-list when it has
//!   one (nginx sees the client's address; the pods only see the controller's), and `proxy-body-size: 100m`,
//!   Elasticsearch's own `http.max_content_length`, since nginx's default of 1 MiB refuses ordinary bulk
//!   requests.
//! - TLS terminates at the controller for both hosts: with the platform's Secret, with a certificate
//!   cert-manager issues into `<cluster>-ingress-tls` (annotation `cert-manager.io/cluster-issuer`), or
//!   with the controller's default certificate (the hosts listed without a Secret).
//! - The controller reaches the pods through the tenant NetworkPolicy (its namespace carries
//!   `esaas.io/platform-access=true`), so no per-cluster policy is rendered for ingress.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::render::RenderContext;
use crate::k8s::expose::{IngressSettings, IngressTls};
use crate::k8s::labels::{self, Component};
use crate::spec::ClusterSpec;

/// ingress-nginx: the protocol towards the Service.
pub const BACKEND_PROTOCOL_ANNOTATION: &str = "nginx.ingress.kubernetes.io/backend-protocol";
/// ingress-nginx: the source networks allowed (comma-separated CIDRs).
pub const SOURCE_RANGE_ANNOTATION: &str = "nginx.ingress.kubernetes.io/whitelist-source-range";
/// ingress-nginx: the largest request body.
pub const BODY_SIZE_ANNOTATION: &str = "nginx.ingress.kubernetes.io/proxy-body-size";
/// cert-manager: the ClusterIssuer that issues the certificate of the Ingress's TLS hosts.
pub const CLUSTER_ISSUER_ANNOTATION: &str = "cert-manager.io/cluster-issuer";
/// Port of Elasticsearch's HTTP Service.
pub const ELASTICSEARCH_PORT: i32 = 9200;
/// Port of Kibana's HTTP Service.
pub const KIBANA_PORT: i32 = 5601;

/// The Secret cert-manager writes the certificate of a cluster's Ingress to.
pub fn issued_secret_name(cluster: &str) -> String {
    format!("{cluster}-ingress-tls")
}

/// The Ingress of the cluster of `ctx` under the platform's `settings`.
pub fn render_ingress(
    ctx: &RenderContext,
    spec: &ClusterSpec,
    settings: &IngressSettings,
) -> Ingress {
    let es_host = settings.elasticsearch_host(&ctx.cluster_name, &ctx.tenant_slug);
    let kibana_host = spec
        .kibana
        .as_ref()
        .map(|_| settings.kibana_host(&ctx.cluster_name, &ctx.tenant_slug));

    let mut annotations = BTreeMap::from([(BODY_SIZE_ANNOTATION.to_owned(), "100m".to_owned())]);
    if spec.http_tls {
        annotations.insert(BACKEND_PROTOCOL_ANNOTATION.to_owned(), "HTTPS".to_owned());
    }
    if !spec.ip_allow_list.is_empty() {
        let ranges: Vec<String> = spec.ip_allow_list.iter().map(ToString::to_string).collect();
        annotations.insert(SOURCE_RANGE_ANNOTATION.to_owned(), ranges.join(","));
    }
    let secret_name = match &settings.tls {
        IngressTls::ControllerDefault => None,
        IngressTls::Secret(name) => Some(name.clone()),
        IngressTls::ClusterIssuer(issuer) => {
            annotations.insert(CLUSTER_ISSUER_ANNOTATION.to_owned(), issuer.clone());
            Some(issued_secret_name(&ctx.cluster_name))
        }
    };

    let rule = |host: &str, service: String, port: i32| IngressRule {
        host: Some(host.to_owned()),
        http: Some(HTTPIngressRuleValue {
            paths: vec![HTTPIngressPath {
                path: Some("/".to_owned()),
                path_type: "Prefix".to_owned(),
                backend: IngressBackend {
                    service: Some(IngressServiceBackend {
                        name: service,
                        port: Some(ServiceBackendPort {
                            number: Some(port),
                            name: None,
                        }),
                    }),
                    resource: None,
                },
            }],
        }),
    };
    let mut rules = vec![rule(
        &es_host,
        format!("{}-es-http", ctx.cluster_name),
        ELASTICSEARCH_PORT,
    )];
    let mut hosts = vec![es_host];
    if let Some(host) = kibana_host {
        rules.push(rule(
            &host,
            format!("{}-kb-http", ctx.cluster_name),
            KIBANA_PORT,
        ));
        hosts.push(host);
    }

    Ingress {
        metadata: ObjectMeta {
            name: Some(ctx.cluster_name.clone()),
            namespace: Some(labels::namespace_name(&ctx.tenant_slug)),
            labels: Some(labels::cluster_labels(
                &ctx.tenant_slug,
                &ctx.cluster_name,
                ctx.cluster_id,
                Component::Elasticsearch,
            )),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(IngressSpec {
            ingress_class_name: settings.class.clone(),
            tls: Some(vec![IngressTLS {
                hosts: Some(hosts),
                secret_name,
            }]),
            rules: Some(rules),
            default_backend: None,
        }),
        status: None,
    }
}
