//! Dialers: how a byte stream to one Elasticsearch HTTP port is opened. [`TcpDialer`] connects to the
//! cluster's Service (`<name>-es-http.<namespace>.svc:9200`) from inside Kubernetes;
//! [`PortForwardDialer`] opens a port-forward to a ready pod through the API server (kubeconfig mode).

use std::sync::Arc;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::elasticsearch::error::EsError;

/// A bidirectional byte stream.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A boxed stream.
pub type BoxedIo = Box<dyn Io>;

/// Opens streams to one Elasticsearch HTTP port.
pub trait Dialer: Send + Sync + 'static {
    /// A new stream.
    fn dial(&self) -> BoxFuture<'_, Result<BoxedIo, EsError>>;
    /// Where it dials, for logs.
    fn describe(&self) -> String;
}

/// TCP to `host:port`.
#[derive(Debug, Clone)]
pub struct TcpDialer {
    /// Host name or address.
    pub host: String,
    /// Port (9200 for Elasticsearch).
    pub port: u16,
}

impl Dialer for TcpDialer {
    fn dial(&self) -> BoxFuture<'_, Result<BoxedIo, EsError>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| EsError::Unreachable(format!("{}:{}: {e}", self.host, self.port)))?;
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream) as BoxedIo)
        })
    }

    fn describe(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// A port-forward through the Kubernetes API server to port 9200 of a ready Elasticsearch pod of the
/// cluster (label `elasticsearch.k8s.elastic.co/cluster-name=<name>`), for a portal outside the cluster.
#[derive(Clone)]
pub struct PortForwardDialer {
    /// The client of the Kubernetes target.
    pub client: kube::Client,
    /// The cluster's namespace.
    pub namespace: String,
    /// The Elasticsearch resource's name.
    pub name: String,
    /// The port forwarded.
    pub port: u16,
}

impl PortForwardDialer {
    /// The name of a ready Elasticsearch pod of the cluster.
    async fn ready_pod(&self) -> Result<String, EsError> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let list = pods
            .list(&ListParams::default().labels(&format!(
                "elasticsearch.k8s.elastic.co/cluster-name={}",
                self.name
            )))
            .await
            .map_err(|e| EsError::Unreachable(format!("cannot list the cluster's pods: {e}")))?;
        list.items
            .into_iter()
            .find(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .and_then(|p| p.metadata.name)
            .ok_or_else(|| EsError::Unreachable("no Elasticsearch pod is ready yet".into()))
    }
}

impl Dialer for PortForwardDialer {
    fn dial(&self) -> BoxFuture<'_, Result<BoxedIo, EsError>> {
        Box::pin(async move {
            let pod = self.ready_pod().await?;
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
            let mut forwarder = pods.portforward(&pod, &[self.port]).await.map_err(|e| {
                EsError::Unreachable(format!("port-forward to pod {pod} failed: {e}"))
            })?;
            let stream = forwarder.take_stream(self.port).ok_or_else(|| {
                EsError::Unreachable(format!("port-forward to pod {pod} gave no stream"))
            })?;
            // The forwarder's task ends with the stream; keep its join future running in the background.
            tokio::spawn(async move {
                let _ = forwarder.join().await;
            });
            Ok(Box::new(stream) as BoxedIo)
        })
    }

    fn describe(&self) -> String {
        format!(
            "port-forward {}/{} :{} through the API server",
            self.namespace, self.name, self.port
        )
    }
}

/// Shared dialers.
pub type SharedDialer = Arc<dyn Dialer>;
