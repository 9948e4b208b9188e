//! Health derived from the routing table exactly as Elasticsearch does (`ClusterShardHealth`,
//! `ClusterIndexHealth`, `ClusterStateHealth`): per copy counts, a shard is green when its primary and every
//! replica are active, yellow when the primary is active but a replica is not (or a new primary is still
//! coming up), red when a primary that held data is not active or a decider refused a new one; an index is its
//! worst shard, the cluster its worst index (green without indices).

use super::allocator;
use super::model::{Cluster, Index, RecoverySource, ShardState};

/// green < yellow < red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// Every copy active.
    Green,
    /// Every primary active (or new and coming up), a replica is not.
    Yellow,
    /// A primary is missing.
    Red,
}

impl Health {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Green => "green",
            Health::Yellow => "yellow",
            Health::Red => "red",
        }
    }
}

/// Copy counts of a shard, an index or the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Shards whose primary is active.
    pub active_primary: u64,
    /// Active copies.
    pub active: u64,
    /// Relocating copies.
    pub relocating: u64,
    /// Initializing copies.
    pub initializing: u64,
    /// Unassigned copies.
    pub unassigned: u64,
    /// Unassigned primaries.
    pub unassigned_primary: u64,
    /// Unassigned copies waiting for their node-left delay.
    pub delayed: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.active_primary += o.active_primary;
        self.active += o.active;
        self.relocating += o.relocating;
        self.initializing += o.initializing;
        self.unassigned += o.unassigned;
        self.unassigned_primary += o.unassigned_primary;
        self.delayed += o.delayed;
    }
}

/// Health and counts of one shard.
pub fn shard(c: &Cluster, index: &str, shard: u32) -> (Health, Counts) {
    let mut n = Counts::default();
    let mut primary_health = None;
    let mut all_active = true;
    for s in c
        .shards
        .iter()
        .filter(|s| s.index == index && s.shard == shard)
    {
        match s.state {
            ShardState::Started => n.active += 1,
            ShardState::Relocating => {
                n.active += 1;
                n.relocating += 1;
            }
            ShardState::Initializing => n.initializing += 1,
            ShardState::Unassigned => {
                n.unassigned += 1;
                if s.primary {
                    n.unassigned_primary += 1;
                }
                if allocator::delayed(c, s) {
                    n.delayed += 1;
                }
            }
        }
        all_active &= s.state.active();
        if s.primary {
            if s.state.active() {
                n.active_primary += 1;
                primary_health = Some(Health::Green);
            } else {
                let refused = s.unassigned.as_ref().is_some_and(|u| u.last_status == "no");
                let new = s.recovery_source == RecoverySource::EmptyStore;
                primary_health = Some(if !refused && new {
                    Health::Yellow
                } else {
                    Health::Red
                });
            }
        }
    }
    let health = match primary_health {
        Some(Health::Green) if all_active => Health::Green,
        Some(Health::Green) => Health::Yellow,
        Some(h) => h,
        None => Health::Red,
    };
    (health, n)
}

/// Health and counts of an index.
pub fn index(c: &Cluster, i: &Index) -> (Health, Counts) {
    let mut total = Counts::default();
    let mut worst = if i.shards == 0 {
        Health::Red
    } else {
        Health::Green
    };
    for sh in 0..i.shards {
        let (h, n) = shard(c, &i.name, sh);
        worst = worst.max(h);
        total.add(&n);
    }
    (worst, total)
}

/// Cluster health over `indices` (every index when None).
pub fn cluster(c: &Cluster, indices: Option<&[String]>) -> (Health, Counts, u64) {
    let mut total = Counts::default();
    let mut worst = Health::Green;
    let mut copies = 0;
    for i in c.indices.values() {
        if indices.is_some_and(|names| !names.contains(&i.name)) {
            continue;
        }
        let (h, n) = index(c, i);
        worst = worst.max(h);
        total.add(&n);
        copies += u64::from(i.shards) * (1 + u64::from(i.replicas));
    }
    if c.master.is_none() {
        worst = Health::Red;
    }
    (worst, total, copies)
}
