//! The reads that need a cluster Kubernetes really runs: with the portal's background tasks (reconciler,
//! watches, observer) on the simulated Kubernetes, `GET .../pods` lists exactly the pods Kubernetes has, all
//! ready, and `POST .../credentials` answers the password stored in the cluster's Secret.

use std::collections::BTreeSet;
use std::time::Duration;

use esaas::tenants::Role;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::Api as KubeApi;
use kube::ResourceExt;
use kube::api::ListParams;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::Api;
use crate::common::TestApp;
use crate::common::poll::eventually;

#[sqlx::test]
async fn pods_and_credentials_of_a_running_cluster(pool: PgPool) {
    let (app, shutdown) = TestApp::spawn_with_background(pool, |_| {}).await;
    let api = Api {
        app,
        http: reqwest::Client::new(),
    };
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Member)])
        .await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &alice.token,
            &json!({ "name": "logs", "template": "three-nodes" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    // The pods as the observer recorded them: three ready Elasticsearch pods (and Kibana's).
    let pods = eventually(Duration::from_secs(30), "three ready pods", || async {
        let r = api
            .get("/api/v1/tenants/acme/clusters/logs/pods", &alice.token)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let pods: Value = r.json().await.unwrap();
        let es: Vec<&Value> = pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["component"] == "elasticsearch")
            .collect();
        (es.len() == 3 && es.iter().all(|p| p["ready"] == true)).then_some(pods)
    })
    .await;
    let kube = api.app.state.kube.client.clone();
    let live: BTreeSet<String> = KubeApi::<Pod>::namespaced(kube.clone(), "esaas-acme")
        .list(&ListParams::default().labels("esaas.io/cluster=logs"))
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.name_any())
        .collect();
    let listed: BTreeSet<String> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, live, "the API lists the pods Kubernetes has");
    for p in pods["items"].as_array().unwrap() {
        if p["component"] == "elasticsearch" {
            assert_eq!(p["node_set"], "default", "{p}");
            assert_eq!(p["phase"], "Running", "{p}");
            assert!(
                p["node_name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("sim-node-")),
                "{p}"
            );
        }
    }

    // The credentials are the Secret's, shown with no-store.
    let secret = KubeApi::<Secret>::namespaced(kube, "esaas-acme")
        .get("logs-es-elastic-user")
        .await
        .expect("the elastic user's Secret");
    let stored = String::from_utf8(secret.data.unwrap()["elastic"].0.clone()).unwrap();
    let r = api
        .req(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/credentials",
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let creds: Value = r.json().await.unwrap();
    assert_eq!(creds["username"], "elastic");
    assert_eq!(creds["password"], stored.as_str());
    assert_eq!(
        creds["endpoint"],
        "https://logs-es-http.esaas-acme.svc:9200"
    );
    shutdown.cancel();
}
