//! Admission of every write: the request body is normalised against the path (apiVersion, kind, namespace, name),
//! preconditions are checked (resourceVersion, uid, namespace existence), [`prepare`] runs every step that needs
//! no store access (status-subresource rules, system metadata, validation, managed fields, defaults, generation,
//! no-op detection) outside the lock, and [`store`] finishes under the lock (dangling-owner collection, finalizer
//! completion, namespace sweeping, the Event cap).

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use serde_json::{Value, json};

use super::apply::{self, WriteScope};
use super::defaults;
use super::gc::{self, Propagation};
use super::meta;
use super::registry::{Registry, ResourceKind};
use super::status::{ApiResult, StatusError};
use super::store::{ObjKey, State, placeholder_rv};
use super::stored::Stored;

/// What a write request targets and how.
#[derive(Debug, Clone)]
pub struct WriteReq {
    /// Kind index.
    pub kind: usize,
    /// Namespace from the path (None for cluster-scoped kinds).
    pub ns: Option<String>,
    /// Field manager (from `fieldManager` or the user agent).
    pub manager: String,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// Write to `/status`.
    pub status_sub: bool,
}

impl WriteReq {
    pub fn scope<'a>(&'a self, k: &'a ResourceKind, api_version: &'a str) -> WriteScope<'a> {
        WriteScope {
            manager: &self.manager,
            api_version,
            status_sub: self.status_sub,
            has_status: k.has_status,
        }
    }
    pub fn key(&self, name: &str) -> ObjKey {
        (self.ns.clone().unwrap_or_default(), name.to_string())
    }
}

/// How managed fields are recorded by [`commit`].
pub enum Managed {
    /// Record the write as an `Update` operation.
    Update,
    /// Already done (server-side apply).
    Done,
}

/// Make the body's apiVersion, kind, namespace and name agree with the request (400 when they contradict it).
pub fn normalize(
    k: &ResourceKind,
    ns: Option<&str>,
    url_name: Option<&str>,
    obj: &mut Value,
) -> ApiResult<()> {
    if !obj.is_object() {
        return Err(StatusError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    let av = k.api_version();
    if let Some(v) = obj.get("apiVersion").and_then(Value::as_str)
        && v != av
    {
        return Err(StatusError::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({av})"
        )));
    }
    if let Some(v) = obj.get("kind").and_then(Value::as_str)
        && v != k.kind
    {
        return Err(StatusError::bad_request(format!(
            "the kind in the data ({v}) does not match the expected kind ({})",
            k.kind
        )));
    }
    let top = meta::ensure_object(obj);
    top.insert("apiVersion".into(), json!(av));
    top.insert("kind".into(), json!(k.kind));
    let m = meta::meta_mut(obj);
    match ns {
        Some(ns) => {
            if let Some(bns) = m.get("namespace").and_then(Value::as_str)
                && !bns.is_empty()
                && bns != ns
            {
                return Err(StatusError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            m.insert("namespace".into(), json!(ns));
        }
        None => {
            m.remove("namespace");
        }
    }
    if let Some(url_name) = url_name {
        if let Some(bn) = m.get("name").and_then(Value::as_str)
            && !bn.is_empty()
            && bn != url_name
        {
            return Err(StatusError::bad_request(format!(
                "the name of the object ({bn}) does not match the name on the URL ({url_name})"
            )));
        }
        m.insert("name".into(), json!(url_name));
    }
    Ok(())
}

/// resourceVersion and uid preconditions carried by a replaced or patched object.
pub fn check_preconditions(k: &ResourceKind, old: &Value, new: &Value) -> ApiResult<()> {
    let name = meta::name(old);
    if let Some(rv) = meta::str_at(new, "/metadata/resourceVersion")
        && !rv.is_empty()
        && Some(rv) != meta::str_at(old, "/metadata/resourceVersion")
    {
        return Err(StatusError::conflict(
            &k.group,
            &k.plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ));
    }
    if let Some(uid) = meta::str_at(new, "/metadata/uid")
        && !uid.is_empty()
        && uid != meta::uid(old)
    {
        return Err(StatusError::conflict(
            &k.group,
            &k.plural,
            name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta::uid(old)
            ),
        ));
    }
    Ok(())
}

/// Namespaced creates need an existing, non-terminating namespace.
pub fn check_namespace(reg: &Registry, st: &State, ns: Option<&str>) -> ApiResult<()> {
    let (Some(ns), Some(nk)) = (ns, reg.find("", "v1", "namespaces")) else {
        return Ok(());
    };
    match st.get(nk, &(String::new(), ns.to_string())) {
        None => Err(StatusError::not_found("", "namespaces", ns)),
        Some(n) if n.deleting => Err(StatusError::forbidden(format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        ))),
        Some(_) => Ok(()),
    }
}

const SYSTEM_META: &[&str] = &[
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Outcome of [`prepare`].
pub enum Prepared {
    /// The write changes nothing: the stored object is the answer.
    Unchanged(Arc<Stored>),
    /// The admitted new state, serialized (outside the lock) and ready for [`store`].
    Ready(Box<Stored>),
}

/// Every admission step that needs no store access: status-subresource rules, system metadata, validation,
/// finalizer rules, managed fields, defaults, generation and no-op detection. Runs outside the lock.
pub fn prepare(
    reg: &Registry,
    ips: &AtomicU32,
    w: &WriteReq,
    old: Option<(&Arc<Stored>, &Value)>,
    mut new: Value,
    managed: Managed,
) -> ApiResult<Prepared> {
    let stored = old.map(|(s, _)| s);
    let old = old.map(|(_, v)| v);
    let k = reg.get(w.kind);
    let av = k.api_version();
    let top = meta::ensure_object(&mut new);
    match old {
        Some(old) => {
            if w.status_sub {
                let status = top.remove("status");
                let managed_fields = new.pointer("/metadata/managedFields").cloned();
                new = old.clone();
                if let Some(o) = new.as_object_mut() {
                    match status {
                        Some(s) => o.insert("status".into(), s),
                        None => o.remove("status"),
                    };
                }
                if let Some(mf) = managed_fields {
                    meta::meta_mut(&mut new).insert("managedFields".into(), mf);
                }
            } else if k.has_status {
                match old.get("status") {
                    Some(s) => top.insert("status".into(), s.clone()),
                    None => top.remove("status"),
                };
            }
            let m = meta::meta_mut(&mut new);
            for f in SYSTEM_META {
                match old.pointer(&format!("/metadata/{f}")) {
                    Some(v) => m.insert((*f).into(), v.clone()),
                    None => m.remove(*f),
                };
            }
        }
        None => {
            if k.has_status {
                match defaults::initial_status(k, &new) {
                    Some(s) => meta::ensure_object(&mut new).insert("status".into(), s),
                    None => meta::ensure_object(&mut new).remove("status"),
                };
            }
            let m = meta::meta_mut(&mut new);
            m.insert("uid".into(), json!(meta::new_uid()));
            m.insert("creationTimestamp".into(), json!(meta::now()));
            m.insert("generation".into(), json!(1));
            m.remove("deletionTimestamp");
            m.remove("deletionGracePeriodSeconds");
        }
    }
    let problems = defaults::validate(k, &new);
    if !problems.is_empty() {
        return Err(StatusError::invalid(
            &k.group,
            &k.kind,
            meta::name(&new),
            &problems,
        ));
    }
    if let Some(old) = old
        && meta::is_deleting(old)
    {
        let before = meta::finalizers(old);
        if meta::finalizers(&new).iter().any(|f| !before.contains(f)) {
            let why = "Forbidden: no new finalizers can be added if the object is being deleted";
            let causes = [("metadata.finalizers".to_string(), why.to_string())];
            return Err(StatusError::invalid(
                &k.group,
                &k.kind,
                meta::name(&new),
                &causes,
            ));
        }
    }
    if let Managed::Update = managed {
        apply::record_update(old, &mut new, w.scope(k, &av));
    }
    defaults::apply_defaults(k, old, &mut new, ips);
    if let Some(old) = old {
        let g = meta::generation(old).max(1);
        let g = if meta::spec_differs(old, &new) {
            g + 1
        } else {
            g
        };
        meta::meta_mut(&mut new).insert("generation".into(), json!(g));
        if meta::same_except_rv(old, &new)
            && let Some(s) = stored
        {
            return Ok(Prepared::Unchanged(s.clone()));
        }
    }
    Ok(Prepared::Ready(Box::new(placeholder_rv(new))))
}

/// Store an admitted object (under the lock): namespace checks for creations, dangling-owner collection,
/// finalizer completion, namespace sweeping and the Event cap. Returns the stored object.
pub fn store(
    reg: &Registry,
    st: &mut State,
    w: &WriteReq,
    key: ObjKey,
    creating: bool,
    new: Stored,
) -> ApiResult<Arc<Stored>> {
    let k = reg.get(w.kind);
    if creating {
        check_namespace(reg, st, w.ns.as_deref())?;
    }
    let owners = &new.owners;
    // A new object whose owners are all gone is garbage right away (what the garbage collector does to
    // dependents created with dangling owner references, e.g. by a reconcile racing the owner's deletion).
    let orphaned =
        creating && !owners.is_empty() && owners.iter().all(|u| !st.uids.contains_key(u));
    let finished = new.deleting && new.finalizers.is_empty();
    let stored = st.put_stored(w.kind, key.clone(), new);
    if orphaned {
        gc::delete(reg, st, w.kind, &key, Propagation::Background);
    } else if finished {
        gc::remove_and_collect(reg, st, w.kind, &key);
    } else if k.plural == "namespaces" && stored.deleting {
        gc::sweep_namespace(reg, st, &key.1);
    }
    for ek in st.expired_events() {
        if let Some(ei) = st.events_kind {
            gc::remove_and_collect(reg, st, ei, &ek);
        }
    }
    Ok(stored)
}
