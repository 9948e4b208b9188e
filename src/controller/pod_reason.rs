//! Why a pod is not ready, in words a person can act on, read from what Kubernetes reports: the scheduler's
//! `PodScheduled=False` message (not enough CPU or memory on any node, a volume claim that is not bound),
//! container waiting states (an image that cannot be pulled, a container that keeps crashing, a container
//! that cannot be created) and terminations. The observer stores the phrase with the pod (the dashboard shows
//! it under the pod's name) and a stall names the first such pod: "pod s1-es-default-0 cannot be scheduled:
//! 0/3 nodes are available: 3 Insufficient cpu". Each phrase reads after "pod NAME"; empty when nothing is
//! known to be wrong.

use serde_json::Value;

/// Waiting reasons that mean the image cannot be pulled.
const IMAGE_PULL: [&str; 5] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "RegistryUnavailable",
];

/// Waiting reasons of a container that is on its way (nothing to act on yet).
const STARTING: [&str; 2] = ["ContainerCreating", "PodInitializing"];

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("").trim()
}

/// The scheduler's message without its preemption addendum (it only says nothing could be evicted).
fn scheduler_message(message: &str) -> &str {
    let message = message.split(" preemption: ").next().unwrap_or(message);
    message.trim().trim_end_matches('.')
}

fn not_scheduled(pod: &Value) -> Option<String> {
    let cond = pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "PodScheduled" && c["status"] == "False")?;
    let message = scheduler_message(text(cond, "message"));
    let detail = match (message.is_empty(), text(cond, "reason")) {
        (false, _) => message.to_owned(),
        (true, "") => "no reason given".to_owned(),
        (true, reason) => reason.to_owned(),
    };
    let hint = if message.contains("unbound") && message.contains("PersistentVolumeClaims") {
        " (a volume claim is not bound: check that its storage class exists and can provision volumes)"
    } else {
        ""
    };
    Some(format!("cannot be scheduled: {detail}{hint}"))
}

fn with_message(head: String, message: &str) -> String {
    if message.is_empty() {
        head
    } else {
        format!("{head}: {message}")
    }
}

fn container_problem(status: &Value) -> Option<String> {
    let name = text(status, "name");
    let waiting = &status["state"]["waiting"];
    let reason = text(waiting, "reason");
    let message = text(waiting, "message");
    if IMAGE_PULL.contains(&reason) {
        let image = text(status, "image");
        return Some(with_message(
            format!("cannot pull image {image} for container {name} ({reason})"),
            message,
        ));
    }
    if reason == "CrashLoopBackOff" {
        let restarts = status["restartCount"].as_i64().unwrap_or(0);
        let last = &status["lastState"]["terminated"];
        let exit = match (last["exitCode"].as_i64(), text(last, "reason")) {
            (Some(code), "") => format!("; last exit code {code}"),
            (Some(code), why) => format!("; last exit code {code}, {why}"),
            (None, _) => String::new(),
        };
        return Some(with_message(
            format!(
                "keeps crashing: container {name} restarted {restarts} times (CrashLoopBackOff{exit})"
            ),
            text(last, "message"),
        ));
    }
    if !reason.is_empty() && !STARTING.contains(&reason) {
        return Some(with_message(
            format!("cannot start container {name} ({reason})"),
            message,
        ));
    }
    let terminated = &status["state"]["terminated"];
    if terminated.is_object() && terminated["exitCode"].as_i64() != Some(0) {
        let code = terminated["exitCode"].as_i64().unwrap_or(-1);
        return Some(with_message(
            format!(
                "container {name} terminated ({}, exit code {code})",
                text(terminated, "reason")
            ),
            text(terminated, "message"),
        ));
    }
    None
}

fn other_condition(pod: &Value) -> Option<String> {
    pod["status"]["conditions"]
        .as_array()?
        .iter()
        .filter(|c| c["status"] == "False")
        .find_map(|c| {
            let (reason, message) = (text(c, "reason"), text(c, "message"));
            match (reason.is_empty(), message.is_empty()) {
                (true, true) => None,
                (false, true) => Some(format!("is not ready ({reason})")),
                (true, false) => Some(format!("is not ready: {message}")),
                (false, false) => Some(format!("is not ready ({reason}): {message}")),
            }
        })
}

/// What is wrong with a pod that is not ready, as a phrase that follows "pod NAME"; empty when nothing is
/// known (it may just be starting).
pub fn explain(pod: &Value) -> String {
    if let Some(why) = not_scheduled(pod) {
        return why;
    }
    let status = &pod["status"];
    let containers = ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|k| status[*k].as_array())
        .flatten();
    for c in containers {
        if let Some(why) = container_problem(c) {
            return why;
        }
    }
    if status["phase"] == "Failed" {
        return with_message(
            format!("failed ({})", text(status, "reason")),
            text(status, "message"),
        );
    }
    other_condition(pod).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::explain;

    #[test]
    fn unschedulable_pods_say_what_the_scheduler_said() {
        let pod = json!({ "status": { "phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
        }] } });
        assert_eq!(
            explain(&pod),
            "cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu"
        );
    }

    #[test]
    fn unbound_volume_claims_point_at_the_storage_class() {
        let pod = json!({ "status": { "phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        }] } });
        let why = explain(&pod);
        assert!(
            why.starts_with("cannot be scheduled: 0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims"),
            "{why}"
        );
        assert!(why.contains("check that its storage class exists"), "{why}");
    }

    #[test]
    fn image_pull_failures_name_the_image() {
        for reason in ["ImagePullBackOff", "ErrImagePull"] {
            let pod = json!({ "status": { "phase": "Pending", "containerStatuses": [{
                "name": "elasticsearch", "image": "docker.elastic.co/elasticsearch/elasticsearch:9.9.9", "ready": false, "restartCount": 0,
                "state": { "waiting": { "reason": reason, "message": "Back-off pulling image \"docker.elastic.co/elasticsearch/elasticsearch:9.9.9\"" } }
            }] } });
            assert_eq!(
                explain(&pod),
                format!(
                    "cannot pull image docker.elastic.co/elasticsearch/elasticsearch:9.9.9 for container \
                     elasticsearch ({reason}): Back-off pulling image \"docker.elastic.co/elasticsearch/elasticsearch:9.9.9\""
                )
            );
        }
    }

    #[test]
    fn crash_loops_give_restarts_and_the_last_exit() {
        let pod = json!({ "status": { "phase": "Running",
            "conditions": [{ "type": "Ready", "status": "False", "reason": "ContainersNotReady" }],
            "containerStatuses": [{
                "name": "elasticsearch", "image": "es:9", "ready": false, "restartCount": 4,
                "state": { "waiting": { "reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container" } },
                "lastState": { "terminated": { "exitCode": 78, "reason": "Error", "message": "max virtual memory areas vm.max_map_count [65530] is too low" } }
            }] } });
        assert_eq!(
            explain(&pod),
            "keeps crashing: container elasticsearch restarted 4 times (CrashLoopBackOff; last exit code 78, \
             Error): max virtual memory areas vm.max_map_count [65530] is too low"
        );
    }

    #[test]
    fn other_waiting_reasons_and_conditions() {
        let pod = json!({ "status": { "containerStatuses": [{
            "name": "elasticsearch", "state": { "waiting": { "reason": "CreateContainerConfigError", "message": "secret \"x\" not found" } }
        }] } });
        assert_eq!(
            explain(&pod),
            "cannot start container elasticsearch (CreateContainerConfigError): secret \"x\" not found"
        );
        let starting = json!({ "status": { "phase": "Pending", "containerStatuses": [{
            "name": "elasticsearch", "state": { "waiting": { "reason": "ContainerCreating" } }
        }] } });
        assert_eq!(explain(&starting), "");
        let not_ready = json!({ "status": { "conditions": [{ "type": "Ready", "status": "False",
            "reason": "ContainersNotReady", "message": "containers with unready status: [elasticsearch]" }] } });
        assert_eq!(
            explain(&not_ready),
            "is not ready (ContainersNotReady): containers with unready status: [elasticsearch]"
        );
    }
}
