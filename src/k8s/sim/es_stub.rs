//! TEMPORARY stand-in for the simulated Elasticsearch (branch sim-es), removed when it is merged.

use bytes::Bytes;

/// Why the simulated Elasticsearch cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum EsUnreachable {
    /// No such resource.
    #[error("no Elasticsearch {0} in namespace {1}")]
    NoSuchCluster(String, String),
    /// No ready node.
    #[error("no ready nodes")]
    NoReadyNodes,
}

impl super::Sim {
    /// Stand-in.
    pub async fn elasticsearch_request(
        &self,
        _namespace: &str,
        _name: &str,
        _request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, EsUnreachable> {
        Err(EsUnreachable::NoReadyNodes)
    }
}
