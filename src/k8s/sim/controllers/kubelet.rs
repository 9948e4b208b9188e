//! The simulated kubelet: schedules pods on the simulated nodes (a pod no node can hold stays Pending with
//! `PodScheduled=False`, reason `Unschedulable`, and a `FailedScheduling` Event, see [`super::scheduler`]), moves them Pending -> Running -> Ready after the
//! configured delay, emits Events (Scheduled, Pulled, Created, Started, Killing, BackOff), and keeps pods marked
//! as failing in CrashLoopBackOff with a growing restartCount.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::super::{Shared, meta};
use super::util::{Involved, emit_event, is_ready};

const MANAGER: &str = "kubelet";

struct Kubelet {
    client: Client,
    shared: Arc<Shared>,
    active: Mutex<HashSet<String>>,
    next_ip: AtomicU32,
}

/// Run the kubelet until the watch stream ends.
pub async fn run(client: Client, shared: Arc<Shared>) {
    let mut wakeups = shared.kubelet.wakeups().lock_owned().await;
    let k = Arc::new(Kubelet {
        client: client.clone(),
        shared,
        active: Mutex::new(HashSet::new()),
        next_ip: AtomicU32::new(2),
    });
    let pods: Api<Pod> = Api::all(client);
    let mut stream = watcher(pods, watcher::Config::default())
        .default_backoff()
        .boxed();
    loop {
        tokio::select! {
            ev = stream.next() => match ev {
                Some(Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p))) => k.clone().consider(p),
                Some(Ok(watcher::Event::Delete(p))) => {
                    let k = k.clone();
                    tokio::spawn(async move { k.killing(&p).await });
                }
                Some(Ok(_)) | Some(Err(_)) => {}
                None => return,
            },
            Some((ns, name)) = wakeups.recv() => {
                let api: Api<Pod> = Api::namespaced(k.client.clone(), &ns);
                if let Ok(Some(p)) = api.get_opt(&name).await {
                    k.clone().consider(p);
                }
            }
        }
    }
}

/// Marked unschedulable by the simulated scheduler (it stays so: its requests and the nodes do not change).
fn is_unschedulable(pod: &Pod) -> bool {
    let unplaced = pod.spec.as_ref().is_none_or(|s| s.node_name.is_none());
    unplaced
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.type_ == "PodScheduled"
                        && c.status == "False"
                        && c.reason.as_deref() == Some("Unschedulable")
                })
            })
}

fn waiting_reason(pod: &Pod) -> Option<String> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
}

impl Kubelet {
    /// Start a lifecycle task for a pod that needs one (not already handled, not Ready, or failing).
    fn consider(self: Arc<Self>, pod: Pod) {
        if pod.metadata.deletion_timestamp.is_some() || is_unschedulable(&pod) {
            return;
        }
        let uid = pod.uid().unwrap_or_default();
        let failing = self
            .shared
            .kubelet
            .is_failing(&pod.namespace().unwrap_or_default(), &pod.name_any());
        let crashing = waiting_reason(&pod).as_deref() == Some("CrashLoopBackOff");
        if is_ready(&pod) && !failing || (failing && crashing && self.is_active(&uid)) {
            return;
        }
        if !self
            .active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(uid.clone())
        {
            return;
        }
        tokio::spawn(async move {
            let _ = self.lifecycle(pod).await;
            self.active
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&uid);
        });
    }

    fn is_active(&self, uid: &str) -> bool {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(uid)
    }

    fn failing(&self, pod: &Pod) -> bool {
        self.shared
            .kubelet
            .is_failing(&pod.namespace().unwrap_or_default(), &pod.name_any())
    }

    async fn patch_status(
        &self,
        api: &Api<Pod>,
        pod: &Pod,
        status: Value,
    ) -> Result<Pod, kube::Error> {
        let body = json!({ "metadata": { "uid": pod.uid() }, "status": status });
        api.patch_status(
            &pod.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&with_type(body)),
        )
        .await
    }

    async fn event(&self, pod: &Pod, kind: &str, reason: &str, message: &str, component: &str) {
        let (ns, name, uid) = (
            pod.namespace().unwrap_or_default(),
            pod.name_any(),
            pod.uid().unwrap_or_default(),
        );
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let about = Involved {
            api_version: "v1",
            kind: "Pod",
            namespace: &ns,
            name: &name,
            uid: &uid,
        };
        emit_event(
            &self.client,
            &about,
            kind,
            reason,
            message,
            component,
            &node,
        )
        .await;
    }

    async fn killing(&self, pod: &Pod) {
        for c in pod
            .spec
            .as_ref()
            .map(|s| s.containers.clone())
            .unwrap_or_default()
        {
            self.event(
                pod,
                "Normal",
                "Killing",
                &format!("Stopping container {}", c.name),
                "kubelet",
            )
            .await;
        }
    }

    async fn sleep(&self, fraction: u32) {
        let d = self.shared.kubelet.delay() / fraction;
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }

    /// Leave the pod Pending as kube-scheduler does when no node fits, and say why once.
    async fn unschedulable(
        &self,
        api: &Api<Pod>,
        pod: &Pod,
        message: &str,
    ) -> Result<(), kube::Error> {
        let cond = json!([{ "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                            "message": message, "lastTransitionTime": meta::now() }]);
        self.patch_status(api, pod, json!({ "phase": "Pending", "conditions": cond }))
            .await?;
        self.event(
            pod,
            "Warning",
            "FailedScheduling",
            message,
            "default-scheduler",
        )
        .await;
        Ok(())
    }

    async fn lifecycle(&self, mut pod: Pod) -> Result<(), kube::Error> {
        let ns = pod.namespace().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let name = pod.name_any();
        if pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_ref())
            .is_none()
        {
            let node = match super::scheduler::place(&self.shared.nodes, &pod) {
                Ok(node) => node,
                Err(message) => return self.unschedulable(&api, &pod, &message).await,
            };
            let body = json!({ "metadata": { "uid": pod.uid() }, "spec": { "nodeName": node } });
            pod = api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&body))
                .await?;
            self.event(
                &pod,
                "Normal",
                "Scheduled",
                &format!("Successfully assigned {ns}/{name} to {node}"),
                "default-scheduler",
            )
            .await;
            let cond = json!([{ "type": "PodScheduled", "status": "True", "lastTransitionTime": meta::now() }]);
            pod = self
                .patch_status(
                    &api,
                    &pod,
                    json!({ "phase": "Pending", "conditions": cond }),
                )
                .await?;
        }
        let started = pod
            .status
            .as_ref()
            .and_then(|s| s.start_time.clone())
            .is_some();
        if !started {
            self.sleep(2).await;
            if !self.failing(&pod) {
                pod = self
                    .patch_status(&api, &pod, self.status(&pod, false, 0, false))
                    .await?;
                for c in pod
                    .spec
                    .as_ref()
                    .map(|s| s.containers.clone())
                    .unwrap_or_default()
                {
                    let image = c.image.clone().unwrap_or_default();
                    self.event(
                        &pod,
                        "Normal",
                        "Pulled",
                        &format!("Container image \"{image}\" already present on machine"),
                        "kubelet",
                    )
                    .await;
                    self.event(
                        &pod,
                        "Normal",
                        "Created",
                        &format!("Created container {}", c.name),
                        "kubelet",
                    )
                    .await;
                    self.event(
                        &pod,
                        "Normal",
                        "Started",
                        &format!("Started container {}", c.name),
                        "kubelet",
                    )
                    .await;
                }
                self.sleep(2).await;
            }
        }
        let mut restarts = restart_count(&pod);
        while self.failing(&pod) {
            restarts += 1;
            pod = self
                .patch_status(&api, &pod, self.status(&pod, false, restarts, true))
                .await?;
            if restarts <= 3 || restarts % 10 == 0 {
                self.event(
                    &pod,
                    "Warning",
                    "BackOff",
                    "Back-off restarting failed container",
                    "kubelet",
                )
                .await;
            }
            let pause = self.shared.kubelet.delay().max(Duration::from_millis(250));
            tokio::time::sleep(pause).await;
        }
        self.patch_status(&api, &pod, self.status(&pod, true, restarts, false))
            .await?;
        Ok(())
    }

    /// A full pod status: Running, with Ready and container states according to the flags.
    fn status(&self, pod: &Pod, ready: bool, restarts: i32, crashing: bool) -> Value {
        let now = meta::now();
        let st = pod.status.clone().unwrap_or_default();
        let start = st
            .start_time
            .as_ref()
            .and_then(|t| serde_json::to_value(t).ok())
            .unwrap_or(json!(now));
        let ip = st.pod_ip.clone().unwrap_or_else(|| {
            let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
            format!("10.244.{}.{}", (n >> 8) & 0xff, n & 0xff)
        });
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let flag = |b: bool| if b { "True" } else { "False" };
        let containers: Vec<Value> = pod
            .spec
            .as_ref()
            .map(|s| s.containers.clone())
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let image = c.image.clone().unwrap_or_default();
                let state = if crashing {
                    json!({ "waiting": { "reason": "CrashLoopBackOff", "message": format!("back-off restarting failed container {}", c.name) } })
                } else {
                    json!({ "running": { "startedAt": start } })
                };
                let mut cs = json!({
                    "name": c.name, "image": image, "imageID": format!("sim://{image}"),
                    "containerID": format!("sim://{}-{}", pod.uid().unwrap_or_default(), c.name),
                    "ready": ready, "started": !crashing, "restartCount": restarts, "state": state,
                });
                if crashing {
                    cs["lastState"] = json!({ "terminated": { "exitCode": 1, "reason": "Error", "finishedAt": now } });
                }
                cs
            })
            .collect();
        let not_ready_reason = if ready {
            None
        } else {
            Some("ContainersNotReady")
        };
        let cond = |t: &str, ok: bool| {
            let mut c = json!({ "type": t, "status": flag(ok), "lastTransitionTime": now });
            if let (false, Some(r)) = (ok, not_ready_reason) {
                c["reason"] = json!(r);
            }
            c
        };
        json!({
            "phase": "Running",
            "hostIP": format!("192.168.0.{}", 1 + self.shared.nodes.names().iter().position(|n| *n == node).unwrap_or(0)),
            "podIP": ip,
            "podIPs": [{ "ip": ip }],
            "startTime": start,
            "qosClass": "Burstable",
            "conditions": [cond("PodScheduled", true), cond("Initialized", true), cond("ContainersReady", ready), cond("Ready", ready)],
            "containerStatuses": containers,
        })
    }
}

fn restart_count(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

fn with_type(mut body: Value) -> Value {
    body["apiVersion"] = json!("v1");
    body["kind"] = json!("Pod");
    body
}
