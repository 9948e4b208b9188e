//! The allocation deciders, in Elasticsearch's order (`ClusterModule.createAllocationDeciders`, then the x-pack
//! `data_tier`), with their real names and explanation texts: `max_retry`, `replica_after_primary_active`,
//! `enable`, `node_version`, `filter`, `same_shard`, `disk_threshold`, `throttling`, `data_tier`. Each answers
//! YES, NO or THROTTLE for a shard copy on a node ([`can_allocate`]) or for a copy staying where it is
//! ([`can_remain`]).

use super::model::{Cluster, Index, Node, RecoverySource, ShardCopy, ShardState};
use super::settings::{
    self, bytes_text, cluster_filter, index_filter, node_matches, number, one_decimal,
};

/// A decider's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Allowed.
    Yes,
    /// Allowed later.
    Throttle,
    /// Refused.
    No,
}

impl Verdict {
    /// `YES` / `THROTTLE` / `NO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Yes => "YES",
            Verdict::Throttle => "THROTTLE",
            Verdict::No => "NO",
        }
    }
}

/// One decider's decision with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Decider name (`same_shard`).
    pub decider: &'static str,
    /// Its answer.
    pub verdict: Verdict,
    /// Why.
    pub explanation: String,
}

fn d(decider: &'static str, verdict: Verdict, explanation: impl Into<String>) -> Decision {
    Decision {
        decider,
        verdict,
        explanation: explanation.into(),
    }
}

/// The combined answer: NO if any says NO, else THROTTLE if any throttles, else YES.
pub fn overall(ds: &[Decision]) -> Verdict {
    ds.iter().map(|d| d.verdict).max().unwrap_or(Verdict::Yes)
}

/// Is the copy a primary that never held data (a new index), exempt from the low watermark?
fn new_primary(s: &ShardCopy) -> bool {
    s.primary
        && s.state == ShardState::Unassigned
        && s.recovery_source == RecoverySource::EmptyStore
}

/// The primary copy of the shard.
fn primary_of<'a>(c: &'a Cluster, s: &ShardCopy) -> Option<&'a ShardCopy> {
    c.shards
        .iter()
        .find(|o| o.index == s.index && o.shard == s.shard && o.primary)
}

fn enable(c: &Cluster, s: &ShardCopy, i: &Index) -> Decision {
    let (value, source) = settings::enable(c, Some(i));
    let text = |what: &str| format!("{what} due to {source}={value}]");
    match value.as_str() {
        "none" => d("enable", Verdict::No, text("no allocations are allowed")),
        "primaries" if !s.primary => d(
            "enable",
            Verdict::No,
            text("replica allocations are forbidden"),
        ),
        "new_primaries" if !new_primary(s) => d(
            "enable",
            Verdict::No,
            text(if s.primary {
                "non-new primary allocations are forbidden"
            } else {
                "replica allocations are forbidden"
            }),
        ),
        _ => d("enable", Verdict::Yes, "all allocations are allowed"),
    }
}

fn filter(c: &Cluster, i: &Index, node: &Node) -> Decision {
    let checks: [(Option<settings::Filter>, &str, bool, &str); 6] = [
        (cluster_filter(c, "require"), "require", false, "cluster"),
        (cluster_filter(c, "include"), "include", false, "cluster"),
        (cluster_filter(c, "exclude"), "exclude", true, "cluster"),
        (index_filter(i, "require"), "require", false, "index"),
        (index_filter(i, "include"), "include", false, "index"),
        (index_filter(i, "exclude"), "exclude", true, "index"),
    ];
    for (f, kind, refuse_on_match, scope) in checks {
        let Some(f) = f else { continue };
        if node_matches(&f, kind, node) == refuse_on_match {
            let verb = if refuse_on_match {
                "matches"
            } else {
                "does not match"
            };
            return d(
                "filter",
                Verdict::No,
                format!(
                    "node {verb} {scope} setting [{}] filters [{}]",
                    f.setting,
                    f.describe()
                ),
            );
        }
    }
    d(
        "filter",
        Verdict::Yes,
        "node passes include/exclude/require filters",
    )
}

fn same_shard(c: &Cluster, s: &ShardCopy, node: &Node) -> Decision {
    for o in c.copies_on(&node.id) {
        if o.index == s.index && o.shard == s.shard {
            let text = if o.allocation_id == s.allocation_id {
                format!(
                    "this shard is already allocated to this node [{}]",
                    o.describe()
                )
            } else {
                format!(
                    "a copy of this shard is already allocated to this node [{}]",
                    o.describe()
                )
            };
            return d("same_shard", Verdict::No, text);
        }
    }
    d(
        "same_shard",
        Verdict::Yes,
        "this node does not hold a copy of this shard",
    )
}

fn pct(part: u64, total: u64) -> String {
    if total == 0 {
        return "0%".into();
    }
    format!("{}%", one_decimal(part as f64 * 100.0 / total as f64))
}

fn disk_allocate(c: &Cluster, s: &ShardCopy, node: &Node) -> Decision {
    let disk = settings::disk(c);
    if !disk.enabled {
        return d(
            "disk_threshold",
            Verdict::Yes,
            "the disk threshold decider is disabled",
        );
    }
    let total = node.disk_total_bytes;
    let used = c.disk_used(node);
    let free = total.saturating_sub(used);
    let (low, high) = (disk.required_free(0, total), disk.required_free(1, total));
    let size = primary_of(c, s).map(|p| c.copy_bytes(p)).unwrap_or(0).max(
        c.indices
            .get(&s.index)
            .and_then(|i| i.bytes.get(s.shard as usize))
            .copied()
            .unwrap_or(0),
    );
    let above = |level: usize, required: u64| {
        format!(
            "the node is above the {} watermark cluster setting [{}], having less than the minimum required [{}] free space, actual free: [{}], actual used: [{}]",
            if level == 0 { "low" } else { "high" },
            disk.text(level),
            bytes_text(required),
            bytes_text(free),
            pct(used, total)
        )
    };
    if free < low {
        if !new_primary(s) {
            return d("disk_threshold", Verdict::No, above(0, low));
        }
        if free < high {
            return d("disk_threshold", Verdict::No, above(1, high));
        }
    }
    let after = free.saturating_sub(size);
    if after < high {
        return d(
            "disk_threshold",
            Verdict::No,
            format!(
                "allocating the shard to this node will bring the node above the high watermark cluster setting [{}] and cause it to have less than the minimum required [{}] of free space (free: [{}], used: [{}], estimated shard size: [{}])",
                disk.text(1),
                bytes_text(high),
                bytes_text(free),
                pct(used, total),
                bytes_text(size)
            ),
        );
    }
    d(
        "disk_threshold",
        Verdict::Yes,
        format!(
            "enough disk for shard on node, free: [{}], used: [{}], shard size: [{}], free after allocating shard: [{}]",
            bytes_text(free),
            pct(used, total),
            bytes_text(size),
            bytes_text(after)
        ),
    )
}

fn disk_remain(c: &Cluster, node: &Node) -> Decision {
    let disk = settings::disk(c);
    if !disk.enabled {
        return d(
            "disk_threshold",
            Verdict::Yes,
            "the disk threshold decider is disabled",
        );
    }
    let total = node.disk_total_bytes;
    let used = c.disk_used(node);
    let free = total.saturating_sub(used);
    let high = disk.required_free(1, total);
    if free < high {
        return d(
            "disk_threshold",
            Verdict::No,
            format!(
                "the shard cannot remain on this node because it is above the high watermark cluster setting [{}] and there is less than the required [{}] free space on node, actual free: [{}], actual used: [{}]",
                disk.text(1),
                bytes_text(high),
                bytes_text(free),
                pct(used, total)
            ),
        );
    }
    d(
        "disk_threshold",
        Verdict::Yes,
        format!(
            "there is enough disk on this node for the shard to remain, free: [{}]",
            bytes_text(free)
        ),
    )
}

/// Recoveries coming into a node: copies initializing there from a peer and relocations targeting it.
pub fn incoming_recoveries(c: &Cluster, node_id: &str) -> u64 {
    c.shards
        .iter()
        .filter(|s| {
            (s.state == ShardState::Initializing
                && s.node.as_deref() == Some(node_id)
                && s.recovery_source == RecoverySource::Peer)
                || s.relocating_to.as_deref() == Some(node_id)
        })
        .count() as u64
}

/// Recoveries served by a node: replicas recovering from its primaries and relocations off it.
pub fn outgoing_recoveries(c: &Cluster, node_id: &str) -> u64 {
    let from_primaries = c
        .shards
        .iter()
        .filter(|s| s.state == ShardState::Initializing && !s.primary && s.recovery_bytes > 0)
        .filter(|s| primary_of(c, s).and_then(|p| p.node.as_deref()) == Some(node_id))
        .count();
    let relocations = c
        .shards
        .iter()
        .filter(|s| s.state == ShardState::Relocating && s.node.as_deref() == Some(node_id))
        .count();
    (from_primaries + relocations) as u64
}

fn throttling(c: &Cluster, s: &ShardCopy, node: &Node) -> Decision {
    if s.primary && s.state == ShardState::Unassigned && s.recovery_source != RecoverySource::Peer {
        let limit = number(
            c,
            "cluster.routing.allocation.node_initial_primaries_recoveries",
            4,
        );
        let ongoing = c
            .shards
            .iter()
            .filter(|o| {
                o.primary
                    && o.state == ShardState::Initializing
                    && o.node.as_deref() == Some(node.id.as_str())
                    && o.recovery_source != RecoverySource::Peer
            })
            .count() as u64;
        if ongoing >= limit {
            return d(
                "throttling",
                Verdict::Throttle,
                format!(
                    "reached the limit of ongoing initial primary recoveries [{ongoing}], cluster setting [cluster.routing.allocation.node_initial_primaries_recoveries={limit}]"
                ),
            );
        }
        return d(
            "throttling",
            Verdict::Yes,
            format!("below primary recovery limit of [{limit}]"),
        );
    }
    let both = number(
        c,
        "cluster.routing.allocation.node_concurrent_recoveries",
        2,
    );
    let in_limit = number(
        c,
        "cluster.routing.allocation.node_concurrent_incoming_recoveries",
        both,
    );
    let out_limit = number(
        c,
        "cluster.routing.allocation.node_concurrent_outgoing_recoveries",
        both,
    );
    let incoming = incoming_recoveries(c, &node.id);
    if incoming >= in_limit {
        return d(
            "throttling",
            Verdict::Throttle,
            format!(
                "reached the limit of incoming shard recoveries [{incoming}], cluster setting [cluster.routing.allocation.node_concurrent_incoming_recoveries={in_limit}] (can also be set via [cluster.routing.allocation.node_concurrent_recoveries])"
            ),
        );
    }
    let source = if s.state == ShardState::Unassigned {
        primary_of(c, s).and_then(|p| p.node.clone())
    } else {
        s.node.clone()
    };
    let outgoing = source.as_deref().map_or(0, |n| outgoing_recoveries(c, n));
    if let Some(src) = source.as_deref()
        && outgoing >= out_limit
    {
        return d(
            "throttling",
            Verdict::Throttle,
            format!(
                "reached the limit of outgoing shard recoveries [{outgoing}] on the node [{src}] which holds the primary, cluster setting [cluster.routing.allocation.node_concurrent_outgoing_recoveries={out_limit}] (can also be set via [cluster.routing.allocation.node_concurrent_recoveries])"
            ),
        );
    }
    d(
        "throttling",
        Verdict::Yes,
        format!(
            "below shard recovery limit of outgoing: [{outgoing} < {out_limit}] incoming: [{incoming} < {in_limit}]"
        ),
    )
}

/// The tier an index must be on: the first of its preference with a node in the cluster (None: any data
/// node; Some(Err) when no node of any preferred tier exists).
pub fn required_tier(c: &Cluster, i: &Index) -> Option<Result<String, ()>> {
    let pref = i.tier_preference();
    if pref.is_empty() {
        return None;
    }
    Some(
        pref.iter()
            .find(|t| c.nodes.values().any(|n| n.in_tier(t)))
            .cloned()
            .ok_or(()),
    )
}

fn data_tier(c: &Cluster, i: &Index, node: &Node) -> Decision {
    let pref = i.tier_preference().join(",");
    match required_tier(c, i) {
        None => d("data_tier", Verdict::Yes, "index has no tier preference"),
        Some(Err(())) => d(
            "data_tier",
            Verdict::No,
            format!(
                "index has a preference for tiers [{pref}], but no nodes for any of those tiers are available in the cluster"
            ),
        ),
        Some(Ok(tier)) if node.in_tier(&tier) => d(
            "data_tier",
            Verdict::Yes,
            format!("index has a preference for tiers [{pref}] and node has tier [{tier}]"),
        ),
        Some(Ok(tier)) => d(
            "data_tier",
            Verdict::No,
            format!(
                "index has a preference for tiers [{pref}] and node does not meet the required [{tier}] tier"
            ),
        ),
    }
}

fn version_key(v: &str) -> Vec<u64> {
    v.split(['.', '-'])
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

fn node_version(c: &Cluster, s: &ShardCopy, node: &Node) -> Decision {
    if !s.primary
        && let Some(p) = primary_of(c, s)
            .and_then(|p| p.node.as_deref())
            .and_then(|n| c.nodes.get(n))
        && version_key(&node.version) < version_key(&p.version)
    {
        return d(
            "node_version",
            Verdict::No,
            format!(
                "cannot allocate replica shard to a node with version [{}] since this is older than the primary version [{}]",
                node.version, p.version
            ),
        );
    }
    d(
        "node_version",
        Verdict::Yes,
        "can allocate replica shard to a node with version compatible with the primary version",
    )
}

/// Every decider's decision on allocating `s` to `node`, in Elasticsearch's order.
pub fn can_allocate(c: &Cluster, s: &ShardCopy, node: &Node) -> Vec<Decision> {
    let Some(i) = c.indices.get(&s.index) else {
        return vec![];
    };
    let mut out = vec![d(
        "max_retry",
        Verdict::Yes,
        "shard has no previous failures",
    )];
    if s.primary {
        out.push(d(
            "replica_after_primary_active",
            Verdict::Yes,
            "shard is primary and can be allocated",
        ));
    } else if primary_of(c, s).is_some_and(|p| p.state.active()) {
        out.push(d(
            "replica_after_primary_active",
            Verdict::Yes,
            "primary shard for this replica is already active",
        ));
    } else {
        out.push(d(
            "replica_after_primary_active",
            Verdict::No,
            "primary shard for this replica is not yet active",
        ));
    }
    out.push(enable(c, s, i));
    out.push(node_version(c, s, node));
    out.push(filter(c, i, node));
    out.push(same_shard(c, s, node));
    out.push(disk_allocate(c, s, node));
    out.push(throttling(c, s, node));
    out.push(data_tier(c, i, node));
    out
}

/// Every decider's decision on `s` staying on `node`.
pub fn can_remain(c: &Cluster, s: &ShardCopy, node: &Node) -> Vec<Decision> {
    let Some(i) = c.indices.get(&s.index) else {
        return vec![];
    };
    vec![
        filter(c, i, node),
        disk_remain(c, node),
        data_tier(c, i, node),
    ]
}
