//! The in-memory object store: objects per kind keyed by (namespace, name), the global resourceVersion counter,
//! indexes (uid, owner uid -> dependents, label -> objects) and, per kind, the bounded log of changes that
//! watches read from (like the API server's watch cache, one window per resource, so a burst of Events cannot
//! push the pods' history out and send every pod watcher into a relist).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};

use super::meta;
use super::selector::LabelSelector;
use super::stored::Stored;

/// (namespace or "" for cluster-scoped, name).
pub type ObjKey = (String, String);

/// Changes retained per kind for watches by default (the API server sizes its watch cache per resource too).
pub const DEFAULT_WATCH_WINDOW: usize = 25_000;

/// Kind index plus key: identifies one object.
pub type FullKey = (usize, ObjKey);

/// Serialize an object for [`State::put_stored`] (outside the lock): with a resourceVersion placeholder.
pub fn placeholder_rv(mut obj: Value) -> Stored {
    meta::meta_mut(&mut obj).insert("resourceVersion".into(), json!("0"));
    Stored::from_value(&obj)
}

/// Watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Object created.
    Added,
    /// Object changed.
    Modified,
    /// Object removed (the object is its last state).
    Deleted,
}

impl EventType {
    /// `ADDED` / `MODIFIED` / `DELETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change in the event log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// resourceVersion of the change.
    pub rv: u64,
    /// Kind index.
    pub kind: usize,
    /// What happened.
    pub etype: EventType,
    /// The object after the change (its last state for deletions).
    pub obj: Arc<Stored>,
    /// The object before a modification (for selector transitions).
    pub prev: Option<Arc<Stored>>,
}

/// Objects of one kind with a label index and the kind's window of recent changes.
#[derive(Debug, Default)]
pub struct KindStore {
    /// Objects by (namespace, name).
    pub objects: BTreeMap<ObjKey, Arc<Stored>>,
    labels: HashMap<(String, String), BTreeSet<ObjKey>>,
    /// Retained changes of this kind, oldest first.
    pub log: VecDeque<LogEntry>,
    /// Watches of this kind may start from any resourceVersion >= this.
    pub compacted_rv: u64,
}

impl KindStore {
    fn index(&mut self, key: &ObjKey, obj: &Stored, add: bool) {
        for (k, v) in &obj.labels {
            let lk = (k.clone(), v.clone());
            if add {
                self.labels.entry(lk).or_default().insert(key.clone());
            } else if let Some(set) = self.labels.get_mut(&lk) {
                set.remove(key);
                if set.is_empty() {
                    self.labels.remove(&lk);
                }
            }
        }
    }

    /// Keys of objects in `ns` (all namespaces when `None`) that may match the selector, using the label index
    /// for equality requirements; callers still check the full selector.
    pub fn candidates(&self, ns: Option<&str>, sel: &LabelSelector) -> Vec<ObjKey> {
        let in_ns = |k: &ObjKey| ns.is_none_or(|n| k.0 == n);
        // The requirement with the fewest indexed objects decides; only its keys are copied.
        let best = sel
            .index_candidates()
            .into_iter()
            .map(|(key, values)| {
                let found: Vec<&BTreeSet<ObjKey>> = values
                    .iter()
                    .filter_map(|v| self.labels.get(&(key.to_string(), v.to_string())))
                    .collect();
                let size: usize = found.iter().map(|s| s.len()).sum();
                (size, found)
            })
            .min_by_key(|(size, _)| *size);
        if let Some((_, found)) = best {
            let mut keys: Vec<ObjKey> = found
                .into_iter()
                .flat_map(|s| s.iter().filter(|k| in_ns(k)).cloned())
                .collect();
            keys.sort();
            keys.dedup();
            return keys;
        }
        match ns {
            Some(n) => self
                .objects
                .range((n.to_string(), String::new())..)
                .take_while(|(k, _)| k.0 == n)
                .map(|(k, _)| k.clone())
                .collect(),
            None => self.objects.keys().cloned().collect(),
        }
    }

    /// Objects in `ns` carrying the label `key=value`, in key order (from the label index, no scan).
    pub fn labelled<'a>(
        &'a self,
        ns: &'a str,
        key: &str,
        value: &str,
    ) -> impl Iterator<Item = &'a Arc<Stored>> + 'a {
        self.labels
            .get(&(key.to_string(), value.to_string()))
            .into_iter()
            .flat_map(move |keys| {
                keys.range((ns.to_string(), String::new())..)
                    .take_while(move |k| k.0 == ns)
            })
            .filter_map(|k| self.objects.get(k))
    }

    /// Drop the oldest changes beyond `cap`, moving the compaction point.
    pub fn trim_log(&mut self, cap: usize) {
        while self.log.len() > cap {
            if let Some(old) = self.log.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
    }

    /// Is there any object in namespace `ns`?
    pub fn any_in_namespace(&self, ns: &str) -> bool {
        self.objects
            .range((ns.to_string(), String::new())..)
            .next()
            .is_some_and(|(k, _)| k.0 == ns)
    }
}

/// The whole mutable state behind one lock.
#[derive(Debug)]
pub struct State {
    /// Last issued resourceVersion.
    pub rv: u64,
    /// Per-kind stores, indexed like the registry.
    pub kinds: Vec<KindStore>,
    /// uid -> object.
    pub uids: HashMap<String, FullKey>,
    /// owner uid -> dependents.
    pub dependents: HashMap<String, BTreeSet<FullKey>>,
    /// Maximum retained changes per kind.
    pub log_cap: usize,
    /// Kind index of core/v1 events (capped like an event TTL).
    pub events_kind: Option<usize>,
    /// Event objects in creation order.
    pub event_order: VecDeque<ObjKey>,
    /// Maximum number of Event objects kept.
    pub event_cap: usize,
}

impl State {
    /// Empty state for `n_kinds` kinds.
    pub fn new(n_kinds: usize, events_kind: Option<usize>) -> Self {
        State {
            rv: 1,
            kinds: (0..n_kinds).map(|_| KindStore::default()).collect(),
            uids: HashMap::new(),
            dependents: HashMap::new(),
            log_cap: DEFAULT_WATCH_WINDOW,
            events_kind,
            event_order: VecDeque::new(),
            event_cap: 10_000,
        }
    }

    /// The object at a key.
    pub fn get(&self, kind: usize, key: &ObjKey) -> Option<&Arc<Stored>> {
        self.kinds.get(kind).and_then(|k| k.objects.get(key))
    }

    /// The object with a uid.
    pub fn by_uid(&self, uid: &str) -> Option<(FullKey, &Arc<Stored>)> {
        let fk = self.uids.get(uid)?;
        self.get(fk.0, &fk.1).map(|o| (fk.clone(), o))
    }

    fn log_push(&mut self, entry: LogEntry) {
        let cap = self.log_cap;
        let kind = &mut self.kinds[entry.kind];
        kind.log.push_back(entry);
        kind.trim_log(cap);
    }

    fn index_owners(&mut self, fk: &FullKey, obj: &Stored, add: bool) {
        for owner in &obj.owners {
            if add {
                self.dependents
                    .entry(owner.clone())
                    .or_default()
                    .insert(fk.clone());
            } else if let Some(set) = self.dependents.get_mut(owner) {
                set.remove(fk);
                if set.is_empty() {
                    self.dependents.remove(owner);
                }
            }
        }
    }

    /// Store an object (new or replacing), stamping a new resourceVersion; logs ADDED or MODIFIED.
    pub fn put(&mut self, kind: usize, key: ObjKey, mut obj: Value) -> Arc<Stored> {
        meta::meta_mut(&mut obj).insert("resourceVersion".into(), json!("0"));
        self.put_stored(kind, key, Stored::from_value(&obj))
    }

    /// Store an already serialized object (serialized with a `metadata.resourceVersion` placeholder, see
    /// [`placeholder_rv`]), stamping a new resourceVersion; logs ADDED or MODIFIED.
    pub fn put_stored(&mut self, kind: usize, key: ObjKey, mut stored: Stored) -> Arc<Stored> {
        self.rv += 1;
        let rv = self.rv;
        stored.set_rv(rv);
        let obj = Arc::new(stored);
        let fk = (kind, key.clone());
        let prev = self.kinds[kind].objects.insert(key.clone(), obj.clone());
        let labels_same = prev.as_ref().is_some_and(|p| p.labels == obj.labels);
        let owners_same = prev.as_ref().is_some_and(|p| p.owners == obj.owners);
        if let Some(p) = &prev {
            if !labels_same {
                self.kinds[kind].index(&key, p, false);
            }
            if !owners_same {
                self.index_owners(&fk, p, false);
            }
        } else {
            self.uids.insert(obj.uid.clone(), fk.clone());
            if Some(kind) == self.events_kind {
                self.event_order.push_back(key.clone());
            }
        }
        if !labels_same {
            self.kinds[kind].index(&key, &obj, true);
        }
        if !owners_same {
            self.index_owners(&fk, &obj, true);
        }
        let etype = if prev.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.log_push(LogEntry {
            rv,
            kind,
            etype,
            obj: obj.clone(),
            prev,
        });
        obj
    }

    /// Remove an object, stamping a new resourceVersion on its last state; logs DELETED.
    pub fn remove(&mut self, kind: usize, key: &ObjKey) -> Option<Arc<Stored>> {
        let old = self.kinds.get_mut(kind)?.objects.remove(key)?;
        self.kinds[kind].index(key, &old, false);
        let fk = (kind, key.clone());
        self.index_owners(&fk, &old, false);
        self.uids.remove(&old.uid);
        self.rv += 1;
        let rv = self.rv;
        let mut last = (*old).clone();
        last.set_rv(rv);
        let last = Arc::new(last);
        self.log_push(LogEntry {
            rv,
            kind,
            etype: EventType::Deleted,
            obj: last.clone(),
            prev: Some(old),
        });
        Some(last)
    }

    /// Keys of Event objects beyond the cap, oldest first (the caller deletes them).
    pub fn expired_events(&mut self) -> Vec<ObjKey> {
        let Some(ek) = self.events_kind else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while self.event_order.len() > self.event_cap {
            if let Some(k) = self.event_order.pop_front()
                && self.kinds[ek].objects.contains_key(&k)
            {
                out.push(k);
            }
        }
        // Forget keys of events deleted by other means once the queue grows past twice the live count.
        if self.event_order.len() > 2 * self.kinds[ek].objects.len() + 1024 {
            let live = &self.kinds[ek].objects;
            self.event_order.retain(|k| live.contains_key(k));
        }
        out
    }
}
