//! What a new simulated cluster holds before anyone writes: the namespaces every cluster has, the simulated
//! nodes, and a CustomResourceDefinition for each registered custom kind (as installing ECK's CRDs leaves
//! them), so clients that check for the definitions (`esaas serve` in kubeconfig mode) find them.

use serde_json::json;

use super::{Shared, admission, meta, registry, write};

/// Namespaces, nodes and the definitions of the custom kinds every cluster starts with.
pub(super) fn seed(sh: &Shared) {
    seed_definitions(sh);
    let reg = &sh.registry;
    let create = |plural: &str, body: serde_json::Value| {
        if let Some(kind) = reg.find("", "v1", plural) {
            let w = admission::WriteReq {
                kind,
                ns: None,
                manager: "esaas-sim".into(),
                dry_run: false,
                status_sub: false,
            };
            if let Err(e) = write::create(sh, &w, body) {
                tracing::warn!("seeding simulated Kubernetes: {e}");
            }
        }
    };
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        create("namespaces", json!({ "metadata": { "name": ns } }));
    }
    let cpu = format!("{}m", sh.nodes.cpu_millis);
    let memory = format!("{}Mi", sh.nodes.memory_mib);
    for node in sh.nodes.names() {
        create(
            "nodes",
            json!({
                "metadata": { "name": node, "labels": { "kubernetes.io/hostname": node, "kubernetes.io/os": "linux" } },
                "spec": {},
                "status": {
                    "capacity": { "cpu": cpu, "memory": memory, "pods": "110" },
                    "allocatable": { "cpu": cpu, "memory": memory, "pods": "110" },
                    "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady", "lastTransitionTime": meta::now() }],
                    "nodeInfo": { "kubeletVersion": "v1.33.0-esaas-sim", "osImage": "simulated", "architecture": "amd64", "operatingSystem": "linux" }
                }
            }),
        );
    }
}

/// One CustomResourceDefinition per registered custom kind, as applying the operator's CRDs leaves them
/// (Established, names accepted). The schema is ECK's in a real cluster; here it preserves unknown fields, as
/// the emulator does not validate custom resources against a schema.
fn seed_definitions(sh: &Shared) {
    let reg = &sh.registry;
    let Some(kind) = reg.find("apiextensions.k8s.io", "v1", "customresourcedefinitions") else {
        return;
    };
    let w = admission::WriteReq {
        kind,
        ns: None,
        manager: "esaas-sim".into(),
        dry_run: false,
        status_sub: false,
    };
    // Created, then given its status through the status subresource, as the API server's CRD controller
    // does (a create keeps no status of a kind that has the subresource).
    let status = admission::WriteReq {
        status_sub: true,
        ..w.clone()
    };
    for (_, custom) in reg.iter().filter(|(_, k)| k.custom) {
        let crd = definition(custom);
        let name = meta::name(&crd).to_owned();
        let made = write::create(sh, &w, crd.clone())
            .and_then(|_| write::replace(sh, &status, &name, crd));
        if let Err(e) = made {
            tracing::warn!("seeding simulated Kubernetes: {e}");
        }
    }
}

/// The CustomResourceDefinition object of a custom kind.
fn definition(k: &registry::ResourceKind) -> serde_json::Value {
    let names = json!({
        "kind": k.kind,
        "listKind": k.list_kind(),
        "plural": k.plural,
        "singular": k.singular,
        "shortNames": k.short_names,
        "categories": k.categories,
    });
    let subresources = if k.has_status {
        json!({ "status": {} })
    } else {
        json!({})
    };
    let now = meta::now();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": format!("{}.{}", k.plural, k.group) },
        "spec": {
            "group": k.group,
            "names": names,
            "scope": if k.namespaced { "Namespaced" } else { "Cluster" },
            "versions": [{
                "name": k.version,
                "served": true,
                "storage": true,
                "subresources": subresources,
                "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } }
            }]
        },
        "status": {
            "acceptedNames": names,
            "storedVersions": [k.version],
            "conditions": [
                { "type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now },
                { "type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now }
            ]
        }
    })
}
