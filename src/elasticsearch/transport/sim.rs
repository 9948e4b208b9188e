//! In-process transport to the simulated Elasticsearch of the simulated Kubernetes
//! ([`Sim::elasticsearch_request`]): the real client code runs unchanged, only the socket is missing.

use bytes::Bytes;
use futures::future::BoxFuture;

use super::Transport;
use crate::elasticsearch::error::EsError;
use crate::k8s::sim::{EsUnreachable, Sim};

/// The simulated Elasticsearch of the resource `namespace/name`.
#[derive(Clone)]
pub struct SimTransport {
    sim: Sim,
    namespace: String,
    name: String,
}

impl SimTransport {
    /// A transport to the simulated Elasticsearch `name` in `namespace`.
    pub fn new(sim: Sim, namespace: &str, name: &str) -> Self {
        Self {
            sim,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// The user-facing reason the simulated cluster cannot answer.
fn unreachable(e: &EsUnreachable) -> EsError {
    match e {
        EsUnreachable::NoReadyNodes => {
            EsError::Unreachable("no Elasticsearch pod is ready yet".into())
        }
        other => EsError::Unreachable(other.to_string()),
    }
}

impl Transport for SimTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, EsError>> {
        Box::pin(async move {
            self.sim
                .elasticsearch_request(&self.namespace, &self.name, request)
                .await
                .map_err(|e| unreachable(&e))
        })
    }

    fn describe(&self) -> String {
        format!("simulated {}/{}", self.namespace, self.name)
    }
}
