//! Operations expressed as edits of a spec: scale, resize and upgrade. Each returns the new desired spec,
//! re-validated with [`validate`] against the current one (so storage, versions and topology rules hold),
//! or field errors named after the operation's parameters (`node_set`, `count`, `cpu_millis`, `memory_mib`,
//! `storage_gib`, `version`); topology errors keep their spec field (`node_sets`).
//!
//! Restart is not here: it does not change the spec, only the engine's restart trigger.

use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;

use super::{ClusterSpec, ClusterSpecInput, EsVersion, NodeSetSpec, SpecRules, validate};

/// The new size of every node of a node set (the resize operation's parameters besides the node set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSetSize {
    /// CPU per node in millicores.
    pub cpu_millis: u32,
    /// Memory per node in MiB.
    pub memory_mib: u32,
    /// Storage per node in GiB; must not be less than now.
    pub storage_gib: u32,
}

impl NodeSetSize {
    /// The current size of `set`.
    pub fn of(set: &NodeSetSpec) -> Self {
        Self {
            cpu_millis: set.cpu_millis,
            memory_mib: set.memory_mib,
            storage_gib: set.storage_gib,
        }
    }
}

/// `spec` with node set `node_set` at `count` nodes.
pub fn scaled(
    spec: &ClusterSpec,
    rules: &SpecRules,
    node_set: &str,
    count: u32,
) -> Result<ClusterSpec, FieldErrors> {
    let index = find_node_set(spec, node_set)?;
    let current = spec.node_sets[index].count;
    if current == count {
        return Err(single(
            "count",
            format!("node set `{node_set}` already has {count} nodes"),
        ));
    }
    let mut next = spec.clone();
    next.node_sets[index].count = count;
    revalidate(&next, rules, spec, Some(index))
}

/// `spec` with every node of `node_set` resized to `size`.
pub fn resized(
    spec: &ClusterSpec,
    rules: &SpecRules,
    node_set: &str,
    size: NodeSetSize,
) -> Result<ClusterSpec, FieldErrors> {
    let index = find_node_set(spec, node_set)?;
    if NodeSetSize::of(&spec.node_sets[index]) == size {
        return Err(single(
            "node_set",
            format!("node set `{node_set}` already has this size"),
        ));
    }
    let mut next = spec.clone();
    let set = &mut next.node_sets[index];
    set.cpu_millis = size.cpu_millis;
    set.memory_mib = size.memory_mib;
    set.storage_gib = size.storage_gib;
    revalidate(&next, rules, spec, Some(index))
}

/// `spec` upgraded to version `to` (see [`super::check_upgrade`]; the version must also be offered).
pub fn upgraded(
    spec: &ClusterSpec,
    rules: &SpecRules,
    to: &EsVersion,
) -> Result<ClusterSpec, FieldErrors> {
    if let Err(message) = super::check_upgrade(&spec.version, to) {
        return Err(single("version", message));
    }
    let mut next = spec.clone();
    next.version = *to;
    revalidate(&next, rules, spec, None)
}

pub(super) fn find_node_set(spec: &ClusterSpec, node_set: &str) -> Result<usize, FieldErrors> {
    spec.node_sets
        .iter()
        .position(|set| set.name.as_str() == node_set)
        .ok_or_else(|| {
            let names: Vec<&str> = spec.node_sets.iter().map(|s| s.name.as_str()).collect();
            single(
                "node_set",
                format!(
                    "there is no node set `{node_set}` (node sets: {})",
                    names.join(", ")
                ),
            )
        })
}

/// Runs the full validation on `next` against `previous`, renaming errors about the edited node set's fields
/// to the operation's parameter names.
fn revalidate(
    next: &ClusterSpec,
    rules: &SpecRules,
    previous: &ClusterSpec,
    edited: Option<usize>,
) -> Result<ClusterSpec, FieldErrors> {
    validate(&ClusterSpecInput::from_spec(next), rules, Some(previous)).map_err(|errors| {
        let prefix = edited.map(|index| format!("node_sets.{index}."));
        let mut renamed = FieldErrors::new();
        for error in errors.0 {
            let field = prefix
                .as_deref()
                .and_then(|p| error.field.strip_prefix(p))
                .filter(|f| ["count", "cpu_millis", "memory_mib", "storage_gib"].contains(f))
                .map_or(error.field.clone(), ToOwned::to_owned);
            renamed.add(field, error.message);
        }
        renamed
    })
}

fn single(field: &str, message: String) -> FieldErrors {
    let mut errors = FieldErrors::new();
    errors.add(field, message);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::templates;

    fn three_nodes() -> ClusterSpec {
        templates::template("three-nodes").unwrap().spec
    }

    fn production() -> SpecRules {
        SpecRules::default().with_production(true)
    }

    #[test]
    fn scale_changes_only_the_count() {
        let spec = three_nodes();
        let scaled = scaled(&spec, &production(), "default", 5).unwrap();
        assert_eq!(scaled.node_sets[0].count, 5);
        assert_eq!(scaled.node_sets[0].cpu_millis, spec.node_sets[0].cpu_millis);
        assert_eq!(scaled.version, spec.version);
    }

    #[test]
    fn scale_reports_errors_at_the_parameters() {
        let spec = three_nodes();
        let errors = scaled(&spec, &production(), "nope", 5).unwrap_err();
        assert!(
            errors
                .get("node_set")
                .unwrap()
                .contains("node sets: default"),
            "{errors}"
        );
        let errors = scaled(&spec, &production(), "default", 4).unwrap_err();
        assert!(
            errors.get("count").unwrap().contains("odd number"),
            "{errors}"
        );
        let errors = scaled(&spec, &production(), "default", 500).unwrap_err();
        assert!(
            errors.get("count").unwrap().contains("from 1 to 50"),
            "{errors}"
        );
        let errors = scaled(&spec, &production(), "default", 3).unwrap_err();
        assert!(
            errors.get("count").unwrap().contains("already has 3"),
            "{errors}"
        );
    }

    #[test]
    fn resize_grows_storage_but_never_shrinks_it() {
        let spec = three_nodes();
        let size = NodeSetSize {
            cpu_millis: 2000,
            memory_mib: 4096,
            storage_gib: 20,
        };
        let after = resized(&spec, &production(), "default", size).unwrap();
        assert_eq!(NodeSetSize::of(&after.node_sets[0]), size);

        let shrink = NodeSetSize {
            storage_gib: 5,
            ..size
        };
        let errors = resized(&spec, &production(), "default", shrink).unwrap_err();
        assert!(
            errors.get("storage_gib").unwrap().contains("not shrink"),
            "{errors}"
        );

        let same = NodeSetSize::of(&spec.node_sets[0]);
        assert!(resized(&spec, &production(), "default", same).is_err());
        let too_small = NodeSetSize {
            memory_mib: 10,
            ..size
        };
        let errors = resized(&spec, &production(), "default", too_small).unwrap_err();
        assert!(errors.get("memory_mib").is_some(), "{errors}");
    }

    #[test]
    fn upgrade_moves_forward_to_an_offered_version() {
        let mut spec = three_nodes();
        spec.version = EsVersion::new(8, 19, 7);
        let after = upgraded(&spec, &production(), &EsVersion::new(9, 2, 1)).unwrap();
        assert_eq!(after.version, EsVersion::new(9, 2, 1));

        let errors = upgraded(&after, &production(), &EsVersion::new(8, 19, 7)).unwrap_err();
        assert!(
            errors.get("version").unwrap().contains("only be upgraded"),
            "{errors}"
        );
        let errors = upgraded(&after, &production(), &EsVersion::new(9, 3, 0)).unwrap_err();
        assert!(
            errors.get("version").unwrap().contains("not offered"),
            "{errors}"
        );
        let errors = upgraded(&after, &production(), &EsVersion::new(9, 2, 1)).unwrap_err();
        assert!(
            errors.get("version").unwrap().contains("already runs"),
            "{errors}"
        );
    }
}
