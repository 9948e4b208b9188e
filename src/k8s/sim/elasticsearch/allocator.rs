//! What changes the routing table, as Elasticsearch's master does: index creation and replica changes, nodes
//! joining and leaving (copies become unassigned with `NODE_LEFT`, a started replica is promoted), the reroute
//! (allocate unassigned copies, primaries first; move copies that may not remain; rebalance by shard count once
//! everything is active), recoveries and relocations progressing over simulated time at the cluster's recovery
//! speed, and the flood-stage read-only block.

use std::collections::BTreeMap;

use super::deciders::{Verdict, can_allocate, can_remain, overall};
use super::model::{
    Cluster, EMPTY_SHARD_BYTES, Index, Node, RecoverySource, ShardCopy, ShardState, Unassigned,
};
use super::settings::{self, node_left_delay_ms};

/// A new unassigned copy.
fn unassigned_copy(
    c: &mut Cluster,
    index: &str,
    shard: u32,
    primary: bool,
    reason: &'static str,
) -> ShardCopy {
    ShardCopy {
        index: index.into(),
        shard,
        primary,
        state: ShardState::Unassigned,
        node: None,
        relocating_to: None,
        recovered_bytes: 0.0,
        recovery_bytes: 0,
        allocation_id: c.new_id(),
        recovery_source: if primary {
            RecoverySource::EmptyStore
        } else {
            RecoverySource::Peer
        },
        unassigned: Some(Unassigned {
            reason,
            at_ms: c.now_ms,
            details: None,
            last_node: None,
            last_status: "no_attempt",
            delayed: false,
        }),
    }
}

/// Create an index (its copies unassigned with `INDEX_CREATED`) and reroute.
pub fn create_index(
    c: &mut Cluster,
    name: &str,
    shards: u32,
    replicas: u32,
    mut settings: BTreeMap<String, String>,
) {
    settings
        .entry("index.routing.allocation.include._tier_preference".into())
        .or_insert_with(|| "data_content".into());
    let uuid = c.new_id();
    c.indices.insert(
        name.into(),
        Index {
            name: name.into(),
            uuid,
            shards,
            replicas,
            settings,
            docs: vec![0; shards as usize],
            bytes: vec![EMPTY_SHARD_BYTES; shards as usize],
            created_ms: c.now_ms,
            index_total: 0,
            query_total: 0,
        },
    );
    for shard in 0..shards {
        let p = unassigned_copy(c, name, shard, true, "INDEX_CREATED");
        c.shards.push(p);
        for _ in 0..replicas {
            let r = unassigned_copy(c, name, shard, false, "INDEX_CREATED");
            c.shards.push(r);
        }
    }
    reroute(c);
}

/// Delete an index.
pub fn delete_index(c: &mut Cluster, name: &str) {
    c.indices.remove(name);
    c.shards.retain(|s| s.index != name);
    reroute(c);
}

/// Change `number_of_replicas`: new copies are unassigned (`REPLICA_ADDED`); removed ones go unassigned
/// first, then initializing, then started ones.
pub fn set_replicas(c: &mut Cluster, name: &str, replicas: u32) {
    let Some(i) = c.indices.get_mut(name) else {
        return;
    };
    let shards = i.shards;
    i.replicas = replicas;
    for shard in 0..shards {
        let have = c
            .shards
            .iter()
            .filter(|s| s.index == name && s.shard == shard && !s.primary)
            .count() as u32;
        for _ in have..replicas {
            let r = unassigned_copy(c, name, shard, false, "REPLICA_ADDED");
            c.shards.push(r);
        }
        let mut extra = have.saturating_sub(replicas);
        for state in [
            ShardState::Unassigned,
            ShardState::Initializing,
            ShardState::Relocating,
            ShardState::Started,
        ] {
            while extra > 0 {
                let Some(pos) = c.shards.iter().position(|s| {
                    s.index == name && s.shard == shard && !s.primary && s.state == state
                }) else {
                    break;
                };
                c.shards.remove(pos);
                extra -= 1;
            }
        }
    }
    reroute(c);
}

/// Replace the node list: nodes that are gone leave (their copies fail), new ones join; reroute.
pub fn set_nodes(c: &mut Cluster, nodes: Vec<Node>) {
    let incoming: BTreeMap<String, Node> = nodes.into_iter().map(|n| (n.id.clone(), n)).collect();
    let gone: Vec<String> = c
        .nodes
        .keys()
        .filter(|id| !incoming.contains_key(*id))
        .cloned()
        .collect();
    let changed = !gone.is_empty() || incoming.keys().any(|id| !c.nodes.contains_key(id));
    for id in gone {
        node_left(c, &id);
    }
    for (id, mut n) in incoming {
        if let Some(old) = c.nodes.get(&id) {
            n.started_ms = old.started_ms;
        }
        c.load.entry(n.name.clone()).or_default();
        c.nodes.insert(id, n);
    }
    let master_ok = c
        .master
        .as_ref()
        .is_some_and(|m| c.nodes.get(m).is_some_and(Node::is_master_eligible));
    if !master_ok {
        c.master = c
            .nodes
            .values()
            .filter(|n| n.is_master_eligible())
            .map(|n| n.id.clone())
            .next();
    }
    if changed {
        reroute(c);
    }
}

/// A node left: its copies become unassigned (`NODE_LEFT`), a started replica replaces each lost primary,
/// relocations to it are cancelled.
pub fn node_left(c: &mut Cluster, id: &str) {
    let name = c.node_name(id).to_string();
    let now = c.now_ms;
    let removed = c
        .transient
        .get(super::EXCLUDE_NAME)
        .is_some_and(|v| v.split(',').any(|n| n.trim() == name));
    c.nodes.remove(id);
    if c.master.as_deref() == Some(id) {
        c.master = None;
    }
    for s in c.shards.iter_mut() {
        if s.relocating_to.as_deref() == Some(id) {
            s.relocating_to = None;
            s.state = ShardState::Started;
            s.recovered_bytes = 0.0;
        }
    }
    let lost: Vec<usize> = (0..c.shards.len())
        .filter(|&i| c.shards[i].node.as_deref() == Some(id))
        .collect();
    for i in lost {
        let was_primary = c.shards[i].primary;
        let was_active = c.shards[i].state.active();
        let (index, shard) = (c.shards[i].index.clone(), c.shards[i].shard);
        {
            let s = &mut c.shards[i];
            s.state = ShardState::Unassigned;
            s.node = None;
            s.relocating_to = None;
            s.recovered_bytes = 0.0;
            if s.primary && was_active {
                s.recovery_source = RecoverySource::ExistingStore;
            }
            s.unassigned = Some(Unassigned {
                reason: "NODE_LEFT",
                at_ms: now,
                details: Some(format!("node_left [{id}]")),
                last_node: Some(name.clone()),
                last_status: "no_attempt",
                delayed: !removed,
            });
        }
        if !was_primary {
            continue;
        }
        let promoted = c
            .shards
            .iter()
            .position(|o| o.index == index && o.shard == shard && !o.primary && o.state.active());
        if let Some(r) = promoted {
            c.shards[r].primary = true;
            let old = &mut c.shards[i];
            old.primary = false;
            old.recovery_source = RecoverySource::Peer;
        } else {
            for o in c.shards.iter_mut() {
                if o.index == index
                    && o.shard == shard
                    && !o.primary
                    && o.state == ShardState::Initializing
                {
                    o.state = ShardState::Unassigned;
                    o.node = None;
                    o.recovered_bytes = 0.0;
                    o.unassigned = Some(Unassigned {
                        reason: "PRIMARY_FAILED",
                        at_ms: now,
                        details: None,
                        last_node: None,
                        last_status: "no_attempt",
                        delayed: false,
                    });
                }
            }
        }
    }
}

/// Is the copy waiting for its node-left delay (and may not go elsewhere yet)?
pub fn delayed(c: &Cluster, s: &ShardCopy) -> bool {
    let Some(u) = &s.unassigned else { return false };
    if s.primary || !u.delayed || u.reason != "NODE_LEFT" || s.state != ShardState::Unassigned {
        return false;
    }
    let delay = c.indices.get(&s.index).map_or(0, node_left_delay_ms);
    c.now_ms < u.at_ms + delay
}

/// Milliseconds of delay left.
pub fn remaining_delay_ms(c: &Cluster, s: &ShardCopy) -> u64 {
    let delay = c.indices.get(&s.index).map_or(0, node_left_delay_ms);
    s.unassigned
        .as_ref()
        .map_or(0, |u| (u.at_ms + delay).saturating_sub(c.now_ms))
}

fn shard_count(c: &Cluster, node_id: &str) -> usize {
    c.copies_on(node_id).count()
}

/// The candidate nodes of an unassigned copy (data nodes; a lost primary only on the node that had it).
pub fn candidates<'a>(c: &'a Cluster, s: &'a ShardCopy) -> Vec<&'a Node> {
    let last = s.unassigned.as_ref().and_then(|u| u.last_node.as_deref());
    c.nodes
        .values()
        .filter(|n| n.is_data())
        .filter(|n| {
            !(s.primary && s.recovery_source == RecoverySource::ExistingStore)
                || Some(n.name.as_str()) == last
        })
        .collect()
}

/// Allocate unassigned copies, move copies that may not remain, rebalance.
pub fn reroute(c: &mut Cluster) {
    allocate_unassigned(c);
    move_shards(c);
    rebalance(c);
}

fn allocate_unassigned(c: &mut Cluster) {
    let mut order: Vec<usize> = (0..c.shards.len())
        .filter(|&i| c.shards[i].state == ShardState::Unassigned)
        .collect();
    order.sort_by_key(|&i| !c.shards[i].primary);
    for i in order {
        let s = c.shards[i].clone();
        let last = s.unassigned.as_ref().and_then(|u| u.last_node.clone());
        let is_delayed = delayed(c, &s);
        let mut best: Option<(bool, usize, String)> = None;
        let mut any_throttle = false;
        for n in candidates(c, &s) {
            if is_delayed && Some(&n.name) != last.as_ref() {
                continue;
            }
            match overall(&can_allocate(c, &s, n)) {
                Verdict::Yes => {
                    let key = (
                        Some(&n.name) != last.as_ref(),
                        shard_count(c, &n.id),
                        n.id.clone(),
                    );
                    if best.as_ref().is_none_or(|b| key < *b) {
                        best = Some(key);
                    }
                }
                Verdict::Throttle => any_throttle = true,
                Verdict::No => {}
            }
        }
        let primary_size = c
            .indices
            .get(&s.index)
            .and_then(|x| x.bytes.get(s.shard as usize))
            .copied()
            .unwrap_or(EMPTY_SHARD_BYTES);
        let copy = &mut c.shards[i];
        match best {
            Some((other_node, _, node)) => {
                copy.state = ShardState::Initializing;
                copy.recovery_bytes = if copy.recovery_source == RecoverySource::Peer && other_node
                {
                    primary_size
                } else {
                    0
                };
                copy.node = Some(node);
                copy.recovered_bytes = 0.0;
            }
            None => {
                if let Some(u) = copy.unassigned.as_mut() {
                    u.last_status = if is_delayed {
                        "allocation_delayed"
                    } else if s.primary && s.recovery_source == RecoverySource::ExistingStore {
                        "no_valid_shard_copy"
                    } else if any_throttle {
                        "throttled"
                    } else {
                        "no"
                    };
                }
            }
        }
    }
}

/// The best node a started copy may move to (fewest shards), if any.
pub fn move_target(c: &Cluster, s: &ShardCopy) -> Option<String> {
    c.nodes
        .values()
        .filter(|n| n.is_data() && Some(&n.id) != s.node.as_ref())
        .filter(|n| overall(&can_allocate(c, s, n)) == Verdict::Yes)
        .min_by_key(|n| (shard_count(c, &n.id), n.id.clone()))
        .map(|n| n.id.clone())
}

fn start_relocation(c: &mut Cluster, i: usize, target: String) {
    let size = c.copy_bytes(&c.shards[i]);
    let s = &mut c.shards[i];
    s.state = ShardState::Relocating;
    s.relocating_to = Some(target);
    s.recovered_bytes = 0.0;
    s.recovery_bytes = size;
}

fn move_shards(c: &mut Cluster) {
    for i in 0..c.shards.len() {
        let s = &c.shards[i];
        if s.state != ShardState::Started {
            continue;
        }
        let Some(node) = s.node.as_deref().and_then(|n| c.nodes.get(n)) else {
            continue;
        };
        if overall(&can_remain(c, s, node)) != Verdict::No {
            continue;
        }
        if let Some(target) = move_target(c, s) {
            start_relocation(c, i, target);
        }
    }
}

fn rebalance(c: &mut Cluster) {
    let enable = c
        .setting("cluster.routing.rebalance.enable")
        .unwrap_or("all")
        .to_ascii_lowercase();
    if enable == "none" || c.shards.iter().any(|s| s.state != ShardState::Started) {
        return;
    }
    let concurrent = settings::number(
        c,
        "cluster.routing.allocation.cluster_concurrent_rebalance",
        2,
    );
    for _ in 0..concurrent {
        let mut counts: Vec<(usize, String)> = c
            .nodes
            .values()
            .filter(|n| n.is_data())
            .map(|n| (shard_count(c, &n.id), n.id.clone()))
            .collect();
        counts.sort();
        let (Some(low), Some(high)) = (counts.first().cloned(), counts.last().cloned()) else {
            return;
        };
        if high.0 <= low.0 + 1 {
            return;
        }
        let target = c.nodes.get(&low.1).cloned();
        let pick = (0..c.shards.len()).find(|&i| {
            let s = &c.shards[i];
            s.state == ShardState::Started
                && s.node.as_deref() == Some(high.1.as_str())
                && (enable == "all" || (enable == "primaries") == s.primary)
                && target
                    .as_ref()
                    .is_some_and(|t| overall(&can_allocate(c, s, t)) == Verdict::Yes)
        });
        match pick {
            Some(i) => start_relocation(c, i, low.1.clone()),
            None => return,
        }
    }
}

/// Move simulated time to `now_ms`: recoveries and relocations progress, delays expire, the flood-stage
/// block follows the disks; then reroute.
pub fn advance(c: &mut Cluster, now_ms: u64) {
    let dt = now_ms.saturating_sub(c.now_ms);
    c.now_ms = c.now_ms.max(now_ms);
    let step = c.recovery_bytes_per_sec * dt as f64 / 1000.0;
    let mut finished = false;
    for s in c.shards.iter_mut() {
        match s.state {
            ShardState::Initializing => {
                s.recovered_bytes += step;
                if s.recovered_bytes >= s.recovery_bytes as f64 && dt > 0 {
                    s.state = ShardState::Started;
                    s.unassigned = None;
                    s.recovered_bytes = 0.0;
                    s.recovery_source = RecoverySource::Peer;
                    finished = true;
                }
            }
            ShardState::Relocating => {
                s.recovered_bytes += step;
                if s.recovered_bytes >= s.recovery_bytes as f64 && dt > 0 {
                    s.state = ShardState::Started;
                    s.node = s.relocating_to.take();
                    s.recovered_bytes = 0.0;
                    finished = true;
                }
            }
            _ => {}
        }
    }
    if finished {
        for s in c
            .shards
            .iter_mut()
            .filter(|s| s.state == ShardState::Started)
        {
            s.recovery_bytes = 0;
        }
    }
    flood_stage(c);
    reroute(c);
}

/// Set `index.blocks.read_only_allow_delete` on every index with a copy on a node above the flood stage;
/// release it once every node holding the index is below the high watermark.
pub fn flood_stage(c: &mut Cluster) {
    let disk = settings::disk(c);
    if !disk.enabled {
        return;
    }
    let mut flooded = Vec::new();
    let mut high = Vec::new();
    for n in c.nodes.values() {
        let free = n.disk_total_bytes.saturating_sub(c.disk_used(n));
        if free < disk.required_free(2, n.disk_total_bytes) {
            flooded.push(n.id.clone());
        }
        if free < disk.required_free(1, n.disk_total_bytes) {
            high.push(n.id.clone());
        }
    }
    let on = |ids: &[String], index: &str| {
        c.shards
            .iter()
            .any(|s| s.index == index && s.node.as_ref().is_some_and(|n| ids.contains(n)))
    };
    let names: Vec<String> = c.indices.keys().cloned().collect();
    for name in names {
        let block = on(&flooded, &name);
        let release = !on(&high, &name);
        let Some(i) = c.indices.get_mut(&name) else {
            continue;
        };
        if block {
            i.settings
                .insert("index.blocks.read_only_allow_delete".into(), "true".into());
        } else if release && i.read_only_allow_delete() {
            i.settings.remove("index.blocks.read_only_allow_delete");
        }
    }
}
