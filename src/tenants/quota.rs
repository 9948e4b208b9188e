//! Quotas: per-tenant limits and the usage derived from the desired specs of the tenant's clusters.
//!
//! Usage is never stored: it is the SUM of the derived columns (`nodes`, `cpu_millis`, `memory_mib`,
//! `storage_gib`) over the tenant's live cluster rows (`deleted_at IS NULL`), computed inside the transaction
//! that changes a cluster, after the tenant row has been locked. That is what makes oversubscription
//! impossible: every writer of a cluster spec calls [`check_and_reserve`] first, so writers of one tenant
//! queue on the tenant row and each one sees the specs committed before it.
//!
//! This module owns the numbers (types, the pure evaluation, the reads and the locking check). It does not
//! decide who may change limits (handlers do, through `PlatformAdmin`), and it never writes cluster rows.
//!
//! **The one input convention.** Both [`check_and_reserve`] and [`preview`] take `cluster_totals`: the
//! resources of ONE cluster as it will be AFTER the request (its new totals, `clusters == 1`), never a
//! difference. For a new cluster pass `exclude_cluster = None`; for a change to an existing cluster pass its
//! id, and usage is computed without its current row, so the effective delta is `cluster_totals - current
//! row`. Inputs that cannot be totals (`clusters != 1`, a negative amount) are refused with
//! [`QuotaError::InvalidRequest`], so a caller that passes a difference fails loudly instead of
//! under-counting. Deleting a cluster frees resources and needs no check.

mod check;
mod limits_input;
mod types;
pub mod units;

pub use check::{check_and_reserve, limits, preview, usage};
pub use limits_input::{LimitsInput, parse_limits, parse_limits_from};
pub use types::{
    DEFAULT_LIMITS, QuotaCheck, QuotaDimension, QuotaError, QuotaPreview, QuotaPreviewRow,
    QuotaViolation, evaluate, percent,
};

use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// An amount of the resources a quota limits. Used for usage, limits, deltas and headroom alike;
/// deltas may be negative (a scale-down frees resources).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Number of clusters.
    pub clusters: i64,
    /// Number of Elasticsearch nodes (pods), Kibana instances not included.
    pub nodes: i64,
    /// CPU in millicores (Elasticsearch nodes plus Kibana instances).
    pub cpu_millis: i64,
    /// Memory in MiB (Elasticsearch nodes plus Kibana instances).
    pub memory_mib: i64,
    /// Persistent storage in GiB.
    pub storage_gib: i64,
}

impl Resources {
    /// The totals of one cluster (`clusters = 1`): what [`check_and_reserve`] and [`preview`] take.
    pub fn for_cluster(nodes: i64, cpu_millis: i64, memory_mib: i64, storage_gib: i64) -> Self {
        Self {
            clusters: 1,
            nodes,
            cpu_millis,
            memory_mib,
            storage_gib,
        }
    }

    /// The amount of one dimension.
    pub fn get(&self, dimension: QuotaDimension) -> i64 {
        match dimension {
            QuotaDimension::Clusters => self.clusters,
            QuotaDimension::Nodes => self.nodes,
            QuotaDimension::CpuMillis => self.cpu_millis,
            QuotaDimension::MemoryMib => self.memory_mib,
            QuotaDimension::StorageGib => self.storage_gib,
        }
    }

    /// A mutable reference to one dimension.
    pub fn get_mut(&mut self, dimension: QuotaDimension) -> &mut i64 {
        match dimension {
            QuotaDimension::Clusters => &mut self.clusters,
            QuotaDimension::Nodes => &mut self.nodes,
            QuotaDimension::CpuMillis => &mut self.cpu_millis,
            QuotaDimension::MemoryMib => &mut self.memory_mib,
            QuotaDimension::StorageGib => &mut self.storage_gib,
        }
    }

    /// Build from a function of the dimension.
    pub fn from_fn(mut f: impl FnMut(QuotaDimension) -> i64) -> Self {
        let mut r = Self::default();
        for d in QuotaDimension::ALL {
            *r.get_mut(d) = f(d);
        }
        r
    }
}

impl Add for Resources {
    type Output = Resources;

    /// Saturating per dimension (limits are bounded far below `i64::MAX`; this only guards bad input).
    fn add(self, rhs: Resources) -> Resources {
        Resources::from_fn(|d| self.get(d).saturating_add(rhs.get(d)))
    }
}

impl Sub for Resources {
    type Output = Resources;

    /// Saturating per dimension.
    fn sub(self, rhs: Resources) -> Resources {
        Resources::from_fn(|d| self.get(d).saturating_sub(rhs.get(d)))
    }
}
