//! kubectl against the emulator served on a loopback port, with the kubeconfig the emulator writes (its bearer
//! token inside): get -A, get -o yaml, apply --server-side (with a conflict), get --watch and delete; without
//! the token kubectl is refused. Without kubectl on PATH it is skipped with a message, or fails where skips
//! are forbidden (`CI`, scripts/test.sh, which installs kubectl through scripts/lib/ensure-kubectl.sh).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use kube::Api;
use kube::api::DynamicObject;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::common::{eventually, with_controllers};
use crate::controllers::es_ar;

const MANIFEST: &str = "apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: quickstart
  namespace: default
spec:
  version: 8.15.0
  nodeSets:
  - name: default
    count: 2
    config:
      node.store.allow_mmap: false
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
";

/// The client's minor version (`20` for 1.20), or `None` when no working kubectl is on PATH.
fn kubectl_minor_version() -> Option<u32> {
    let out = std::process::Command::new("kubectl")
        .args(["version", "--client", "-o", "json"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let version: Value = serde_json::from_slice(&out.stdout).ok()?;
    let minor = version["clientVersion"]["minor"].as_str()?;
    minor.trim_end_matches('+').parse().ok()
}

/// Extra `apply` arguments for this kubectl: clients before 1.27 validate against `/openapi/v2`, which the
/// emulator does not serve (it serves the v3 documents newer clients validate with), so for them (Debian's
/// `kubernetes-client` is 1.20) client-side validation is turned off.
fn apply_args(minor: u32) -> &'static [&'static str] {
    if minor < 27 {
        &["--validate=false"]
    } else {
        &[]
    }
}

async fn kubectl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(args)
        .output()
        .await
        .expect("run kubectl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_apply_watch_delete() {
    let Some(minor) = kubectl_minor_version() else {
        crate::skip::skip_or_fail(
            "kubectl_get_apply_watch_delete",
            "`kubectl` is not on PATH (scripts/lib/ensure-kubectl.sh installs it)",
        );
        return;
    };
    let sim = with_controllers();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = sim.clone();
    tokio::spawn(async move { server.serve(listener).await });
    let dir = tempfile::tempdir().expect("tempdir");
    sim.write_kubeconfig(addr, &dir.path().join("kubeconfig"))
        .expect("kubeconfig");
    let manifest = dir.path().join("es.yaml");
    std::fs::write(&manifest, MANIFEST).expect("manifest");
    let d = dir.path();

    let manifest_path = manifest.to_str().unwrap_or_default();
    let apply = |extra: &[&'static str]| {
        let mut args = vec!["apply", "--server-side"];
        args.extend_from_slice(apply_args(minor));
        args.extend_from_slice(extra);
        args.extend(["-f", manifest_path]);
        args
    };
    let (ok, out) = kubectl(d, &apply(&[])).await;
    assert!(ok && out.contains("serverside-applied"), "{out}");
    let api: Api<DynamicObject> = Api::default_namespaced_with(sim.client(), &es_ar());
    eventually(Duration::from_secs(20), "green", || async {
        let o = api.get("quickstart").await.ok()?;
        (o.data["status"]["health"] == "green").then_some(())
    })
    .await;

    let (ok, out) = kubectl(d, &["get", "elasticsearch,sts,pods", "-A"]).await;
    assert!(ok, "{out}");
    for needle in [
        "NAMESPACE",
        "quickstart",
        "green",
        "Ready",
        "statefulset.apps/quickstart-es-default",
        "pod/quickstart-es-default-1",
        "2/2",
    ] {
        assert!(out.contains(needle), "missing {needle} in:\n{out}");
    }

    // ECK's definitions are installed, as `kubectl get crd` shows.
    let (ok, out) = kubectl(d, &["get", "crd"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("elasticsearches.elasticsearch.k8s.elastic.co")
            && out.contains("kibanas.kibana.k8s.elastic.co"),
        "{out}"
    );

    let (ok, out) = kubectl(d, &["get", "es", "quickstart", "-o", "yaml"]).await;
    assert!(ok, "{out}");
    let doc: Value = serde_yaml::from_str(&out).expect("yaml");
    assert_eq!(doc["status"]["phase"], "Ready");
    assert!(
        doc["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty())
    );

    // A second field manager changing kubectl's field conflicts.
    let conflicting = MANIFEST.replace("mode: fast", "mode: slow");
    std::fs::write(&manifest, conflicting).expect("manifest");
    let (ok, out) = kubectl(d, &apply(&["--field-manager", "other"])).await;
    assert!(!ok && out.to_lowercase().contains("conflict"), "{out}");

    // get --watch prints the current pods, then keeps streaming.
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(d.join("kubeconfig"))
        .arg("--cache-dir")
        .arg(d.join("cache"))
        .args(["get", "pods", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn watch");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut first = Vec::new();
    while first.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await {
            Ok(Ok(Some(l))) => first.push(l),
            other => panic!("kubectl get --watch stopped early: {other:?} after {first:?}"),
        }
    }
    assert!(first[0].starts_with("NAME"), "{first:?}");
    assert!(
        first[1..]
            .iter()
            .all(|l| l.starts_with("quickstart-es-default-")),
        "{first:?}"
    );
    let _ = child.kill().await;

    let (ok, out) = kubectl(d, &["delete", "elasticsearch", "quickstart"]).await;
    assert!(ok && out.contains("deleted"), "{out}");
    let (ok, out) = kubectl(d, &["get", "sts,pods"]).await;
    assert!(ok && !out.contains("quickstart"), "{out}");

    // The same kubeconfig without the token is refused.
    let config = std::fs::read_to_string(d.join("kubeconfig")).expect("kubeconfig");
    assert!(config.contains(sim.api_token()));
    std::fs::write(
        d.join("kubeconfig"),
        config.replace(sim.api_token(), "guessed"),
    )
    .expect("kubeconfig");
    let (ok, out) = kubectl(d, &["get", "pods"]).await;
    assert!(!ok && out.contains("Unauthorized"), "{out}");
}
