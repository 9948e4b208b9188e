//! Helpers shared by the simulated controllers: the error type, readiness checks, stable hashes, owner
//! references, label selectors, server-side apply and Event emission through the API.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::Action;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Error of a reconcile: any API or decoding failure, retried by the error policy.
#[derive(Debug)]
pub struct CtrlError(pub String);

impl std::fmt::Display for CtrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CtrlError {}

impl From<kube::Error> for CtrlError {
    fn from(e: kube::Error) -> Self {
        CtrlError(e.to_string())
    }
}

impl From<serde_json::Error> for CtrlError {
    fn from(e: serde_json::Error) -> Self {
        CtrlError(e.to_string())
    }
}

/// Result of a reconcile.
pub type CtrlResult = Result<Action, CtrlError>;

/// Retry a failed reconcile soon.
pub fn retry_soon<K, C>(
    _obj: std::sync::Arc<K>,
    err: &CtrlError,
    _ctx: std::sync::Arc<C>,
) -> Action {
    tracing::debug!("simulated controller retrying after: {err}");
    Action::requeue(Duration::from_millis(300))
}

/// Is the error an API answer with this code?
pub fn is_code(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// A pod counts as Ready when its Ready condition is True and it is not being deleted.
pub fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Ten hex characters of a SHA-256 of the JSON value (stable across runs).
pub fn hash10(v: &Value) -> String {
    let digest = Sha256::digest(v.to_string().as_bytes());
    hex::encode(&digest[..5])
}

/// A controller owner reference.
pub fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Is the object controlled by the owner with this uid?
pub fn owned_by<K: ResourceExt>(obj: &K, uid: &str) -> bool {
    obj.owner_references()
        .iter()
        .any(|r| r.uid == uid && r.controller == Some(true))
}

/// `k=v,k2=v2` from a label map.
pub fn selector_string(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The ordinal of a StatefulSet pod (`<sts>-<n>`).
pub fn ordinal(pod_name: &str, sts_name: &str) -> Option<u32> {
    pod_name
        .strip_prefix(sts_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

/// Server-side apply with force, as a controller owning its objects does.
pub async fn apply<K>(api: &Api<K>, name: &str, manager: &str, body: &Value) -> Result<K, CtrlError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    Ok(api
        .patch(
            name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(body),
        )
        .await?)
}

/// Label recording the hash of the configuration a controller last applied (as ECK's
/// `common.k8s.elastic.co/template-hash`), so unchanged objects are not re-applied on every reconcile.
pub const TEMPLATE_HASH: &str = "common.k8s.elastic.co/template-hash";

/// Server-side apply `body` unless `existing` already carries the same template hash; returns the current object.
pub async fn apply_if_changed<K>(
    api: &Api<K>,
    existing: Option<&K>,
    name: &str,
    manager: &str,
    mut body: Value,
) -> Result<K, CtrlError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + ResourceExt,
{
    let hash = hash10(&body);
    if let Some(current) = existing
        && current.labels().get(TEMPLATE_HASH) == Some(&hash)
    {
        return Ok(current.clone());
    }
    body["metadata"]["labels"][TEMPLATE_HASH] = json!(hash);
    apply(api, name, manager, &body).await
}

/// Delete a pod only if it is still the same object (uid precondition); a missing pod is fine.
pub async fn delete_pod(api: &Api<Pod>, pod: &Pod) -> Result<(), CtrlError> {
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pod.metadata.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(&pod.name_any(), &dp).await {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, 404) || is_code(&e, 409) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// What an Event is about.
pub struct Involved<'a> {
    /// apiVersion of the object.
    pub api_version: &'a str,
    /// Kind of the object.
    pub kind: &'a str,
    /// Namespace.
    pub namespace: &'a str,
    /// Name.
    pub name: &'a str,
    /// uid.
    pub uid: &'a str,
}

/// Emit a core/v1 Event (errors are ignored: events are best effort, like in Kubernetes).
pub async fn emit_event(
    client: &Client,
    about: &Involved<'_>,
    kind: &str,
    reason: &str,
    message: &str,
    component: &str,
    host: &str,
) {
    let now = super::super::meta::now();
    let suffix: u64 = rand::random();
    let ev = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": { "name": format!("{}.{:016x}", about.name, suffix), "namespace": about.namespace },
        "involvedObject": {
            "apiVersion": about.api_version, "kind": about.kind, "namespace": about.namespace,
            "name": about.name, "uid": about.uid,
        },
        "reason": reason,
        "message": message,
        "type": kind,
        "source": { "component": component, "host": host },
        "reportingComponent": component,
        "reportingInstance": host,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    });
    let Ok(ev) = serde_json::from_value::<Event>(ev) else {
        return;
    };
    let api: Api<Event> = Api::namespaced(client.clone(), about.namespace);
    if let Err(e) = api.create(&PostParams::default(), &ev).await {
        tracing::trace!("simulated event not recorded: {e}");
    }
}
