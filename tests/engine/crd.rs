//! Every rendered object validated against the real ECK 3.5 CRD schemas, read from the shared folder beside
//! the repository (never copied into it): `$ESAAS_SHARED_DIR/crds/eck`, else `../shared/crds/eck` or
//! `../../shared/crds/eck` relative to the crate (the latter for worktrees one level deeper). When none
//! exists the tests skip with a message, or fail where skips are forbidden (`CI`, scripts/test.sh).

use std::path::PathBuf;
use std::sync::OnceLock;

use esaas::k8s::eck::elasticsearch::{
    DownscaleOperation, DownscaledNode, InProgressOperations, NewNode, UpgradeOperation,
    UpgradedNode, UpscaleOperation,
};
use esaas::k8s::eck::{Condition, ElasticsearchPhase, ElasticsearchStatus, Health, KibanaStatus};
use serde_json::{Value, json};

use crate::cases;
use crate::schema::validate_object;
use crate::skip::skip_or_fail;

/// The `v1` schemas of the two CRDs.
struct Schemas {
    elasticsearch: Value,
    kibana: Value,
}

/// Where the CRDs may be, in the order they are looked for.
fn crd_dir_candidates() -> Vec<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = Vec::new();
    if let Some(shared) = std::env::var_os("ESAAS_SHARED_DIR").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(shared).join("crds/eck"));
    }
    dirs.push(manifest.join("../shared/crds/eck"));
    dirs.push(manifest.join("../../shared/crds/eck"));
    dirs
}

/// The schemas, or `None` (after [`skip_or_fail`]) when no CRD folder exists; `test` names the caller.
fn schemas(test: &str) -> Option<&'static Schemas> {
    static SCHEMAS: OnceLock<Option<Schemas>> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(|| {
        let dir = crd_dir_candidates().into_iter().find(|d| d.is_dir())?;
        Some(Schemas {
            elasticsearch: v1_schema(
                &dir.join("elasticsearch.k8s.elastic.co_elasticsearches.yaml"),
            ),
            kibana: v1_schema(&dir.join("kibana.k8s.elastic.co_kibanas.yaml")),
        })
    });
    if schemas.is_none() {
        let looked: Vec<String> = crd_dir_candidates()
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        skip_or_fail(
            test,
            &format!(
                "the ECK CRDs were not found (looked in {}; set ESAAS_SHARED_DIR)",
                looked.join(", ")
            ),
        );
    }
    schemas.as_ref()
}

/// `spec.versions[name=v1].schema.openAPIV3Schema` of the CRD in `path`.
fn v1_schema(path: &std::path::Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let crd: Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    crd["spec"]["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["name"] == "v1"))
        .map(|v| v["schema"]["openAPIV3Schema"].clone())
        .unwrap_or_else(|| panic!("{} has no v1 schema", path.display()))
}

fn assert_valid(what: &str, schema: &Value, object: &Value) {
    let errors = validate_object(schema, object);
    assert!(
        errors.is_empty(),
        "{what} does not match the CRD:\n  {}",
        errors.join("\n  ")
    );
}

/// The rendered Elasticsearch object of the first case, as JSON, for the negative tests.
fn sample_elasticsearch() -> Value {
    let (_, rendered) = cases::all().into_iter().next().expect("at least one case");
    serde_json::to_value(rendered.elasticsearch).unwrap()
}

#[test]
fn every_rendered_object_matches_the_eck_crds() {
    let Some(schemas) = schemas("every_rendered_object_matches_the_eck_crds") else {
        return;
    };
    for (name, rendered) in cases::all() {
        let es = serde_json::to_value(&rendered.elasticsearch).unwrap();
        assert_eq!(es["apiVersion"], "elasticsearch.k8s.elastic.co/v1");
        assert_eq!(es["kind"], "Elasticsearch");
        assert_valid(
            &format!("{name}: Elasticsearch"),
            &schemas.elasticsearch,
            &es,
        );
        if let Some(kibana) = &rendered.kibana {
            let kb = serde_json::to_value(kibana).unwrap();
            assert_eq!(kb["apiVersion"], "kibana.k8s.elastic.co/v1");
            assert_eq!(kb["kind"], "Kibana");
            assert_valid(&format!("{name}: Kibana"), &schemas.kibana, &kb);
        }
    }
}

#[test]
fn status_types_match_the_eck_crds() {
    // The simulated operator writes status with these types: they must fit the real schema too.
    let Some(schemas) = schemas("status_types_match_the_eck_crds") else {
        return;
    };
    let when = "2025-11-02T10:00:00Z".parse().unwrap();
    let condition = Condition {
        type_: "ReconciliationComplete".into(),
        status: "True".into(),
        last_transition_time: Some(when),
        message: Some("done".into()),
    };
    let mut es = cases::all().remove(0).1.elasticsearch;
    es.status = Some(ElasticsearchStatus {
        health: Some(Health::Yellow),
        phase: Some(ElasticsearchPhase::ApplyingChanges),
        available_nodes: Some(2),
        version: Some("9.2.1".into()),
        observed_generation: Some(3),
        conditions: vec![condition.clone()],
        in_progress_operations: Some(InProgressOperations {
            downscale: DownscaleOperation {
                last_updated_time: Some(when),
                nodes: vec![DownscaledNode {
                    name: "logs-es-data-2".into(),
                    shutdown_status: "IN_PROGRESS".into(),
                    explanation: Some("moving shards".into()),
                }],
                stalled: Some(false),
            },
            upgrade: UpgradeOperation {
                last_updated_time: Some(when),
                nodes: vec![UpgradedNode {
                    name: "logs-es-data-0".into(),
                    status: "PENDING".into(),
                    message: None,
                    predicate: Some("one_master_at_a_time".into()),
                }],
            },
            upscale: UpscaleOperation {
                last_updated_time: None,
                nodes: vec![NewNode {
                    name: "logs-es-data-3".into(),
                    status: "EXPECTED".into(),
                    message: None,
                }],
            },
        }),
    });
    assert_valid(
        "Elasticsearch with status",
        &schemas.elasticsearch,
        &serde_json::to_value(&es).unwrap(),
    );

    let mut kb = cases::all()
        .remove(0)
        .1
        .kibana
        .expect("the first template has Kibana");
    kb.status = Some(KibanaStatus {
        health: Some(Health::Green),
        available_nodes: Some(1),
        count: Some(1),
        version: Some("9.2.1".into()),
        observed_generation: Some(1),
        elasticsearch_association_status: Some("Established".into()),
        selector: Some("kibana.k8s.elastic.co/name=logs".into()),
        conditions: vec![condition],
    });
    assert_valid(
        "Kibana with status",
        &schemas.kibana,
        &serde_json::to_value(&kb).unwrap(),
    );
}

#[test]
fn the_validator_catches_an_unknown_field() {
    let Some(schemas) = schemas("the_validator_catches_an_unknown_field") else {
        return;
    };
    let mut es = sample_elasticsearch();
    es["spec"]["nodeSets"][0]["replicas"] = json!(3);
    es["spec"]["nodeSets"][0]["podTemplate"]["spec"]["containers"][0]["resource"] = json!({});
    let errors = validate_object(&schemas.elasticsearch, &es);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("spec.nodeSets[0].replicas: unknown field")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e
                .starts_with("spec.nodeSets[0].podTemplate.spec.containers[0].resource: unknown")),
        "{errors:?}"
    );
}

#[test]
fn the_validator_catches_a_wrong_type() {
    let Some(schemas) = schemas("the_validator_catches_a_wrong_type") else {
        return;
    };
    let mut es = sample_elasticsearch();
    es["spec"]["nodeSets"][0]["count"] = json!("3");
    es["spec"]["http"]["tls"]["selfSignedCertificate"]["disabled"] = json!("no");
    es["spec"]["nodeSets"][0]["podTemplate"]["spec"]["containers"][0]["resources"]["limits"]["memory"] =
        json!("2 gigs");
    let errors = validate_object(&schemas.elasticsearch, &es);
    assert!(
        errors.contains(&"spec.nodeSets[0].count: must be an integer".to_owned()),
        "{errors:?}"
    );
    assert!(
        errors.contains(
            &"spec.http.tls.selfSignedCertificate.disabled: must be a boolean".to_owned()
        ),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("limits.memory: \"2 gigs\" does not match")),
        "{errors:?}"
    );
}

#[test]
fn the_validator_catches_missing_required_fields_and_bad_values() {
    let Some(schemas) = schemas("the_validator_catches_missing_required_fields_and_bad_values")
    else {
        return;
    };
    let mut es = sample_elasticsearch();
    es["spec"].as_object_mut().unwrap().remove("version");
    es["spec"]["nodeSets"][0]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let errors = validate_object(&schemas.elasticsearch, &es);
    assert!(
        errors.contains(&"spec.version: is required".to_owned()),
        "{errors:?}"
    );
    assert!(
        errors.contains(&"spec.nodeSets[0].name: is required".to_owned()),
        "{errors:?}"
    );

    let mut es = sample_elasticsearch();
    es["spec"]["nodeSets"][0]["name"] = json!("a-node-set-name-that-is-too-long");
    es["spec"]["nodeSets"] = json!([]);
    let errors = validate_object(&schemas.elasticsearch, &es);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("spec.nodeSets: must have at least 1 items")),
        "{errors:?}"
    );

    let mut es = sample_elasticsearch();
    es["spec"]["nodeSets"][0]["name"] = json!("a-node-set-name-that-is-too-long");
    let errors = validate_object(&schemas.elasticsearch, &es);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("spec.nodeSets[0].name: longer than 23")),
        "{errors:?}"
    );
}
