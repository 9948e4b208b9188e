//! The `fieldsV1` encoding of field sets in `managedFields` (`f:`, `k:`, `v:` steps and `.` member markers).

use serde_json::{Map, Value};

use super::fields::{FieldSet, Path, Pe};

fn step_key(step: &Pe) -> String {
    match step {
        Pe::F(f) => format!("f:{f}"),
        Pe::K(k) => format!("k:{k}"),
        Pe::V(j) => format!("v:{j}"),
    }
}

/// Encode a field set as `fieldsV1`.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for step in path {
            let entry = node
                .entry(step_key(step))
                .or_insert_with(|| Value::Object(Map::new()));
            node = super::meta::ensure_object(entry);
        }
        // A member that also has children is marked with ".": {}.
        if !node.is_empty() {
            node.insert(".".into(), Value::Object(Map::new()));
        }
    }
    // Members whose children were added later need the "." marker too.
    mark_members(&mut root, set, &mut Vec::new());
    Value::Object(root)
}

fn mark_members(node: &mut Map<String, Value>, set: &FieldSet, path: &mut Path) {
    for (k, child) in node.iter_mut() {
        let Some(step) = parse_step(k) else { continue };
        path.push(step);
        if let Some(c) = child.as_object_mut() {
            if !c.is_empty() && set.contains(path) {
                c.insert(".".into(), Value::Object(Map::new()));
            }
            mark_members(c, set, path);
        }
        path.pop();
    }
}

fn parse_step(k: &str) -> Option<Pe> {
    if let Some(f) = k.strip_prefix("f:") {
        Some(Pe::F(f.to_string()))
    } else if let Some(j) = k.strip_prefix("k:") {
        Some(Pe::K(j.to_string()))
    } else {
        k.strip_prefix("v:").map(|j| Pe::V(j.to_string()))
    }
}

/// Decode `fieldsV1` into a field set (unknown step kinds are skipped).
pub fn from_fields_v1(v: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    if let Some(m) = v.as_object() {
        walk_fields_v1(m, &mut Vec::new(), &mut out);
    }
    out
}

fn walk_fields_v1(node: &Map<String, Value>, path: &mut Path, out: &mut FieldSet) {
    for (k, child) in node {
        if k == "." {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            continue;
        }
        let Some(step) = parse_step(k) else { continue };
        path.push(step);
        match child.as_object() {
            Some(c) if !c.is_empty() => walk_fields_v1(c, path, out),
            _ => {
                out.insert(path.clone());
            }
        }
        path.pop();
    }
}
