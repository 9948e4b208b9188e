//! Server-side apply and `managedFields` bookkeeping: per-manager field ownership at leaf-path granularity,
//! conflicts (409 unless `force=true`), removal of fields a manager stops applying, and ownership transfer on
//! ordinary updates (an `Update` operation takes the fields it changes).

use serde_json::{Map, Value, json};

use super::fields::{self, FieldSet, Pe, Scope};
use super::fields_v1;
use super::meta;
use super::patch;

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Field manager name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// apiVersion the manager used.
    pub api_version: String,
    /// Last time this manager changed its set.
    pub time: String,
    /// Empty for the main resource, `status` for the status subresource.
    pub subresource: String,
    /// Owned leaf paths.
    pub set: FieldSet,
}

impl Entry {
    fn same_slot(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

fn parse_entry(e: &Value) -> Entry {
    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Entry {
        manager: s("manager"),
        operation: s("operation"),
        api_version: s("apiVersion"),
        time: s("time"),
        subresource: s("subresource"),
        set: e
            .get("fieldsV1")
            .map(fields_v1::from_fields_v1)
            .unwrap_or_default(),
    }
}

/// Read every `metadata.managedFields` entry.
#[cfg(test)]
pub fn read_entries(obj: &Value) -> Vec<Entry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|l| l.iter().map(parse_entry).collect())
        .unwrap_or_default()
}

/// Entries a write can affect (parsed) and the others (kept verbatim). For kinds with a status subresource, a
/// main-resource write never touches the status managers' fields and a status write never touches the others.
fn read_scoped(obj: Option<&Value>, ws: &WriteScope<'_>) -> (Vec<Entry>, Vec<Value>) {
    let (mut scoped, mut others) = (Vec::new(), Vec::new());
    let list = obj
        .and_then(|o| o.pointer("/metadata/managedFields"))
        .and_then(Value::as_array);
    for e in list.into_iter().flatten() {
        let sub = e.get("subresource").and_then(Value::as_str).unwrap_or("");
        if !ws.has_status || sub == ws.subresource() {
            scoped.push(parse_entry(e));
        } else {
            others.push(e.clone());
        }
    }
    (scoped, others)
}

fn entry_json(e: &Entry) -> Value {
    let mut v = json!({
        "manager": e.manager,
        "operation": e.operation,
        "apiVersion": e.api_version,
        "time": e.time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields_v1::to_fields_v1(&e.set),
    });
    if !e.subresource.is_empty() {
        v["subresource"] = json!(e.subresource);
    }
    v
}

/// Write `metadata.managedFields` from the verbatim entries and the scoped ones (empty sets dropped).
fn write_scoped(obj: &mut Value, scoped: &[Entry], others: Vec<Value>) {
    let mut list = others;
    list.extend(scoped.iter().filter(|e| !e.set.is_empty()).map(entry_json));
    let m = meta::meta_mut(obj);
    if list.is_empty() {
        m.remove("managedFields");
    } else {
        m.insert("managedFields".into(), Value::Array(list));
    }
}

/// What a write is about.
#[derive(Debug, Clone, Copy)]
pub struct WriteScope<'a> {
    /// Field manager.
    pub manager: &'a str,
    /// apiVersion of the kind.
    pub api_version: &'a str,
    /// Write to the `/status` subresource.
    pub status_sub: bool,
    /// Kind has a status subresource.
    pub has_status: bool,
}

impl WriteScope<'_> {
    fn scope(&self) -> Scope {
        if self.status_sub {
            Scope::Status
        } else {
            Scope::Main {
                exclude_status: self.has_status,
            }
        }
    }
    fn subresource(&self) -> &'static str {
        if self.status_sub { "status" } else { "" }
    }
}

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// The field, printed like `.spec.replicas`.
    pub field: String,
}

fn upsert<'e>(entries: &'e mut Vec<Entry>, ws: &WriteScope<'_>, operation: &str) -> &'e mut Entry {
    let sub = ws.subresource();
    let pos = match entries
        .iter()
        .position(|e| e.same_slot(ws.manager, operation, sub))
    {
        Some(p) => p,
        None => {
            entries.push(Entry {
                manager: ws.manager.to_string(),
                operation: operation.to_string(),
                api_version: ws.api_version.to_string(),
                time: String::new(),
                subresource: sub.to_string(),
                set: FieldSet::new(),
            });
            entries.len() - 1
        }
    };
    &mut entries[pos]
}

/// The part of an applied configuration that a write in this scope may change.
fn scoped_config(applied: &Value, ws: &WriteScope<'_>) -> Value {
    let mut out = Map::new();
    let Some(top) = applied.as_object() else {
        return Value::Object(out);
    };
    for (k, v) in top {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "status" if ws.status_sub || !ws.has_status => {
                out.insert(k.clone(), v.clone());
            }
            _ if ws.status_sub => {}
            "status" => {}
            "metadata" => {
                let m: Map<String, Value> = v
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .filter(|(mk, _)| {
                                matches!(
                                    mk.as_str(),
                                    "labels" | "annotations" | "finalizers" | "ownerReferences"
                                )
                            })
                            .map(|(a, b)| (a.clone(), b.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(m));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// Server-side apply of `applied` onto `existing` (or onto `base` when the object does not exist yet).
/// Returns the merged object with updated `managedFields`, or the conflicts when `force` is false.
pub fn server_side_apply(
    existing: Option<&Value>,
    base: Value,
    applied: &Value,
    ws: WriteScope<'_>,
    force: bool,
) -> Result<Value, Vec<Conflict>> {
    let now = meta::now();
    let new_set = fields::leaves(applied, ws.scope());
    let (mut entries, others) = read_scoped(existing, &ws);
    let null = Value::Null;
    let current = existing.unwrap_or(&null);

    // Conflicts with other managers owning a field we set to a different value.
    let mut conflicts = Vec::new();
    for p in &new_set {
        if !differs(applied, current, p) {
            continue;
        }
        for e in entries.iter_mut().filter(|e| e.manager != ws.manager) {
            let competing = fields::competing(&e.set, p, current);
            if competing.is_empty() {
                continue;
            }
            if force {
                for q in &competing {
                    e.set.remove(q);
                }
            } else {
                conflicts.push(Conflict {
                    manager: e.manager.clone(),
                    field: fields::path_string(p),
                });
            }
        }
    }
    if !conflicts.is_empty() {
        conflicts.dedup();
        return Err(conflicts);
    }

    let mut merged = existing.cloned().unwrap_or(base);
    let config = scoped_config(applied, &ws);
    // `config` is an object by construction, so the merge cannot fail.
    let _ = patch::strategic_merge(&mut merged, &config);

    // Remove what this manager applied before and no longer applies, unless someone else owns it.
    let sub = ws.subresource();
    let previous = entries
        .iter()
        .find(|e| e.same_slot(ws.manager, "Apply", sub))
        .map(|e| e.set.clone())
        .unwrap_or_default();
    let mut removed: Vec<&Vec<Pe>> = previous.difference(&new_set).collect();
    removed.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in removed {
        let owned_elsewhere = entries
            .iter()
            .filter(|e| !e.same_slot(ws.manager, "Apply", sub))
            .any(|e| e.set.contains(p) || fields::has_descendant(&e.set, p));
        if owned_elsewhere || fields::has_descendant(&new_set, p) || is_item_key_field(p) {
            continue;
        }
        if fields::remove_at(&mut merged, p) {
            prune_empty_parents(&mut merged, p, &entries, &new_set);
        }
    }

    let mine = upsert(&mut entries, &ws, "Apply");
    if mine.set != new_set {
        mine.time = now.clone();
    }
    if mine.time.is_empty() {
        mine.time = now;
    }
    mine.set = new_set;
    mine.api_version = ws.api_version.to_string();
    entries.retain(|e| !e.set.is_empty());
    write_scoped(&mut merged, &entries, others);
    Ok(merged)
}

/// Does the value at `p` differ between `a` and `b`? List items (keyed or set members) compare by existence.
fn differs(a: &Value, b: &Value, p: &[Pe]) -> bool {
    match p.last() {
        Some(Pe::K(_) | Pe::V(_)) => {
            fields::get_at(a, p).is_some() != fields::get_at(b, p).is_some()
        }
        _ => fields::get_at(a, p) != fields::get_at(b, p),
    }
}

/// Is `p` a key field of a list item (`containers[name=x].name`)? Those go away with their item only.
fn is_item_key_field(p: &[Pe]) -> bool {
    match p {
        [.., Pe::K(key), Pe::F(f)] => {
            serde_json::from_str::<Map<String, Value>>(key).is_ok_and(|m| m.contains_key(f))
        }
        _ => false,
    }
}

fn prune_empty_parents(obj: &mut Value, removed: &[Pe], entries: &[Entry], new_set: &FieldSet) {
    let mut n = removed.len();
    while n > 2 {
        n -= 1;
        let parent = &removed[..n];
        if entries.iter().any(|e| e.set.contains(parent)) || new_set.contains(parent) {
            return;
        }
        let empty = match fields::get_at(obj, parent) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if !empty || !fields::remove_at(obj, parent) {
            return;
        }
    }
}

/// Record an ordinary write (create, replace, patch) by `manager` as an `Update` operation: it takes ownership of
/// every leaf it changed; fields that disappeared are dropped from every manager.
pub fn record_update(old: Option<&Value>, new: &mut Value, ws: WriteScope<'_>) {
    let scope = ws.scope();
    let new_leaves = fields::leaves(new, scope);
    let old_leaves = old.map(|o| fields::leaves(o, scope)).unwrap_or_default();
    let changed: FieldSet = new_leaves
        .iter()
        .filter(|p| old.is_none_or(|o| differs(new, o, p)))
        .cloned()
        .collect();
    let gone: FieldSet = old_leaves.difference(&new_leaves).cloned().collect();
    if changed.is_empty() && gone.is_empty() {
        let kept = old
            .and_then(|o| o.pointer("/metadata/managedFields"))
            .cloned();
        let m = meta::meta_mut(new);
        match kept {
            Some(mf) => m.insert("managedFields".into(), mf),
            None => m.remove("managedFields"),
        };
        return;
    }
    let (mut entries, others) = read_scoped(old, &ws);
    let sub = ws.subresource();
    for e in entries.iter_mut() {
        let own = e.same_slot(ws.manager, "Update", sub);
        e.set
            .retain(|p| !gone.contains(p) && (own || !changed.contains(p)));
    }
    let mine = upsert(&mut entries, &ws, "Update");
    mine.set.extend(changed);
    mine.time = meta::now();
    mine.api_version = ws.api_version.to_string();
    entries.retain(|e| !e.set.is_empty());
    write_scoped(new, &entries, others);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(manager: &str) -> WriteScope<'_> {
        WriteScope {
            manager,
            api_version: "v1",
            status_sub: false,
            has_status: false,
        }
    }

    #[test]
    fn apply_removes_dropped_fields_and_detects_conflicts() {
        let base = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let a1 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let o1 = server_side_apply(None, base.clone(), &a1, ws("m1"), false).unwrap_or_default();
        let a2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
        let o2 =
            server_side_apply(Some(&o1), base.clone(), &a2, ws("m1"), false).unwrap_or_default();
        assert_eq!(o2["data"], json!({"a": "1"}));
        let a3 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "X"}});
        let err = server_side_apply(Some(&o2), base.clone(), &a3, ws("m2"), false);
        assert!(matches!(err, Err(ref c) if c[0].manager == "m1" && c[0].field == ".data.a"));
        let o3 = server_side_apply(Some(&o2), base, &a3, ws("m2"), true).unwrap_or_default();
        assert_eq!(o3["data"]["a"], "X");
        let e = read_entries(&o3);
        assert!(e.iter().all(|e| e.manager == "m2"));
    }
}
