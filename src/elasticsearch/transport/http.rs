//! HTTP/1.1 over a [`Dialer`]'s stream (hyper), with TLS (rustls) when the cluster serves HTTPS. The TLS
//! configuration trusts only the cluster's own CA (ECK's `<name>-es-http-certs-public` Secret, `ca.crt`) and
//! checks the certificate for `<name>-es-http.<namespace>.svc`, whichever way the stream was opened (a
//! port-forwarded stream still talks to the same certificate).
//!
//! Connections are kept while they work: a client keeps up to [`MAX_IDLE`] idle connections and reuses
//! them for its next requests (one inspector poll makes several), so a port-forward is opened once per poll,
//! not once per request. A kept connection the other side has closed is replaced, and the request sent
//! once more on the new one.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

use super::Transport;
use super::dial::{BoxedIo, SharedDialer};
use crate::elasticsearch::error::EsError;

/// TLS settings: the trusted CA and the name the certificate must carry.
#[derive(Clone)]
pub struct TlsSettings {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl TlsSettings {
    /// Trust the PEM certificates in `ca_pem` (only those) and expect `server_name` in the certificate.
    pub fn new(ca_pem: &[u8], server_name: &str) -> Result<Self, EsError> {
        let mut roots = rustls::RootCertStore::empty();
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            let cert =
                cert.map_err(|e| EsError::Tls(format!("the CA certificate is not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| EsError::Tls(format!("the CA certificate is invalid: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(EsError::Tls("the CA Secret holds no certificate".into()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| EsError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| EsError::Tls(format!("bad server name {server_name}: {e}")))?;
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }
}

/// HTTP(S) over a dialer.
#[derive(Clone)]
pub struct HttpTransport {
    dialer: SharedDialer,
    tls: Option<TlsSettings>,
    host_header: String,
    idle: Arc<std::sync::Mutex<Vec<SendRequest<Full<Bytes>>>>>,
}

/// Idle connections a transport keeps.
pub const MAX_IDLE: usize = 2;

impl HttpTransport {
    /// Requests over `dialer`, encrypted with `tls` when given; `host_header` is sent as `Host`.
    pub fn new(dialer: SharedDialer, tls: Option<TlsSettings>, host_header: &str) -> Self {
        Self {
            dialer,
            tls,
            host_header: host_header.to_owned(),
            idle: Arc::default(),
        }
    }

    async fn connect(&self) -> Result<BoxedIo, EsError> {
        let stream = self.dialer.dial().await?;
        match &self.tls {
            None => Ok(stream),
            Some(tls) => {
                let stream = tls
                    .connector
                    .connect(tls.server_name.clone(), stream)
                    .await
                    .map_err(|e| EsError::Tls(format!("TLS handshake failed: {e}")))?;
                Ok(Box::new(stream) as BoxedIo)
            }
        }
    }

    /// A connection ready for a request: an idle one kept from an earlier request while it still works,
    /// else a new one (for the port-forward transport, a new port-forward). The flag says it was reused.
    async fn sender(&self) -> Result<(SendRequest<Full<Bytes>>, bool), EsError> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(mut sender) = idle else { break };
            if sender.ready().await.is_ok() {
                return Ok((sender, true));
            }
        }
        let io = self.connect().await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| EsError::Unreachable(format!("HTTP handshake failed: {e}")))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok((sender, false))
    }

    async fn round_trip(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, EsError> {
        let (mut parts, body) = request.into_parts();
        if let Ok(host) = http::HeaderValue::from_str(&self.host_header) {
            parts.headers.insert(http::header::HOST, host);
        }
        let (mut sender, mut reused) = self.sender().await?;
        let response = loop {
            let attempt = http::Request::from_parts(parts.clone(), Full::new(body.clone()));
            match sender.send_request(attempt).await {
                Ok(r) => break r,
                // A kept connection the other side closed meanwhile: once more on a new one.
                Err(_) if reused => {
                    (sender, reused) = self.sender().await?;
                }
                Err(e) => {
                    return Err(EsError::Unreachable(format!("the connection broke: {e}")));
                }
            }
        };
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| EsError::Unreachable(format!("the answer was cut off: {e}")))?
            .to_bytes();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
        Ok(http::Response::from_parts(parts, body))
    }
}

impl Transport for HttpTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, EsError>> {
        Box::pin(self.round_trip(request))
    }

    fn describe(&self) -> String {
        format!(
            "{} {}",
            if self.tls.is_some() { "https" } else { "http" },
            self.dialer.describe()
        )
    }
}
