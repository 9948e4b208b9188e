//! The quota vocabulary: dimensions (with human names and units), violations, the result of a check, the
//! preview a request form shows, the error type, and [`evaluate`], the pure rule both the check and the
//! preview apply. No database access here.

use serde::Serialize;
use uuid::Uuid;

use super::{Resources, units};
use crate::error::{AppError, FieldErrors};

/// The limits a new tenant gets: 5 clusters, 20 nodes, 20 cores, 64 GiB memory, 1000 GiB storage.
pub const DEFAULT_LIMITS: Resources = Resources {
    clusters: 5,
    nodes: 20,
    cpu_millis: 20_000,
    memory_mib: 65_536,
    storage_gib: 1_000,
};

/// One limited resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaDimension {
    /// Number of clusters.
    Clusters,
    /// Number of Elasticsearch nodes.
    Nodes,
    /// CPU, millicores.
    CpuMillis,
    /// Memory, MiB.
    MemoryMib,
    /// Storage, GiB.
    StorageGib,
}

impl QuotaDimension {
    /// Every dimension, in display order.
    pub const ALL: [QuotaDimension; 5] = [
        QuotaDimension::Clusters,
        QuotaDimension::Nodes,
        QuotaDimension::CpuMillis,
        QuotaDimension::MemoryMib,
        QuotaDimension::StorageGib,
    ];

    /// Field/column-style key: `clusters`, `nodes`, `cpu_millis`, `memory_mib`, `storage_gib`.
    pub fn key(self) -> &'static str {
        match self {
            QuotaDimension::Clusters => "clusters",
            QuotaDimension::Nodes => "nodes",
            QuotaDimension::CpuMillis => "cpu_millis",
            QuotaDimension::MemoryMib => "memory_mib",
            QuotaDimension::StorageGib => "storage_gib",
        }
    }

    /// Name shown to people: `clusters`, `nodes`, `CPU`, `memory`, `storage`.
    pub fn human_name(self) -> &'static str {
        match self {
            QuotaDimension::Clusters => "clusters",
            QuotaDimension::Nodes => "nodes",
            QuotaDimension::CpuMillis => "CPU",
            QuotaDimension::MemoryMib => "memory",
            QuotaDimension::StorageGib => "storage",
        }
    }

    /// The unit an input of this dimension is typed in: ``, ``, `cores`, `GiB`, `GiB` (see [`super::units`]).
    pub fn input_unit(self) -> &'static str {
        match self {
            QuotaDimension::Clusters | QuotaDimension::Nodes => "",
            QuotaDimension::CpuMillis => "cores",
            QuotaDimension::MemoryMib | QuotaDimension::StorageGib => "GiB",
        }
    }

    /// The name of a form field that takes this dimension in its input unit: `clusters`, `nodes`,
    /// `cpu_cores`, `memory_gib`, `storage_gib`.
    pub fn input_key(self) -> &'static str {
        match self {
            QuotaDimension::CpuMillis => "cpu_cores",
            QuotaDimension::MemoryMib => "memory_gib",
            other => other.key(),
        }
    }

    /// An amount for people, in the one convention of every page (`3`, `20 cores`, `1.5 GiB`, `1,000 GiB`).
    pub fn format(self, value: i64) -> String {
        match self {
            QuotaDimension::Clusters | QuotaDimension::Nodes => value.to_string(),
            QuotaDimension::CpuMillis => units::cpu(value),
            QuotaDimension::MemoryMib => units::memory(value),
            QuotaDimension::StorageGib => units::storage(value),
        }
    }

    /// An amount with its noun, for sentences (`1 cluster`, `3 nodes`, `20 cores`, `1.5 GiB`).
    pub fn amount(self, value: i64) -> String {
        let noun =
            |one: &str, many: &str| format!("{value} {}", if value == 1 { one } else { many });
        match self {
            QuotaDimension::Clusters => noun("cluster", "clusters"),
            QuotaDimension::Nodes => noun("node", "nodes"),
            other => other.format(value),
        }
    }

    /// An amount as a form field shows it, in the input unit (`20`, `1.5`).
    pub fn to_input(self, value: i64) -> String {
        match self {
            QuotaDimension::CpuMillis => units::cores_input(value),
            QuotaDimension::MemoryMib => units::gib_input(value),
            _ => value.to_string(),
        }
    }

    /// Largest limit an admin may set: anything above is a typo, not a plan.
    pub fn max_limit(self) -> i64 {
        match self {
            QuotaDimension::Clusters => 10_000,
            QuotaDimension::Nodes => 100_000,
            QuotaDimension::CpuMillis | QuotaDimension::MemoryMib | QuotaDimension::StorageGib => {
                1_000_000_000
            }
        }
    }
}

/// One dimension a request would push over its limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaViolation {
    /// Which resource.
    pub dimension: QuotaDimension,
    /// The tenant's limit.
    pub limit: i64,
    /// Current usage (live clusters, the changed cluster at its current size).
    pub usage: i64,
    /// What the request adds (positive, or there is no violation).
    pub delta: i64,
    /// What is left under the limit, never negative.
    pub headroom: i64,
}

impl QuotaViolation {
    /// "Exceeds the CPU quota (limit 20 cores): this request adds 4 cores, and the tenant has 2 cores left."
    /// The one wording of a refusal: the live preview beside the form fields, the request service's refusal
    /// after submitting and the API's problem details all use it.
    pub fn message(&self) -> String {
        let d = self.dimension;
        format!(
            "Exceeds the {} quota (limit {}): this request adds {}, and the tenant has {} left.",
            d.human_name(),
            d.amount(self.limit),
            d.amount(self.delta),
            d.amount(self.headroom)
        )
    }
}

/// A successful check: the numbers the caller may show or record (e.g. in the audit row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaCheck {
    /// The tenant's limits.
    pub limits: Resources,
    /// Usage before the request (the changed cluster at its current size).
    pub usage: Resources,
    /// What the request changes: `cluster_totals - current row` (negative where it shrinks).
    pub delta: Resources,
    /// Usage once the caller has written its new spec.
    pub after: Resources,
}

/// One dimension of a preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaPreviewRow {
    /// Which resource.
    pub dimension: QuotaDimension,
    /// The limit.
    pub limit: i64,
    /// Usage now.
    pub usage: i64,
    /// What the request changes (negative where it shrinks).
    pub delta: i64,
    /// Usage after the request.
    pub after: i64,
    /// What is left under the limit now, never negative.
    pub headroom: i64,
    /// Usage is already above the limit (the limit was lowered below it).
    pub over_now: bool,
    /// The request grows this dimension past its limit: it would be refused.
    pub exceeds: bool,
}

impl QuotaPreviewRow {
    /// The refusal this row means, when the request exceeds it.
    pub fn violation(&self) -> Option<QuotaViolation> {
        self.exceeds.then_some(QuotaViolation {
            dimension: self.dimension,
            limit: self.limit,
            usage: self.usage,
            delta: self.delta,
            headroom: self.headroom,
        })
    }

    /// Usage after the request as a percentage of the limit, capped at 100 (for a bar's width).
    pub fn after_percent(&self) -> i64 {
        percent(self.after, self.limit)
    }

    /// Usage now as a percentage of the limit, capped at 100.
    pub fn usage_percent(&self) -> i64 {
        percent(self.usage, self.limit)
    }
}

/// `value / limit` in percent, 0..=100 (a zero limit with any usage is 100).
pub fn percent(value: i64, limit: i64) -> i64 {
    if value <= 0 {
        0
    } else if limit <= 0 {
        100
    } else {
        (value.saturating_mul(100) / limit).min(100)
    }
}

/// What a request would do to a tenant's quota, per dimension (read-only; see [`super::preview`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaPreview {
    /// The limits.
    pub limits: Resources,
    /// Usage now.
    pub usage: Resources,
    /// The change.
    pub delta: Resources,
    /// Usage after.
    pub after: Resources,
    /// One row per dimension, in [`QuotaDimension::ALL`] order.
    pub rows: Vec<QuotaPreviewRow>,
}

impl QuotaPreview {
    /// True when no dimension would be exceeded.
    pub fn fits(&self) -> bool {
        self.rows.iter().all(|r| !r.exceeds)
    }

    /// The dimensions that would be exceeded, as violations.
    pub fn violations(&self) -> Vec<QuotaViolation> {
        self.rows
            .iter()
            .filter_map(QuotaPreviewRow::violation)
            .collect()
    }
}

/// The rule: a dimension is violated when the request grows it (`delta > 0`) and usage after the request
/// exceeds the limit. Shrinking is always allowed, also while usage is above a lowered limit; growing a
/// dimension that is already over its limit is refused even by one unit.
pub fn evaluate(limits: Resources, usage: Resources, delta: Resources) -> QuotaPreview {
    let after = usage + delta;
    let rows = QuotaDimension::ALL
        .iter()
        .map(|&d| {
            let (limit, used, change, then) =
                (limits.get(d), usage.get(d), delta.get(d), after.get(d));
            QuotaPreviewRow {
                dimension: d,
                limit,
                usage: used,
                delta: change,
                after: then,
                headroom: (limit - used).max(0),
                over_now: used > limit,
                exceeds: change > 0 && then > limit,
            }
        })
        .collect();
    QuotaPreview {
        limits,
        usage,
        delta,
        after,
        rows,
    }
}

/// Why a quota check did not pass.
#[derive(Debug, thiserror::Error)]
pub enum QuotaError {
    /// The request would exceed these dimensions (422, one field error per dimension).
    #[error("quota exceeded: {}", .0.iter().map(QuotaViolation::message).collect::<Vec<_>>().join(" "))]
    Exceeded(Vec<QuotaViolation>),
    /// No such tenant (404).
    #[error("tenant not found")]
    TenantNotFound,
    /// `exclude_cluster` is not a live cluster of this tenant (404: it was deleted meanwhile, or the id is
    /// another tenant's).
    #[error("cluster {0} is not a live cluster of this tenant")]
    ClusterNotFound(Uuid),
    /// The caller broke the input convention (500: a bug, e.g. a difference passed as `cluster_totals`).
    #[error("invalid quota request: {0}")]
    InvalidRequest(String),
    /// The database failed (mapped like any `sqlx::Error`).
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl QuotaError {
    /// The field errors of an `Exceeded` error: field `quota.<dimension key>`, the violation's message.
    pub fn field_errors(violations: &[QuotaViolation]) -> FieldErrors {
        let mut errors = FieldErrors::new();
        for v in violations {
            errors.add(format!("quota.{}", v.dimension.key()), v.message());
        }
        errors
    }
}

impl From<QuotaError> for AppError {
    fn from(e: QuotaError) -> Self {
        match e {
            QuotaError::Exceeded(violations) => {
                AppError::Validation(QuotaError::field_errors(&violations))
            }
            QuotaError::TenantNotFound | QuotaError::ClusterNotFound(_) => AppError::NotFound,
            QuotaError::InvalidRequest(msg) => {
                AppError::Internal(anyhow::anyhow!("invalid quota request: {msg}"))
            }
            QuotaError::Database(e) => AppError::from(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(c: i64, n: i64, cpu: i64, mem: i64, st: i64) -> Resources {
        Resources {
            clusters: c,
            nodes: n,
            cpu_millis: cpu,
            memory_mib: mem,
            storage_gib: st,
        }
    }

    #[test]
    fn violation_message_names_the_numbers() {
        let v = QuotaViolation {
            dimension: QuotaDimension::CpuMillis,
            limit: 20_000,
            usage: 18_000,
            delta: 4_000,
            headroom: 2_000,
        };
        assert_eq!(
            v.message(),
            "Exceeds the CPU quota (limit 20 cores): this request adds 4 cores, and the tenant has 2 cores left."
        );
    }

    #[test]
    fn growth_within_limits_fits() {
        let p = evaluate(
            DEFAULT_LIMITS,
            res(1, 3, 3000, 6144, 90),
            res(1, 3, 3000, 6144, 90),
        );
        assert!(p.fits());
        assert_eq!(p.after, res(2, 6, 6000, 12288, 180));
        assert_eq!(p.rows[0].headroom, 4);
    }

    #[test]
    fn exact_fill_fits_one_more_does_not() {
        let limits = res(2, 10, 10, 10, 10);
        assert!(evaluate(limits, res(1, 5, 5, 5, 5), res(1, 5, 5, 5, 5)).fits());
        let p = evaluate(limits, res(1, 5, 5, 5, 5), res(1, 6, 5, 5, 5));
        let v = p.violations();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].dimension, QuotaDimension::Nodes);
        assert_eq!(
            (v[0].limit, v[0].usage, v[0].delta, v[0].headroom),
            (10, 5, 6, 5)
        );
    }

    #[test]
    fn over_a_lowered_limit_growth_is_refused_and_shrinking_allowed() {
        let limits = res(5, 4, 100, 100, 100);
        let usage = res(1, 6, 50, 50, 50);
        let grow = evaluate(limits, usage, res(0, 1, 0, 0, 0));
        assert!(grow.rows[1].over_now);
        assert_eq!(grow.violations()[0].headroom, 0);
        assert!(!grow.fits());
        assert!(evaluate(limits, usage, res(0, -1, 0, 0, 0)).fits());
        // Growing another dimension is fine while nodes stay as they are.
        assert!(evaluate(limits, usage, res(0, 0, 10, 0, 0)).fits());
    }

    #[test]
    fn exceeded_becomes_a_field_error_per_dimension() {
        let p = evaluate(res(1, 1, 1, 1, 1), res(1, 1, 1, 1, 1), res(1, 1, 0, 0, 0));
        let AppError::Validation(errors) = AppError::from(QuotaError::Exceeded(p.violations()))
        else {
            panic!("expected a validation error");
        };
        assert_eq!(errors.0.len(), 2);
        assert!(
            errors
                .get("quota.clusters")
                .unwrap()
                .contains("(limit 1 cluster): this request adds 1 cluster")
        );
        assert!(errors.get("quota.nodes").is_some());
    }

    #[test]
    fn percent_is_capped() {
        assert_eq!(percent(0, 0), 0);
        assert_eq!(percent(5, 0), 100);
        assert_eq!(percent(50, 200), 25);
        assert_eq!(percent(300, 200), 100);
    }
}
