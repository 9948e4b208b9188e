//! Simulated controllers (an ECK-like operator, StatefulSet and Deployment controllers, a kubelet, a cloud
//! controller's load balancers), run as tokio
//! tasks that use the emulator through its API with an internal `kube::Client`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Shared;

mod deployment;
pub(super) mod eck;
mod kubelet;
mod load_balancer;
mod scheduler;
mod statefulset;
mod util;

/// Knobs of the simulated kubelet, shared with [`super::Sim`].
pub struct KubeletControl {
    delay_ms: AtomicU64,
    failing: Mutex<HashSet<(String, String)>>,
    wake_tx: mpsc::UnboundedSender<(String, String)>,
    /// Held by the running kubelet (a restarted one waits for the previous one to let go).
    wake_rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, String)>>>,
}

impl KubeletControl {
    /// Control block with an initial delay.
    pub fn new(delay: Duration) -> Self {
        let (wake_tx, wake_rx) = mpsc::unbounded_channel();
        KubeletControl {
            delay_ms: AtomicU64::new(delay.as_millis() as u64),
            failing: Mutex::new(HashSet::new()),
            wake_tx,
            wake_rx: Arc::new(tokio::sync::Mutex::new(wake_rx)),
        }
    }

    /// Current delay from scheduled to Ready.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::Relaxed))
    }

    /// Change the delay.
    pub fn set_delay(&self, d: Duration) {
        self.delay_ms.store(d.as_millis() as u64, Ordering::Relaxed);
    }

    fn set_failing(&self, ns: &str, name: &str, on: bool) {
        let key = (ns.to_string(), name.to_string());
        let mut f = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        if on {
            f.insert(key.clone());
        } else {
            f.remove(&key);
        }
        drop(f);
        let _ = self.wake_tx.send(key);
    }

    /// Mark a pod as failing.
    pub fn fail(&self, ns: &str, name: &str) {
        self.set_failing(ns, name, true);
    }

    /// Clear a pod failure.
    pub fn heal(&self, ns: &str, name: &str) {
        self.set_failing(ns, name, false);
    }

    /// Is the pod marked as failing?
    pub fn is_failing(&self, ns: &str, name: &str) -> bool {
        self.failing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(ns.to_string(), name.to_string()))
    }

    /// The wake-up receiver (locked by the running kubelet for its lifetime).
    pub fn wakeups(&self) -> Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, String)>>> {
        self.wake_rx.clone()
    }
}

/// Spawn every controller on the current runtime; they stop when `cancel` fires.
pub fn spawn_all(client: kube::Client, shared: Arc<Shared>, cancel: CancellationToken) {
    fn spawn(
        cancel: &CancellationToken,
        fut: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = fut => {}
            }
        });
    }
    spawn(&cancel, kubelet::run(client.clone(), shared.clone()));
    spawn(
        &cancel,
        super::elasticsearch::run_ticker(client.clone(), shared.clone()),
    );
    spawn(&cancel, statefulset::run(client.clone()));
    spawn(&cancel, deployment::run(client.clone()));
    spawn(&cancel, load_balancer::run(client.clone()));
    spawn(&cancel, eck::es::run(client.clone(), shared));
    spawn(&cancel, eck::kibana::run(client));
}
