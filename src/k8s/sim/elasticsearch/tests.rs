//! Unit tests of the allocator, the deciders, health and explain, on clusters built by hand with explicit
//! simulated time.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::allocator::{advance, create_index, set_nodes, set_replicas};
use super::explain::explain;
use super::health::{self, Health};
use super::model::{ALL_ROLES, Cluster, Node, ShardState, short_id};
use super::rest::{Body, Reply};

const T0: u64 = 1_700_000_000_000;

fn node(name: &str, roles: &[&str]) -> Node {
    Node {
        id: short_id(name),
        name: name.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        attributes: BTreeMap::new(),
        ip: format!("10.0.0.{}", name.len()),
        version: "8.15.0".into(),
        heap_max_bytes: 1 << 30,
        memory_bytes: 2 << 30,
        disk_total_bytes: 10 << 30,
        processors: 2,
        started_ms: T0,
    }
}

fn all(name: &str) -> Node {
    node(name, &ALL_ROLES)
}

fn cluster(nodes: Vec<Node>) -> Cluster {
    let mut c = Cluster::new("test", "uuid", "8.15.0", T0);
    set_nodes(&mut c, nodes);
    c
}

/// Advance simulated time by `ms` several times (recoveries finish, reroutes follow).
fn settle(c: &mut Cluster, ms: u64) {
    for _ in 0..20 {
        let now = c.now_ms + ms;
        advance(c, now);
    }
}

fn states(c: &Cluster, index: &str) -> Vec<(u32, bool, ShardState, Option<String>)> {
    let mut v: Vec<_> = c
        .shards
        .iter()
        .filter(|s| s.index == index)
        .map(|s| {
            (
                s.shard,
                s.primary,
                s.state,
                s.node.as_deref().map(|n| c.node_name(n).to_string()),
            )
        })
        .collect();
    v.sort_by_key(|a| (a.0, !a.1));
    v
}

fn body(r: Reply) -> Value {
    match r.body {
        Body::Json(v) => v,
        _ => Value::Null,
    }
}

fn deciders_of(v: &Value) -> Vec<String> {
    v["node_allocation_decisions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|n| n["deciders"].as_array().cloned().unwrap_or_default())
        .filter_map(|d| d["decider"].as_str().map(String::from))
        .collect()
}

#[test]
fn three_shards_one_replica_spread_over_three_nodes_is_green() {
    let mut c = cluster(vec![all("es-0"), all("es-1"), all("es-2")]);
    create_index(&mut c, "logs", 3, 1, BTreeMap::new());
    settle(&mut c, 100);
    let s = states(&c, "logs");
    assert_eq!(s.len(), 6);
    assert!(s.iter().all(|x| x.2 == ShardState::Started), "{s:?}");
    for sh in 0..3 {
        let nodes: Vec<_> = s
            .iter()
            .filter(|x| x.0 == sh)
            .map(|x| x.3.clone())
            .collect();
        assert_ne!(nodes[0], nodes[1], "same_shard: two copies on one node");
    }
    for n in ["es-0", "es-1", "es-2"] {
        assert_eq!(
            s.iter().filter(|x| x.3.as_deref() == Some(n)).count(),
            2,
            "balanced"
        );
    }
    assert_eq!(health::cluster(&c, None).0, Health::Green);
}

#[test]
fn single_node_with_a_replica_is_yellow_and_explain_says_same_shard() {
    let mut c = cluster(vec![all("es-0")]);
    create_index(&mut c, "logs", 1, 1, BTreeMap::new());
    settle(&mut c, 100);
    let (h, n, copies) = health::cluster(&c, None);
    assert_eq!(h, Health::Yellow);
    assert_eq!(
        (n.active, n.unassigned, n.unassigned_primary, copies),
        (1, 1, 0, 2)
    );
    let v = body(explain(&c, &Value::Null, false, false));
    assert_eq!(v["index"], "logs");
    assert_eq!(v["primary"], false);
    assert_eq!(v["current_state"], "unassigned");
    assert_eq!(v["can_allocate"], "no");
    assert_eq!(v["unassigned_info"]["reason"], "INDEX_CREATED");
    assert!(v["note"].as_str().is_some());
    assert_eq!(deciders_of(&v), vec!["same_shard"]);
    let d = &v["node_allocation_decisions"][0]["deciders"][0];
    assert_eq!(d["decision"], "NO");
    assert!(
        d["explanation"]
            .as_str()
            .unwrap()
            .starts_with("a copy of this shard is already allocated to this node [[logs][0]"),
        "{d}"
    );
}

#[test]
fn losing_a_node_promotes_the_replica_and_marks_node_left() {
    let mut c = cluster(vec![all("es-0"), all("es-1")]);
    create_index(&mut c, "logs", 1, 1, BTreeMap::new());
    settle(&mut c, 100);
    let primary_node = states(&c, "logs")[0].3.clone().unwrap();
    let stay = if primary_node == "es-0" {
        "es-1"
    } else {
        "es-0"
    };
    set_nodes(&mut c, vec![all(stay)]);
    let s = states(&c, "logs");
    assert_eq!(
        s[0],
        (0, true, ShardState::Started, Some(stay.to_string())),
        "replica promoted"
    );
    assert_eq!(s[1].2, ShardState::Unassigned);
    let lost = c.shards.iter().find(|x| !x.primary).unwrap();
    assert_eq!(lost.unassigned.as_ref().unwrap().reason, "NODE_LEFT");
    assert_eq!(health::cluster(&c, None).0, Health::Yellow);
    // Without any copy left, a lost primary is red.
    let mut c = cluster(vec![all("es-0"), all("es-1")]);
    create_index(&mut c, "solo", 1, 0, BTreeMap::new());
    settle(&mut c, 100);
    let on = states(&c, "solo")[0].3.clone().unwrap();
    let stay = if on == "es-0" { "es-1" } else { "es-0" };
    set_nodes(&mut c, vec![all(stay)]);
    settle(&mut c, 100);
    assert_eq!(health::cluster(&c, None).0, Health::Red);
    let v = body(explain(
        &c,
        &json!({"index":"solo","shard":0,"primary":true}),
        false,
        false,
    ));
    assert_eq!(v["can_allocate"], "no_valid_shard_copy");
}

#[test]
fn a_joining_node_receives_the_replica_over_simulated_time() {
    let mut c = cluster(vec![all("es-0")]);
    c.recovery_bytes_per_sec = 1000.0;
    create_index(&mut c, "logs", 1, 1, BTreeMap::new());
    settle(&mut c, 10);
    c.indices.get_mut("logs").unwrap().bytes[0] = 10_000;
    set_nodes(&mut c, vec![all("es-0"), all("es-1")]);
    assert_eq!(states(&c, "logs")[1].2, ShardState::Initializing);
    assert_eq!(health::cluster(&c, None).1.initializing, 1);
    let now = c.now_ms + 5_000;
    advance(&mut c, now);
    assert_eq!(
        states(&c, "logs")[1].2,
        ShardState::Initializing,
        "half copied after 5 s at 1000 B/s"
    );
    let now = c.now_ms + 5_001;
    advance(&mut c, now);
    assert_eq!(
        states(&c, "logs")[1],
        (0, false, ShardState::Started, Some("es-1".into()))
    );
    assert_eq!(health::cluster(&c, None).0, Health::Green);
}

#[test]
fn allocation_filters_exclude_and_require() {
    let mut c = cluster(vec![all("es-0"), all("es-1"), all("es-2")]);
    c.persistent.insert(
        "cluster.routing.allocation.exclude._name".into(),
        "es-2".into(),
    );
    create_index(&mut c, "logs", 2, 0, BTreeMap::new());
    settle(&mut c, 100);
    assert!(
        states(&c, "logs")
            .iter()
            .all(|s| s.3.as_deref() != Some("es-2"))
    );
    let v = body(explain(
        &c,
        &json!({"index":"logs","shard":0,"primary":true}),
        false,
        false,
    ));
    let on_es2 = v["node_allocation_decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_name"] == "es-2")
        .unwrap()
        .clone();
    assert_eq!(on_es2["deciders"][0]["decider"], "filter");
    assert_eq!(
        on_es2["deciders"][0]["explanation"],
        "node matches cluster setting [cluster.routing.allocation.exclude] filters [_name:\"es-2\"]"
    );
    // An index that requires a node that does not exist: a new primary refused by a decider is red.
    let mut settings = BTreeMap::new();
    settings.insert(
        "index.routing.allocation.require._name".into(),
        "nonexistent_node".into(),
    );
    create_index(&mut c, "pinned", 1, 0, settings);
    settle(&mut c, 100);
    assert_eq!(
        health::index(&c, c.indices.get("pinned").unwrap()).0,
        Health::Red
    );
    let v = body(explain(
        &c,
        &json!({"index":"pinned","shard":0,"primary":true}),
        false,
        false,
    ));
    assert_eq!(v["can_allocate"], "no");
    let texts: Vec<String> = v["node_allocation_decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["deciders"][0]["explanation"].as_str().map(String::from))
        .collect();
    assert!(texts.iter().any(|t| t == "node does not match index setting [index.routing.allocation.require] filters [_name:\"nonexistent_node\"]"), "{texts:?}");
    // Excluding a node moves its shards off it.
    c.persistent.insert(
        "cluster.routing.allocation.exclude._name".into(),
        "es-0".into(),
    );
    settle(&mut c, 100);
    assert!(
        states(&c, "logs")
            .iter()
            .all(|s| s.3.as_deref() != Some("es-0")),
        "{:?}",
        states(&c, "logs")
    );
}

#[test]
fn data_tiers_and_preference() {
    let mut c = cluster(vec![
        node("hot", &["data_hot", "master"]),
        node("content", &["data_content"]),
        node("coord", &["master"]),
    ]);
    create_index(&mut c, "plain", 1, 0, BTreeMap::new());
    let mut warm = BTreeMap::new();
    warm.insert(
        "index.routing.allocation.include._tier_preference".into(),
        "data_warm,data_hot".into(),
    );
    create_index(&mut c, "aged", 1, 0, warm);
    let mut cold = BTreeMap::new();
    cold.insert(
        "index.routing.allocation.include._tier_preference".into(),
        "data_cold".into(),
    );
    create_index(&mut c, "frozen", 1, 0, cold);
    settle(&mut c, 100);
    assert_eq!(
        states(&c, "plain")[0].3.as_deref(),
        Some("content"),
        "default data_content"
    );
    assert_eq!(
        states(&c, "aged")[0].3.as_deref(),
        Some("hot"),
        "first tier with a node"
    );
    assert_eq!(states(&c, "frozen")[0].2, ShardState::Unassigned);
    let v = body(explain(
        &c,
        &json!({"index":"aged","shard":0,"primary":true}),
        false,
        false,
    ));
    assert!(
        v["node_allocation_decisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["node_name"] != "coord"),
        "only data nodes"
    );
    let v = body(explain(
        &c,
        &json!({"index":"frozen","shard":0,"primary":true}),
        false,
        false,
    ));
    let d = &v["node_allocation_decisions"][0]["deciders"][0];
    assert_eq!(d["decider"], "data_tier");
    assert_eq!(
        d["explanation"],
        "index has a preference for tiers [data_cold], but no nodes for any of those tiers are available in the cluster"
    );
    assert_eq!(
        c.nodes
            .values()
            .find(|n| n.name == "coord")
            .unwrap()
            .role_letters(),
        "m"
    );
}

#[test]
fn disk_watermarks_low_high_and_flood_stage() {
    let mut c = cluster(vec![all("es-0"), all("es-1")]);
    create_index(&mut c, "logs", 1, 1, BTreeMap::new());
    settle(&mut c, 100);
    // es-1 above the low watermark: a new replica may not go there, a new primary may.
    c.load.get_mut("es-1").unwrap().disk_used_override = Some((10u64 << 30) * 87 / 100);
    create_index(&mut c, "fresh", 2, 1, BTreeMap::new());
    settle(&mut c, 100);
    let fresh = states(&c, "fresh");
    assert!(
        fresh
            .iter()
            .filter(|s| !s.1)
            .all(|s| s.3.as_deref() != Some("es-1")),
        "{fresh:?}"
    );
    let v = body(explain(&c, &Value::Null, false, false));
    let d = deciders_of(&v);
    assert!(
        d.contains(&"disk_threshold".to_string()) || d.contains(&"same_shard".to_string()),
        "{v}"
    );
    let es1 = v["node_allocation_decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_name"] == "es-1")
        .unwrap()
        .clone();
    assert!(es1["deciders"].as_array().unwrap().iter().any(|d| d["decider"] == "disk_threshold"
        && d["explanation"].as_str().unwrap().starts_with("the node is above the low watermark cluster setting [cluster.routing.allocation.disk.watermark.low=85%]")), "{es1}");
    // Flood stage: every index with a copy there gets the read-only block; it goes once below high.
    c.load.get_mut("es-1").unwrap().disk_used_override = Some((10u64 << 30) * 96 / 100);
    settle(&mut c, 100);
    assert!(c.indices["logs"].read_only_allow_delete());
    c.load.get_mut("es-1").unwrap().disk_used_override = Some(1 << 30);
    settle(&mut c, 100);
    assert!(!c.indices["logs"].read_only_allow_delete());
}

#[test]
fn enable_none_and_primaries() {
    let mut c = cluster(vec![all("es-0"), all("es-1")]);
    c.transient
        .insert("cluster.routing.allocation.enable".into(), "none".into());
    create_index(&mut c, "logs", 1, 1, BTreeMap::new());
    settle(&mut c, 100);
    assert!(
        states(&c, "logs")
            .iter()
            .all(|s| s.2 == ShardState::Unassigned)
    );
    let v = body(explain(&c, &Value::Null, false, false));
    assert_eq!(
        v["node_allocation_decisions"][0]["deciders"][0]["explanation"],
        "no allocations are allowed due to cluster setting [cluster.routing.allocation.enable=none]"
    );
    assert_eq!(
        health::cluster(&c, None).0,
        Health::Red,
        "a new primary refused by a decider"
    );
    c.transient.insert(
        "cluster.routing.allocation.enable".into(),
        "primaries".into(),
    );
    settle(&mut c, 100);
    let s = states(&c, "logs");
    assert_eq!(
        (s[0].2, s[1].2),
        (ShardState::Started, ShardState::Unassigned)
    );
    let v = body(explain(&c, &Value::Null, false, false));
    let ds: Vec<_> = v["node_allocation_decisions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["deciders"].as_array().cloned().unwrap())
        .collect();
    assert!(ds.iter().any(|d| d["decider"] == "enable" && d["explanation"] == "replica allocations are forbidden due to cluster setting [cluster.routing.allocation.enable=primaries]"), "{v}");
    c.transient.remove("cluster.routing.allocation.enable");
    settle(&mut c, 100);
    assert_eq!(health::cluster(&c, None).0, Health::Green);
}

#[test]
fn replicas_can_be_lowered_to_turn_green() {
    let mut c = cluster(vec![all("es-0")]);
    create_index(&mut c, "logs", 3, 1, BTreeMap::new());
    settle(&mut c, 100);
    assert_eq!(health::cluster(&c, None).0, Health::Yellow);
    set_replicas(&mut c, "logs", 0);
    settle(&mut c, 100);
    assert_eq!(health::cluster(&c, None).0, Health::Green);
    assert_eq!(c.shards.len(), 3);
}

#[test]
fn node_left_replicas_wait_for_the_delay_and_the_returning_node_gets_them_back() {
    let mut c = cluster(vec![all("es-0"), all("es-1"), all("es-2")]);
    create_index(&mut c, "logs", 3, 1, BTreeMap::new());
    settle(&mut c, 100);
    set_nodes(&mut c, vec![all("es-0"), all("es-1")]);
    settle(&mut c, 100);
    let (h, n, _) = health::cluster(&c, None);
    assert_eq!(h, Health::Yellow);
    assert_eq!(n.delayed, 2, "two copies were on es-2");
    let v = body(explain(&c, &Value::Null, false, false));
    assert_eq!(v["can_allocate"], "allocation_delayed");
    assert_eq!(v["configured_delay_in_millis"], 60_000);
    set_nodes(&mut c, vec![all("es-0"), all("es-1"), all("es-2")]);
    settle(&mut c, 100);
    assert_eq!(health::cluster(&c, None).0, Health::Green);
    assert_eq!(c.copies_on(&short_id("es-2")).count(), 2);
}
