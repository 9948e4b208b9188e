//! The rendered clusters under test: every template, and each operation applied to a template.
//! Shared by the snapshot tests and the CRD validation tests so both see exactly the same objects.

use esaas::clusters::templates::{self, Template};
use esaas::k8s::eck::{RenderContext, RenderedCluster, render};
use esaas::k8s::expose::{Exposure, IngressSettings, IngressTls};
use esaas::spec::SourceRange;
use esaas::spec::{
    ClusterSpec, ClusterSpecInput, EsVersion, NodeSetSize, SpecRules, resized, scaled, upgraded,
    validate,
};
use uuid::Uuid;

/// A fixed cluster id so snapshots are stable.
pub fn cluster_id() -> Uuid {
    Uuid::parse_str("0190f5a4-7c1e-7000-8000-00000000c1a5").unwrap()
}

/// The render context of cluster `logs` of tenant `acme`.
pub fn context(restart_trigger: Option<&str>) -> RenderContext {
    RenderContext {
        tenant_slug: "acme".to_owned(),
        cluster_name: "logs".to_owned(),
        cluster_id: cluster_id(),
        restart_trigger: restart_trigger.map(str::to_owned),
        portal_user_password: esaas::k8s::portal_user::PortalPassword::from_static(
            "test-portal-password",
        ),
        exposure: Default::default(),
    }
}

fn template(id: &str) -> Template {
    templates::template(id).unwrap_or_else(|| panic!("template {id} exists"))
}

fn rules_for(template: &Template) -> SpecRules {
    template.rules(&SpecRules::default())
}

/// A spec that is none of the templates: custom storage classes, attributes, plain HTTP, no Kibana.
fn custom_spec() -> ClusterSpec {
    let input: ClusterSpecInput = serde_json::from_value(serde_json::json!({
        "version": "8.19.7",
        "http_tls": false,
        "node_sets": [
            {"name": "masters", "roles": ["master", "ingest"], "count": 3, "cpu_millis": 750, "memory_mib": 1536,
             "storage_gib": 5, "storage_class": "standard", "attributes": {"zone": "eu-west-1a"}},
            {"name": "data", "roles": ["data", "ml"], "count": 4, "cpu_millis": 4000, "memory_mib": 16384,
             "storage_gib": 500, "storage_class": "gp3.csi.aws.com", "attributes": {"zone": "eu-west-1a", "disk": "ssd"}}
        ]
    }))
    .expect("the custom input deserializes");
    validate(&input, &SpecRules::default().with_production(true), None)
        .expect("the custom spec is valid")
}

/// The render context of `logs` of `acme` on a platform that exposes clusters as `exposure` says.
pub fn exposed_context(exposure: Exposure) -> RenderContext {
    RenderContext {
        exposure,
        ..context(None)
    }
}

/// Ingress settings under `search.example.com` with the given certificate source.
pub fn ingress(tls: IngressTls, class: Option<&str>) -> Exposure {
    Exposure::Ingress(IngressSettings {
        domain: "search.example.com".to_owned(),
        class: class.map(str::to_owned),
        tls,
    })
}

/// The three-nodes template (HTTPS, Kibana) with an IP allow-list of two networks.
pub fn with_allow_list() -> ClusterSpec {
    let mut spec = template("three-nodes").spec;
    spec.ip_allow_list = vec![
        SourceRange::parse("203.0.113.0/24").unwrap(),
        SourceRange::parse("2001:db8::/32").unwrap(),
    ];
    spec
}

/// The exposure cases: Ingress (cert-manager, a class, an allow-list, HTTPS to Elasticsearch and Kibana;
/// a TLS Secret with plain HTTP and no Kibana) and load balancers (with and without an allow-list).
pub fn exposed() -> Vec<(String, RenderedCluster)> {
    vec![
        (
            "expose-ingress-cert-manager".to_owned(),
            render(
                &exposed_context(ingress(
                    IngressTls::ClusterIssuer("letsencrypt".into()),
                    Some("nginx"),
                )),
                &with_allow_list(),
            ),
        ),
        (
            "expose-ingress-secret-plain-http".to_owned(),
            render(
                &exposed_context(ingress(IngressTls::Secret("wildcard-tls".into()), None)),
                &custom_spec(),
            ),
        ),
        (
            "expose-loadbalancer-allow-list".to_owned(),
            render(&exposed_context(Exposure::LoadBalancer), &with_allow_list()),
        ),
        (
            "expose-loadbalancer-open-no-kibana".to_owned(),
            render(&exposed_context(Exposure::LoadBalancer), &custom_spec()),
        ),
    ]
}

/// Every case: a snapshot name and the rendered cluster.
pub fn all() -> Vec<(String, RenderedCluster)> {
    let mut cases = Vec::new();
    for t in templates::templates() {
        cases.push((
            format!("template-{}", t.id),
            render(&context(None), &t.spec),
        ));
    }

    let three = template("three-nodes");
    let scaled = scaled(&three.spec, &rules_for(&three), "default", 5).expect("scale to 5");
    cases.push(("op-scale".to_owned(), render(&context(None), &scaled)));

    let dedicated = template("dedicated-masters");
    let size = NodeSetSize {
        cpu_millis: 2500,
        memory_mib: 6144,
        storage_gib: 50,
    };
    let resized =
        resized(&dedicated.spec, &rules_for(&dedicated), "data", size).expect("resize data");
    cases.push(("op-resize".to_owned(), render(&context(None), &resized)));

    let restart = context(Some("0190f5a4-9d00-7000-8000-0000000000aa"));
    cases.push(("op-restart".to_owned(), render(&restart, &three.spec)));

    let mut on_8 = three.spec.clone();
    on_8.version = EsVersion::new(8, 19, 7);
    let upgraded =
        upgraded(&on_8, &rules_for(&three), &EsVersion::new(9, 2, 1)).expect("upgrade to 9.2.1");
    cases.push((
        "op-upgrade-before".to_owned(),
        render(&context(None), &on_8),
    ));
    cases.push(("op-upgrade".to_owned(), render(&context(None), &upgraded)));

    cases.push((
        "custom-plain-http-no-kibana".to_owned(),
        render(&context(None), &custom_spec()),
    ));
    cases.extend(exposed());
    cases
}
