//! The controller: the reconciler that applies operations to Kubernetes (the cluster's engine's plan, step
//! by step), the observer that watches what Kubernetes reports and completes them, and the resync that
//! repairs drift, all driven from Postgres (the operations table is the queue) and the watch cache.

pub mod load_balancers;
pub mod observer;
pub mod pod_reason;
pub mod reconciler;
pub mod repo;
pub mod resync;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Start every background task of the lifecycle: the watches (feeding the cache and the observer), the
/// observer, `config.reconciler_workers` reconciler workers and the periodic resync (not when
/// `config.resync_interval` is zero). They stop with
/// `shutdown`.
pub fn spawn_background(state: &AppState, shutdown: CancellationToken) {
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    crate::k8s::watch::spawn(
        state.kube.client.clone(),
        state.cache.clone(),
        events_tx,
        shutdown.clone(),
    );
    observer::spawn(state.clone(), events_rx, shutdown.clone());
    if state.config.reconciler_workers > 0 {
        reconciler::spawn(
            state.clone(),
            state.config.reconciler_workers,
            shutdown.clone(),
        );
    }
    if !state.config.resync_interval.is_zero() {
        resync::spawn(state.clone(), state.config.resync_interval, shutdown);
    }
}
