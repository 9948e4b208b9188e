//! Watches of everything the portal manages (label `app.kubernetes.io/managed-by=esaas`): tenant namespaces,
//! resource quotas, network policies, Elasticsearch and Kibana resources and their pods, the clusters'
//! Ingresses and their load-balanced HTTP Services (whose status carries the external address). Each watch keeps an
//! in-memory copy of the objects ([`ObjectCache`], what the resync compares the desired objects with, so a
//! resync of unchanged clusters sends no request at all) and forwards every change to the observer.
//!
//! A watch only hears about changes after the resourceVersion it last saw. An API server that comes back
//! empty (a control plane restored from nothing) starts its resourceVersions over, so a watch resumed from
//! the old one hears nothing about the objects that are gone, and the cache would keep them for ever.
//! [`ObjectCache::relist`] therefore restarts every watch from a fresh list (the periodic resync calls it
//! before comparing): objects missing from the list are dropped from the cache (and reported deleted), and
//! the new watch follows the server's current history. Objects whose uid and resourceVersion did not change
//! are not forwarded again, so a relist of an unchanged cluster costs one list request per kind and nothing
//! else.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::{RwLock, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::k8s::apply::ObjectKey;
use crate::k8s::labels;

/// The kinds the portal watches, with their plurals: the tenants' objects, every engine's objects, pods,
/// Ingresses and the portal's Services.
pub fn watched_resources() -> Vec<ApiResource> {
    let r = |group: &str, version: &str, kind: &str, plural: &str| {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
    };
    let mut kinds = vec![
        r("", "v1", "Namespace", "namespaces"),
        r("", "v1", "ResourceQuota", "resourcequotas"),
        r(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
        ),
    ];
    for engine in crate::k8s::engine::all() {
        kinds.extend(engine.watched());
    }
    kinds.extend([
        r("", "v1", "Pod", "pods"),
        r("networking.k8s.io", "v1", "Ingress", "ingresses"),
        // Only the HTTP Services that carry the portal's labels: those of load-balanced clusters.
        r("", "v1", "Service", "services"),
    ]);
    kinds
}

/// Whether the portal watches objects of `kind` (so the cache can tell whether one exists).
pub fn is_watched(kind: &str) -> bool {
    watched_resources().iter().any(|r| r.kind == kind)
}

/// A change seen by a watch.
#[derive(Debug, Clone)]
pub enum Observed {
    /// Added or modified (also every object of a (re)list).
    Applied(ObjectKey, Arc<Value>),
    /// Deleted (also objects that vanished between two lists).
    Deleted(ObjectKey, Arc<Value>),
}

/// The latest copy of every watched object.
#[derive(Clone, Default)]
pub struct ObjectCache {
    objects: Arc<RwLock<HashMap<ObjectKey, Arc<Value>>>>,
    synced_kinds: Arc<AtomicUsize>,
    /// Since when the watches fail (None while they work).
    failing_since: Arc<std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>>,
    /// Relists asked for and done, per kind (see [`ObjectCache::relist`]).
    relists: Arc<watch::Sender<Relists>>,
}

/// The relist generation asked for, and the last one each watch (by kind) has completed.
#[derive(Debug, Default)]
struct Relists {
    requested: u64,
    done: HashMap<String, u64>,
}

impl ObjectCache {
    /// The object with this key, if the watches have it.
    pub async fn get(&self, key: &ObjectKey) -> Option<Arc<Value>> {
        self.objects.read().await.get(key).cloned()
    }

    /// Every cached object of a kind.
    pub async fn all_of_kind(&self, kind: &str) -> Vec<(ObjectKey, Arc<Value>)> {
        self.objects
            .read()
            .await
            .iter()
            .filter(|(k, _)| k.kind == kind)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// True once every watch has listed its objects at least once (before that, a missing object may just
    /// not have arrived yet, so the resync must not act on absence).
    pub fn is_synced(&self) -> bool {
        self.synced_kinds.load(Ordering::SeqCst) >= watched_resources().len()
    }

    /// Since when the watches cannot reach Kubernetes; None while they work.
    pub fn failing_since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        *self.failing_since.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn watch_ok(&self) {
        *self.failing_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn watch_failed(&self) {
        let mut since = self.failing_since.lock().unwrap_or_else(|e| e.into_inner());
        since.get_or_insert_with(chrono::Utc::now);
    }

    /// Restart every watch from a fresh list and wait (at most `timeout`) until each has listed: afterwards
    /// the cache holds what the API server has now, even if the server lost objects without telling its
    /// watches. False when some watch could not list in time (Kubernetes unreachable): the cache may be stale.
    pub async fn relist(&self, timeout: Duration) -> bool {
        let mut generation = 0;
        self.relists.send_modify(|r| {
            r.requested += 1;
            generation = r.requested;
        });
        let kinds = watched_resources().len();
        let mut rx = self.relists.subscribe();
        let all_listed =
            rx.wait_for(|r| r.done.values().filter(|g| **g >= generation).count() >= kinds);
        matches!(tokio::time::timeout(timeout, all_listed).await, Ok(Ok(_)))
    }

    /// Number of cached objects.
    pub async fn len(&self) -> usize {
        self.objects.read().await.len()
    }

    /// True when empty.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }
}

/// The same object in the same version (uid and resourceVersion unchanged).
fn same_version(a: &Value, b: &Value) -> bool {
    let uid = |v: &Value| v["metadata"]["uid"].as_str().map(str::to_owned);
    let rv = |v: &Value| v["metadata"]["resourceVersion"].as_str().map(str::to_owned);
    uid(a).is_some() && uid(a) == uid(b) && rv(a).is_some() && rv(a) == rv(b)
}

fn key_of(kind: &str, obj: &DynamicObject) -> ObjectKey {
    ObjectKey {
        kind: kind.to_owned(),
        namespace: obj.metadata.namespace.clone().unwrap_or_default(),
        name: obj.metadata.name.clone().unwrap_or_default(),
    }
}

/// Start one watch task per kind. Events go to `events`; the tasks stop with `shutdown`.
pub fn spawn(
    client: kube::Client,
    cache: ObjectCache,
    events: mpsc::UnboundedSender<Observed>,
    shutdown: CancellationToken,
) {
    for resource in watched_resources() {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let cache = cache.clone();
        let events = events.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let selector = format!("{}={}", labels::MANAGED_BY, labels::MANAGER);
            let config = watcher::Config::default().labels(&selector);
            let kind = resource.kind.clone();
            let start = || {
                watcher::watcher(api.clone(), config.clone())
                    .default_backoff()
                    .boxed()
            };
            let mut stream = start();
            let mut listing: HashSet<ObjectKey> = HashSet::new();
            let mut synced_once = false;
            let mut relists = cache.relists.subscribe();
            // The relist generation the current stream's first list completes.
            let mut relisting: Option<u64> = None;
            loop {
                let next = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    changed = relists.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        relisting = Some(relists.borrow_and_update().requested);
                        stream = start();
                        continue;
                    }
                    next = stream.next() => next,
                };
                let Some(item) = next else { break };
                let event = match item {
                    Ok(e) => {
                        cache.watch_ok();
                        e
                    }
                    Err(e) => {
                        cache.watch_failed();
                        tracing::warn!(kind = %kind, error = %e, "watch error; retrying");
                        continue;
                    }
                };
                match event {
                    Event::Init => listing.clear(),
                    Event::InitApply(obj) | Event::Apply(obj) => {
                        let key = key_of(&kind, &obj);
                        listing.insert(key.clone());
                        let value = Arc::new(serde_json::to_value(&obj).unwrap_or(Value::Null));
                        let previous = cache
                            .objects
                            .write()
                            .await
                            .insert(key.clone(), value.clone());
                        // A relist hands back every object: tell the observer only about changed ones.
                        if previous.is_none_or(|p| !same_version(&p, &value)) {
                            let _ = events.send(Observed::Applied(key, value));
                        }
                    }
                    Event::Delete(obj) => {
                        let key = key_of(&kind, &obj);
                        let value = Arc::new(serde_json::to_value(&obj).unwrap_or(Value::Null));
                        cache.objects.write().await.remove(&key);
                        let _ = events.send(Observed::Deleted(key, value));
                    }
                    Event::InitDone => {
                        // Objects cached before the relist but absent from it were deleted meanwhile.
                        let gone: Vec<(ObjectKey, Arc<Value>)> = {
                            let mut objects = cache.objects.write().await;
                            let stale: Vec<ObjectKey> = objects
                                .keys()
                                .filter(|k| k.kind == kind && !listing.contains(*k))
                                .cloned()
                                .collect();
                            stale
                                .into_iter()
                                .filter_map(|k| objects.remove(&k).map(|v| (k, v)))
                                .collect()
                        };
                        for (key, value) in gone {
                            let _ = events.send(Observed::Deleted(key, value));
                        }
                        if !synced_once {
                            synced_once = true;
                            cache.synced_kinds.fetch_add(1, Ordering::SeqCst);
                        }
                        if let Some(generation) = relisting.take() {
                            cache.relists.send_modify(|r| {
                                r.done.insert(kind.clone(), generation);
                            });
                        }
                    }
                }
            }
        });
    }
}
