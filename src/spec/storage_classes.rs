//! Which storage classes node sets may use: the platform's allow-list and default class (managed by platform
//! admins, loaded from the `storage_classes` table by `clusters::storage_classes`), part of [`SpecRules`].
//! Pure: the rule only.
//!
//! A node set may name a class of the list; a *new* node set naming none gets the default (none at all when
//! the platform has no default: Kubernetes' own default class). A node set that already exists keeps the
//! class it has, even one the admins removed from the list since (as a cluster keeps a version no longer
//! offered); changing it is refused by the validation's own rule (volumes cannot move between classes).
//!
//! [`SpecRules`]: super::SpecRules

use serde::{Deserialize, Serialize};

use super::StorageClassName;

/// The allowed storage classes and the default one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageClassPolicy {
    /// Classes a node set may name, by name.
    pub allowed: Vec<StorageClassName>,
    /// The class of a new node set that names none (`None`: Kubernetes' default class).
    pub default: Option<StorageClassName>,
}

impl StorageClassPolicy {
    /// The class a node set gets: `requested` when it is allowed or is the class the node set already has
    /// (`existing`: `Some(class)` for a node set of the current spec, `None` for a new one), the default
    /// for a new node set naming none, and the class it has for an existing node set naming none. The error
    /// is the message for the `storage_class` field.
    pub fn resolve(
        &self,
        requested: Option<StorageClassName>,
        existing: Option<&Option<StorageClassName>>,
    ) -> Result<Option<StorageClassName>, String> {
        let Some(class) = requested else {
            return Ok(match existing {
                Some(kept) => kept.clone(),
                None => self.default.clone(),
            });
        };
        if existing == Some(&Some(class.clone())) || self.allowed.contains(&class) {
            return Ok(Some(class));
        }
        if self.allowed.is_empty() {
            return Err(format!(
                "`{class}` is not offered: this platform offers no storage classes; leave it empty for \
                 the Kubernetes default"
            ));
        }
        let offered: Vec<String> = self.allowed.iter().map(|c| format!("`{c}`")).collect();
        let default = self
            .default
            .as_ref()
            .map_or_else(String::new, |d| format!(" (empty: `{d}`)"));
        Err(format!(
            "`{class}` is not offered; choose one of {}, or leave it empty for the default{default}",
            offered.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str) -> StorageClassName {
        StorageClassName::parse(name).unwrap()
    }

    fn policy() -> StorageClassPolicy {
        StorageClassPolicy {
            allowed: vec![class("fast-ssd"), class("standard")],
            default: Some(class("standard")),
        }
    }

    #[test]
    fn new_node_sets_get_the_default_and_may_name_listed_classes() {
        let p = policy();
        assert_eq!(p.resolve(None, None).unwrap(), Some(class("standard")));
        assert_eq!(
            p.resolve(Some(class("fast-ssd")), None).unwrap(),
            Some(class("fast-ssd"))
        );
        let e = p.resolve(Some(class("gold")), None).unwrap_err();
        assert!(
            e.contains("`gold` is not offered") && e.contains("`fast-ssd`, `standard`"),
            "{e}"
        );
        assert!(e.contains("(empty: `standard`)"), "{e}");
    }

    #[test]
    fn existing_node_sets_keep_their_class() {
        let p = policy();
        let gold = Some(class("gold"));
        assert_eq!(p.resolve(Some(class("gold")), Some(&gold)).unwrap(), gold);
        assert_eq!(
            p.resolve(None, Some(&None)).unwrap(),
            None,
            "no default for an existing set"
        );
        assert!(p.resolve(Some(class("silver")), Some(&gold)).is_err());
        assert_eq!(
            p.resolve(None, Some(&gold)).unwrap(),
            gold,
            "naming none keeps the class it has"
        );
    }

    #[test]
    fn an_empty_list_offers_only_the_kubernetes_default() {
        let p = StorageClassPolicy::default();
        assert_eq!(p.resolve(None, None).unwrap(), None);
        assert!(
            p.resolve(Some(class("standard")), None)
                .unwrap_err()
                .contains("no storage classes")
        );
    }
}
