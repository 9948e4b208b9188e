//! Deletion semantics: finalizers (deletionTimestamp while finalizers remain), propagation policies (background
//! garbage collection of dependents by ownerReference uid, foreground, orphan) and namespace termination (a
//! deleted namespace deletes everything in it, then disappears once empty).

use std::sync::Arc;

use serde_json::{Value, json};

use super::meta;
use super::registry::Registry;
use super::store::{FullKey, ObjKey, State};
use super::stored::Stored;

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Owner goes now, dependents are collected right after (the default).
    #[default]
    Background,
    /// Owner stays (finalizer `foregroundDeletion`) until its dependents are gone.
    Foreground,
    /// Dependents lose their owner reference and stay.
    Orphan,
}

impl Propagation {
    /// Parse `Background` / `Foreground` / `Orphan`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Background" => Some(Self::Background),
            "Foreground" => Some(Self::Foreground),
            "Orphan" => Some(Self::Orphan),
            _ => None,
        }
    }
}

const FOREGROUND: &str = "foregroundDeletion";

fn namespace_kind(reg: &Registry) -> Option<usize> {
    reg.find("", "v1", "namespaces")
}

fn mark_deleting(obj: &Stored) -> Value {
    let mut o = obj.value();
    let m = meta::meta_mut(&mut o);
    m.insert("deletionTimestamp".into(), json!(meta::now()));
    m.insert("deletionGracePeriodSeconds".into(), json!(0));
    o
}

fn without_owner(obj: &Stored, owner_uid: &str) -> Value {
    let mut o = obj.value();
    if let Some(refs) = o
        .pointer_mut("/metadata/ownerReferences")
        .and_then(Value::as_array_mut)
    {
        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid));
    }
    o
}

/// Delete an object with a propagation policy; returns its state after the call (deleting or last state).
pub fn delete(
    reg: &Registry,
    st: &mut State,
    kind: usize,
    key: &ObjKey,
    prop: Propagation,
) -> Option<Arc<Stored>> {
    let obj = st.get(kind, key)?.clone();
    if Some(kind) == namespace_kind(reg) {
        return terminate_namespace(reg, st, kind, key);
    }
    let uid = obj.uid.clone();
    if obj.deleting {
        return Some(obj);
    }
    let deps: Vec<FullKey> = st
        .dependents
        .get(&uid)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    match prop {
        Propagation::Orphan => {
            for d in deps {
                if let Some(dobj) = st.get(d.0, &d.1).cloned() {
                    st.put(d.0, d.1.clone(), without_owner(&dobj, &uid));
                }
            }
        }
        Propagation::Foreground if !deps.is_empty() => {
            let mut o = mark_deleting(&obj);
            let fins = meta::meta_mut(&mut o)
                .entry("finalizers")
                .or_insert_with(|| json!([]));
            if let Some(a) = fins.as_array_mut() {
                a.push(json!(FOREGROUND));
            }
            st.put(kind, key.clone(), o);
            for d in deps {
                delete(reg, st, d.0, &d.1, Propagation::Background);
            }
            let mut work = Vec::new();
            check_foreground(st, &uid, &mut work);
            drain(reg, st, work);
            return Some(st.get(kind, key).cloned().unwrap_or(obj));
        }
        _ => {}
    }
    if !obj.finalizers.is_empty() {
        return Some(st.put(kind, key.clone(), mark_deleting(&obj)));
    }
    remove_and_collect(reg, st, kind, key)
}

/// Remove an object now and garbage-collect what depends on it. Returns its last state.
pub fn remove_and_collect(
    reg: &Registry,
    st: &mut State,
    kind: usize,
    key: &ObjKey,
) -> Option<Arc<Stored>> {
    let first = st.remove(kind, key)?;
    let mut work = Vec::new();
    after_removal(reg, st, kind, key, &first, &mut work);
    drain(reg, st, work);
    Some(first)
}

fn drain(reg: &Registry, st: &mut State, mut work: Vec<FullKey>) {
    while let Some((k, key)) = work.pop() {
        if let Some(removed) = st.remove(k, &key) {
            after_removal(reg, st, k, &key, &removed, &mut work);
        }
    }
}

fn after_removal(
    reg: &Registry,
    st: &mut State,
    kind: usize,
    key: &ObjKey,
    removed: &Stored,
    work: &mut Vec<FullKey>,
) {
    let uid = removed.uid.clone();
    let deps: Vec<FullKey> = st
        .dependents
        .get(&uid)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    for d in deps {
        let Some(dobj) = st.get(d.0, &d.1).cloned() else {
            continue;
        };
        let other_owner_alive = dobj
            .owners
            .iter()
            .any(|u| *u != uid && st.uids.contains_key(u));
        if other_owner_alive {
            st.put(d.0, d.1.clone(), without_owner(&dobj, &uid));
        } else if dobj.deleting {
            continue;
        } else if !dobj.finalizers.is_empty() {
            st.put(d.0, d.1.clone(), mark_deleting(&dobj));
        } else if !work.contains(&d) {
            work.push(d);
        }
    }
    for owner in &removed.owners {
        check_foreground(st, owner, work);
    }
    if reg.get(kind).namespaced {
        finish_namespace_if_empty(reg, st, &key.0, work);
    }
}

/// An owner deleting in the foreground loses its `foregroundDeletion` finalizer once no dependent is left.
fn check_foreground(st: &mut State, owner_uid: &str, work: &mut Vec<FullKey>) {
    if st.dependents.get(owner_uid).is_some_and(|s| !s.is_empty()) {
        return;
    }
    let Some((fk, owner)) = st.by_uid(owner_uid).map(|(fk, o)| (fk, o.clone())) else {
        return;
    };
    if !owner.deleting || !owner.finalizers.iter().any(|f| f == FOREGROUND) {
        return;
    }
    let mut o = owner.value();
    if let Some(a) = o
        .pointer_mut("/metadata/finalizers")
        .and_then(Value::as_array_mut)
    {
        a.retain(|f| f.as_str() != Some(FOREGROUND));
    }
    let done = meta::finalizers(&o).is_empty();
    st.put(fk.0, fk.1.clone(), o);
    if done && !work.contains(&fk) {
        work.push(fk);
    }
}

fn terminate_namespace(
    reg: &Registry,
    st: &mut State,
    kind: usize,
    key: &ObjKey,
) -> Option<Arc<Stored>> {
    let ns_obj = st.get(kind, key)?.clone();
    let ns = key.1.clone();
    let marked = if ns_obj.deleting {
        ns_obj
    } else {
        let mut o = mark_deleting(&ns_obj);
        if let Some(m) = o.as_object_mut() {
            m.insert("status".into(), json!({ "phase": "Terminating" }));
        }
        st.put(kind, key.clone(), o)
    };
    let kinds: Vec<usize> = reg
        .iter()
        .filter(|(_, k)| k.namespaced)
        .map(|(i, _)| i)
        .collect();
    for k in kinds {
        let keys: Vec<ObjKey> = st.kinds[k]
            .objects
            .range((ns.clone(), String::new())..)
            .take_while(|(ok, _)| ok.0 == ns)
            .map(|(ok, _)| ok.clone())
            .collect();
        for ok in keys {
            delete(reg, st, k, &ok, Propagation::Background);
        }
    }
    let mut work = Vec::new();
    finish_namespace_if_empty(reg, st, &ns, &mut work);
    drain(reg, st, work);
    Some(st.get(kind, key).cloned().unwrap_or(marked))
}

/// Queue a terminating namespace for removal once nothing is left in it.
pub fn finish_namespace_if_empty(
    reg: &Registry,
    st: &mut State,
    ns: &str,
    work: &mut Vec<FullKey>,
) {
    let Some(nk) = namespace_kind(reg) else {
        return;
    };
    let key: ObjKey = (String::new(), ns.to_string());
    let Some(ns_obj) = st.get(nk, &key) else {
        return;
    };
    if !ns_obj.deleting || !ns_obj.finalizers.is_empty() {
        return;
    }
    if st.kinds.iter().any(|k| k.any_in_namespace(ns)) {
        return;
    }
    let fk = (nk, key);
    if !work.contains(&fk) {
        work.push(fk);
    }
}

/// Remove a namespace that is terminating and empty (used after finalizer removals).
pub fn sweep_namespace(reg: &Registry, st: &mut State, ns: &str) {
    let mut work = Vec::new();
    finish_namespace_if_empty(reg, st, ns, &mut work);
    drain(reg, st, work);
}
