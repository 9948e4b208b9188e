//! Inside a running cluster, end to end on the simulated Kubernetes and its simulated Elasticsearch: the
//! portal's background tasks create a `three-nodes` cluster, `elastic` creates an index of 3 shards and 1
//! replica, the inspector polls (as the portal's own `monitor` user, through the in-process transport), and
//! the API shows six STARTED copies on three nodes; scaled to one node the cluster is yellow with the
//! explanation and the fix; setting replicas to 0 from the portal (audited, role-checked) makes it green.

use std::collections::BTreeSet;
use std::time::Duration;

use esaas::elasticsearch::connect::ClusterAddress;
use esaas::monitoring::inspector::{Inspector, PollOutcome};
use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::common::TestApp;
use crate::common::poll::eventually;
use crate::{Api, problem};

const INDEX: &str = "logs-2026.12.01";

async fn cluster_id(api: &Api, name: &str) -> uuid::Uuid {
    sqlx::query_scalar("SELECT id FROM clusters WHERE name = $1 AND deleted_at IS NULL")
        .bind(name)
        .fetch_one(api.pool())
        .await
        .unwrap()
}

async fn json_of(api: &Api, path: &str, token: &str) -> Value {
    let r = api.get(path, token).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.json().await.unwrap()
}

/// Poll now and return the health report once `check` accepts it.
async fn report_when(
    api: &Api,
    inspector: &Inspector,
    id: uuid::Uuid,
    token: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    eventually(Duration::from_secs(60), what, || async {
        inspector.poll_cluster(id).await.unwrap();
        let report = json_of(
            api,
            "/api/v1/tenants/acme/clusters/logs/health-report",
            token,
        )
        .await;
        check(&report).then_some(report)
    })
    .await
}

#[sqlx::test]
async fn shards_health_and_the_replicas_fix_end_to_end(pool: PgPool) {
    let (app, shutdown) = TestApp::spawn_with_background(pool, |_| {}).await;
    let api = Api {
        app,
        http: reqwest::Client::new(),
    };
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Member)])
        .await;
    let victor = api
        .user("victor@example.com", false, &[(t, Role::Viewer)])
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
    eventually(Duration::from_secs(60), "the cluster ready", || async {
        let c = json_of(&api, "/api/v1/tenants/acme/clusters/logs", &alice.token).await;
        (c["status"]["phase"] == "Ready" && c["status"]["available_nodes"] == 3).then_some(())
    })
    .await;
    let id = cluster_id(&api, "logs").await;
    let state = &api.app.state;
    let inspector = Inspector::new(state);

    // Never polled yet: the API says so instead of inventing data.
    let nodes = json_of(
        &api,
        "/api/v1/tenants/acme/clusters/logs/nodes",
        &alice.token,
    )
    .await;
    assert_eq!(nodes["observed_at"], Value::Null);
    assert_eq!(nodes["items"], json!([]));

    // The tenant's own user creates an index (the portal's user may only read).
    let address = ClusterAddress {
        id,
        tenant_slug: "acme".into(),
        name: "logs".into(),
        tls: true,
    };
    let secret: k8s_openapi::api::core::v1::Secret =
        kube::Api::namespaced(state.kube.client.clone(), "esaas-acme")
            .get("logs-es-elastic-user")
            .await
            .unwrap();
    let elastic_password = String::from_utf8(secret.data.unwrap()["elastic"].0.clone()).unwrap();
    https_transport_reaches_the_cluster(&api, &elastic_password).await;
    let elastic = state.es.elastic_client(&address).await.unwrap();
    elastic.create_index(INDEX, 3, 1).await.unwrap();
    let portal = state.es.portal_client(&address).await.unwrap();
    assert_eq!(portal.username(), "esaas-portal");
    let refused = portal.create_index("not-allowed", 1, 0).await.unwrap_err();
    assert_eq!(
        refused.kind(),
        "forbidden",
        "the portal user has only `monitor`: {refused}"
    );

    // Six STARTED copies on three nodes, each shard's two copies on different nodes.
    let shards = eventually(Duration::from_secs(60), "six started shards", || async {
        assert!(matches!(
            inspector.poll_cluster(id).await.unwrap(),
            Some(PollOutcome::Stored { .. })
        ));
        let page = json_of(
            &api,
            &format!("/api/v1/tenants/acme/clusters/logs/shards?index={INDEX}"),
            &alice.token,
        )
        .await;
        let items = page["items"].as_array().unwrap().clone();
        (items.len() == 6 && items.iter().all(|s| s["state"] == "STARTED")).then_some(items)
    })
    .await;
    let on: BTreeSet<&str> = shards.iter().map(|s| s["node"].as_str().unwrap()).collect();
    assert_eq!(on.len(), 3, "{shards:?}");
    for n in 0..3 {
        let copies: Vec<&Value> = shards.iter().filter(|s| s["shard"] == n).collect();
        assert_eq!(copies.len(), 2);
        assert_ne!(
            copies[0]["node"], copies[1]["node"],
            "never two copies on one node"
        );
        assert_eq!(copies.iter().filter(|c| c["primary"] == true).count(), 1);
    }
    let nodes = json_of(
        &api,
        "/api/v1/tenants/acme/clusters/logs/nodes",
        &alice.token,
    )
    .await;
    assert!(nodes["observed_at"].is_string());
    let items = nodes["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items
            .iter()
            .map(|n| n["shards"].as_u64().unwrap())
            .sum::<u64>(),
        6
    );
    for n in items {
        assert!(
            n["roles"].as_array().unwrap().iter().any(|r| r == "master"),
            "{n}"
        );
        assert!(n["disk_total_bytes"].as_u64().unwrap() > 0, "{n}");
        assert!(n["heap_used_percent"].as_u64().unwrap() <= 100, "{n}");
    }
    let indices = json_of(
        &api,
        "/api/v1/tenants/acme/clusters/logs/indices?health=green",
        &alice.token,
    )
    .await;
    let index = indices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == INDEX)
        .cloned()
        .unwrap();
    assert_eq!(
        (index["primaries"].as_u64(), index["replicas"].as_u64()),
        (Some(3), Some(1))
    );
    let none = json_of(
        &api,
        "/api/v1/tenants/acme/clusters/logs/indices?health=red",
        &alice.token,
    )
    .await;
    assert_eq!(none["items"], json!([]));
    // One poll reads the health before the shards: the poll that saw the last copy start may have read
    // the health a moment earlier, yellow. The next poll reads it green.
    let green = eventually(Duration::from_secs(30), "a green health report", || async {
        inspector.poll_cluster(id).await.unwrap();
        let report = json_of(
            &api,
            "/api/v1/tenants/acme/clusters/logs/health-report",
            &alice.token,
        )
        .await;
        (report["status"] == "green").then_some(report)
    })
    .await;
    assert_eq!(green["problems"], json!([]));

    // Down to one node: every replica has nowhere to go.
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/scale",
            &alice.token,
            &json!({ "node_set": "default", "count": 1 }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let yellow = report_when(
        &api,
        &inspector,
        id,
        &alice.token,
        "yellow with the explanation",
        |r| {
            r["status"] == "yellow"
                && r["problems"][0]["summary"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("3 replicas"))
        },
    )
    .await;
    let p = &yellow["problems"][0];
    assert_eq!(
        p["summary"],
        format!(
            "3 replicas of `{INDEX}` cannot be assigned: every other data node already holds a copy."
        )
    );
    assert_eq!(p["fix"], "Add a data node, or set replicas to 0.");
    assert_eq!(p["indices"], json!([INDEX]));
    let unassigned = json_of(
        &api,
        &format!("/api/v1/tenants/acme/clusters/logs/shards?index={INDEX}"),
        &alice.token,
    )
    .await;
    let unassigned: Vec<&Value> = unassigned["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "UNASSIGNED")
        .collect();
    assert_eq!(unassigned.len(), 3);
    assert!(unassigned.iter().all(|s| s["node"].is_null()
        && s["primary"] == false
        && s["unassigned_reason"].is_string()));

    // A viewer may not apply the fix; a member may, and it is audited.
    let replicas = format!("/api/v1/tenants/acme/clusters/logs/indices/{INDEX}/replicas");
    let r = api
        .send(
            Method::PUT,
            &replicas,
            &victor.token,
            &json!({ "replicas": 0 }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = api
        .send(
            Method::PUT,
            &replicas,
            &alice.token,
            &json!({ "replicas": 99 }),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = api
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/indices/no-such-index/replicas",
            &alice.token,
            &json!({ "replicas": 0 }),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = api
        .send(
            Method::PUT,
            &replicas,
            &alice.token,
            &json!({ "replicas": 0 }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let change: Value = r.json().await.unwrap();
    assert_eq!(
        change,
        json!({ "index": INDEX, "before": 1, "replicas": 0 })
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'cluster.index_replicas' AND outcome = 'ok'",
    )
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);
    report_when(
        &api,
        &inspector,
        id,
        &alice.token,
        "green after replicas 0",
        |r| r["status"] == "green" && r["problems"] == json!([]),
    )
    .await;
    shutdown.cancel();
}

/// A TLS server on loopback with a certificate for `host` from a fresh CA, handing every request to the
/// simulated Elasticsearch of `esaas-acme/logs`: the stand-in for the cluster's `-es-http` Service. Returns
/// the port and the CA in PEM.
async fn https_front(sim: esaas::k8s::sim::Sim, host: &str) -> (u16, String) {
    use std::sync::Arc;

    use http_body_util::BodyExt;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![host.to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let sim = sim.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let sim = sim.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let answer = match sim
                                .elasticsearch_request(
                                    "esaas-acme",
                                    "logs",
                                    http::Request::from_parts(parts, body),
                                )
                                .await
                            {
                                Ok(r) => r,
                                Err(e) => http::Response::builder()
                                    .status(503)
                                    .body(bytes::Bytes::from(e.to_string()))
                                    .unwrap(),
                            };
                            Ok::<_, std::convert::Infallible>(answer.map(http_body_util::Full::new))
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, ca_cert.pem())
}

/// The HTTPS transport (hyper + rustls, the in-cluster path) reaches the simulated Elasticsearch, trusting
/// only the given CA and checking the Service name in the certificate.
async fn https_transport_reaches_the_cluster(api: &Api, elastic_password: &str) {
    use std::sync::Arc;

    use esaas::elasticsearch::client::{ClientOptions, Credentials};
    use esaas::elasticsearch::transport::dial::TcpDialer;
    use esaas::elasticsearch::transport::http::{HttpTransport, TlsSettings};
    use secrecy::SecretString;

    let host = "logs-es-http.esaas-acme.svc";
    let (port, ca) = https_front(api.app.state.kube.sim.clone().unwrap(), host).await;
    let client = |ca: &str, name: &str, password: &str| {
        let transport = HttpTransport::new(
            Arc::new(TcpDialer {
                host: "127.0.0.1".into(),
                port,
            }),
            Some(TlsSettings::new(ca.as_bytes(), name).unwrap()),
            &format!("{host}:9200"),
        );
        esaas::elasticsearch::EsClient::new(
            Arc::new(transport),
            Credentials {
                username: "elastic".into(),
                password: SecretString::from(password.to_owned()),
            },
            ClientOptions::default(),
        )
    };
    let info = client(&ca, host, elastic_password).info().await.unwrap();
    assert_eq!(info.cluster_name, "logs");
    assert_eq!(info.tagline, "You Know, for Search");
    let health = client(&ca, host, elastic_password).health().await.unwrap();
    assert_eq!(health.number_of_nodes, 3);
    let wrong = client(&ca, host, "wrong").info().await.unwrap_err();
    assert_eq!(wrong.kind(), "authentication", "{wrong}");
    let other_name = client(&ca, "other-es-http.esaas-acme.svc", elastic_password)
        .info()
        .await
        .unwrap_err();
    assert_eq!(
        other_name.kind(),
        "tls",
        "the certificate must name the Service: {other_name}"
    );
    let (_, other_ca) = https_front(api.app.state.kube.sim.clone().unwrap(), host).await;
    let untrusted = client(&other_ca, host, elastic_password)
        .info()
        .await
        .unwrap_err();
    assert_eq!(
        untrusted.kind(),
        "tls",
        "only the cluster's CA is trusted: {untrusted}"
    );
}
