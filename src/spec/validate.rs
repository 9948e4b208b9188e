//! Turns a [`ClusterSpecInput`] into a [`ClusterSpec`], or into field errors that name the offending form
//! field (`version`, `node_sets.1.count`, `kibana.memory_mib`, or `node_sets` for rules about the topology).
//!
//! Rules, besides the per-field formats and [`SizeBounds`]:
//! - the version is in the allow-list, unless it is the version the cluster already runs; a version change
//!   against `previous` must be a valid upgrade ([`check_upgrade`]);
//! - node set names are unique; roles are not empty; `coordinating` stands alone; the generic `data` role is
//!   not mixed with tier roles in one node set (a `data` node already belongs to every tier);
//! - at least one node set is master-eligible and at least one holds data; a tiered cluster (hot/warm/cold)
//!   has a `data` or `data_content` node set somewhere, or indices without a tier preference (and system
//!   indices) could not be allocated;
//! - production rules: an odd number of master-eligible nodes;
//! - against `previous` (matched by node set name): storage per node never shrinks (volumes cannot shrink)
//!   and the storage class of an existing node set does not change (volumes cannot move between classes;
//!   add a new node set instead);
//! - with the platform's [`StorageClassPolicy`](super::StorageClassPolicy): a class outside the list is
//!   refused at the field, and a new node set naming none gets the default class.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::error::FieldErrors;

use super::{
    ClusterSpec, ClusterSpecInput, EsVersion, KibanaInput, KibanaSpec, NodeAttributeKey,
    NodeAttributeValue, NodeRole, NodeSetInput, NodeSetName, NodeSetSpec, NumberInput, SizeBounds,
    SpecRules, StorageClassName, check_upgrade,
};

/// Validates `input` against `rules`. `previous` is the cluster's current desired spec when editing an
/// existing cluster (`None` on creation); it enables the rules about versions, storage and storage classes.
pub fn validate(
    input: &ClusterSpecInput,
    rules: &SpecRules,
    previous: Option<&ClusterSpec>,
) -> Result<ClusterSpec, FieldErrors> {
    let mut errors = FieldErrors::new();
    let version = validate_version(&input.version, rules, previous, &mut errors);
    let node_sets = validate_node_sets(&input.node_sets, rules, previous, &mut errors);
    let kibana = input
        .kibana
        .as_ref()
        .map(|kibana| validate_kibana(kibana, &rules.bounds, &mut errors));
    let ip_allow_list = super::allow_list::parse_list(
        "ip_allow_list",
        input.ip_allow_list.as_deref().unwrap_or_default(),
    )
    .unwrap_or_else(|e| {
        errors.0.extend(e.0);
        Vec::new()
    });

    match (version, node_sets, kibana) {
        (Some(version), Some(node_sets), kibana) if errors.is_empty() => Ok(ClusterSpec {
            version,
            node_sets,
            kibana: kibana.flatten(),
            http_tls: input.http_tls.unwrap_or(true),
            ip_allow_list,
        }),
        _ => Err(errors),
    }
}

fn validate_version(
    raw: &str,
    rules: &SpecRules,
    previous: Option<&ClusterSpec>,
    errors: &mut FieldErrors,
) -> Option<EsVersion> {
    let version = match EsVersion::parse(raw.trim()) {
        Ok(version) => version,
        Err(message) => {
            errors.add("version", message);
            return None;
        }
    };
    let unchanged = previous.is_some_and(|p| p.version == version);
    if !unchanged && !rules.allowed_versions.contains(&version) {
        let offered: Vec<String> = rules
            .allowed_versions
            .iter()
            .map(ToString::to_string)
            .collect();
        errors.add(
            "version",
            format!(
                "{version} is not offered; choose one of {}",
                offered.join(", ")
            ),
        );
        return None;
    }
    if let Some(previous) = previous
        && !unchanged
        && let Err(message) = check_upgrade(&previous.version, &version)
    {
        errors.add("version", message);
        return None;
    }
    Some(version)
}

/// What the topology rules need to know about a node set, even when some of its other fields are invalid.
struct Topology {
    index: usize,
    roles: Option<BTreeSet<NodeRole>>,
    count: Option<u32>,
}

fn validate_node_sets(
    inputs: &[NodeSetInput],
    rules: &SpecRules,
    previous: Option<&ClusterSpec>,
    errors: &mut FieldErrors,
) -> Option<Vec<NodeSetSpec>> {
    if inputs.is_empty() {
        errors.add("node_sets", "add at least one node set");
        return None;
    }
    let max_sets = rules.bounds.max_node_sets;
    if inputs.len() > usize::try_from(max_sets).unwrap_or(usize::MAX) {
        errors.add(
            "node_sets",
            format!("a cluster has at most {max_sets} node sets"),
        );
    }

    let mut seen_names = HashSet::new();
    let mut node_sets = Vec::with_capacity(inputs.len());
    let mut topology = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        let mut set_errors = FieldErrors::new();
        let (set, roles, count) = validate_node_set(input, rules, previous, &mut set_errors);
        if let Some(name) = set
            .as_ref()
            .map(|s| s.name.clone())
            .or_else(|| NodeSetName::parse(input.name.trim()).ok())
            && !seen_names.insert(name.clone())
        {
            set_errors.add(
                "name",
                format!("another node set is already named `{name}`"),
            );
        }
        topology.push(Topology {
            index,
            roles,
            count,
        });
        if set_errors.is_empty() {
            node_sets.extend(set);
        }
        errors.extend_prefixed(&format!("node_sets.{index}"), set_errors);
    }

    check_topology(&topology, rules, errors);
    (node_sets.len() == inputs.len()).then_some(node_sets)
}

/// Validates one node set; errors use the field names inside the node set (`count`, `roles`, ...).
/// Also returns the roles and count when those parsed, for the topology rules.
fn validate_node_set(
    input: &NodeSetInput,
    rules: &SpecRules,
    previous: Option<&ClusterSpec>,
    errors: &mut FieldErrors,
) -> (Option<NodeSetSpec>, Option<BTreeSet<NodeRole>>, Option<u32>) {
    let b = &rules.bounds;
    let name = NodeSetName::parse(input.name.trim())
        .map_err(|m| errors.add("name", m))
        .ok();
    let roles = validate_roles(&input.roles, errors);
    let count = number(
        errors,
        "count",
        input.count.as_ref(),
        b.min_count,
        b.max_count,
        "nodes",
    );
    let cpu = number(
        errors,
        "cpu_millis",
        input.cpu_millis.as_ref(),
        b.min_cpu_millis,
        b.max_cpu_millis,
        "millicores",
    );
    let memory = number(
        errors,
        "memory_mib",
        input.memory_mib.as_ref(),
        b.min_memory_mib,
        b.max_memory_mib,
        "MiB",
    );
    let storage = number(
        errors,
        "storage_gib",
        input.storage_gib.as_ref(),
        b.min_storage_gib,
        b.max_storage_gib,
        "GiB",
    );
    let storage_class = match input.storage_class.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(raw) => StorageClassName::parse(raw)
            .map(Some)
            .map_err(|m| errors.add("storage_class", m))
            .ok(),
    };
    let attributes = validate_attributes(&input.attributes, errors);

    let existing = name
        .as_ref()
        .and_then(|n| previous.and_then(|p| p.node_set(n.as_str())));
    let storage_class = match (storage_class, &rules.storage_classes) {
        (Some(class), Some(policy)) => policy
            .resolve(class, existing.map(|e| &e.storage_class))
            .map_err(|m| errors.add("storage_class", m))
            .ok(),
        (other, _) => other,
    };
    if let (Some(existing), Some(storage)) = (existing, storage)
        && storage < existing.storage_gib
    {
        errors.add(
            "storage_gib",
            format!(
                "storage can grow but not shrink: this node set has {} GiB per node",
                existing.storage_gib
            ),
        );
    }
    if let (Some(existing), Some(storage_class)) = (existing, &storage_class)
        && existing.storage_class != *storage_class
    {
        let current = existing
            .storage_class
            .as_ref()
            .map_or("the default class".to_owned(), |c| format!("`{c}`"));
        errors.add(
            "storage_class",
            format!(
                "the storage class of an existing node set cannot change (it is {current}); add a new node set with \
                 the new class and remove this one"
            ),
        );
    }

    let set = match (
        name,
        roles.clone(),
        count,
        cpu,
        memory,
        storage,
        storage_class,
        attributes,
    ) {
        (
            Some(name),
            Some(roles),
            Some(count),
            Some(cpu),
            Some(memory),
            Some(storage),
            Some(class),
            Some(attrs),
        ) if errors.is_empty() => Some(NodeSetSpec {
            name,
            roles,
            count,
            cpu_millis: cpu,
            memory_mib: memory,
            storage_gib: storage,
            storage_class: class,
            attributes: attrs,
        }),
        _ => None,
    };
    (set, roles, count)
}

fn validate_roles(raw: &[String], errors: &mut FieldErrors) -> Option<BTreeSet<NodeRole>> {
    let mut roles = BTreeSet::new();
    let mut ok = true;
    for name in raw.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        match NodeRole::parse(name) {
            Ok(role) => {
                roles.insert(role);
            }
            Err(message) => {
                errors.add("roles", message);
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    if roles.is_empty() {
        errors.add(
            "roles",
            "choose at least one role (coordinating for a node without roles)",
        );
        return None;
    }
    if roles.contains(&NodeRole::Coordinating) && roles.len() > 1 {
        errors.add(
            "roles",
            "coordinating means a node without any other role: remove coordinating or the other roles",
        );
        return None;
    }
    if roles.contains(&NodeRole::Data) && roles.iter().any(|r| r.is_tier()) {
        errors.add(
            "roles",
            "use either the generic data role or data tier roles (data_hot, data_warm, data_cold, data_content), not both",
        );
        return None;
    }
    Some(roles)
}

fn validate_attributes(
    raw: &BTreeMap<String, String>,
    errors: &mut FieldErrors,
) -> Option<BTreeMap<NodeAttributeKey, NodeAttributeValue>> {
    let mut attributes = BTreeMap::new();
    let mut ok = true;
    for (key, value) in raw {
        let parsed = NodeAttributeKey::parse(key.trim()).and_then(|k| {
            let v = NodeAttributeValue::parse(value.trim()).map_err(|m| format!("`{k}`: {m}"))?;
            Ok((k, v))
        });
        match parsed {
            Ok((k, v)) => {
                if let Some(previous) = attributes.insert(k.clone(), v) {
                    errors.add(
                        "attributes",
                        format!("attribute `{k}` is given twice (also as `{previous}`)"),
                    );
                    ok = false;
                }
            }
            Err(message) => {
                errors.add("attributes", message);
                ok = false;
            }
        }
    }
    ok.then_some(attributes)
}

/// Rules about the node sets together. Skipped where the roles or counts they need did not parse, so one
/// mistake does not produce a cascade of messages.
fn check_topology(sets: &[Topology], rules: &SpecRules, errors: &mut FieldErrors) {
    if sets.is_empty() || sets.iter().any(|s| s.roles.is_none()) {
        return;
    }
    let has =
        |pred: &dyn Fn(&NodeRole) -> bool| sets.iter().any(|s| s.roles.iter().flatten().any(pred));
    let masters: Vec<&Topology> = sets
        .iter()
        .filter(|s| {
            s.roles
                .as_ref()
                .is_some_and(|r| r.contains(&NodeRole::Master))
        })
        .collect();
    if masters.is_empty() {
        errors.add("node_sets", "at least one node set needs the master role");
    }
    if !has(&|r| r.holds_data()) {
        errors.add(
            "node_sets",
            "at least one node set needs a data role (data, data_hot, data_warm, data_cold or data_content)",
        );
    }
    let tiered = has(&|r| {
        matches!(
            r,
            NodeRole::DataHot | NodeRole::DataWarm | NodeRole::DataCold
        )
    });
    if tiered && !has(&|r| matches!(r, NodeRole::Data | NodeRole::DataContent)) {
        errors.add(
            "node_sets",
            "a tiered cluster needs data_content on some node set (usually the hot tier) for indices without a \
             tier preference and for system indices",
        );
    }
    if rules.production && !masters.is_empty() && masters.iter().all(|s| s.count.is_some()) {
        let total: u32 = masters.iter().filter_map(|s| s.count).sum();
        if total.is_multiple_of(2) {
            let field = match masters.as_slice() {
                [only] => format!("node_sets.{}.count", only.index),
                _ => "node_sets".to_owned(),
            };
            errors.add(
                field,
                format!(
                    "production clusters need an odd number of master-eligible nodes (this has {total}) so that a \
                     majority survives losing a node"
                ),
            );
        }
    }
}

fn validate_kibana(
    input: &KibanaInput,
    b: &SizeBounds,
    errors: &mut FieldErrors,
) -> Option<KibanaSpec> {
    let mut kibana_errors = FieldErrors::new();
    let e = &mut kibana_errors;
    let count = number(
        e,
        "count",
        input.count.as_ref(),
        1,
        b.max_kibana_count,
        "instances",
    );
    let cpu = number(
        e,
        "cpu_millis",
        input.cpu_millis.as_ref(),
        b.min_cpu_millis,
        b.max_cpu_millis,
        "millicores",
    );
    let memory = number(
        e,
        "memory_mib",
        input.memory_mib.as_ref(),
        b.min_memory_mib,
        b.max_memory_mib,
        "MiB",
    );
    errors.extend_prefixed("kibana", kibana_errors);
    Some(KibanaSpec {
        count: count?,
        cpu_millis: cpu?,
        memory_mib: memory?,
    })
}

/// Reads a required whole number within `min..=max`, recording a field error otherwise.
fn number(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&NumberInput>,
    min: u32,
    max: u32,
    unit: &str,
) -> Option<u32> {
    let Some(value) = value.filter(|v| !v.is_blank()) else {
        errors.add(field, "Enter a number");
        return None;
    };
    match value.to_i64() {
        Err(message) => {
            errors.add(field, message);
            None
        }
        Ok(n) if n < i64::from(min) || n > i64::from(max) => {
            errors.add(field, format!("Choose from {min} to {max} {unit}"));
            None
        }
        Ok(n) => u32::try_from(n).ok(),
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
