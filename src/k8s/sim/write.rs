//! The write verbs: create (with generateName), replace (resourceVersion conflict check), the four patch types
//! (server-side apply included) and delete.
//!
//! Writes are optimistic: the current object is read under the lock, the new state is computed outside it
//! ([`admission::prepare`]: patching, apply, managed fields, validation), and it is stored only if the object did not
//! change meanwhile; otherwise the write is retried, and the last attempt runs entirely under the lock.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Shared;
use super::admission::{self, Managed, Prepared, WriteReq, check_preconditions, normalize};
use super::apply;
use super::gc::{self, Propagation};
use super::meta;
use super::patch::{self, PatchType};
use super::registry::{Registry, ResourceKind};
use super::status::{ApiResult, StatusError};
use super::store::{ObjKey, State};
use super::stored::Stored;

const OPTIMISTIC_ATTEMPTS: usize = 3;

/// Run a write: `build` turns the current object (if any) into the admitted new state.
/// Returns the stored object and whether it was created.
fn run<F>(sh: &Shared, w: &WriteReq, key: &ObjKey, build: F) -> ApiResult<(Arc<Stored>, bool)>
where
    F: Fn(Option<(&Arc<Stored>, &Value)>) -> ApiResult<Prepared>,
{
    let reg = &sh.registry;
    let build = |old: Option<&Arc<Stored>>| {
        let parsed = old.map(|o| o.value());
        build(old.zip(parsed.as_ref()))
    };
    let finish = |st: &mut State, old: &Option<Arc<Stored>>, prepared: Prepared| match prepared {
        Prepared::Unchanged(o) => Ok((o, false)),
        Prepared::Ready(new) if w.dry_run => Ok((Arc::new(*new), old.is_none())),
        Prepared::Ready(new) => admission::store(reg, st, w, key.clone(), old.is_none(), *new)
            .map(|o| (o, old.is_none())),
    };
    for _ in 0..OPTIMISTIC_ATTEMPTS {
        let old = sh.lock().get(w.kind, key).cloned();
        let prepared = build(old.as_ref())?;
        if matches!(prepared, Prepared::Unchanged(_)) || w.dry_run {
            return finish(&mut sh.lock(), &old, prepared);
        }
        let done = sh.mutate(|st| {
            let unchanged = match (st.get(w.kind, key), &old) {
                (Some(cur), Some(o)) => Arc::ptr_eq(cur, o),
                (None, None) => true,
                _ => false,
            };
            unchanged.then(|| finish(st, &old, prepared))
        });
        if let Some(result) = done {
            return result;
        }
    }
    sh.mutate(|st| {
        let old = st.get(w.kind, key).cloned();
        let prepared = build(old.as_ref())?;
        finish(st, &old, prepared)
    })
}

fn prepare(
    sh: &Shared,
    w: &WriteReq,
    old: Option<(&Arc<Stored>, &Value)>,
    new: Value,
    managed: Managed,
) -> ApiResult<Prepared> {
    admission::prepare(&sh.registry, &sh.next_ip, w, old, new, managed)
}

/// POST: create an object (generateName supported). Answers 201 with the stored object.
pub fn create(sh: &Shared, w: &WriteReq, mut body: Value) -> ApiResult<Arc<Stored>> {
    let k = sh.registry.get(w.kind);
    normalize(k, w.ns.as_deref(), None, &mut body)?;
    let m = meta::meta_mut(&mut body);
    m.remove("resourceVersion");
    m.remove("managedFields");
    let fixed = meta::name(&body).to_string();
    let prefix = meta::str_at(&body, "/metadata/generateName")
        .unwrap_or("")
        .to_string();
    for _ in 0..16 {
        let name = if fixed.is_empty() && !prefix.is_empty() {
            format!("{prefix}{}", meta::random_suffix(5))
        } else {
            fixed.clone()
        };
        let mut obj = body.clone();
        meta::meta_mut(&mut obj).insert("name".into(), json!(name));
        let result = run(sh, w, &w.key(&name), |old| match old {
            Some(_) => Err(StatusError::already_exists(&k.group, &k.plural, &name)),
            None => prepare(sh, w, None, obj.clone(), Managed::Update),
        });
        match result {
            Err(e) if e.reason == "AlreadyExists" && fixed.is_empty() && !prefix.is_empty() => {
                continue;
            }
            other => return other.map(|(o, _)| o),
        }
    }
    Err(StatusError::already_exists(&k.group, &k.plural, &prefix))
}

/// PUT: replace an existing object; a stale `metadata.resourceVersion` answers 409 Conflict.
pub fn replace(sh: &Shared, w: &WriteReq, name: &str, mut body: Value) -> ApiResult<Arc<Stored>> {
    let k = sh.registry.get(w.kind);
    normalize(k, w.ns.as_deref(), Some(name), &mut body)?;
    run(sh, w, &w.key(name), |old| {
        let old = old.ok_or_else(|| StatusError::not_found(&k.group, &k.plural, name))?;
        check_preconditions(k, old.1, &body)?;
        prepare(sh, w, Some(old), body.clone(), Managed::Update)
    })
    .map(|(o, _)| o)
}

/// PATCH with any of the four patch types. Returns the object and whether it was created (apply only).
pub fn patch(
    sh: &Shared,
    w: &WriteReq,
    name: &str,
    ptype: PatchType,
    body: &Value,
    force: bool,
) -> ApiResult<(Arc<Stored>, bool)> {
    let k = sh.registry.get(w.kind);
    if ptype == PatchType::Apply {
        let applied = check_apply_body(k, w, name, body)?;
        return run(sh, w, &w.key(name), |old| {
            let merged = apply_config(k, w, name, old.map(|(_, v)| v), &applied, force)?;
            prepare(sh, w, old, merged, Managed::Done)
        });
    }
    if ptype == PatchType::Strategic && k.custom {
        return Err(StatusError::unsupported_media_type(
            "strategic merge patch is not supported for custom resources; use a merge patch",
        ));
    }
    match ptype {
        PatchType::Merge if !body.is_object() => {
            return Err(StatusError::bad_request(
                "merge patch must be a JSON object",
            ));
        }
        PatchType::Json if !body.is_array() => {
            return Err(StatusError::bad_request(
                "JSON patch must be a JSON array of operations",
            ));
        }
        _ => {}
    }
    run(sh, w, &w.key(name), |old| {
        let old = old.ok_or_else(|| StatusError::not_found(&k.group, &k.plural, name))?;
        let mut new = old.1.clone();
        apply_patch(k, name, ptype, &mut new, body)?;
        check_preconditions(k, old.1, &new)?;
        normalize(k, w.ns.as_deref(), Some(name), &mut new)?;
        prepare(sh, w, Some(old), new, Managed::Update)
    })
}

fn apply_patch(
    k: &ResourceKind,
    name: &str,
    ptype: PatchType,
    new: &mut Value,
    body: &Value,
) -> ApiResult<()> {
    let invalid =
        |msg: String| StatusError::invalid(&k.group, &k.kind, name, &[("patch".into(), msg)]);
    match ptype {
        PatchType::Merge => patch::merge_patch(new, body),
        PatchType::Json => patch::json_patch(new, body).map_err(invalid)?,
        PatchType::Strategic => {
            patch::strategic_merge(new, body).map_err(StatusError::bad_request)?
        }
        PatchType::Apply => {}
    }
    Ok(())
}

/// Validate an apply configuration and normalize it against the path.
fn check_apply_body(k: &ResourceKind, w: &WriteReq, name: &str, body: &Value) -> ApiResult<Value> {
    if w.manager.is_empty() {
        return Err(StatusError::bad_request(
            "PATCH requests with apply-patch must set fieldManager",
        ));
    }
    if !body.is_object() {
        return Err(StatusError::bad_request(
            "apply configuration must be an object",
        ));
    }
    for field in ["apiVersion", "kind"] {
        if body
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(StatusError::bad_request(format!(
                "{field} must be set in apply configuration"
            )));
        }
    }
    let mut applied = body.clone();
    normalize(k, w.ns.as_deref(), Some(name), &mut applied)?;
    Ok(applied)
}

/// Merge an apply configuration into the current object (or a new one), with conflicts as 409.
fn apply_config(
    k: &ResourceKind,
    w: &WriteReq,
    name: &str,
    old: Option<&Value>,
    applied: &Value,
    force: bool,
) -> ApiResult<Value> {
    match old {
        Some(old) => check_preconditions(k, old, applied)?,
        None if w.status_sub => return Err(StatusError::not_found(&k.group, &k.plural, name)),
        None => {}
    }
    let mut base =
        json!({ "apiVersion": k.api_version(), "kind": k.kind, "metadata": { "name": name } });
    if let Some(ns) = &w.ns {
        base["metadata"]["namespace"] = json!(ns);
    }
    let av = k.api_version();
    apply::server_side_apply(old, base, applied, w.scope(k, &av), force).map_err(|cs| {
        let lines: Vec<String> = cs.iter().map(|c| format!("conflict with \"{}\": {}", c.manager, c.field)).collect();
        let plural = if cs.len() == 1 { "" } else { "s" };
        let mut e = StatusError::conflict(&k.group, &k.plural, name, "apply conflict");
        e.message = format!("Apply failed with {} conflict{plural}: {}", cs.len(), lines.join("\n"));
        let causes: Vec<Value> = cs
            .iter()
            .map(|c| json!({ "reason": "FieldManagerConflict", "message": format!("conflict with \"{}\"", c.manager), "field": c.field }))
            .collect();
        if let Some(d) = e.details.as_mut() {
            d["causes"] = json!(causes);
        }
        e
    })
}

/// Options of a DELETE.
#[derive(Debug, Clone, Default)]
pub struct DeleteOpts {
    /// propagationPolicy.
    pub propagation: Propagation,
    /// preconditions.uid.
    pub uid: Option<String>,
    /// preconditions.resourceVersion.
    pub resource_version: Option<String>,
    /// dryRun=All.
    pub dry_run: bool,
}

/// DELETE one object; answers its state (deleting, or last state when removed).
pub fn delete(
    reg: &Registry,
    st: &mut State,
    kind: usize,
    key: &ObjKey,
    opts: &DeleteOpts,
) -> ApiResult<Arc<Stored>> {
    let k = reg.get(kind);
    let obj = st
        .get(kind, key)
        .cloned()
        .ok_or_else(|| StatusError::not_found(&k.group, &k.plural, &key.1))?;
    let why = match (&opts.uid, &opts.resource_version) {
        (Some(u), _) if *u != obj.uid => Some(format!(
            "Precondition failed: UID in precondition: {u}, UID in object meta: {}",
            obj.uid
        )),
        (_, Some(rv)) if *rv != obj.rv => Some(format!(
            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
            obj.rv
        )),
        _ => None,
    };
    if let Some(why) = why {
        return Err(StatusError::conflict(&k.group, &k.plural, &key.1, &why));
    }
    if opts.dry_run {
        return Ok(obj);
    }
    gc::delete(reg, st, kind, key, opts.propagation)
        .ok_or_else(|| StatusError::not_found(&k.group, &k.plural, &key.1))
}
