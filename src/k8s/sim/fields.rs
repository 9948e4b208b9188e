//! Field paths and field sets: the leaf paths of an object (map fields, associative list items keyed by their merge
//! key, set items, atomic lists), path lookup/removal and ownership overlap. Shared by server-side apply,
//! managed-field bookkeeping and strategic merge patch (which list is keyed by what); the `fieldsV1` encoding is in
//! `fields_v1`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pe {
    /// A map field: `f:name`.
    F(String),
    /// An associative list item, by its key fields as canonical JSON: `k:{"name":"x"}`.
    K(String),
    /// A set item (list of scalars), by value as JSON: `v:"x"`.
    V(String),
}

/// A path from the object root.
pub type Path = Vec<Pe>;
/// A set of owned paths.
pub type FieldSet = BTreeSet<Path>;

/// How a list field merges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ListType {
    /// Replaced as a whole.
    Atomic,
    /// Items are maps merged by these key fields.
    Map(&'static [&'static str]),
    /// Items are scalars merged as a set.
    Set,
}

/// The merge key of a list field, as Kubernetes' built-in types declare it (`patchMergeKey` /
/// `x-kubernetes-list-map-keys`). Lists whose items lack the key are atomic.
pub fn list_type(field: &str, items: &[Value]) -> ListType {
    let keys: &'static [&'static str] = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => &["name"],
        "volumeMounts" | "volumeDevices" => &["mountPath"],
        "ports" => {
            if items.iter().any(|i| i.get("containerPort").is_some()) {
                &["containerPort"]
            } else {
                &["port"]
            }
        }
        "conditions" => &["type"],
        "ownerReferences" => &["uid"],
        "finalizers" => {
            return if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                ListType::Set
            } else {
                ListType::Atomic
            };
        }
        _ => return ListType::Atomic,
    };
    if items.iter().all(|i| i.get(keys[0]).is_some()) {
        ListType::Map(keys)
    } else {
        ListType::Atomic
    }
}

/// Canonical key of a list item: `{"name":"x"}` with the present key fields in declaration order.
pub fn item_key(item: &Value, keys: &[&str]) -> String {
    let mut m = Map::new();
    for k in keys {
        if let Some(v) = item.get(*k) {
            m.insert((*k).to_string(), v.clone());
        }
    }
    Value::Object(m).to_string()
}

/// Does a list item carry the key encoded in a `K` step?
fn item_has_key(item: &Value, key_json: &str) -> bool {
    match serde_json::from_str::<Map<String, Value>>(key_json) {
        Ok(k) => k.iter().all(|(f, v)| item.get(f) == Some(v)),
        Err(_) => false,
    }
}

/// Which part of an object a field set covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scope {
    /// The main resource; `.status` excluded when the kind has a status subresource.
    Main {
        /// Leave `.status` out.
        exclude_status: bool,
    },
    /// Only `.status` (writes to the `/status` subresource).
    Status,
}

/// Metadata fields the server owns: never tracked in managedFields.
const SERVER_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "generateName",
];

/// All leaf paths of an object within a scope.
pub fn leaves(obj: &Value, scope: Scope) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(top) = obj.as_object() else {
        return out;
    };
    for (k, v) in top {
        let take = match (scope, k.as_str()) {
            (_, "apiVersion" | "kind") => false,
            (Scope::Status, f) => f == "status",
            (Scope::Main { exclude_status }, "status") => !exclude_status,
            _ => true,
        };
        if !take {
            continue;
        }
        if k == "metadata" {
            if let Some(m) = v.as_object() {
                for (mk, mv) in m
                    .iter()
                    .filter(|(mk, _)| !SERVER_META.contains(&mk.as_str()))
                {
                    let p = vec![Pe::F("metadata".into()), Pe::F(mk.clone())];
                    collect(mv, mk, p, &mut out);
                }
            }
            continue;
        }
        collect(v, k, vec![Pe::F(k.clone())], &mut out);
    }
    out
}

fn collect(v: &Value, field: &str, path: Path, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, c) in m {
                let mut p = path.clone();
                p.push(Pe::F(k.clone()));
                collect(c, k, p, out);
            }
        }
        Value::Array(items) if !items.is_empty() => match list_type(field, items) {
            ListType::Atomic => {
                out.insert(path);
            }
            ListType::Set => {
                for i in items {
                    let mut p = path.clone();
                    p.push(Pe::V(i.to_string()));
                    out.insert(p);
                }
            }
            ListType::Map(keys) => {
                for i in items {
                    let mut p = path.clone();
                    p.push(Pe::K(item_key(i, keys)));
                    if let Some(m) = i.as_object() {
                        for (k, c) in m {
                            let mut cp = p.clone();
                            cp.push(Pe::F(k.clone()));
                            collect(c, k, cp, out);
                        }
                    }
                    out.insert(p);
                }
            }
        },
        _ => {
            out.insert(path);
        }
    }
}

/// The value at a path.
pub fn get_at<'a>(v: &'a Value, path: &[Pe]) -> Option<&'a Value> {
    let mut cur = v;
    for step in path {
        cur = match step {
            Pe::F(f) => cur.get(f)?,
            Pe::K(k) => cur.as_array()?.iter().find(|i| item_has_key(i, k))?,
            Pe::V(j) => {
                let target = serde_json::from_str::<Value>(j).ok()?;
                cur.as_array()?.iter().find(|i| **i == target)?
            }
        };
    }
    Some(cur)
}

/// Mutable access to the value at a path.
pub fn get_at_mut<'a>(v: &'a mut Value, path: &[Pe]) -> Option<&'a mut Value> {
    let mut cur = v;
    for step in path {
        cur = match step {
            Pe::F(f) => cur.get_mut(f)?,
            Pe::K(k) => cur
                .as_array_mut()?
                .iter_mut()
                .find(|i| item_has_key(i, k))?,
            Pe::V(j) => cur
                .as_array_mut()?
                .iter_mut()
                .find(|i| serde_json::from_str::<Value>(j).is_ok_and(|t| **i == t))?,
        };
    }
    Some(cur)
}

/// Remove the value at a path (map field or list item). Returns true when something was removed.
pub fn remove_at(v: &mut Value, path: &[Pe]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let Some(p) = get_at_mut(v, parent) else {
        return false;
    };
    match last {
        Pe::F(f) => p.as_object_mut().and_then(|m| m.remove(f)).is_some(),
        Pe::K(k) => retain_items(p, |i| !item_has_key(i, k)),
        Pe::V(j) => {
            let target = serde_json::from_str::<Value>(j).ok();
            retain_items(p, |i| Some(i) != target.as_ref())
        }
    }
}

fn retain_items(list: &mut Value, keep: impl Fn(&Value) -> bool) -> bool {
    match list.as_array_mut() {
        Some(a) => {
            let before = a.len();
            a.retain(keep);
            a.len() != before
        }
        None => false,
    }
}

/// Human readable path, as conflict messages print it: `.spec.containers[name="x"].image`.
pub fn path_string(path: &[Pe]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Pe::F(f) => {
                s.push('.');
                s.push_str(f);
            }
            Pe::K(k) => {
                let inner = serde_json::from_str::<Map<String, Value>>(k)
                    .map(|m| {
                        m.iter()
                            .map(|(a, b)| format!("{a}={b}"))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_else(|_| k.clone());
                s.push_str(&format!("[{inner}]"));
            }
            Pe::V(j) => s.push_str(&format!("[{j}]")),
        }
    }
    s
}

/// Paths of `set` that a write of `p` competes with: `p` itself, paths under `p`, and ancestors of `p` that are
/// atomic values in `current` (an owned map does not compete with a new key inside it).
pub fn competing(set: &FieldSet, p: &[Pe], current: &Value) -> Vec<Path> {
    let mut out: Vec<Path> = (1..p.len())
        .map(|n| &p[..n])
        .filter(|q| set.contains(*q) && !get_at(current, q).is_some_and(Value::is_object))
        .map(<[Pe]>::to_vec)
        .collect();
    out.extend(
        set.range(p.to_vec()..)
            .take_while(|q| q.starts_with(p))
            .cloned(),
    );
    out
}

/// Does the set hold a path strictly under `p`?
pub fn has_descendant(set: &FieldSet, p: &[Pe]) -> bool {
    set.range(p.to_vec()..)
        .take_while(|q| q.starts_with(p))
        .any(|q| q.len() > p.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(s: &str) -> Pe {
        Pe::F(s.into())
    }

    #[test]
    fn leaves_and_fields_v1_round_trip() {
        let obj = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x"]},
            "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}], "args": ["a"]},
            "status": {"phase": "Running"}
        });
        let set = leaves(
            &obj,
            Scope::Main {
                exclude_status: true,
            },
        );
        assert!(set.contains(&vec![f("metadata"), f("labels"), f("a")]));
        assert!(set.contains(&vec![f("spec"), f("args")]));
        assert!(set.contains(&vec![f("metadata"), f("finalizers"), Pe::V("\"x\"".into())]));
        assert!(!set.iter().any(|p| p[0] == f("status")));
        let enc = super::super::fields_v1::to_fields_v1(&set);
        assert!(
            enc.pointer("/f:spec/f:containers/k:{\"name\":\"c\"}/.")
                .is_some()
        );
        assert_eq!(super::super::fields_v1::from_fields_v1(&enc), set);
        let image = vec![
            f("spec"),
            f("containers"),
            Pe::K("{\"name\":\"c\"}".into()),
            f("image"),
        ];
        assert_eq!(get_at(&obj, &image), Some(&json!("i")));
        let mut o2 = obj.clone();
        assert!(remove_at(&mut o2, &image));
        assert!(get_at(&o2, &image).is_none());
        let fin = vec![f("metadata"), f("finalizers"), Pe::V("\"x\"".into())];
        assert!(remove_at(&mut o2, &fin));
        assert_eq!(o2.pointer("/metadata/finalizers"), Some(&json!([])));
    }

    #[test]
    fn owned_maps_do_not_compete_with_new_keys() {
        let current = json!({ "metadata": { "annotations": {} }, "spec": { "x": 1 } });
        let set: FieldSet = [
            vec![f("metadata"), f("annotations")],
            vec![f("spec"), f("x")],
        ]
        .into();
        assert!(competing(&set, &[f("metadata"), f("annotations"), f("k")], &current).is_empty());
        assert_eq!(
            competing(&set, &[f("spec"), f("x"), f("y")], &current).len(),
            1
        );
        assert_eq!(competing(&set, &[f("spec")], &current).len(), 1);
    }
}
