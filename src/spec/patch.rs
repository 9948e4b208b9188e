//! Partial changes as a request states them: the fields given replace the current values, absent ones keep
//! them. The request service merges them into the spec it has just locked (never into a copy read earlier),
//! so a change committed while the request was on its way is kept rather than silently overwritten.

use super::edits::find_node_set;
use super::{ClusterSpec, ClusterSpecInput, KibanaInput, NodeSetInput, NodeSetSize};
use crate::error::FieldErrors;

/// A resize of one node set: the sizes given, the others as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SizeChange {
    /// New CPU per node in millicores.
    pub cpu_millis: Option<u32>,
    /// New memory per node in MiB.
    pub memory_mib: Option<u32>,
    /// New storage per node in GiB (can only grow).
    pub storage_gib: Option<u32>,
}

impl SizeChange {
    /// The complete new size of node set `node_set` of `spec`; an unknown node set is a `node_set` error.
    pub fn resolve(&self, spec: &ClusterSpec, node_set: &str) -> Result<NodeSetSize, FieldErrors> {
        let current = NodeSetSize::of(&spec.node_sets[find_node_set(spec, node_set)?]);
        Ok(NodeSetSize {
            cpu_millis: self.cpu_millis.unwrap_or(current.cpu_millis),
            memory_mib: self.memory_mib.unwrap_or(current.memory_mib),
            storage_gib: self.storage_gib.unwrap_or(current.storage_gib),
        })
    }
}

impl From<NodeSetSize> for SizeChange {
    fn from(size: NodeSetSize) -> Self {
        Self {
            cpu_millis: Some(size.cpu_millis),
            memory_mib: Some(size.memory_mib),
            storage_gib: Some(size.storage_gib),
        }
    }
}

/// A change of a cluster's spec (the reconfigure operation): each field present replaces the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecPatch {
    /// New version.
    pub version: Option<String>,
    /// The complete new list of node sets.
    pub node_sets: Option<Vec<NodeSetInput>>,
    /// Kibana: `Some(None)` removes it.
    pub kibana: Option<Option<KibanaInput>>,
    /// HTTPS on the HTTP endpoints.
    pub http_tls: Option<bool>,
    /// The complete new IP allow-list (`Some(vec![])` clears it).
    pub ip_allow_list: Option<Vec<String>>,
}

impl SpecPatch {
    /// `spec` with this patch applied, to be validated against `spec`.
    pub fn apply_to(&self, spec: &ClusterSpec) -> ClusterSpecInput {
        let mut input = ClusterSpecInput::from_spec(spec);
        if let Some(version) = &self.version {
            input.version.clone_from(version);
        }
        if let Some(sets) = &self.node_sets {
            input.node_sets.clone_from(sets);
        }
        if let Some(kibana) = &self.kibana {
            input.kibana.clone_from(kibana);
        }
        if let Some(tls) = self.http_tls {
            input.http_tls = Some(tls);
        }
        if let Some(list) = &self.ip_allow_list {
            input.ip_allow_list = Some(list.clone());
        }
        input
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::templates;

    #[test]
    fn a_size_change_keeps_the_sizes_it_does_not_name() {
        let spec = templates::template("three-nodes").unwrap().spec;
        let set = &spec.node_sets[0];
        let change = SizeChange {
            memory_mib: Some(4096),
            ..SizeChange::default()
        };
        assert_eq!(
            change.resolve(&spec, "default").unwrap(),
            NodeSetSize {
                cpu_millis: set.cpu_millis,
                memory_mib: 4096,
                storage_gib: set.storage_gib,
            }
        );
        let errors = change.resolve(&spec, "nope").unwrap_err();
        assert!(
            errors
                .get("node_set")
                .unwrap()
                .contains("node sets: default")
        );
    }

    #[test]
    fn a_patch_replaces_only_what_it_names() {
        let spec = templates::template("three-nodes").unwrap().spec;
        let patch = SpecPatch {
            http_tls: Some(false),
            ..SpecPatch::default()
        };
        let input = patch.apply_to(&spec);
        assert_eq!(input.http_tls, Some(false));
        assert_eq!(
            ClusterSpecInput {
                http_tls: Some(spec.http_tls),
                ..input.clone()
            },
            ClusterSpecInput::from_spec(&spec)
        );
        let removed = SpecPatch {
            kibana: Some(None),
            ..SpecPatch::default()
        }
        .apply_to(&spec);
        assert_eq!(removed.kibana, None);
        assert_eq!(removed.node_sets, input.node_sets);
    }
}
