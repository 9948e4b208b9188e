//! The simulated Elasticsearch: one cluster per Elasticsearch resource (elasticsearch.k8s.elastic.co/v1) of
//! the simulated Kubernetes, its nodes being the resource's Ready pods. It keeps indices and shards, allocates
//! them as Elasticsearch does ([`allocator`], [`deciders`]), derives health from them ([`health`]), explains
//! allocation ([`explain`]) and answers the REST API ([`rest`]) with Basic auth checked against the cluster's
//! users ([`auth`]). Documents are counted, not kept.
//!
//! Reached three ways: in process ([`Sim::elasticsearch_request`], the portal's transport on the simulated
//! Kubernetes), at the Kubernetes service-proxy path of the simulated API
//! (`/api/v1/namespaces/{ns}/services/https:{name}-es-http:9200/proxy/...`, see [`proxy`]), and by the simulated
//! ECK operator (health, data migration before a downscale).
//!
//! Time is the wall clock: recoveries and relocations progress at [`Sim::set_es_recovery_bytes_per_sec`]
//! whenever a cluster is touched (every request, and a background tick of the controllers).

pub mod allocator;
pub mod auth;
pub mod deciders;
pub mod demo;
pub mod explain;
pub mod health;
pub mod load;
pub mod model;
pub(crate) mod proxy;
pub mod rest;
pub mod settings;
pub mod sync;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::{Shared, Sim};
use model::Cluster;

/// Default recovery speed (`indices.recovery.max_bytes_per_sec` 40mb).
pub const DEFAULT_RECOVERY_BYTES_PER_SEC: f64 = 40.0 * 1024.0 * 1024.0;

/// Why a request could not reach a simulated Elasticsearch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EsUnreachable {
    /// No Elasticsearch resource of that name (cluster, namespace).
    #[error("no Elasticsearch cluster {0} in namespace {1}")]
    NoSuchCluster(String, String),
    /// The resource exists but none of its pods is Ready.
    #[error("no Elasticsearch node is ready")]
    NoReadyNodes,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One simulated Elasticsearch: the uid of its resource, the cluster, and the last observation of its
/// objects with what it was read from.
struct Entry {
    uid: String,
    cluster: Arc<Mutex<Cluster>>,
    seen: Arc<(sync::Observed, sync::Inputs)>,
}

/// Clusters by (namespace, name).
type ClusterMap = HashMap<(String, String), Entry>;

/// The simulated Elasticsearch clusters of one simulated Kubernetes.
pub struct Clusters {
    by_key: Mutex<ClusterMap>,
    recovery_bytes_per_sec: AtomicU64,
    demo: AtomicBool,
    ticks: AtomicU64,
}

impl Default for Clusters {
    fn default() -> Self {
        Clusters {
            by_key: Mutex::new(HashMap::new()),
            recovery_bytes_per_sec: AtomicU64::new(DEFAULT_RECOVERY_BYTES_PER_SEC as u64),
            demo: AtomicBool::new(false),
            ticks: AtomicU64::new(0),
        }
    }
}

/// Lock a cluster (a poisoned lock is still usable: every change is applied whole under it).
pub fn lock(c: &Mutex<Cluster>) -> std::sync::MutexGuard<'_, Cluster> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

impl Clusters {
    /// Recovery speed.
    pub fn recovery_speed(&self) -> f64 {
        self.recovery_bytes_per_sec.load(Ordering::Relaxed) as f64
    }

    /// Turn the demo load on or off.
    pub fn set_demo(&self, on: bool) {
        self.demo.store(on, Ordering::Relaxed);
    }

    /// Is the demo load on?
    pub fn demo(&self) -> bool {
        self.demo.load(Ordering::Relaxed)
    }

    /// The cluster of `ns/name`, synced with the store and advanced to now. `NoReadyNodes` still returns the
    /// cluster in the error case (the operator reads its state); callers check nodes themselves.
    pub(crate) fn get(
        &self,
        sh: &Shared,
        ns: &str,
        name: &str,
    ) -> Result<Arc<Mutex<Cluster>>, EsUnreachable> {
        let key = (ns.to_string(), name.to_string());
        let last = self
            .by_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .map(|e| e.seen.clone());
        // The last observation stands while the objects it was read from are unchanged.
        let (seen, fresh) = match last {
            Some(seen) if seen.1.current(sh, ns, name) => (seen, false),
            _ => match sync::observe(sh, ns, name) {
                Some(observed) => (Arc::new(observed), true),
                None => {
                    self.by_key
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&key);
                    return Err(EsUnreachable::NoSuchCluster(
                        name.to_string(),
                        ns.to_string(),
                    ));
                }
            },
        };
        let observed = &seen.0;
        let cluster = {
            let mut map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
            match map.get_mut(&key) {
                Some(entry) if entry.uid == observed.uid => {
                    if fresh {
                        entry.seen = seen.clone();
                    }
                    entry.cluster.clone()
                }
                _ => {
                    let c = Arc::new(Mutex::new(Cluster::new(
                        name,
                        &model::short_id(&observed.uid),
                        &observed.version,
                        now_ms(),
                    )));
                    map.insert(
                        key,
                        Entry {
                            uid: observed.uid.clone(),
                            cluster: c.clone(),
                            seen: seen.clone(),
                        },
                    );
                    c
                }
            }
        };
        {
            let mut c = lock(&cluster);
            c.recovery_bytes_per_sec = self.recovery_speed();
            if fresh {
                c.version = observed.version.clone();
                c.users = observed.users.clone();
                c.touched = true;
            }
            allocator::advance(&mut c, now_ms());
            if fresh || c.nodes.len() != observed.nodes.len() {
                allocator::set_nodes(&mut c, observed.nodes.clone());
            }
            load::fold(&mut c);
        }
        Ok(cluster)
    }

    /// Health as the operator reports it: None when no node is ready (ECK's `unknown`).
    pub(crate) fn health(&self, sh: &Shared, ns: &str, name: &str) -> Option<health::Health> {
        let c = self.get(sh, ns, name).ok()?;
        let c = lock(&c);
        if c.nodes.is_empty() {
            return None;
        }
        Some(health::cluster(&c, None).0)
    }

    /// Before a downscale, as ECK does: exclude the `leaving` nodes from allocation (transient
    /// `cluster.routing.allocation.exclude._name`) and say whether they may go now, which is when every shard
    /// copy they hold has an active copy on a node that stays (the rule of Elasticsearch's node shutdown
    /// status, which ECK waits for). True when the cluster has no Ready node (nothing to migrate).
    pub(crate) fn migrate(&self, sh: &Shared, ns: &str, name: &str, leaving: &[String]) -> bool {
        let Ok(c) = self.get(sh, ns, name) else {
            return true;
        };
        let mut c = lock(&c);
        if c.nodes.is_empty() {
            return true;
        }
        let value = leaving.join(",");
        if c.transient.get(EXCLUDE_NAME) != Some(&value) {
            c.transient.insert(EXCLUDE_NAME.into(), value);
            allocator::reroute(&mut c);
            c.touched = true;
        }
        drained(&c, leaving)
    }

    /// After a downscale: reset ECK's exclusion to `none_excluded` (what ECK writes when nothing is excluded).
    pub(crate) fn clear_exclusion(&self, sh: &Shared, ns: &str, name: &str) {
        let Ok(c) = self.get(sh, ns, name) else {
            return;
        };
        let mut c = lock(&c);
        if c.transient
            .get(EXCLUDE_NAME)
            .is_some_and(|v| v != NONE_EXCLUDED)
        {
            c.transient
                .insert(EXCLUDE_NAME.into(), NONE_EXCLUDED.into());
            allocator::reroute(&mut c);
            c.touched = true;
        }
    }

    /// The background tick: touch every cluster whose state can change without a request (shards not yet
    /// started: recoveries, relocations, delayed or throttled allocations; every cluster under the demo load)
    /// or that a request or new nodes changed since the last tick, and return those whose health changed since
    /// the last tick, with the new health. A cluster with every shard started and nothing new keeps its
    /// health until something touches it, so it is skipped (it is still advanced on its next request). Every
    /// 25th tick (5 s) also forgets deleted resources and picks up new ones.
    pub(crate) fn tick(
        &self,
        sh: &Shared,
        last: &mut HashMap<(String, String), Option<health::Health>>,
    ) -> Vec<(String, String, Option<health::Health>)> {
        let demo = self.demo();
        let census = self
            .ticks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(25);
        let mut due: Vec<(String, String)> = Vec::new();
        if census || demo {
            let resources = sync::all_resources(sh);
            let known: std::collections::HashSet<&(String, String)> = resources.iter().collect();
            last.retain(|k, _| known.contains(k));
            self.by_key
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|k, _| known.contains(k));
            if demo {
                due = resources;
            } else {
                let map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
                due.extend(resources.iter().filter(|k| !map.contains_key(*k)).cloned());
            }
        }
        if !demo {
            // Only the keys of due clusters are copied; a cluster locked by a request right now is due.
            let map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
            for (key, entry) in map.iter() {
                let is_due = match entry.cluster.try_lock() {
                    Ok(c) => {
                        c.touched
                            || c.shards
                                .iter()
                                .any(|s| s.state != model::ShardState::Started)
                    }
                    Err(_) => true,
                };
                if is_due {
                    due.push(key.clone());
                }
            }
        }
        let mut changed = Vec::new();
        for (ns, name) in due {
            let Ok(c) = self.get(sh, &ns, &name) else {
                continue;
            };
            let mut c = lock(&c);
            if demo && !c.nodes.is_empty() {
                demo::step(&mut c);
            }
            c.touched = false;
            let h = (!c.nodes.is_empty()).then(|| health::cluster(&c, None).0);
            let key = (ns.clone(), name.clone());
            if last.get(&key) != Some(&h) {
                last.insert(key, h);
                changed.push((ns, name, h));
            }
        }
        changed
    }
}

/// The allocation exclusion ECK manages.
pub const EXCLUDE_NAME: &str = "cluster.routing.allocation.exclude._name";
/// ECK's value when no node is excluded.
pub const NONE_EXCLUDED: &str = "none_excluded";

/// May the nodes named `leaving` go without losing a shard (every copy they hold has an active copy on a
/// node that stays, and nothing is still relocating off them)?
pub fn drained(c: &Cluster, leaving: &[String]) -> bool {
    let ids: Vec<&str> = c
        .nodes
        .values()
        .filter(|n| leaving.contains(&n.name))
        .map(|n| n.id.as_str())
        .collect();
    c.shards
        .iter()
        .filter(|s| s.node.as_deref().is_some_and(|n| ids.contains(&n)))
        .all(|s| {
            c.shards.iter().any(|o| {
                o.index == s.index
                    && o.shard == s.shard
                    && o.state.active()
                    && o.node.as_deref().is_some_and(|n| !ids.contains(&n))
            })
        })
}

/// Run [`Clusters::tick`] every 200 ms until cancelled (spawned with the controllers), writing a changed
/// health into the resource's `status.health` at once (as ECK's health observer does between reconciles).
pub(crate) async fn run_ticker(client: kube::Client, sh: Arc<Shared>) {
    use kube::api::{Api, DynamicObject, Patch, PatchParams};
    let ar = super::controllers::eck::es_resource();
    let mut last = HashMap::new();
    let mut every = tokio::time::interval(Duration::from_millis(200));
    loop {
        every.tick().await;
        let sh2 = sh.clone();
        let moved = std::mem::take(&mut last);
        let Ok((kept, changed)) = tokio::task::spawn_blocking(move || {
            let mut last = moved;
            let changed = sh2.es.tick(&sh2, &mut last);
            (last, changed)
        })
        .await
        else {
            continue;
        };
        last = kept;
        for (ns, name, h) in changed {
            let Some(h) = h else { continue };
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
            let body = serde_json::json!({ "status": { "health": h.as_str() } });
            if let Ok(current) = api.get_status(&name).await
                && current
                    .data
                    .pointer("/status/health")
                    .and_then(serde_json::Value::as_str)
                    != Some(h.as_str())
                && current.data.pointer("/status/phase").is_some()
            {
                let _ = api
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&body))
                    .await;
            }
        }
    }
}

impl Sim {
    /// Send one REST request to the simulated Elasticsearch of the Elasticsearch resource `namespace/name`,
    /// as the portal's in-process transport does. The URI carries path and query
    /// (`/_cluster/health?level=indices`); `Authorization: Basic ...` the credentials.
    pub async fn elasticsearch_request(
        &self,
        namespace: &str,
        name: &str,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, EsUnreachable> {
        rest::serve(&self.shared, namespace, name, request).await
    }

    /// Set how fast shard copies recover and relocate (bytes per simulated second; default 40 MiB/s).
    pub fn set_es_recovery_bytes_per_sec(&self, bytes_per_sec: u64) {
        self.shared
            .es
            .recovery_bytes_per_sec
            .store(bytes_per_sec.max(1), Ordering::Relaxed);
    }

    /// Turn the demo load on or off: every cluster gets a few indices that are indexed into continuously.
    pub fn set_es_demo(&self, on: bool) {
        self.shared.es.set_demo(on);
    }

    /// Pretend a node's data disk holds `used_bytes` (None: computed from its shards), for watermark tests.
    pub fn set_es_node_disk_used(
        &self,
        namespace: &str,
        name: &str,
        node: &str,
        used_bytes: Option<u64>,
    ) {
        if let Ok(c) = self.shared.es.get(&self.shared, namespace, name) {
            let mut c = lock(&c);
            c.load
                .entry(node.to_string())
                .or_default()
                .disk_used_override = used_bytes;
            let now = now_ms();
            allocator::advance(&mut c, now);
            c.touched = true;
        }
    }
}
