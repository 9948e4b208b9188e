//! Snapshot tests: every template, every operation and the tenant objects, rendered and compared with the
//! committed JSON in `tests/engine/snapshots/`.

use esaas::clusters::templates;
use esaas::k8s::eck::{RESTART_TRIGGER_ANNOTATION, render, render_tenant};
use esaas::k8s::labels;
use esaas::spec::{ClusterSpecInput, SpecRules, validate};
use esaas::tenants::quota::Resources;

use crate::cases;
use crate::snapshot::{assert_json_snapshot, check_json_snapshot};

#[test]
fn rendered_clusters_match_their_snapshots() {
    let failures: Vec<String> = cases::all()
        .iter()
        .filter_map(|(name, rendered)| check_json_snapshot(name, rendered).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn templates_match_their_snapshot() {
    // The stored JSON form of each template's spec: a change here is a change of the Postgres format.
    assert_json_snapshot("templates", &templates::templates());
}

#[test]
fn tenant_objects_match_their_snapshot() {
    let quota = Resources {
        clusters: 3,
        nodes: 12,
        cpu_millis: 12_000,
        memory_mib: 24_576,
        storage_gib: 500,
    };
    assert_json_snapshot("tenant", &render_tenant("acme", &quota));
}

#[test]
fn rendering_is_deterministic() {
    let first = serde_json::to_string(&cases::all()).unwrap();
    let second = serde_json::to_string(&cases::all()).unwrap();
    assert_eq!(first, second);
}

#[test]
fn a_template_renders_what_its_form_validates_to() {
    for t in templates::templates() {
        let rules = t.rules(&SpecRules::default());
        let spec = validate(&ClusterSpecInput::from_spec(&t.spec), &rules, None).unwrap();
        assert_eq!(
            render(&cases::context(None), &spec),
            render(&cases::context(None), &t.spec),
            "{}",
            t.id
        );
    }
}

/// `value` without the restart-trigger annotation anywhere (and without annotation maps it leaves empty).
fn without_restart_trigger(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                if k == RESTART_TRIGGER_ANNOTATION {
                    continue;
                }
                let v = without_restart_trigger(v);
                if k == "annotations" && v.as_object().is_some_and(|m| m.is_empty()) {
                    continue;
                }
                out.insert(k.clone(), v);
            }
            serde_json::Value::Object(out)
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(without_restart_trigger).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn restart_changes_only_the_trigger_annotations() {
    for t in templates::templates() {
        let before = serde_json::to_value(render(&cases::context(None), &t.spec)).unwrap();
        let after = serde_json::to_value(render(&cases::context(Some("r1")), &t.spec)).unwrap();
        let es = &after["elasticsearch"];
        assert_eq!(
            es["metadata"]["annotations"][RESTART_TRIGGER_ANNOTATION], "r1",
            "{}",
            t.id
        );
        for set in es["spec"]["nodeSets"].as_array().unwrap() {
            assert_eq!(
                set["podTemplate"]["metadata"]["annotations"][RESTART_TRIGGER_ANNOTATION], "r1",
                "{}: every node set rolls",
                t.id
            );
        }
        assert_ne!(before, after);
        // The whole rendering (Elasticsearch, Kibana and everything else) is the same once the annotation
        // is taken out: nothing else changed.
        assert_eq!(
            without_restart_trigger(&after),
            before,
            "{}: a restart changed more than the trigger annotation",
            t.id
        );
        assert_eq!(
            without_restart_trigger(&before),
            before,
            "{}: no trigger before",
            t.id
        );
    }
}

#[test]
fn every_object_carries_the_portal_labels() {
    for (name, rendered) in cases::all() {
        let mut metas = vec![&rendered.elasticsearch.metadata];
        metas.extend(rendered.kibana.as_ref().map(|k| &k.metadata));
        for meta in metas {
            let identity = labels::cluster_identity(meta.labels.as_ref().unwrap())
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(identity.tenant_slug, "acme");
            assert_eq!(identity.cluster_name, "logs");
            assert_eq!(identity.cluster_id, Some(cases::cluster_id()));
            assert_eq!(meta.namespace.as_deref(), Some("esaas-acme"));
            assert_eq!(meta.name.as_deref(), Some("logs"));
        }
    }
}
