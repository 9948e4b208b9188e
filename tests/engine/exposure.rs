//! The objects that expose a cluster outside Kubernetes: the Ingress and the traffic filter NetworkPolicy
//! are checked against the Kubernetes schemas of their kinds (k8s-openapi's, the API server's OpenAPI
//! document as JSON Schema, with the same strict validator as the CRDs: a field the schema does not declare
//! is an error) and survive a round trip through the typed k8s-openapi objects; the load balancer settings
//! inside the ECK resources are covered by the CRD checks (`crd.rs`, every case of `cases::all`).

use esaas::k8s::eck::ingress::{
    BACKEND_PROTOCOL_ANNOTATION, CLUSTER_ISSUER_ANNOTATION, SOURCE_RANGE_ANNOTATION,
};
use esaas::k8s::eck::render;
use esaas::k8s::expose::Exposure;
use esaas::k8s::labels;
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::cases;
use crate::schema::validate_object;

/// The Kubernetes schema of `T`, with every sub-schema inlined (the validator does not follow `$ref`).
fn kubernetes_schema<T: schemars::JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut schema = serde_json::to_value(generator.into_root_schema_for::<T>()).unwrap();
    // `validate_object` checks `metadata` itself and the rest against the schema.
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|r| r != "metadata");
    }
    schema
}

fn assert_matches_schema<T>(what: &str, object: &Value)
where
    T: schemars::JsonSchema + serde::de::DeserializeOwned + serde::Serialize,
{
    let errors = validate_object(&kubernetes_schema::<T>(), object);
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
    let typed: T = serde_json::from_value(object.clone()).expect(what);
    assert_eq!(
        &serde_json::to_value(&typed).unwrap(),
        object,
        "{what}: the typed round trip changed the object"
    );
}

#[test]
fn exposure_objects_match_the_kubernetes_schemas() {
    let mut ingresses = 0;
    let mut policies = 0;
    for (name, rendered) in cases::all() {
        if let Some(ingress) = &rendered.ingress {
            let value = serde_json::to_value(ingress).unwrap();
            assert_eq!(value["apiVersion"], "networking.k8s.io/v1");
            assert_eq!(value["kind"], "Ingress");
            assert_matches_schema::<Ingress>(&format!("{name}: Ingress"), &value);
            ingresses += 1;
        }
        if let Some(policy) = &rendered.traffic_filter {
            let value = serde_json::to_value(policy).unwrap();
            assert_matches_schema::<NetworkPolicy>(&format!("{name}: NetworkPolicy"), &value);
            policies += 1;
        }
    }
    assert_eq!(
        (ingresses, policies),
        (2, 2),
        "the exposure cases are there"
    );
}

#[test]
fn the_schema_check_catches_a_misplaced_field() {
    let (_, rendered) = cases::exposed().remove(0);
    let mut value = serde_json::to_value(rendered.ingress.unwrap()).unwrap();
    value["spec"]["rules"][0]["http"]["paths"][0]["backend"]["servicePort"] = json!(9200);
    let errors = validate_object(&kubernetes_schema::<Ingress>(), &value);
    assert!(
        errors.iter().any(|e| e.contains("servicePort")),
        "{errors:?}"
    );
}

#[test]
fn the_ingress_routes_both_hosts_with_the_cluster_labels() {
    let (_, rendered) = cases::exposed().remove(0);
    let ingress = serde_json::to_value(rendered.ingress.unwrap()).unwrap();
    assert_eq!(ingress["metadata"]["namespace"], "esaas-acme");
    let identity = labels::cluster_identity(
        &serde_json::from_value(ingress["metadata"]["labels"].clone()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            identity.tenant_slug.as_str(),
            identity.cluster_name.as_str()
        ),
        ("acme", "logs")
    );
    let rules = ingress["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules[0]["host"], "logs-acme.search.example.com");
    assert_eq!(
        rules[0]["http"]["paths"][0]["backend"]["service"],
        json!({"name": "logs-es-http", "port": {"number": 9200}})
    );
    assert_eq!(rules[1]["host"], "logs-acme-kibana.search.example.com");
    assert_eq!(
        rules[1]["http"]["paths"][0]["backend"]["service"],
        json!({"name": "logs-kb-http", "port": {"number": 5601}})
    );
    let annotations = &ingress["metadata"]["annotations"];
    assert_eq!(annotations[BACKEND_PROTOCOL_ANNOTATION], "HTTPS");
    assert_eq!(
        annotations[SOURCE_RANGE_ANNOTATION],
        "203.0.113.0/24,2001:db8::/32"
    );
    assert_eq!(annotations[CLUSTER_ISSUER_ANNOTATION], "letsencrypt");
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    assert_eq!(
        ingress["spec"]["tls"],
        json!([{"hosts": ["logs-acme.search.example.com", "logs-acme-kibana.search.example.com"],
                "secretName": "logs-ingress-tls"}])
    );

    // Plain HTTP, no Kibana, the platform's Secret: one host, no backend protocol, no allow-list.
    let (_, rendered) = cases::exposed().remove(1);
    let ingress = serde_json::to_value(rendered.ingress.unwrap()).unwrap();
    assert_eq!(ingress["spec"]["rules"].as_array().unwrap().len(), 1);
    let annotations = &ingress["metadata"]["annotations"];
    assert!(annotations.get(BACKEND_PROTOCOL_ANNOTATION).is_none());
    assert!(annotations.get(SOURCE_RANGE_ANNOTATION).is_none());
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "wildcard-tls");
    assert!(ingress["spec"].get("ingressClassName").is_none());
}

#[test]
fn load_balancers_carry_the_allow_list_and_open_only_the_http_ports() {
    let (_, rendered) = cases::exposed().remove(2);
    let es = serde_json::to_value(&rendered.elasticsearch).unwrap();
    let service = &es["spec"]["http"]["service"];
    assert_eq!(service["spec"]["type"], "LoadBalancer");
    assert_eq!(service["spec"]["externalTrafficPolicy"], "Local");
    assert_eq!(
        service["spec"]["loadBalancerSourceRanges"],
        json!(["203.0.113.0/24", "2001:db8::/32"])
    );
    assert_eq!(service["metadata"]["labels"][labels::CLUSTER], "logs");
    let kibana = serde_json::to_value(rendered.kibana.as_ref().unwrap()).unwrap();
    assert_eq!(
        kibana["spec"]["http"]["service"]["spec"]["type"],
        "LoadBalancer"
    );
    assert_eq!(
        kibana["spec"]["http"]["service"]["metadata"]["labels"][labels::NAME],
        "kibana"
    );
    let policy = serde_json::to_value(rendered.traffic_filter.unwrap()).unwrap();
    assert_eq!(policy["metadata"]["name"], "logs-traffic-filter");
    assert_eq!(
        policy["spec"]["podSelector"],
        json!({"matchLabels": {labels::CLUSTER: "logs"}})
    );
    assert_eq!(
        policy["spec"]["ingress"][0],
        json!({
            "from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}, {"ipBlock": {"cidr": "2001:db8::/32"}}],
            "ports": [{"port": 9200, "protocol": "TCP"}, {"port": 5601, "protocol": "TCP"}]
        })
    );
    assert!(rendered.ingress.is_none());

    // Without an allow-list: open to every address, on Elasticsearch's port only (no Kibana).
    let (_, rendered) = cases::exposed().remove(3);
    let policy = serde_json::to_value(rendered.traffic_filter.unwrap()).unwrap();
    assert_eq!(
        policy["spec"]["ingress"][0],
        json!({
            "from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
            "ports": [{"port": 9200, "protocol": "TCP"}]
        })
    );
    let es = serde_json::to_value(&rendered.elasticsearch).unwrap();
    assert!(
        es["spec"]["http"]["service"]["spec"]
            .get("loadBalancerSourceRanges")
            .is_none()
    );
}

#[test]
fn internal_only_renders_no_exposure() {
    for t in esaas::clusters::templates::templates() {
        let rendered = render(&cases::exposed_context(Exposure::Internal), &t.spec);
        assert!(rendered.ingress.is_none() && rendered.traffic_filter.is_none());
        let es = serde_json::to_value(&rendered.elasticsearch).unwrap();
        assert!(es["spec"]["http"].get("service").is_none(), "{}", t.id);
    }
}
