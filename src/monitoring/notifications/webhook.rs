//! The webhook sender: one signed POST per attempt, over a connection it opens itself. Choices, and why:
//! * hyper's HTTP/1.1 client over a `TcpStream` to an address that [`resolve_checked`] passed (and rustls
//!   via `tokio-rustls` for https, with the ring provider and `rustls-platform-verifier` roots, as kube
//!   does): the connection provably goes to the checked address, the host name still drives SNI,
//!   certificate checks and `Host`. All three crates are already in the tree through kube. `reqwest` was
//!   the other candidate; as a normal dependency its TLS feature unifies into the tests' reqwest, whose
//!   clients then need a process-wide crypto provider (or an aws-lc build), and its resolver hook hides
//!   literal addresses from the check. A new connection per attempt is fine at notification rates;
//! * no proxy (a proxy would connect on our behalf to an address we never checked) and no redirects (a
//!   redirect is a second request to a URL nobody validated: a 3xx is reported as a failure);
//! * the URL's scheme is checked again at send time, since the platform's policy may have changed since
//!   the channel was saved; the connection and the whole exchange are bounded by the policy's timeout;
//! * the answer is read up to [`MAX_RESPONSE_BYTES`] (for the delivery log), never more;
//! * error texts never hold the URL (Slack-style URLs are credentials) nor the secret.
//!
//! Headers: `X-Esaas-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the channel
//! secret>`, `X-Esaas-Delivery: <delivery id>` (stable across retries, for deduplication),
//! `X-Esaas-Event`, and `X-Esaas-Timestamp: <Unix seconds>`, which repeats the signed body's `sent_at`:
//! receivers that want replay protection refuse bodies whose `sent_at` is older than a few minutes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use secrecy::SecretString;
use tokio::net::TcpStream;
use url::Url;
use uuid::Uuid;

use super::address::resolve_checked;
use super::channel::WebhookFormat;
use super::message::{DELIVERY_HEADER, Facts, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature};
use crate::config::notifications::WebhookPolicy;

/// How much of a receiver's answer is read (and kept in the delivery log, shortened).
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// How much of a failed answer's body goes into the delivery log.
const ERROR_BODY_CHARS: usize = 200;
const USER_AGENT: &str = concat!("esaas-portal-webhook/", env!("CARGO_PKG_VERSION"));

/// Sends webhooks under one policy. Cheap to clone (the TLS configuration is shared).
#[derive(Debug, Clone)]
pub struct WebhookSender {
    tls: Arc<rustls::ClientConfig>,
    policy: Arc<WebhookPolicy>,
}

/// Printable, single-line, shortened text of a receiver's answer.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ERROR_BODY_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A connection to the first of `addrs` that answers, within `timeout`.
async fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, String> {
    let mut last = String::from("no address to connect to");
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = format!("connecting to {addr} failed: {e}"),
            Err(_) => last = format!("connecting to {addr} timed out"),
        }
    }
    Err(last)
}

impl WebhookSender {
    /// A sender enforcing `policy`.
    pub fn new(policy: WebhookPolicy) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone())?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Self {
            tls: Arc::new(config),
            policy: Arc::new(policy),
        })
    }

    /// The timeout of one attempt.
    pub fn timeout(&self) -> Duration {
        self.policy.timeout
    }

    /// POST `facts` to `url`; `Ok(status)` for a 2xx answer, else a text for the delivery log.
    pub async fn send(
        &self,
        url: &Url,
        format: WebhookFormat,
        secret: &SecretString,
        delivery_id: Uuid,
        facts: &Facts,
    ) -> Result<u16, String> {
        let limit = self.policy.timeout;
        tokio::time::timeout(
            limit,
            self.exchange(url, format, secret, delivery_id, facts),
        )
        .await
        .unwrap_or_else(|_| Err("no answer in time (timed out)".into()))
    }

    async fn exchange(
        &self,
        url: &Url,
        format: WebhookFormat,
        secret: &SecretString,
        delivery_id: Uuid,
        facts: &Facts,
    ) -> Result<u16, String> {
        let https = match url.scheme() {
            "https" => true,
            "http" if self.policy.allow_http => false,
            _ => {
                return Err(
                    "plain http is not allowed on this platform: use an https:// URL".into(),
                );
            }
        };
        let host = url.host().ok_or("the URL has no host")?;
        let port = url.port_or_known_default().ok_or("the URL has no port")?;
        let addrs = resolve_checked(&self.policy, &host, port).await?;
        let tcp = connect(&addrs, self.policy.timeout).await?;
        let sent_at = Utc::now();
        let body = facts.webhook_body(format, delivery_id, sent_at);
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let request = http::Request::post(path)
            .header(http::header::HOST, authority)
            .header(http::header::USER_AGENT, USER_AGENT)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(secret, &body))
            .header(DELIVERY_HEADER, delivery_id.to_string())
            .header(TIMESTAMP_HEADER, sent_at.timestamp().to_string())
            .header("x-esaas-event", facts.state.as_str())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("the request could not be built: {e}"))?;
        if https {
            let name = match host {
                url::Host::Domain(d) => ServerName::try_from(d.to_owned()),
                url::Host::Ipv4(ip) => Ok(ServerName::from(std::net::IpAddr::V4(ip))),
                url::Host::Ipv6(ip) => Ok(ServerName::from(std::net::IpAddr::V6(ip))),
            }
            .map_err(|e| format!("the host is not a valid TLS name: {e}"))?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS handshake failed: {e}"))?;
            post(TokioIo::new(tls), request).await
        } else {
            post(TokioIo::new(tcp), request).await
        }
    }
}

/// Send `request` over `io` (HTTP/1.1) and judge the answer.
async fn post<T>(io: T, request: http::Request<Full<Bytes>>) -> Result<u16, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    // The connection ends when this attempt's future is dropped (timeout) or the answer is read.
    let driver = tokio::spawn(connection);
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("sending failed: {e}"))?;
        let status = response.status();
        let answer = read_bounded(response.into_body()).await?;
        if status.is_success() {
            Ok(status.as_u16())
        } else if status.is_redirection() {
            Err(format!(
                "HTTP {}: redirects are not followed",
                status.as_u16()
            ))
        } else {
            Err(format!("HTTP {}: {}", status.as_u16(), snippet(&answer)))
        }
    }
    .await;
    driver.abort();
    result
}

/// Read at most [`MAX_RESPONSE_BYTES`] of the answer, then stop (the rest is never read).
async fn read_bounded(mut body: hyper::body::Incoming) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while out.len() < MAX_RESPONSE_BYTES {
        match body.frame().await {
            None => break,
            Some(Err(e)) => return Err(format!("reading the answer failed: {e}")),
            Some(Ok(frame)) => {
                if let Ok(chunk) = frame.into_data() {
                    let room = MAX_RESPONSE_BYTES - out.len();
                    out.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
            }
        }
    }
    Ok(out)
}
