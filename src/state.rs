//! The one application state shared by every handler and background task.

use std::ops::Deref;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::config::Config;
use crate::k8s::target::KubeTarget;
use crate::k8s::watch::ObjectCache;
use crate::metrics::Metrics;

/// Cheap to clone: an `Arc` inside. Handlers take `State<AppState>`.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

/// What the state holds.
pub struct AppInner {
    /// The configuration the portal was started with.
    pub config: Config,
    /// The Postgres pool (source of truth for desired state, operations, audit).
    pub db: PgPool,
    /// Prometheus metrics registry and the instruments handlers record into.
    pub metrics: Arc<Metrics>,
    /// Woken after a request commits a new operation, so the reconciler picks it up at once.
    pub reconciler_wake: Arc<Notify>,
    /// The Kubernetes the portal drives (real or simulated).
    pub kube: KubeTarget,
    /// What the watches last saw of every managed object (the resync compares against it).
    pub cache: ObjectCache,
    /// Recently resolved API tokens; here rather than in the API so that revoking a token or disabling a
    /// user in the web UI drops the entries at once.
    pub api_tokens: crate::accounts::token_cache::TokenCache,
    /// Builds Elasticsearch clients for clusters (transport by where the portal runs, the portal's own user).
    pub es: crate::elasticsearch::Connector,
}

impl AppState {
    /// State over `db` with a simulated Kubernetes (its controllers run on the current tokio runtime).
    /// Background tasks (reconciler, observer) are started separately by `controller::spawn_background`.
    pub fn new(config: Config, db: PgPool) -> Self {
        let kube = KubeTarget::simulated(config.sim_kubelet_delay, config.sim_nodes);
        Self::with_kube(config, db, kube)
    }

    /// State with a given Kubernetes target.
    pub fn with_kube(config: Config, db: PgPool, kube: KubeTarget) -> Self {
        let es = crate::elasticsearch::Connector::new(
            kube.clone(),
            config.es_transport,
            config.es_user_key.clone(),
            crate::elasticsearch::client::ClientOptions::default(),
        );
        Self(Arc::new(AppInner {
            es,
            config,
            db,
            metrics: Arc::new(Metrics::new()),
            reconciler_wake: Arc::new(Notify::new()),
            kube,
            cache: ObjectCache::default(),
            api_tokens: crate::accounts::token_cache::TokenCache::default(),
        }))
    }
}

impl Deref for AppState {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}
