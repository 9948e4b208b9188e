//! Simulated Kubernetes: an in-process API emulator and simulated controllers.
//!
//! [`Sim`] owns one in-memory store (objects, indexes, a bounded event log for watches) behind a mutex, serves it as
//! a Kubernetes API (an axum [`Router`](axum::Router) that a [`kube::Client`] reaches without a socket, or over
//! plain HTTP for kubectl), and optionally runs simulated controllers (an ECK-like operator, StatefulSet and
//! Deployment controllers, and a kubelet) that talk to the same API through their own internal client.
//!
//! Served on a socket, the emulator answers only loopback hosts presenting its bearer token (see
//! [`exposure`]); the in-process client needs neither.
//!
//! Requests of the simulated controllers are marked internal: they are not counted in
//! [`Sim::request_counts`] and are not affected by [`Sim::inject_write_failures`] or [`Sim::set_unavailable`], so
//! those knobs describe what the portal itself sends and sees.

mod admission;
mod apply;
mod client;
mod controllers;
mod defaults;
mod discovery;
pub mod elasticsearch;
mod exposure;
mod fields;
mod fields_v1;
mod gc;
mod http;
mod meta;
mod openapi;
mod patch;
mod portforward;
mod quantity;
mod read;
mod registry;
mod render;
mod seed;
mod selector;
mod status;
mod store;
mod stored;
mod tls;
mod verbs;
mod watch;
mod write;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use elasticsearch::EsUnreachable;
pub use registry::{Registry, ResourceKind};
pub use status::StatusError;

use store::State;

/// Options of a simulated Kubernetes.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Time a pod takes from scheduled to Ready (half of it to Running). Default 2 s.
    pub kubelet_delay: Duration,
    /// Spawn the simulated controllers (operator, workload controllers, kubelet). Default true.
    pub run_controllers: bool,
    /// The simulated nodes pods are scheduled on. Default three of 8 CPU and 32 GiB.
    pub nodes: SimNodes,
    /// Run the simulated Elasticsearch demo load ([`Sim::set_es_demo`]). Default false.
    pub es_demo: bool,
    /// ECK is installed: its kinds are served and their CustomResourceDefinitions can be read, as after
    /// installing ECK's CRDs. Default true; false gives a bare cluster (no ECK kinds, no definitions).
    pub eck_installed: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            kubelet_delay: Duration::from_secs(2),
            run_controllers: true,
            nodes: SimNodes::default(),
            es_demo: false,
            eck_installed: true,
        }
    }
}

/// The simulated nodes: `count` alike nodes named `sim-node-1`, `sim-node-2`, ... with this allocatable CPU
/// and memory. The simulated scheduler leaves a pod Pending (PodScheduled=False, reason Unschedulable, the
/// scheduler's message) when its requests exceed every node's allocatable; it compares each pod with a node's
/// whole allocatable and does not add up the pods already placed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimNodes {
    /// Number of nodes (at least one is made).
    pub count: u32,
    /// Allocatable CPU of each node, in millicores.
    pub cpu_millis: u64,
    /// Allocatable memory of each node, in MiB.
    pub memory_mib: u64,
}

impl Default for SimNodes {
    fn default() -> Self {
        SimNodes {
            count: 3,
            cpu_millis: 8000,
            memory_mib: 32 * 1024,
        }
    }
}

impl SimNodes {
    /// The node names, `sim-node-1` first.
    pub fn names(&self) -> Vec<String> {
        (1..=self.count.max(1))
            .map(|i| format!("sim-node-{i}"))
            .collect()
    }
}

/// State shared by the HTTP layer, the watches and the controllers.
pub(crate) struct Shared {
    registry: Registry,
    state: Mutex<State>,
    rv_tx: tokio::sync::watch::Sender<u64>,
    faults: Mutex<(u32, u16)>,
    unavailable: AtomicBool,
    counts: Mutex<BTreeMap<String, u64>>,
    bookmark_interval: Duration,
    kubelet: controllers::KubeletControl,
    next_ip: std::sync::atomic::AtomicU32,
    gone: std::sync::atomic::AtomicU64,
    latency_ms: std::sync::atomic::AtomicU64,
    nodes: SimNodes,
    /// Bumped by [`Sim::restart_empty`]: every open watch ends.
    restarts: tokio::sync::watch::Sender<u64>,
    /// Stops the running generation of simulated controllers (restarted by [`Sim::restart_empty`]).
    controllers: Mutex<Option<CancellationToken>>,
    /// The simulated Elasticsearch clusters.
    es: elasticsearch::Clusters,
}

impl Shared {
    /// Lock the store (a poisoned lock is still usable: writes are applied atomically under it).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run a mutation under the lock, then wake the watches.
    fn mutate<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut st = self.lock();
        let out = f(&mut st);
        let rv = st.rv;
        drop(st);
        self.rv_tx.send_replace(rv);
        out
    }

    fn is_unavailable(&self) -> bool {
        self.unavailable.load(Ordering::Relaxed)
    }

    fn count(&self, verb: &str) {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *c.entry(verb.to_string()).or_default() += 1;
    }

    fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }

    fn take_injected_failure(&self) -> Option<u16> {
        let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        if f.0 == 0 {
            return None;
        }
        f.0 -= 1;
        Some(f.1)
    }
}

/// Cancels the controllers when the last [`Sim`] handle is dropped.
struct Lifetime(CancellationToken);

impl Drop for Lifetime {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// A simulated Kubernetes API server with its simulated controllers. Cheap to clone.
#[derive(Clone)]
pub struct Sim {
    shared: Arc<Shared>,
    life: Arc<Lifetime>,
    api_token: Arc<str>,
    authority: Arc<std::sync::OnceLock<tls::Authority>>,
}

impl Sim {
    /// Build the store (with namespaces `default`, `kube-system`, `kube-public` and the simulated nodes) and, when
    /// `run_controllers` is set and a tokio runtime is current, spawn the simulated controllers on it.
    pub fn new(opts: SimOptions) -> Sim {
        let registry = Registry::standard(opts.eck_installed);
        let events_kind = registry.find("", "v1", "events");
        let state = State::new(registry.len(), events_kind);
        let (rv_tx, _) = tokio::sync::watch::channel(state.rv);
        let shared = Arc::new(Shared {
            registry,
            state: Mutex::new(state),
            rv_tx,
            faults: Mutex::new((0, 500)),
            unavailable: AtomicBool::new(false),
            counts: Mutex::new(BTreeMap::new()),
            bookmark_interval: Duration::from_secs(1),
            kubelet: controllers::KubeletControl::new(opts.kubelet_delay),
            next_ip: std::sync::atomic::AtomicU32::new(0),
            gone: std::sync::atomic::AtomicU64::new(0),
            latency_ms: std::sync::atomic::AtomicU64::new(0),
            nodes: opts.nodes,
            restarts: tokio::sync::watch::Sender::new(0),
            controllers: Mutex::new(None),
            es: elasticsearch::Clusters::default(),
        });
        seed::seed(&shared);
        shared.es.set_demo(opts.es_demo);
        let sim = Sim {
            shared,
            life: Arc::new(Lifetime(CancellationToken::new())),
            api_token: exposure::new_token().into(),
            authority: Arc::default(),
        };
        if opts.run_controllers {
            match tokio::runtime::Handle::try_current() {
                Ok(_) => sim.start_controllers(),
                Err(_) => tracing::warn!(
                    "simulated Kubernetes created outside a tokio runtime: controllers not started"
                ),
            }
        }
        sim
    }

    /// Start a generation of simulated controllers (stopping the running one, if any).
    fn start_controllers(&self) {
        let token = self.life.0.child_token();
        let previous = self
            .shared
            .controllers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(token.clone());
        if let Some(previous) = previous {
            previous.cancel();
        }
        controllers::spawn_all(self.internal_client(), self.shared.clone(), token);
    }

    /// Lose every object, as an API server whose storage came back empty (a control plane restored from
    /// nothing): the store starts over with only the seeded namespaces and nodes, and resourceVersions start
    /// low again; every open watch ends. Clients reconnect with the resourceVersion they last saw, which the
    /// new store has not reached, so, as with a real API server, they hear nothing about what was lost (no
    /// DELETED events, no 410 Gone): only a relist shows it. The simulated controllers restart with fresh
    /// lists, as the operators of a restored cluster would. Injected faults, latency, pod failures and request
    /// counts are kept. A test knob.
    pub fn restart_empty(&self) {
        {
            let mut st = self.shared.lock();
            let cap = st.log_cap;
            let events_kind = st.events_kind;
            *st = State::new(self.shared.registry.len(), events_kind);
            st.log_cap = cap;
        }
        seed::seed(&self.shared);
        self.shared.restarts.send_modify(|n| *n += 1);
        let running = self
            .shared
            .controllers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if running {
            self.start_controllers();
        }
    }

    /// A `kube::Client` whose transport is the in-process emulator (no socket); default namespace `default`.
    /// Must be called inside a tokio runtime (the client spawns its request buffer task).
    pub fn client(&self) -> kube::Client {
        client::in_process(self.router(), false)
    }

    /// The client of the simulated controllers (requests marked internal).
    fn internal_client(&self) -> kube::Client {
        client::in_process(self.router(), true)
    }

    /// The emulator as an axum Router (for serving).
    pub fn router(&self) -> axum::Router {
        http::router(self.shared.clone())
    }

    /// Serve the emulator over HTTPS on a loopback listener until the listener fails, to requests with
    /// a loopback `Host` and [`Sim::api_token`] (see [`exposure`]). A listener on any other address is refused
    /// (`InvalidInput`); [`Sim::serve_remote`] allows it.
    pub async fn serve(&self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        exposure::check_listen(listener.local_addr()?, false)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        self.serve_remote(listener).await
    }

    /// Like [`Sim::serve`], on any listener (`ESAAS_SIM_LISTEN_ALLOW_REMOTE=1`); the `Host` and token checks
    /// still apply.
    pub async fn serve_remote(&self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        let authority = self.authority()?;
        exposure::serve(self.router(), listener, self.api_token.clone(), authority).await
    }

    /// The CA of the served API, made on first use (key generation is not free; most `Sim`s are never served).
    fn authority(&self) -> std::io::Result<&tls::Authority> {
        if let Some(a) = self.authority.get() {
            return Ok(a);
        }
        let made = tls::Authority::new()?;
        Ok(self.authority.get_or_init(|| made))
    }

    /// The PEM certificate of the CA that signs the served API's certificate (the kubeconfig carries it).
    pub fn ca_pem(&self) -> std::io::Result<String> {
        Ok(self.authority()?.ca_pem().to_owned())
    }

    /// The bearer token the served API requires (random for every `Sim`).
    pub fn api_token(&self) -> &str {
        &self.api_token
    }

    /// Whether the emulator may listen on `addr` (loopback, or anything with `allow_remote`); the error says
    /// how to allow it.
    pub fn check_listen(addr: std::net::SocketAddr, allow_remote: bool) -> Result<(), String> {
        exposure::check_listen(addr, allow_remote)
    }

    /// Write a kubeconfig for `https://addr` (cluster, user and context `esaas-sim`; the cluster carries the
    /// CA certificate, the user [`Sim::api_token`]), readable by its owner only (mode 600).
    pub fn write_kubeconfig(
        &self,
        addr: std::net::SocketAddr,
        path: &std::path::Path,
    ) -> std::io::Result<()> {
        let ca = self.authority()?.ca_pem().to_owned();
        client::write_kubeconfig(addr, &ca, &self.api_token, path)
    }

    /// Make every request from outside (not the simulated controllers) wait `d` before it is served, as a slow
    /// or overloaded API server does (zero: no wait).
    pub fn set_latency(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.shared.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Make a pod fail: it stays (or becomes) not Ready with reason CrashLoopBackOff and its restartCount grows.
    /// The failure sticks to the namespace/name, so a replacement pod with the same name fails too, until
    /// [`Sim::clear_pod_failure`].
    pub fn fail_pod(&self, namespace: &str, name: &str) {
        self.shared.kubelet.fail(namespace, name);
    }

    /// Undo [`Sim::fail_pod`]: the pod becomes Ready again.
    pub fn clear_pod_failure(&self, namespace: &str, name: &str) {
        self.shared.kubelet.heal(namespace, name);
    }

    /// Change the kubelet delay for pods started from now on.
    pub fn set_kubelet_delay(&self, d: Duration) {
        self.shared.kubelet.set_delay(d);
    }

    /// Fault injection for reconciler tests: the next `n` write requests (POST/PUT/PATCH/DELETE) answer with
    /// `status` (e.g. 500 or 409) and a Status body, without changing anything.
    pub fn inject_write_failures(&self, n: u32, status: u16) {
        *self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()) = (n, status);
    }

    /// Make the whole API unreachable-like (every request answers 503) until set back to false.
    pub fn set_unavailable(&self, down: bool) {
        self.shared.unavailable.store(down, Ordering::Relaxed);
    }

    /// Count of API requests served so far, by verb: get/list/watch/create/update/patch/delete (plus
    /// deletecollection, discovery and invalid when they occur). Requests of the simulated controllers are not
    /// counted.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reset [`Sim::request_counts`].
    pub fn reset_request_counts(&self) {
        self.shared
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Number of changes the log of each kind retains for watches (default
    /// [`store::DEFAULT_WATCH_WINDOW`]); a watch from an older resourceVersion gets a 410 ERROR event. Lowering it
    /// is a test knob.
    pub fn set_watch_window(&self, events: usize) {
        let mut st = self.shared.lock();
        st.log_cap = events.max(1);
        let cap = st.log_cap;
        for kind in &mut st.kinds {
            kind.trim_log(cap);
        }
    }

    /// How many watches were answered with 410 Gone (their resourceVersion had left the window): each one
    /// makes a client relist, so a growing number under load means the window is too small.
    pub fn watches_expired(&self) -> u64 {
        self.shared.gone.load(Ordering::Relaxed)
    }

    /// Stored objects per resource (plural): count and approximate memory in bytes, plus `watch-log` for the
    /// retained watch events (diagnostics and benchmarks).
    pub fn store_stats(&self) -> BTreeMap<String, (usize, usize)> {
        let st = self.shared.lock();
        let mut out = BTreeMap::new();
        for (i, k) in self.shared.registry.iter() {
            let objects = &st.kinds[i].objects;
            let bytes = objects.values().map(|o| o.heap_size()).sum();
            out.insert(k.plural.clone(), (objects.len(), bytes));
        }
        let log = st.kinds.iter().flat_map(|k| k.log.iter());
        let (entries, log_bytes) = log.fold((0, 0), |(n, b), e| (n + 1, b + e.obj.heap_size()));
        out.insert("watch-log".into(), (entries, log_bytes));
        out
    }

    /// The registry of served resource kinds.
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }
}
