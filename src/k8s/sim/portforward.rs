//! The pods' `portforward` subresource over WebSocket, as kube-rs (`Api::<Pod>::portforward`, feature `ws`)
//! speaks it to a real API server: `GET /api/v1/namespaces/{ns}/pods/{pod}/portforward?ports=9200` with an
//! upgrade to WebSocket, subprotocol `v4.channel.k8s.io` (the binary channel protocol of
//! `k8s.io/apiserver/pkg/util/wsstream`). Every forwarded port `i` has a data channel `2i` and an error
//! channel `2i+1`; each frame starts with its channel byte, and the first frame the server sends on each
//! channel is the port number (two bytes, little-endian).
//!
//! Behind port 9200 of an Elasticsearch pod is that cluster's simulated Elasticsearch, served as the pod's
//! own HTTP endpoint: HTTPS with ECK's HTTP certificate (`<name>-es-http-certs-internal`) unless TLS is
//! disabled on the resource, then HTTP/1.1 with Basic authentication checked by the simulated Elasticsearch.
//! Any other port answers on its error channel as the kubelet does when nothing listens there.
//!
//! Only a served emulator (a socket, [`super::exposure`]) can upgrade a connection; the in-process client
//! gets 400, as it would for any request a real API server cannot serve over that transport.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::Shared;
use super::controllers::eck::{CLUSTER_LABEL, http_certs};
use super::elasticsearch::sync::object;
use super::status::StatusError;

/// The channel protocol spoken.
pub const PROTOCOL: &str = "v4.channel.k8s.io";
/// Elasticsearch's HTTP port.
const ES_HTTP_PORT: u16 = 9200;
/// Largest request body the forwarded Elasticsearch accepts (its `http.max_content_length` default).
const MAX_CONTENT_LENGTH: usize = 100 * 1024 * 1024;

/// `(namespace, pod)` when `path` is a pod's portforward subresource.
pub fn match_path(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (ns, rest) = rest.split_once('/')?;
    let pod = rest.strip_prefix("pods/")?.strip_suffix("/portforward")?;
    (!ns.is_empty() && !pod.is_empty() && !pod.contains('/'))
        .then(|| (ns.to_owned(), pod.to_owned()))
}

/// The ports asked for (`ports=9200,9300` or repeated `ports=`).
fn requested_ports(query: Option<&str>) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if key != "ports" {
            continue;
        }
        for p in value.split(',').filter(|p| !p.is_empty()) {
            match p.trim().parse::<u16>() {
                Ok(port) if port > 0 => ports.push(port),
                _ => return Err(format!("invalid port {p:?}")),
            }
        }
    }
    if ports.is_empty() {
        return Err("at least one port must be specified".into());
    }
    Ok(ports)
}

fn header(req: &Request, name: http::header::HeaderName) -> &str {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Serve one portforward request: check it, answer 101 and forward on a task of its own.
pub async fn serve(sh: Arc<Shared>, mut req: Request) -> Response {
    let Some((ns, pod_name)) = match_path(req.uri().path()) else {
        return StatusError::unknown_resource().into_response();
    };
    if req.method() != http::Method::GET && req.method() != http::Method::POST {
        return StatusError::method_not_allowed(req.method().as_str()).into_response();
    }
    let ports = match requested_ports(req.uri().query()) {
        Ok(p) => p,
        Err(e) => return StatusError::bad_request(e).into_response(),
    };
    let Some(pod) = object(&sh, ("", "pods"), &ns, &pod_name) else {
        return StatusError::not_found("", "pods", &pod_name).into_response();
    };
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    if phase != "Running" {
        return StatusError::bad_request(format!(
            "unable to upgrade connection: pod {pod_name} is not running (phase {phase})"
        ))
        .into_response();
    }
    let upgrade = header(&req, http::header::UPGRADE).eq_ignore_ascii_case("websocket");
    let key = header(&req, http::header::SEC_WEBSOCKET_KEY).to_owned();
    let offered = header(&req, http::header::SEC_WEBSOCKET_PROTOCOL);
    if !upgrade || key.is_empty() {
        return StatusError::bad_request("Upgrade request required").into_response();
    }
    if !offered.split(',').any(|p| p.trim() == PROTOCOL) {
        return StatusError::bad_request(format!(
            "none of the offered WebSocket subprotocols ({offered}) is supported: use {PROTOCOL}"
        ))
        .into_response();
    }
    let Some(on_upgrade) = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return StatusError::bad_request("this connection cannot be upgraded").into_response();
    };
    let cluster = pod
        .pointer("/metadata/labels")
        .and_then(|l| l.get(CLUSTER_LABEL))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let target = Target {
        sh,
        ns,
        pod: pod_name,
        cluster,
    };
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let io = hyper_util::rt::TokioIo::new(upgraded);
                let ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
                forward(ws, &ports, &target).await;
            }
            Err(e) => tracing::debug!(error = %e, "simulated portforward: upgrade failed"),
        }
    });
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    Response::builder()
        .status(http::StatusCode::SWITCHING_PROTOCOLS)
        .header(http::header::UPGRADE, "websocket")
        .header(http::header::CONNECTION, "Upgrade")
        .header(http::header::SEC_WEBSOCKET_ACCEPT, accept)
        .header(http::header::SEC_WEBSOCKET_PROTOCOL, PROTOCOL)
        .body(axum::body::Body::empty())
        .unwrap_or_else(|_| StatusError::from_code(500, "upgrade").into_response())
}

/// What is behind the forwarded ports.
struct Target {
    sh: Arc<Shared>,
    ns: String,
    pod: String,
    /// The Elasticsearch cluster the pod belongs to.
    cluster: Option<String>,
}

/// Move frames between the WebSocket and one in-memory stream per port until either side ends.
async fn forward<S>(ws: WebSocketStream<S>, ports: &[u16], target: &Target)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(16);
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            let close = m.is_close();
            if sink.send(m).await.is_err() || close {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut to_port: Vec<Option<tokio::io::WriteHalf<DuplexStream>>> = Vec::new();
    for (i, &port) in ports.iter().enumerate() {
        let data = (2 * i) as u8;
        for ch in [data, data + 1] {
            let [lo, hi] = port.to_le_bytes();
            let _ = out_tx.send(Message::binary(vec![ch, lo, hi])).await;
        }
        let served = target.cluster.clone().filter(|_| port == ES_HTTP_PORT);
        let Some(cluster) = served else {
            let message = format!(
                "error forwarding port {port} to pod {}: failed to connect to localhost:{port} \
                 inside namespace {:?}: connection refused",
                target.pod, target.ns
            );
            let mut frame = vec![data + 1];
            frame.extend_from_slice(message.as_bytes());
            let _ = out_tx.send(Message::binary(frame)).await;
            to_port.push(None);
            continue;
        };
        let (near, far) = tokio::io::duplex(256 * 1024);
        tokio::spawn(serve_elasticsearch(
            target.sh.clone(),
            target.ns.clone(),
            cluster,
            far,
        ));
        let (mut read, write) = tokio::io::split(near);
        to_port.push(Some(write));
        let out = out_tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match read.read(&mut buf[1..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        buf[0] = data;
                        if out.send(Message::binary(buf[..=n].to_vec())).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
    while let Some(Ok(message)) = stream.next().await {
        match message {
            Message::Binary(mut frame) if frame.len() > 1 => {
                let ch = frame.split_to(1)[0] as usize;
                if ch % 2 == 1 {
                    continue;
                }
                if let Some(Some(w)) = to_port.get_mut(ch / 2)
                    && w.write_all(&frame).await.is_err()
                {
                    to_port[ch / 2] = None;
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    drop(to_port);
    let _ = out_tx.send(Message::Close(None)).await;
    drop(out_tx);
    let _ = writer.await;
}

/// The server TLS configuration from ECK's internal HTTP certificate Secret, if the cluster has one.
fn tls_config(sh: &Shared, ns: &str, cluster: &str) -> Option<Arc<rustls::ServerConfig>> {
    use base64::Engine as _;
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let secret = object(
        sh,
        ("", "secrets"),
        ns,
        &http_certs::internal_secret_name(cluster),
    )?;
    let field = |key: &str| {
        secret
            .get("data")
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&field("tls.crt")?)
        .collect::<Result<_, _>>()
        .ok()?;
    let key = PrivateKeyDer::from_pem_slice(&field("tls.key")?).ok()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .ok()?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(Arc::new(config))
}

/// Whether the Elasticsearch resource serves HTTPS (ECK's default).
fn https_on(sh: &Shared, ns: &str, cluster: &str) -> bool {
    let es = object(
        sh,
        ("elasticsearch.k8s.elastic.co", "elasticsearches"),
        ns,
        cluster,
    );
    es.and_then(|o| {
        o.pointer("/spec/http/tls/selfSignedCertificate/disabled")
            .and_then(Value::as_bool)
    }) != Some(true)
}

/// The pod's HTTP endpoint on one forwarded stream: TLS (when on), then HTTP/1.1 to the simulated Elasticsearch.
async fn serve_elasticsearch(sh: Arc<Shared>, ns: String, cluster: String, io: DuplexStream) {
    if https_on(&sh, &ns, &cluster) {
        let Some(config) = tls_config(&sh, &ns, &cluster) else {
            tracing::debug!(%ns, %cluster, "simulated portforward: no HTTP certificate yet");
            return;
        };
        match tokio_rustls::TlsAcceptor::from(config).accept(io).await {
            Ok(tls) => serve_http(sh, ns, cluster, tls).await,
            Err(e) => tracing::debug!(error = %e, "simulated portforward: TLS handshake failed"),
        }
    } else {
        serve_http(sh, ns, cluster, io).await;
    }
}

async fn serve_http<I>(sh: Arc<Shared>, ns: String, cluster: String, io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let (sh, ns, cluster) = (sh.clone(), ns.clone(), cluster.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = http_body_util::Limited::new(body, MAX_CONTENT_LENGTH)
                .collect()
                .await
                .map(|b| b.to_bytes());
            let answer = match body {
                Err(_) => plain(413, "Request Entity Too Large"),
                Ok(body) => match super::elasticsearch::rest::serve(
                    &sh,
                    &ns,
                    &cluster,
                    http::Request::from_parts(parts, body),
                )
                .await
                {
                    Ok(r) => r,
                    // The node itself is up (its pod runs) but not part of a formed cluster yet.
                    Err(e) => plain(503, &e.to_string()),
                },
            };
            Ok::<_, std::convert::Infallible>(answer.map(http_body_util::Full::new))
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .await;
}

fn plain(status: u16, text: &str) -> http::Response<Bytes> {
    let mut r = http::Response::new(Bytes::from(text.to_owned()));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portforward_paths() {
        assert_eq!(
            match_path("/api/v1/namespaces/esaas-acme/pods/logs-es-default-0/portforward"),
            Some(("esaas-acme".into(), "logs-es-default-0".into()))
        );
        assert!(match_path("/api/v1/namespaces/a/pods/p").is_none());
        assert!(match_path("/api/v1/namespaces/a/pods/p/log").is_none());
        assert!(match_path("/api/v1/namespaces/a/pods/x/y/portforward").is_none());
    }

    #[test]
    fn ports_are_parsed_like_the_api_server() {
        assert_eq!(requested_ports(Some("ports=9200")), Ok(vec![9200]));
        assert_eq!(
            requested_ports(Some("&ports=80%2C1234")),
            Ok(vec![80, 1234])
        );
        assert_eq!(requested_ports(Some("ports=1&ports=2")), Ok(vec![1, 2]));
        assert!(requested_ports(None).is_err());
        assert!(requested_ports(Some("ports=0")).is_err());
        assert!(requested_ports(Some("ports=http")).is_err());
    }
}
