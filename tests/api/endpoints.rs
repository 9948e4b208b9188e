//! `endpoints` of a cluster under each way the platform exposes clusters (`ESAAS_EXPOSE`): internal only
//! (external `null`), an Ingress per cluster (the Ingress exists in Kubernetes, follows the IP allow-list
//! and goes with the cluster) and load balancers (the address the simulated cloud controller gave the
//! HTTP Services, as the observer recorded it); and the allow-list's field errors.

use std::time::Duration;

use esaas::k8s::expose::{Exposure, IngressSettings, IngressTls};
use esaas::tenants::Role;
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use kube::Api as KubeApi;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::common::TestApp;
use crate::common::poll::eventually;
use crate::{Api, problem};

async fn start(pool: PgPool, exposure: Exposure, background: bool) -> (Api, String) {
    let tweak = move |c: &mut esaas::config::Config| c.exposure = exposure;
    let app = if background {
        let (app, shutdown) = TestApp::spawn_with_background(pool, tweak).await;
        // The tasks stop with the test's runtime.
        std::mem::forget(shutdown);
        app
    } else {
        TestApp::spawn_with(pool, tweak).await
    };
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
    (api, alice.token)
}

async fn endpoints(api: &Api, token: &str) -> Value {
    let r = api.get("/api/v1/tenants/acme/clusters/logs", token).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    body["endpoints"].clone()
}

fn ingress_mode() -> Exposure {
    Exposure::Ingress(IngressSettings {
        domain: "search.example.com".into(),
        class: Some("nginx".into()),
        tls: IngressTls::ClusterIssuer("letsencrypt".into()),
    })
}

#[sqlx::test]
async fn internal_only_clusters_have_no_external_endpoints(pool: PgPool) {
    let (api, token) = start(pool, Exposure::Internal, false).await;
    assert_eq!(
        endpoints(&api, &token).await,
        json!({
            "elasticsearch": {"internal": "https://logs-es-http.esaas-acme.svc:9200", "external": null},
            "kibana": {"internal": "https://logs-kb-http.esaas-acme.svc:5601", "external": null}
        })
    );
}

#[sqlx::test]
async fn ingress_clusters_get_their_ingress_and_external_hosts(pool: PgPool) {
    let (api, token) = start(pool, ingress_mode(), true).await;
    assert_eq!(
        endpoints(&api, &token).await,
        json!({
            "elasticsearch": {"internal": "https://logs-es-http.esaas-acme.svc:9200",
                              "external": "https://logs-acme.search.example.com"},
            "kibana": {"internal": "https://logs-kb-http.esaas-acme.svc:5601",
                       "external": "https://logs-acme-kibana.search.example.com"}
        })
    );
    let ingresses: KubeApi<Ingress> =
        KubeApi::namespaced(api.app.state.kube.client.clone(), "esaas-acme");
    let ingress = eventually(Duration::from_secs(30), "the cluster's Ingress", || async {
        ingresses.get_opt("logs").await.unwrap()
    })
    .await;
    let labels = ingress.metadata.labels.clone().unwrap();
    assert_eq!(labels["esaas.io/cluster"], "logs");
    assert_eq!(labels["app.kubernetes.io/managed-by"], "esaas");
    let hosts: Vec<String> = ingress
        .spec
        .unwrap()
        .rules
        .unwrap()
        .into_iter()
        .filter_map(|r| r.host)
        .collect();
    assert_eq!(
        hosts,
        [
            "logs-acme.search.example.com",
            "logs-acme-kibana.search.example.com"
        ]
    );

    // The allow-list reaches the Ingress once the cluster is idle again.
    eventually(
        Duration::from_secs(30),
        "the cluster to be ready",
        || async {
            let r = api.get("/api/v1/tenants/acme/clusters/logs", &token).await;
            let body: Value = r.json().await.unwrap();
            (body["status"]["phase"] == "Ready").then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "the allow-list change accepted",
        || async {
            let r = api
                .send(
                    Method::PATCH,
                    "/api/v1/tenants/acme/clusters/logs",
                    &token,
                    &json!({ "ip_allow_list": ["203.0.113.0/24", "198.51.100.7"] }),
                )
                .await;
            (r.status() == StatusCode::ACCEPTED).then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "the Ingress's source range",
        || async {
            let ingress = ingresses.get("logs").await.unwrap();
            (ingress
                .metadata
                .annotations?
                .get("nginx.ingress.kubernetes.io/whitelist-source-range")?
                == "198.51.100.7/32,203.0.113.0/24")
                .then_some(())
        },
    )
    .await;

    // Deleting the cluster deletes its Ingress.
    let r = api
        .send(
            Method::DELETE,
            "/api/v1/tenants/acme/clusters/logs?confirm_name=logs",
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    eventually(Duration::from_secs(30), "the Ingress to go", || async {
        ingresses
            .get_opt("logs")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

#[sqlx::test]
async fn load_balanced_clusters_show_the_address_their_load_balancer_got(pool: PgPool) {
    let (api, token) = start(pool, Exposure::LoadBalancer, true).await;
    let found = eventually(
        Duration::from_secs(30),
        "both load balancer addresses",
        || async {
            let e = endpoints(&api, &token).await;
            (e["elasticsearch"]["external"].is_string() && e["kibana"]["external"].is_string())
                .then_some(e)
        },
    )
    .await;
    let es = found["elasticsearch"]["external"].as_str().unwrap();
    let kibana = found["kibana"]["external"].as_str().unwrap();
    assert!(
        es.starts_with("https://203.0.113.") && es.ends_with(":9200"),
        "{es}"
    );
    assert!(
        kibana.starts_with("https://203.0.113.") && kibana.ends_with(":5601"),
        "{kibana}"
    );
    assert_ne!(
        es.trim_end_matches(":9200"),
        kibana.trim_end_matches(":5601")
    );
    let policies: KubeApi<NetworkPolicy> =
        KubeApi::namespaced(api.app.state.kube.client.clone(), "esaas-acme");
    let filter = eventually(Duration::from_secs(30), "the traffic filter", || async {
        policies.get_opt("logs-traffic-filter").await.unwrap()
    })
    .await;
    let from = &filter.spec.unwrap().ingress.unwrap()[0]
        .from
        .clone()
        .unwrap();
    let cidrs: Vec<String> = from
        .iter()
        .filter_map(|p| p.ip_block.as_ref().map(|b| b.cidr.clone()))
        .collect();
    assert_eq!(cidrs, ["0.0.0.0/0", "::/0"], "no allow-list: open");
    assert!(
        policies
            .get_opt("esaas-tenant-isolation")
            .await
            .unwrap()
            .is_some(),
        "the tenant isolation stays"
    );
}

#[sqlx::test]
async fn allow_list_errors_point_at_the_entry(pool: PgPool) {
    let (api, token) = start(pool, Exposure::Internal, false).await;
    let t: uuid::Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'acme'")
        .fetch_one(api.pool())
        .await
        .unwrap();
    api.settle(t, "logs").await;
    let path = "/api/v1/tenants/acme/clusters/logs";
    let r = api
        .send(
            Method::PATCH,
            path,
            &token,
            &json!({ "ip_allow_list": ["10.1.2.3/8", "office"] }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors[0]["pointer"], "/ip_allow_list/0", "{p}");
    assert!(
        errors[0]["detail"]
            .as_str()
            .unwrap()
            .contains("did you mean 10.0.0.0/8"),
        "{p}"
    );
    assert_eq!(errors[1]["pointer"], "/ip_allow_list/1", "{p}");
    let many: Vec<String> = (0..33).map(|i| format!("10.0.{i}.0/24")).collect();
    let r = api
        .send(
            Method::PATCH,
            path,
            &token,
            &json!({ "ip_allow_list": many }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/ip_allow_list", "{p}");

    // On create, inside the spec.
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &token,
            &json!({ "name": "other", "spec": { "version": "9.2.1", "ip_allow_list": ["2001:db8::/129"],
                "node_sets": [{ "name": "d", "roles": ["master", "data"], "count": 1, "cpu_millis": 1000,
                                "memory_mib": 2048, "storage_gib": 10 }] } }),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/spec/ip_allow_list/0", "{p}");

    // A good list is stored sorted and shown in the spec.
    let r = api
        .send(
            Method::PATCH,
            path,
            &token,
            &json!({ "ip_allow_list": ["203.0.113.0/24", "2001:db8::1"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = api.get(path, &token).await.json().await.unwrap();
    assert_eq!(
        body["spec"]["ip_allow_list"],
        json!(["203.0.113.0/24", "2001:db8::1/128"])
    );
}
