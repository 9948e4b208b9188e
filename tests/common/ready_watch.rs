//! The fewest Ready pods a label selector had at any moment, counted from a watch rather than sampled:
//! Kubernetes sends every change of the watched pods as an event, in order, so the count after each event
//! covers every state the pods went through, however busy the machine (a loop of GETs misses a pod that was
//! down between two samples). Include it with `#[path = "../common/ready_watch.rs"] mod ready_watch;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};

/// What the watch has seen so far.
#[derive(Debug, Default)]
struct Seen {
    /// The pods now, by name: (uid, ready).
    pods: BTreeMap<String, (String, bool)>,
    /// The fewest Ready pods after any event (or in the first list).
    min_ready: usize,
    /// Why the watch stopped early, if it did.
    failure: Option<String>,
}

impl Seen {
    fn ready(&self) -> usize {
        self.pods.values().filter(|(_, ready)| *ready).count()
    }
}

/// A running watch of the pods matching a selector; stops when dropped.
pub struct ReadyWatch {
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ReadyWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// True when the pod's `Ready` condition is `True`.
pub fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn entry(p: &Pod) -> (String, (String, bool)) {
    (p.name_any(), (p.uid().unwrap_or_default(), is_ready(p)))
}

impl ReadyWatch {
    /// List the pods of `api` matching `labels`, then watch them from that list's resourceVersion.
    pub async fn start(api: Api<Pod>, labels: &str) -> Self {
        let list = api
            .list(&ListParams::default().labels(labels))
            .await
            .expect("list pods");
        let rv = list
            .metadata
            .resource_version
            .clone()
            .expect("the list has a resourceVersion");
        let mut seen = Seen {
            pods: list.items.iter().map(entry).collect(),
            ..Seen::default()
        };
        seen.min_ready = seen.ready();
        let seen = Arc::new(Mutex::new(seen));
        let stream = api
            .watch(&WatchParams::default().labels(labels).timeout(290), &rv)
            .await
            .expect("watch pods");
        let task = tokio::spawn({
            let seen = seen.clone();
            async move {
                let mut stream = stream.boxed();
                loop {
                    let event = stream.try_next().await;
                    let mut s = seen.lock().unwrap();
                    match event {
                        Ok(Some(WatchEvent::Added(p) | WatchEvent::Modified(p))) => {
                            let (name, value) = entry(&p);
                            s.pods.insert(name, value);
                        }
                        Ok(Some(WatchEvent::Deleted(p))) => {
                            s.pods.remove(&p.name_any());
                        }
                        Ok(Some(WatchEvent::Bookmark(_))) => continue,
                        Ok(Some(WatchEvent::Error(e))) => {
                            s.failure = Some(format!("watch error: {e:?}"));
                            return;
                        }
                        Ok(None) => {
                            s.failure = Some("the watch ended".into());
                            return;
                        }
                        Err(e) => {
                            s.failure = Some(format!("watch failed: {e}"));
                            return;
                        }
                    }
                    s.min_ready = s.min_ready.min(s.ready());
                }
            }
        });
        Self { seen, task }
    }

    fn read<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        let s = self.seen.lock().unwrap();
        if let Some(why) = &s.failure {
            panic!("the pod watch stopped: {why}");
        }
        f(&s)
    }

    /// The fewest Ready pods at any moment since the start (fails the test if the watch broke).
    pub fn min_ready(&self) -> usize {
        self.read(|s| s.min_ready)
    }

    /// The pods as the watch has them now: name -> (uid, ready).
    pub fn pods(&self) -> BTreeMap<String, (String, bool)> {
        self.read(|s| s.pods.clone())
    }
}
