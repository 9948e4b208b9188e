//! The limits a spec is validated against: which versions and storage classes the platform offers, how big a
//! node set may be, and whether the cluster is held to production rules (an odd number of master-eligible
//! nodes).
//!
//! The defaults are conservative starting points for a platform; a deployment can load its own values from
//! configuration. Memory starts at 1 GiB because Elasticsearch (heap = half the container memory) and
//! Kibana are not usable below that.

use serde::{Deserialize, Serialize};

use super::{EsVersion, StorageClassPolicy};

/// Validation rules for cluster specs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecRules {
    /// Versions offered for new clusters and upgrades. A cluster may keep an older version it already runs.
    pub allowed_versions: Vec<EsVersion>,
    /// Size limits per node set and per Kibana.
    pub bounds: SizeBounds,
    /// Production rules: the number of master-eligible nodes must be odd (a majority survives a node loss
    /// and no vote can tie).
    pub production: bool,
    /// The storage classes node sets may use and the default; `None` accepts any valid class name (the
    /// built-in defaults; the service loads the platform's policy).
    pub storage_classes: Option<StorageClassPolicy>,
}

/// Inclusive size limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeBounds {
    /// Fewest nodes in a node set.
    pub min_count: u32,
    /// Most nodes in a node set.
    pub max_count: u32,
    /// Least CPU per node or Kibana instance, millicores.
    pub min_cpu_millis: u32,
    /// Most CPU per node or Kibana instance, millicores.
    pub max_cpu_millis: u32,
    /// Least memory per node or Kibana instance, MiB.
    pub min_memory_mib: u32,
    /// Most memory per node or Kibana instance, MiB.
    pub max_memory_mib: u32,
    /// Least storage per node, GiB.
    pub min_storage_gib: u32,
    /// Most storage per node, GiB.
    pub max_storage_gib: u32,
    /// Most node sets in a cluster.
    pub max_node_sets: u32,
    /// Most Kibana instances in a cluster.
    pub max_kibana_count: u32,
}

impl SpecRules {
    /// The newest allowed version, the natural default for a new cluster.
    pub fn latest_version(&self) -> Option<EsVersion> {
        self.allowed_versions.iter().max().copied()
    }

    /// The same rules with production checks on or off (templates carry their own production flag).
    pub fn with_production(mut self, production: bool) -> Self {
        self.production = production;
        self
    }
}

impl Default for SpecRules {
    fn default() -> Self {
        Self {
            allowed_versions: vec![EsVersion::new(8, 19, 7), EsVersion::new(9, 2, 1)],
            bounds: SizeBounds::default(),
            production: false,
            storage_classes: None,
        }
    }
}

impl Default for SizeBounds {
    fn default() -> Self {
        Self {
            min_count: 1,
            max_count: 50,
            min_cpu_millis: 250,
            max_cpu_millis: 16_000,
            min_memory_mib: 1024,
            max_memory_mib: 65_536,
            min_storage_gib: 1,
            max_storage_gib: 4096,
            max_node_sets: 10,
            max_kibana_count: 5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_offer_one_8x_and_one_9x_release() {
        let rules = SpecRules::default();
        assert_eq!(rules.allowed_versions.len(), 2);
        assert_eq!(rules.latest_version(), Some(EsVersion::new(9, 2, 1)));
        assert!(!rules.production);
        assert!(rules.with_production(true).production);
    }

    #[test]
    fn default_bounds_are_consistent() {
        let b = SizeBounds::default();
        assert!(b.min_count >= 1 && b.min_count <= b.max_count);
        assert!(b.min_cpu_millis <= b.max_cpu_millis);
        assert!(b.min_memory_mib <= b.max_memory_mib);
        assert!(b.min_storage_gib >= 1 && b.min_storage_gib <= b.max_storage_gib);
    }
}
