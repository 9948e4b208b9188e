//! The three classic patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch
//! (lists of containers, ports, volumes, env, volumeMounts ... merged by their key; `$patch` directives).

use serde_json::{Map, Value};

use super::fields::{ListType, item_key, list_type};
use super::meta::ensure_object;

/// Which patch a `Content-Type` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json`
    Merge,
    /// `application/json-patch+json`
    Json,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply)
    Apply,
}

impl PatchType {
    /// Patch type from a content type (parameters after `;` ignored).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// RFC 7386 merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 JSON patch; the error text explains the failing operation.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    let ops: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| format!("invalid JSON patch: {e}"))?;
    json_patch::patch(target, &ops).map_err(|e| format!("JSON patch failed: {e}"))
}

/// Strategic merge patch as kubectl and client-go send it.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    if !patch.is_object() {
        return Err("strategic merge patch must be a JSON object".into());
    }
    merge_value(target, patch);
    Ok(())
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

fn merge_value(target: &mut Value, patch: &Value) {
    let Some(pm) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    match pm.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            *target = strip_directives(patch);
            return;
        }
        Some("delete") => {
            *target = Value::Object(Map::new());
            return;
        }
        _ => {}
    }
    let tm = ensure_object(target);
    if let Some(keep) = pm.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        tm.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, pv) in pm {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(list), Some(del)) = (
                tm.get_mut(field).and_then(Value::as_array_mut),
                pv.as_array(),
            ) {
                list.retain(|i| !del.contains(i));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        match pv {
            Value::Null => {
                tm.remove(k);
            }
            Value::Array(items) => merge_list(tm, k, items),
            Value::Object(_) => {
                let slot = tm
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                merge_value(slot, pv);
            }
            other => {
                tm.insert(k.clone(), other.clone());
            }
        }
    }
}

fn merge_list(tm: &mut Map<String, Value>, field: &str, items: &[Value]) {
    let existing: Vec<Value> = tm
        .get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        let kept: Vec<Value> = items
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .map(strip_directives)
            .collect();
        tm.insert(field.to_string(), Value::Array(kept));
        return;
    }
    let probe: Vec<Value> = items.iter().chain(existing.iter()).cloned().collect();
    let merged = match list_type(field, &probe) {
        ListType::Atomic => strip_directives(&Value::Array(items.to_vec())),
        ListType::Set => {
            let mut out = existing;
            for i in items {
                if !out.contains(i) {
                    out.push(i.clone());
                }
            }
            Value::Array(out)
        }
        ListType::Map(keys) => {
            let mut out = existing;
            for item in items {
                let key = item_key(item, keys);
                let pos = out.iter().position(|e| item_key(e, keys) == key);
                let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (pos, delete) {
                    (Some(p), true) => {
                        out.remove(p);
                    }
                    (None, true) => {}
                    (Some(p), false) => merge_value(&mut out[p], item),
                    (None, false) => out.push(strip_directives(item)),
                }
            }
            Value::Array(out)
        }
    };
    tm.insert(field.to_string(), merged);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name() {
        let mut pod = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "b:1"}
        ]}});
        let patch = json!({"spec": {"containers": [
            {"name": "a", "image": "a:2", "env": [{"name": "Y", "value": "2"}]},
            {"name": "b", "$patch": "delete"},
            {"name": "c", "image": "c:1"}
        ]}});
        strategic_merge(&mut pod, &patch).unwrap_or_default();
        let cs = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0]["image"], "a:2");
        assert_eq!(cs[0]["env"].as_array().map(Vec::len), Some(2));
        assert_eq!(cs[1]["name"], "c");
    }
}
