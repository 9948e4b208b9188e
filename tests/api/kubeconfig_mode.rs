//! The whole `esaas serve` binary outside Kubernetes: `ESAAS_KUBE=kubeconfig` against the simulated API
//! served over HTTPS on loopback (with ECK installed, so its CustomResourceDefinitions are there). The
//! portal creates a cluster through the API server, and its inspector reaches Elasticsearch the way a
//! portal with a kubeconfig does: a port-forward to a ready pod (`ESAAS_ES_TRANSPORT=auto` picks it), TLS
//! trusting the cluster's `-es-http-certs-public` CA, as its own `esaas-portal` user.

use std::time::Duration;

use esaas::k8s::sim::{Sim, SimOptions};
use esaas::tenants::Role;
use k8s_openapi::api::core::v1::Secret;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::Api;
use crate::common::poll::eventually;
use crate::common::portal_process::Portal;

/// `PUT /<index>` on the simulated Elasticsearch of `esaas-acme/<cluster>`, as the tenant's `elastic` user.
async fn create_index(sim: &Sim, cluster: &str, index: &str, shards: u32, replicas: u32) {
    use base64::Engine;
    let secrets: kube::Api<Secret> = kube::Api::namespaced(sim.client(), "esaas-acme");
    let secret = secrets
        .get(&format!("{cluster}-es-elastic-user"))
        .await
        .unwrap();
    let password = secret.data.unwrap()["elastic"].0.clone();
    let basic = base64::engine::general_purpose::STANDARD
        .encode([b"elastic:".as_slice(), password.as_slice()].concat());
    let body =
        json!({ "settings": { "number_of_shards": shards, "number_of_replicas": replicas } });
    let request = http::Request::put(format!("/{index}"))
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/json")
        .body(bytes::Bytes::from(body.to_string()))
        .unwrap();
    let answer = sim
        .elasticsearch_request("esaas-acme", cluster, request)
        .await
        .unwrap();
    assert_eq!(answer.status(), http::StatusCode::OK, "{:?}", answer.body());
}

#[sqlx::test]
async fn serve_with_a_kubeconfig_inspects_elasticsearch_through_port_forwards(pool: PgPool) {
    let api = Api::start(pool.clone()).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Member)])
        .await;

    let sim = Sim::new(SimOptions {
        kubelet_delay: Duration::from_millis(5),
        ..SimOptions::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sim.clone();
    tokio::spawn(async move { serving.serve(listener).await });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(addr, &kubeconfig).unwrap();

    let portal = Portal::start(
        &pool,
        &[
            ("ESAAS_KUBE", "kubeconfig"),
            ("KUBECONFIG", kubeconfig.to_str().unwrap()),
            ("HOME", dir.path().to_str().unwrap()),
            ("ESAAS_ES_POLL_SECS", "1"),
        ],
    )
    .await;
    assert!(
        portal
            .head
            .iter()
            .any(|l| l.contains("Kubernetes target ready") && l.contains("simulated=false")),
        "the binary drives the served API, not its own simulation: {:?}",
        portal.head
    );
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let token = alice.token.clone();
        let url = portal.url(&path);
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "GET {path}");
            r.json::<Value>().await.unwrap()
        }
    };

    let r = http
        .post(portal.url("/api/v1/tenants/acme/clusters"))
        .bearer_auth(&alice.token)
        .json(&json!({ "name": "logs", "template": "three-nodes" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    eventually(Duration::from_secs(90), "the cluster ready", || async {
        let c = get("/api/v1/tenants/acme/clusters/logs".into()).await;
        (c["status"]["phase"] == "Ready" && c["status"]["available_nodes"] == 3).then_some(())
    })
    .await;
    create_index(&sim, "logs", "events", 3, 1).await;

    let shards = eventually(
        Duration::from_secs(90),
        "six started copies seen by the portal",
        || async {
            let s = get("/api/v1/tenants/acme/clusters/logs/shards?index=events".into()).await;
            let items = s["items"].as_array().cloned().unwrap_or_default();
            (items.len() == 6 && items.iter().all(|i| i["state"] == "STARTED")).then_some(items)
        },
    )
    .await;
    let on: std::collections::BTreeSet<&str> =
        shards.iter().filter_map(|s| s["node"].as_str()).collect();
    assert_eq!(on.len(), 3, "{shards:?}");
    let nodes = get("/api/v1/tenants/acme/clusters/logs/nodes".into()).await;
    assert_eq!(nodes["items"].as_array().unwrap().len(), 3, "{nodes}");
    assert!(nodes["observed_at"].is_string(), "{nodes}");
    let forwards = sim
        .request_counts()
        .get("portforward")
        .copied()
        .unwrap_or(0);
    assert!(
        forwards >= 1,
        "Elasticsearch was reached through the pods' portforward subresource: {:?}",
        sim.request_counts()
    );

    let (code, log) = portal.stop().await;
    assert_eq!(code, Some(0), "{log:?}");
    assert!(
        !log.iter().any(|l| l.contains("authentication failed")),
        "the portal's own user was accepted: {log:?}"
    );
}
