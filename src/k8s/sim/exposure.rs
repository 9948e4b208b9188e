//! Serving the emulator on a socket (for kubectl, or for the portal through a kubeconfig): who may reach it.
//!
//! The simulated API holds Secrets (the `elastic` passwords) and accepts writes, so a served port is guarded
//! like a real API server's, around the whole router (every path it serves, including ones added later, such
//! as service proxies and port-forwards):
//! - **HTTPS** with a certificate from the emulator's own CA ([`super::tls`]), which the kubeconfig carries;
//! - **Bind address**: loopback only ([`check_listen`]), unless explicitly allowed
//!   (`ESAAS_SIM_LISTEN_ALLOW_REMOTE=1`, [`super::Sim::serve_remote`]).
//! - **Host**: only loopback names (`localhost`, `127.0.0.0/8`, `::1`) and the address the connection was
//!   accepted on, so a web page cannot reach it through DNS rebinding (its requests carry the attacker's host
//!   name). Other hosts get 403.
//! - **Bearer token**: every request needs `Authorization: Bearer <token>` with the emulator's token, random
//!   for every [`super::Sim`] (so for every start of the portal) and written into the kubeconfig (mode 600);
//!   without it 401 `Unauthorized`, as a real API server answers. A browser cannot add that header to a
//!   cross-site request without a CORS preflight, which the emulator never grants. One exception: on the
//!   service-proxy path of a simulated Elasticsearch, `Authorization: Basic` credentials are accepted in place
//!   of the token and checked by that Elasticsearch (as its own HTTP endpoint would).
//!
//! Requests of the in-process client never pass here (they reach the router without a socket).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use super::status::StatusError;
use super::tls::Authority;

/// How long a client may take for the TLS handshake before its connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A new random bearer token (256 bits, URL-safe base64).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether the emulator may listen on `addr`: loopback addresses always, others only when `allow_remote`.
pub fn check_listen(addr: SocketAddr, allow_remote: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || allow_remote {
        Ok(())
    } else {
        Err(format!(
            "the simulated Kubernetes API would be reachable from other machines on {addr}; listen on a \
             loopback address (127.0.0.1:8081) or set ESAAS_SIM_LISTEN_ALLOW_REMOTE=1 to allow it"
        ))
    }
}

/// The local address a connection was accepted on (the `Host` it may be addressed by).
#[derive(Debug, Clone, Copy)]
struct ServedOn(SocketAddr);

/// The host part of a `Host` header value (`name`, `name:port`, `[v6]:port`, `v4:port`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or("", |(name, _)| name);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// Whether a request addressed to `host` on a connection accepted on `local` may be served.
pub fn host_allowed(host: &str, local: IpAddr) -> bool {
    let name = host_name(host.trim()).trim_end_matches('.');
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip == local || ip.to_canonical() == local.to_canonical(),
        Err(_) => false,
    }
}

fn bearer_matches(req: &Request, token: &str) -> bool {
    req.headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .is_some_and(|(_, presented)| {
            !token.is_empty() && bool::from(presented.trim().as_bytes().ct_eq(token.as_bytes()))
        })
}

/// Basic credentials on a service-proxy path to a simulated Elasticsearch: checked by that Elasticsearch
/// itself instead of the bearer token (see [`super::elasticsearch::proxy`]).
fn es_proxy_basic(req: &Request) -> bool {
    super::elasticsearch::proxy::is_proxy_path(req.uri().path())
        && req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
}

async fn guard(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    let local = req.extensions().get::<ServedOn>().map(|ServedOn(a)| a.ip());
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    let allowed = match (&host, local) {
        (Some(h), Some(local)) => host_allowed(h, local),
        _ => false,
    };
    if !allowed {
        return StatusError::new(
            403,
            "Forbidden",
            format!(
                "host {:?} is not served: the simulated API answers only to loopback names and its own address",
                host.unwrap_or_default()
            ),
        )
        .into_response();
    }
    if !bearer_matches(&req, &token) && !es_proxy_basic(&req) {
        return StatusError::new(401, "Unauthorized", "Unauthorized").into_response();
    }
    next.run(req).await
}

/// Serve `router` over HTTPS on `listener` behind the guard (see the module docs) until the listener fails.
/// Every connection runs on its own task (a slow handshake holds up nobody else); HTTP/1.1 upgrades work.
pub async fn serve(
    router: Router,
    listener: TcpListener,
    token: Arc<str>,
    authority: &Authority,
) -> std::io::Result<()> {
    let bound = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(authority.server_config(bound.ip())?);
    let app = router.layer(axum::middleware::from_fn_with_state(token, guard));
    loop {
        let (tcp, _peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) if is_transient(&e) => {
                tracing::debug!(error = %e, "simulated API: accept failed; continuing");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(local) = tcp.local_addr() else {
                return;
            };
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "simulated API: TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let service =
                tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ServedOn(local));
                    app.clone().oneshot(req.map(axum::body::Body::new))
                });
            let served =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection_with_upgrades(
                        hyper_util::rt::TokioIo::new(tls),
                        hyper_util::service::TowerToHyperService::new(service),
                    )
                    .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "simulated API: connection ended with an error");
            }
        });
    }
}

/// Accept errors that concern one connection (or a momentary lack of descriptors), not the listener.
fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionAborted | K::ConnectionReset | K::Interrupted | K::WouldBlock
    ) || e
        .raw_os_error()
        .is_some_and(|code| code == 24 || code == 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_binds_unless_allowed() {
        assert!(check_listen("127.0.0.1:8081".parse().unwrap(), false).is_ok());
        assert!(check_listen("[::1]:8081".parse().unwrap(), false).is_ok());
        let e = check_listen("0.0.0.0:8081".parse().unwrap(), false).unwrap_err();
        assert!(e.contains("ESAAS_SIM_LISTEN_ALLOW_REMOTE"), "{e}");
        assert!(check_listen("10.1.2.3:8081".parse().unwrap(), false).is_err());
        assert!(check_listen("0.0.0.0:8081".parse().unwrap(), true).is_ok());
    }

    #[test]
    fn hosts_are_loopback_names_or_the_bound_address() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        for ok in [
            "127.0.0.1:8081",
            "127.0.0.1",
            "localhost:8081",
            "LOCALHOST",
            "localhost.:8081",
            "[::1]:8081",
            "127.1.2.3:80",
        ] {
            assert!(host_allowed(ok, lo), "{ok}");
        }
        for bad in [
            "evil.example:8081",
            "evil.example",
            "localhost.evil.example",
            "10.0.0.5:8081",
            "",
            "[::1",
        ] {
            assert!(!host_allowed(bad, lo), "{bad}");
        }
        let lan: IpAddr = "10.0.0.5".parse().unwrap();
        assert!(host_allowed("10.0.0.5:8081", lan));
        assert!(!host_allowed("10.0.0.6:8081", lan));
    }

    #[test]
    fn tokens_are_random() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}
