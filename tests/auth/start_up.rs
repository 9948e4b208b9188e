//! `esaas serve` refuses to start against a Kubernetes without the ECK custom resource definitions: the
//! kubeconfig path (`ESAAS_KUBE=kubeconfig`) against the simulated API served over HTTPS on loopback, made
//! without ECK (`eck_installed: false`), so the ECK definitions are missing there as on a bare cluster. (With
//! ECK installed the same binary starts: `tests/api/kubeconfig_mode.rs`.)

use std::time::Duration;

use esaas::k8s::sim::{Sim, SimOptions};
use sqlx::PgPool;

use crate::common::portal_process::database_url;

#[sqlx::test]
async fn serve_refuses_a_cluster_without_the_eck_crds(pool: PgPool) {
    let sim = Sim::new(SimOptions {
        run_controllers: false,
        eck_installed: false,
        ..SimOptions::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sim.clone();
    tokio::spawn(async move { serving.serve(listener).await });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(addr, &kubeconfig).unwrap();

    let (code, stdout, stderr) = serve_with(&pool, &kubeconfig, dir.path()).await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
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

    // The refusal is the server's answer: with nothing listening at the kubeconfig's address, the portal
    // says it cannot read the CRD instead.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let unreachable = dir.path().join("unreachable");
    sim.write_kubeconfig(closed_addr, &unreachable).unwrap();
    let (code, stdout, stderr) = serve_with(&pool, &unreachable, dir.path()).await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("cannot read CRD elasticsearches.elasticsearch.k8s.elastic.co")
            && !stderr.contains("is not installed"),
        "{stderr}"
    );
}

/// `esaas serve` in kubeconfig mode with `kubeconfig`: exit code, stdout, stderr.
async fn serve_with(
    pool: &PgPool,
    kubeconfig: &std::path::Path,
    home: &std::path::Path,
) -> (Option<i32>, String, String) {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_esaas"))
            .arg("serve")
            .env("DATABASE_URL", database_url(pool))
            .env("ESAAS_LISTEN", "127.0.0.1:0")
            .env("ESAAS_KUBE", "kubeconfig")
            .env("KUBECONFIG", kubeconfig)
            .env("HOME", home)
            .env("RUST_LOG", "info")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("esaas serve gives up within 60 s")
    .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
