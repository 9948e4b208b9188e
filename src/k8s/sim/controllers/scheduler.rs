//! The simulated scheduler's decision, used by the kubelet before it starts a pod: which simulated node a pod
//! goes to, or, when its CPU or memory requests exceed every node's allocatable, the message the real
//! kube-scheduler writes into the pod's `PodScheduled=False` (reason `Unschedulable`) condition. Requests are
//! compared with each node's whole allocatable; pods already placed on a node are not added up.

use k8s_openapi::api::core::v1::{Container, Pod};
use serde_json::json;

use super::super::SimNodes;
use super::super::quantity;

/// What a pod asks for, in the units of [`SimNodes`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    /// CPU in millicores.
    pub cpu_millis: u64,
    /// Memory in MiB.
    pub memory_mib: u64,
}

fn container_requests(c: &Container) -> Requests {
    let resources = c.resources.as_ref();
    // A limit without a request makes the request equal to the limit (API server defaulting).
    let value = |name: &str| {
        resources
            .and_then(|r| r.requests.as_ref().and_then(|m| m.get(name)))
            .or_else(|| resources.and_then(|r| r.limits.as_ref().and_then(|m| m.get(name))))
            .map(|q| q.0.clone())
    };
    Requests {
        cpu_millis: value("cpu")
            .and_then(|q| quantity::cpu_millis(&q))
            .unwrap_or(0),
        memory_mib: value("memory")
            .and_then(|q| quantity::memory_mib(&q))
            .unwrap_or(0),
    }
}

/// The pod's effective requests: the sum over its containers, or the largest init container when that is more.
pub fn requests(pod: &Pod) -> Requests {
    let Some(spec) = pod.spec.as_ref() else {
        return Requests::default();
    };
    let mut total =
        spec.containers
            .iter()
            .map(container_requests)
            .fold(Requests::default(), |a, b| Requests {
                cpu_millis: a.cpu_millis + b.cpu_millis,
                memory_mib: a.memory_mib + b.memory_mib,
            });
    for init in spec.init_containers.iter().flatten() {
        let r = container_requests(init);
        total.cpu_millis = total.cpu_millis.max(r.cpu_millis);
        total.memory_mib = total.memory_mib.max(r.memory_mib);
    }
    total
}

/// The node for a pod (spread by a hash of its name), or the scheduler's message when no node fits, e.g.
/// `0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption
/// victims found for incoming pod.`
pub fn place(nodes: &SimNodes, pod: &Pod) -> Result<String, String> {
    let names = nodes.names();
    let want = requests(pod);
    let short_cpu = want.cpu_millis > nodes.cpu_millis;
    let short_memory = want.memory_mib > nodes.memory_mib;
    if !short_cpu && !short_memory {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let spread = super::util::hash10(&json!(name))
            .bytes()
            .map(u32::from)
            .sum::<u32>() as usize;
        return Ok(names[spread % names.len()].clone());
    }
    let n = names.len();
    let mut reasons: Vec<String> = [
        (short_cpu, "Insufficient cpu"),
        (short_memory, "Insufficient memory"),
    ]
    .iter()
    .filter(|(short, _)| *short)
    .map(|(_, reason)| format!("{n} {reason}"))
    .collect();
    reasons.sort();
    Err(format!(
        "0/{n} nodes are available: {}. preemption: 0/{n} nodes are available: {n} No preemption victims \
         found for incoming pod.",
        reasons.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(cpu: &str, memory: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": { "name": "s1-es-default-0" },
            "spec": { "containers": [{ "name": "elasticsearch",
                "resources": { "requests": { "cpu": cpu, "memory": memory }, "limits": { "cpu": cpu, "memory": memory } } }] }
        }))
        .unwrap()
    }

    #[test]
    fn a_pod_that_fits_gets_a_node() {
        let nodes = SimNodes::default();
        let node = place(&nodes, &pod("2", "4Gi")).unwrap();
        assert!(nodes.names().contains(&node), "{node}");
        assert!(
            place(&nodes, &pod("8", "32Gi")).is_ok(),
            "exactly the allocatable fits"
        );
    }

    #[test]
    fn too_much_cpu_or_memory_gives_the_scheduler_message() {
        let nodes = SimNodes::default();
        assert_eq!(
            place(&nodes, &pod("12", "4Gi")).unwrap_err(),
            "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No \
             preemption victims found for incoming pod."
        );
        let both = place(&nodes, &pod("9000m", "40Gi")).unwrap_err();
        assert!(
            both.starts_with("0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory."),
            "{both}"
        );
    }

    #[test]
    fn limits_count_when_requests_are_missing() {
        let p: Pod = serde_json::from_value(json!({
            "metadata": { "name": "p" },
            "spec": { "containers": [{ "name": "a", "resources": { "limits": { "memory": "64Gi" } } }],
                      "initContainers": [{ "name": "i", "resources": { "requests": { "cpu": "10" } } }] }
        }))
        .unwrap();
        assert_eq!(
            requests(&p),
            Requests {
                cpu_millis: 10_000,
                memory_mib: 65_536
            }
        );
    }
}
