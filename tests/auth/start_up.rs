//! `esaas serve` refuses to start against a Kubernetes without the ECK custom resource definitions: the
//! kubeconfig path (`ESAAS_KUBE=kubeconfig`) against the simulated API served over HTTPS on loopback, which
//! serves no `CustomResourceDefinition`s, so the ECK ones are missing there as on a bare cluster.

use std::time::Duration;

use esaas::k8s::sim::{Sim, SimOptions};
use sqlx::PgPool;

use super::portal_process::database_url;

#[sqlx::test]
async fn serve_refuses_a_cluster_without_the_eck_crds(pool: PgPool) {
    let sim = Sim::new(SimOptions {
        run_controllers: false,
        ..SimOptions::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sim.clone();
    tokio::spawn(async move { serving.serve(listener).await });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(addr, &kubeconfig).unwrap();
    sim.reset_request_counts();

    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_esaas"))
            .arg("serve")
            .env("DATABASE_URL", database_url(&pool))
            .env("ESAAS_LISTEN", "127.0.0.1:0")
            .env("ESAAS_KUBE", "kubeconfig")
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .env("RUST_LOG", "info")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("esaas serve gives up within 60 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "the ECK CRD elasticsearches.elasticsearch.k8s.elastic.co is not installed in this cluster"
        ) && stderr.contains("ESAAS_KUBE=sim"),
        "a message that says what is missing and what to do: {stderr}"
    );
    assert!(
        !stdout.contains("ESaaS Portal listening"),
        "it never served: {stdout}"
    );
    // The refusal came from asking this API server (over the kubeconfig's HTTPS, with its token).
    assert!(
        sim.request_counts().get("get").copied().unwrap_or(0) >= 1,
        "{:?}",
        sim.request_counts()
    );
}
