//! Unit tests for [`super::validate`]: one test per rule, each checking the message lands on the right field.

use std::collections::BTreeMap;

use super::*;

fn node_set(name: &str, roles: &[&str], count: u32) -> NodeSetInput {
    NodeSetInput {
        name: name.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        count: Some(count.into()),
        cpu_millis: Some(1000u32.into()),
        memory_mib: Some(2048u32.into()),
        storage_gib: Some(10u32.into()),
        storage_class: None,
        attributes: BTreeMap::new(),
    }
}

fn input() -> ClusterSpecInput {
    ClusterSpecInput {
        version: "9.2.1".into(),
        node_sets: vec![
            node_set("master", &["master"], 3),
            node_set("data", &["data", "ingest"], 2),
        ],
        kibana: Some(KibanaInput {
            count: Some(1u32.into()),
            cpu_millis: Some(500u32.into()),
            memory_mib: Some(1024u32.into()),
        }),
        http_tls: None,
        ip_allow_list: None,
    }
}

fn rules() -> SpecRules {
    SpecRules::default()
}

fn production() -> SpecRules {
    SpecRules::default().with_production(true)
}

/// Validates and returns the errors, failing the test if validation passed.
fn errors_of(
    input: &ClusterSpecInput,
    rules: &SpecRules,
    previous: Option<&ClusterSpec>,
) -> FieldErrors {
    match validate(input, rules, previous) {
        Ok(spec) => panic!("expected errors, got {spec:?}"),
        Err(errors) => errors,
    }
}

fn assert_error(errors: &FieldErrors, field: &str, fragment: &str) {
    let message = errors
        .get(field)
        .unwrap_or_else(|| panic!("no error at {field}; errors: {errors}"));
    assert!(
        message.contains(fragment),
        "{field}: {message:?} lacks {fragment:?}"
    );
}

#[test]
fn a_valid_input_becomes_a_spec() {
    let spec = validate(&input(), &production(), None).unwrap();
    assert_eq!(spec.version, EsVersion::new(9, 2, 1));
    assert_eq!(spec.node_sets.len(), 2);
    assert_eq!(
        spec.node_sets[1].roles,
        [NodeRole::Data, NodeRole::Ingest].into()
    );
    assert!(spec.http_tls, "HTTPS is the default");
    assert_eq!(spec.kibana.unwrap().memory_mib, 1024);
}

#[test]
fn from_spec_round_trips() {
    let spec = validate(&input(), &rules(), None).unwrap();
    let again = validate(&ClusterSpecInput::from_spec(&spec), &rules(), Some(&spec)).unwrap();
    assert_eq!(again, spec);
}

#[test]
fn text_numbers_and_whitespace_from_forms_are_accepted() {
    let mut input = input();
    input.version = " 9.2.1 ".into();
    input.node_sets[0].name = " master ".into();
    input.node_sets[0].count = Some(" 3 ".into());
    input.node_sets[0].roles = vec![" master ".into(), "".into()];
    input.node_sets[0].storage_class = Some("  ".into());
    let spec = validate(&input, &rules(), None).unwrap();
    assert_eq!(spec.node_sets[0].count, 3);
    assert_eq!(spec.node_sets[0].storage_class, None);
}

#[test]
fn version_must_parse_and_be_offered() {
    let mut bad = input();
    bad.version = "9.2".into();
    assert_error(
        &errors_of(&bad, &rules(), None),
        "version",
        "major.minor.patch",
    );
    bad.version = "".into();
    assert_error(
        &errors_of(&bad, &rules(), None),
        "version",
        "Choose a version",
    );
    bad.version = "8.15.0".into();
    assert_error(
        &errors_of(&bad, &rules(), None),
        "version",
        "choose one of 8.19.7, 9.2.1",
    );
}

#[test]
fn a_cluster_keeps_a_version_that_is_no_longer_offered() {
    let mut old = input();
    old.version = "8.15.0".into();
    let rules_then = SpecRules {
        allowed_versions: vec![EsVersion::new(8, 15, 0)],
        ..rules()
    };
    let previous = validate(&old, &rules_then, None).unwrap();
    old.node_sets[1].count = Some(3u32.into());
    let scaled = validate(&old, &rules(), Some(&previous)).unwrap();
    assert_eq!(scaled.version, EsVersion::new(8, 15, 0));
}

#[test]
fn version_changes_must_be_upgrades() {
    let previous = validate(&input(), &rules(), None).unwrap();
    let mut down = input();
    down.version = "8.19.7".into();
    assert_error(
        &errors_of(&down, &rules(), Some(&previous)),
        "version",
        "only be upgraded",
    );
}

#[test]
fn node_sets_are_required_and_limited() {
    let mut none = input();
    none.node_sets.clear();
    assert_error(
        &errors_of(&none, &rules(), None),
        "node_sets",
        "at least one node set",
    );

    let mut many = input();
    for i in 0..10 {
        many.node_sets
            .push(node_set(&format!("extra-{i}"), &["data"], 1));
    }
    assert_error(
        &errors_of(&many, &rules(), None),
        "node_sets",
        "at most 10 node sets",
    );
}

#[test]
fn node_set_names_are_checked_and_unique() {
    let mut bad = input();
    bad.node_sets[1].name = "Data Nodes".into();
    assert_error(
        &errors_of(&bad, &rules(), None),
        "node_sets.1.name",
        "lower-case",
    );

    let mut dup = input();
    dup.node_sets[1].name = "master".into();
    assert_error(
        &errors_of(&dup, &rules(), None),
        "node_sets.1.name",
        "already named \u{201c}master\u{201d}",
    );

    let mut long = input();
    long.node_sets[1].name = "a-node-set-name-too-long".into();
    assert_error(
        &errors_of(&long, &rules(), None),
        "node_sets.1.name",
        "at most 23",
    );
}

#[test]
fn sizes_must_be_within_bounds() {
    let mut bad = input();
    bad.node_sets[0].count = Some(0u32.into());
    bad.node_sets[0].cpu_millis = Some(100u32.into());
    bad.node_sets[0].memory_mib = Some(100_000u32.into());
    bad.node_sets[0].storage_gib = Some(NumberInput::Number(-1));
    bad.node_sets[1].count = Some("two".into());
    bad.node_sets[1].cpu_millis = None;
    let errors = errors_of(&bad, &rules(), None);
    assert_error(&errors, "node_sets.0.count", "from 1 to 50 nodes");
    assert_error(
        &errors,
        "node_sets.0.cpu_millis",
        "from 250 to 16000 millicores",
    );
    assert_error(&errors, "node_sets.0.memory_mib", "from 1024 to 65536 MiB");
    assert_error(&errors, "node_sets.0.storage_gib", "from 1 to 4096 GiB");
    assert_error(&errors, "node_sets.1.count", "whole number");
    assert_error(&errors, "node_sets.1.cpu_millis", "Enter a number");
}

#[test]
fn roles_are_required_known_and_consistent() {
    let mut empty = input();
    empty.node_sets[1].roles.clear();
    assert_error(
        &errors_of(&empty, &rules(), None),
        "node_sets.1.roles",
        "at least one role",
    );

    let mut unknown = input();
    unknown.node_sets[1].roles = vec!["data".into(), "client".into()];
    assert_error(
        &errors_of(&unknown, &rules(), None),
        "node_sets.1.roles",
        "Unknown role \u{201c}client\u{201d}",
    );

    let mut mixed = input();
    mixed
        .node_sets
        .push(node_set("coord", &["coordinating", "ingest"], 2));
    assert_error(
        &errors_of(&mixed, &rules(), None),
        "node_sets.2.roles",
        "without any other role",
    );

    let mut generic_and_tier = input();
    generic_and_tier.node_sets[1].roles = vec!["data".into(), "data_hot".into()];
    assert_error(
        &errors_of(&generic_and_tier, &rules(), None),
        "node_sets.1.roles",
        "not both",
    );
}

#[test]
fn a_master_and_a_data_node_set_are_required() {
    let mut no_master = input();
    no_master.node_sets[0].roles = vec!["ingest".into()];
    assert_error(
        &errors_of(&no_master, &rules(), None),
        "node_sets",
        "master role",
    );

    let mut no_data = input();
    no_data.node_sets[1].roles = vec!["ingest".into(), "ml".into()];
    assert_error(
        &errors_of(&no_data, &rules(), None),
        "node_sets",
        "data role",
    );
}

#[test]
fn tiered_clusters_need_a_content_tier() {
    let mut tiers = input();
    tiers.node_sets[1].roles = vec!["data_hot".into()];
    tiers.node_sets.push(node_set("warm", &["data_warm"], 1));
    assert_error(
        &errors_of(&tiers, &rules(), None),
        "node_sets",
        "data_content",
    );
    tiers.node_sets[1].roles.push("data_content".into());
    assert!(validate(&tiers, &rules(), None).is_ok());
}

#[test]
fn production_needs_an_odd_number_of_masters() {
    let mut even = input();
    even.node_sets[0].count = Some(2u32.into());
    assert!(
        validate(&even, &rules(), None).is_ok(),
        "development clusters may have 2 masters"
    );
    assert_error(
        &errors_of(&even, &production(), None),
        "node_sets.0.count",
        "odd number",
    );

    let mut two_sets = input();
    two_sets.node_sets[0].count = Some(1u32.into());
    two_sets.node_sets[1].roles = vec!["master".into(), "data".into()];
    two_sets.node_sets[1].count = Some(3u32.into());
    assert_error(
        &errors_of(&two_sets, &production(), None),
        "node_sets",
        "has 4",
    );
    two_sets.node_sets[1].count = Some(2u32.into());
    assert!(validate(&two_sets, &production(), None).is_ok());
}

#[test]
fn storage_grows_but_never_shrinks() {
    let previous = validate(&input(), &rules(), None).unwrap();
    let mut shrink = input();
    shrink.node_sets[1].storage_gib = Some(5u32.into());
    assert_error(
        &errors_of(&shrink, &rules(), Some(&previous)),
        "node_sets.1.storage_gib",
        "has 10 GiB",
    );

    let mut grow = input();
    grow.node_sets[1].storage_gib = Some(20u32.into());
    assert_eq!(
        validate(&grow, &rules(), Some(&previous))
            .unwrap()
            .node_sets[1]
            .storage_gib,
        20
    );

    let mut renamed = shrink.clone();
    renamed.node_sets[1].name = "data-v2".into();
    assert!(
        validate(&renamed, &rules(), Some(&previous)).is_ok(),
        "a new node set starts fresh"
    );
}

#[test]
fn storage_class_is_a_dns_subdomain_and_fixed_once_created() {
    let mut bad = input();
    bad.node_sets[1].storage_class = Some("Fast SSD".into());
    assert_error(
        &errors_of(&bad, &rules(), None),
        "node_sets.1.storage_class",
        "lower-case",
    );

    let mut fast = input();
    fast.node_sets[1].storage_class = Some("fast-ssd".into());
    let previous = validate(&fast, &rules(), None).unwrap();
    assert_eq!(
        previous.node_sets[1]
            .storage_class
            .as_ref()
            .unwrap()
            .as_str(),
        "fast-ssd"
    );

    let mut changed = fast.clone();
    changed.node_sets[1].storage_class = Some("slow-hdd".into());
    assert_error(
        &errors_of(&changed, &rules(), Some(&previous)),
        "node_sets.1.storage_class",
        "\u{201c}fast-ssd\u{201d}",
    );
    changed.node_sets[1].storage_class = None;
    assert_error(
        &errors_of(&changed, &rules(), Some(&previous)),
        "node_sets.1.storage_class",
        "cannot change",
    );
}

#[test]
fn attributes_are_checked() {
    let mut good = input();
    good.node_sets[1].attributes = [("data".to_owned(), "hot".to_owned())].into();
    let spec = validate(&good, &rules(), None).unwrap();
    assert_eq!(spec.node_sets[1].attributes.len(), 1);

    let mut bad_key = input();
    bad_key.node_sets[1].attributes = [("Data Tier".to_owned(), "hot".to_owned())].into();
    assert_error(
        &errors_of(&bad_key, &rules(), None),
        "node_sets.1.attributes",
        "\u{201c}Data Tier\u{201d}",
    );

    let mut bad_value = input();
    bad_value.node_sets[1].attributes = [("data".to_owned(), "".to_owned())].into();
    assert_error(
        &errors_of(&bad_value, &rules(), None),
        "node_sets.1.attributes",
        "\u{201c}data\u{201d}: attribute value",
    );

    let mut twice = input();
    twice.node_sets[1].attributes = [
        ("data".to_owned(), "hot".to_owned()),
        ("data ".to_owned(), "warm".to_owned()),
    ]
    .into();
    assert_error(
        &errors_of(&twice, &rules(), None),
        "node_sets.1.attributes",
        "twice",
    );
}

#[test]
fn kibana_is_optional_and_bounded() {
    let mut without = input();
    without.kibana = None;
    assert!(validate(&without, &rules(), None).unwrap().kibana.is_none());

    let mut bad = input();
    bad.kibana = Some(KibanaInput {
        count: Some(0u32.into()),
        cpu_millis: None,
        memory_mib: Some(512u32.into()),
    });
    let errors = errors_of(&bad, &rules(), None);
    assert_error(&errors, "kibana.count", "from 1 to 5 instances");
    assert_error(&errors, "kibana.cpu_millis", "Enter a number");
    assert_error(&errors, "kibana.memory_mib", "from 1024");
}

#[test]
fn http_tls_can_be_turned_off() {
    let mut plain = input();
    plain.http_tls = Some(false);
    assert!(!validate(&plain, &rules(), None).unwrap().http_tls);
}

#[test]
fn all_errors_are_reported_at_once() {
    let mut bad = input();
    bad.version = "x".into();
    bad.node_sets[0].name = "".into();
    bad.node_sets[1].memory_mib = Some(1u32.into());
    let errors = errors_of(&bad, &rules(), None);
    assert!(errors.get("version").is_some());
    assert!(errors.get("node_sets.0.name").is_some());
    assert!(errors.get("node_sets.1.memory_mib").is_some());
}
