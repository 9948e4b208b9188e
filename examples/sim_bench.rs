//! Scale benchmark of the simulated Kubernetes: creates N Elasticsearch objects (default 10,000; one node set of 3
//! nodes each, spread over 100 tenant namespaces) with the simulated controllers on and an instant kubelet, waits
//! until every cluster is green, then prints process RSS, CPU time, and p50/p99 latencies of a server-side apply
//! and of lists with a label selector at that size.
//!
//! Run: `cargo run --release --example sim_bench [N]`.

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use serde_json::json;

use esaas::k8s::sim::{Sim, SimOptions};

const NAMESPACES: usize = 100;

fn es_ar() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("elasticsearch.k8s.elastic.co", "v1", "Elasticsearch"),
        "elasticsearches",
    )
}

fn tenant(i: usize) -> String {
    format!("tenant-{:03}", i % NAMESPACES)
}

fn es_body(i: usize, iteration: Option<usize>) -> serde_json::Value {
    let name = format!("es-{i:05}");
    let mut annotations = json!({});
    if let Some(it) = iteration {
        annotations["bench.esaas.io/iteration"] = json!(it.to_string());
    }
    json!({
        "apiVersion": "elasticsearch.k8s.elastic.co/v1",
        "kind": "Elasticsearch",
        "metadata": {
            "name": name,
            "namespace": tenant(i),
            "labels": { "app.kubernetes.io/managed-by": "esaas", "esaas.io/tenant": tenant(i), "esaas.io/cluster": name },
            "annotations": annotations,
        },
        "spec": { "version": "8.15.0", "nodeSets": [{ "name": "default", "count": 3, "config": { "node.roles": ["master", "data", "ingest"] } }] }
    })
}

/// (VmRSS, VmHWM) in MiB.
fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU seconds of the process (clock ticks assumed at 100 Hz, the Linux default).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // After the command name: field 3 is state, so utime (14) and stime (15) are at 11 and 12.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    (at(0.50), at(0.99))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let sim = Sim::new(SimOptions {
        kubelet_delay: Duration::ZERO,
        run_controllers: true,
        ..SimOptions::default()
    });
    let client = sim.client();
    let nss: Api<Namespace> = Api::all(client.clone());
    for i in 0..NAMESPACES.min(n) {
        nss.create(
            &PostParams::default(),
            &serde_json::from_value(json!({ "metadata": { "name": tenant(i) } }))?,
        )
        .await?;
    }
    let (t0, cpu0) = (Instant::now(), cpu_seconds());
    let created = stream::iter(0..n)
        .map(|i| {
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), &tenant(i), &es_ar());
            async move {
                let obj: DynamicObject = serde_json::from_value(es_body(i, None))?;
                api.create(&PostParams::default(), &obj)
                    .await
                    .map(|_| ())
                    .map_err(anyhow::Error::from)
            }
        })
        .buffer_unordered(32)
        .filter(|r| futures::future::ready(r.is_ok()))
        .count()
        .await;
    println!(
        "created {created} Elasticsearch objects in {:.1?}",
        t0.elapsed()
    );

    let all_es: Api<DynamicObject> = Api::all_with(client.clone(), &es_ar());
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let list = all_es.list(&ListParams::default()).await?;
        let green = list
            .items
            .iter()
            .filter(|o| o.data["status"]["health"] == "green")
            .count();
        let (rss, _) = memory_mib();
        println!(
            "  t={:>6.1?} green {green}/{created}  rss {rss} MiB  cpu {:.0}s  watches expired (410) {}",
            t0.elapsed(),
            cpu_seconds() - cpu0,
            sim.watches_expired()
        );
        if green == created {
            break;
        }
        if t0.elapsed() > Duration::from_secs(3600) {
            anyhow::bail!("clusters did not converge within an hour");
        }
    }
    let converged = t0.elapsed();
    let cpu_converge = cpu_seconds() - cpu0;
    let pods: Api<Pod> = Api::all(client.clone());
    let t = Instant::now();
    let pod_count = pods.list(&ListParams::default()).await?.items.len();
    let full_list = t.elapsed();

    let samples = 500.min(n);
    let step = (n / samples).max(1);
    let mut apply = Vec::new();
    for k in 0..samples {
        let i = (k * step) % n;
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &tenant(i), &es_ar());
        let t = Instant::now();
        api.patch(
            &format!("es-{i:05}"),
            &PatchParams::apply("esaas-portal"),
            &Patch::Apply(es_body(i, Some(k))),
        )
        .await?;
        apply.push(t.elapsed());
    }
    let mut by_cluster = Vec::new();
    for k in 0..samples {
        let i = (k * step + 7) % n;
        let t = Instant::now();
        let got = pods
            .list(&ListParams::default().labels(&format!(
                "elasticsearch.k8s.elastic.co/cluster-name=es-{i:05}"
            )))
            .await?;
        by_cluster.push(t.elapsed());
        anyhow::ensure!(
            got.items.len() == 3,
            "expected 3 pods for es-{i:05}, got {}",
            got.items.len()
        );
    }
    let mut by_tenant = Vec::new();
    for k in 0..100 {
        let t = Instant::now();
        all_es
            .list(&ListParams::default().labels(&format!(
                "esaas.io/tenant={},app.kubernetes.io/managed-by=esaas",
                tenant(k)
            )))
            .await?;
        by_tenant.push(t.elapsed());
    }
    let (rss, hwm) = memory_mib();
    let (a50, a99) = percentiles(apply);
    let (c50, c99) = percentiles(by_cluster);
    let (t50, t99) = percentiles(by_tenant);
    println!("\n== simulated Kubernetes at {created} Elasticsearch ({pod_count} pods) ==");
    println!("all green after            {converged:.1?} (CPU {cpu_converge:.1} s)");
    println!("process RSS                {rss} MiB (peak {hwm} MiB)");
    println!("process CPU time total     {:.1} s", cpu_seconds());
    println!("server-side apply (ES)     p50 {a50:.2?}  p99 {a99:.2?}  ({samples} samples)");
    println!(
        "list pods by cluster label p50 {c50:.2?}  p99 {c99:.2?}  (3 of {pod_count} pods, all namespaces)"
    );
    println!(
        "list ES by tenant labels   p50 {t50:.2?}  p99 {t99:.2?}  ({} of {created})",
        created / NAMESPACES.min(n)
    );
    println!("list all pods              {full_list:.2?}");
    println!(
        "watches expired (410)      {} (each one is a relist by a client)",
        sim.watches_expired()
    );
    println!("portal-side requests       {:?}", sim.request_counts());
    for (kind, (count, bytes)) in sim.store_stats() {
        if count > 0 {
            println!(
                "  stored {kind:<24} {count:>7} objects {:>8} KiB",
                bytes / 1024
            );
        }
    }
    Ok(())
}
