//! The last hop to one cluster's Elasticsearch: a [`Transport`] takes an HTTP request (path + query, headers,
//! body) and returns the answer, or [`EsError`] when no answer came. Retries, timeouts and status handling
//! belong to the client above it; a transport only carries bytes.
//!
//! - [`sim::SimTransport`]: in-process to the simulated Elasticsearch (no socket), as `kube::Client` reaches
//!   the simulated Kubernetes.
//! - [`http::HttpTransport`]: HTTP/1.1 over a [`dial::Dialer`]'s stream, with TLS trusting the cluster's
//!   CA when HTTPS is on. The dialer is either TCP to `<name>-es-http.<namespace>.svc:9200` (in the
//!   Kubernetes cluster) or a port-forward to a ready pod through the API server (from outside it).

pub mod dial;
pub mod http;
pub mod sim;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::error::EsError;

/// Carries one request to a cluster and back.
pub trait Transport: Send + Sync + 'static {
    /// Send `request` (its URI is path and query only) and return the answer.
    fn send(
        &self,
        request: ::http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<::http::Response<Bytes>, EsError>>;

    /// How this transport reaches the cluster, for logs (`simulated`, `https://logs-es-http...`).
    fn describe(&self) -> String;
}
