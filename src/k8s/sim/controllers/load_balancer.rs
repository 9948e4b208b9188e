//! The simulated cloud controller's service part: every Service of type `LoadBalancer` gets an external
//! address in `status.loadBalancer.ingress[0].ip`, as a cloud provider's load balancer would give it, taken
//! from the documentation range 203.0.113.0/24 (RFC 5737: never a real host); a Service that stops being a
//! `LoadBalancer` loses it. Addresses are handed out in order and not reused within a run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::util::{CtrlResult, retry_soon};

/// Field manager of the simulated cloud controller.
const MANAGER: &str = "cloud-controller-manager";

struct Ctx {
    client: Client,
    next: AtomicU32,
}

/// Run the controller until its stream ends.
pub async fn run(client: Client) {
    let services: Api<Service> = Api::all(client.clone());
    let ctx = Arc::new(Ctx {
        client,
        next: AtomicU32::new(0),
    });
    Controller::new(services, watcher::Config::default())
        .with_config(Config::default().debounce(Duration::from_millis(20)))
        .run(reconcile, retry_soon, ctx)
        .for_each(|_| async {})
        .await;
}

/// The n-th address handed out: 203.0.113.10, .11, ... .254, then from .10 again.
fn address(n: u32) -> String {
    format!("203.0.113.{}", 10 + n % 245)
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Ctx>) -> CtrlResult {
    if svc.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let wants = svc
        .spec
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        .is_some_and(|t| t == "LoadBalancer");
    let has = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .is_some_and(|i| !i.is_empty());
    if wants == has {
        return Ok(Action::await_change());
    }
    let ingress = if wants {
        let n = ctx.next.fetch_add(1, Ordering::Relaxed);
        json!([{ "ip": address(n), "ipMode": "VIP" }])
    } else {
        json!([])
    };
    let api: Api<Service> =
        Api::namespaced(ctx.client.clone(), &svc.namespace().unwrap_or_default());
    let body = json!({
        "apiVersion": "v1", "kind": "Service",
        "status": { "loadBalancer": { "ingress": ingress } }
    });
    api.patch_status(
        &svc.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn addresses_stay_in_the_documentation_range() {
        assert_eq!(address(0), "203.0.113.10");
        assert_eq!(address(244), "203.0.113.254");
        assert_eq!(address(245), "203.0.113.10");
    }
}
