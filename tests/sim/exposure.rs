//! The emulator served on a socket: HTTPS with its own CA, loopback binds only (unless allowed), a bearer token
//! from the written kubeconfig on every request, `Host` checked against DNS rebinding, and only the body media
//! types a real API server decodes (a browser's cross-site `text/plain` POST creates nothing). The in-process
//! client needs none of it. Raw requests go through kube-rs (`Client::send`), configured from the kubeconfig
//! the emulator writes (with or without its token).

use std::net::SocketAddr;
use std::path::PathBuf;

use http_body_util::BodyExt as _;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

use crate::common::{api_only, raw};

/// Serve `sim` on a loopback port; returns the address.
async fn served(sim: &esaas::k8s::sim::Sim) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = sim.clone();
    tokio::spawn(async move { server.serve(listener).await });
    addr
}

/// The kubeconfig the emulator writes for `addr`, in a temporary directory.
fn kubeconfig(sim: &esaas::k8s::sim::Sim, addr: SocketAddr) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    sim.write_kubeconfig(addr, &path).expect("kubeconfig");
    (dir, path)
}

/// A kube-rs client from the kubeconfig (as `ESAAS_KUBE=kubeconfig` builds it), without the token unless
/// `with_token`.
async fn client(sim: &esaas::k8s::sim::Sim, addr: SocketAddr, with_token: bool) -> kube::Client {
    let (_dir, path) = kubeconfig(sim, addr);
    let kubeconfig = Kubeconfig::read_from(&path).expect("parse kubeconfig");
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("config");
    if !with_token {
        config.auth_info.token = None;
    }
    kube::Client::try_from(config).expect("client")
}

/// A raw HTTPS request: (status, JSON body or Null). A `Host` in `headers` replaces the URL's.
async fn http(
    client: &kube::Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(kube::client::Body::from(
            body.unwrap_or("").as_bytes().to_vec(),
        ))
        .expect("request");
    let r = client.send(req).await.expect("request");
    let status = r.status().as_u16();
    let bytes = r
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn every_served_request_needs_the_token_from_the_kubeconfig() {
    let sim = api_only();
    let addr = served(&sim).await;
    let anonymous = client(&sim, addr, false).await;
    for path in [
        "/api/v1/namespaces",
        "/api/v1/namespaces/default/secrets",
        "/version",
        "/healthz",
        "/api/v1/namespaces/default/services/x-es-http:9200/proxy/",
    ] {
        let (code, body) = http(&anonymous, "GET", path, &[], None).await;
        assert_eq!(code, 401, "{path}: {body}");
        assert_eq!(body["kind"], "Status", "{path}");
        assert_eq!(body["reason"], "Unauthorized", "{path}");
    }
    let wrong = format!("Bearer {}x", sim.api_token());
    let (code, _) = http(
        &anonymous,
        "GET",
        "/api/v1/namespaces",
        &[("authorization", &wrong)],
        None,
    )
    .await;
    assert_eq!(code, 401);

    // The kubeconfig carries the CA and the token, is private, and is what kube-rs
    // (ESAAS_KUBE=kubeconfig) and kubectl read.
    let (_dir, path) = kubeconfig(&sim, addr);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        sim.write_kubeconfig(addr, &path).expect("rewrite");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(sim.api_token()));
    assert!(text.contains(&format!("server: https://{addr}")), "{text}");
    let authorised = client(&sim, addr, true).await;
    let (code, list) = http(&authorised, "GET", "/api/v1/namespaces", &[], None).await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["kind"], "NamespaceList");
    let names: Vec<String> = Api::<Namespace>::all(authorised)
        .list(&ListParams::default())
        .await
        .expect("kube-rs lists through the served port")
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.contains(&"default".to_owned()), "{names:?}");

    // Another simulator has another token and another CA.
    let other = api_only();
    assert_ne!(other.api_token(), sim.api_token());
    assert_ne!(other.ca_pem().expect("ca"), sim.ca_pem().expect("ca"));
}

#[tokio::test]
async fn hosts_other_than_loopback_are_refused_against_dns_rebinding() {
    let sim = api_only();
    let addr = served(&sim).await;
    let c = client(&sim, addr, true).await;
    let port = addr.port();
    for host in ["evil.example", "attacker.test:8081", "192.0.2.7"] {
        let (code, body) = http(
            &c,
            "GET",
            "/api/v1/namespaces/default/secrets",
            &[("host", host)],
            None,
        )
        .await;
        assert_eq!(code, 403, "{host}: {body}");
        assert_eq!(body["kind"], "Status");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let (code, _) = http(
            &c,
            "GET",
            "/api/v1/namespaces/default/secrets",
            &[("host", &host)],
            None,
        )
        .await;
        assert_eq!(code, 200, "{host}");
    }
}

#[tokio::test]
async fn only_the_media_types_of_a_real_api_server_are_decoded() {
    let sim = api_only();
    let addr = served(&sim).await;
    let cms = "/api/v1/namespaces/default/configmaps";
    let body =
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"planted"},"data":{"a":"b"}}"#;

    // What a web page can send cross-site without a preflight: no token, and a "simple" content type.
    let anonymous = client(&sim, addr, false).await;
    let (code, _) = http(
        &anonymous,
        "POST",
        cms,
        &[("content-type", "text/plain;charset=UTF-8")],
        Some(body),
    )
    .await;
    assert_eq!(code, 401);
    // Even with the token, such bodies are not decoded.
    let c = client(&sim, addr, true).await;
    for ct in [
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (code, status) = http(&c, "POST", cms, &[("content-type", ct)], Some(body)).await;
        assert_eq!(code, 415, "{ct}: {status}");
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["reason"], "UnsupportedMediaType");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.contains("application/json")),
            "{status}"
        );
    }
    let (code, _) = raw(&sim, "GET", &format!("{cms}/planted"), "", "").await;
    assert_eq!(code, 404, "nothing was created");
    let (code, _) = raw(&sim, "PUT", &format!("{cms}/planted"), "text/plain", body).await;
    assert_eq!(code, 415);
    let (code, _) = raw(
        &sim,
        "DELETE",
        &format!("{cms}/planted"),
        "text/plain",
        "{}",
    )
    .await;
    assert_eq!(code, 415, "a delete body is decoded like any other");

    // JSON and YAML are what a real server takes (no Content-Type means JSON).
    let (code, created) = http(
        &c,
        "POST",
        cms,
        &[("content-type", "application/json")],
        Some(body),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: b\n";
    let (code, created) = raw(&sim, "POST", cms, "application/yaml", yaml).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["data"]["a"], "b");

    // The in-process client (no socket) needs neither token nor Host.
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "in-process" }, "data": { "k": "v" }
    }))
    .expect("configmap");
    Api::<ConfigMap>::namespaced(sim.client(), "default")
        .create(&PostParams::default(), &cm)
        .await
        .expect("in-process create");
}

#[tokio::test]
async fn non_loopback_listeners_are_refused_unless_allowed() {
    let sim = api_only();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0")
        .await
        .expect("bind");
    let e = sim.serve(listener).await.expect_err("refused");
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("ESAAS_SIM_LISTEN_ALLOW_REMOTE"),
        "{e}"
    );
    let wildcard: SocketAddr = "0.0.0.0:8081".parse().expect("addr");
    assert!(esaas::k8s::sim::Sim::check_listen(wildcard, false).is_err());
    assert!(esaas::k8s::sim::Sim::check_listen(wildcard, true).is_ok());

    // Allowed explicitly, the token is still required.
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = sim.clone();
    tokio::spawn(async move { server.serve_remote(listener).await });
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let (code, _) = http(
        &client(&sim, addr, false).await,
        "GET",
        "/api/v1/namespaces",
        &[],
        None,
    )
    .await;
    assert_eq!(code, 401);
    let (code, _) = http(
        &client(&sim, addr, true).await,
        "GET",
        "/api/v1/namespaces",
        &[],
        None,
    )
    .await;
    assert_eq!(code, 200);
}
