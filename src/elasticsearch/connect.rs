//! [`Connector`]: from "cluster `logs` of tenant `acme`" to an [`EsClient`], with the transport chosen by
//! where the portal runs ([`TransportMode`], from `ESAAS_ES_TRANSPORT`) and the user chosen by the caller:
//! the portal's own user (`esaas-portal`, least privilege: reading plus the replicas fix) for everything the
//! portal does, or the tenant's `elastic` (read from ECK's Secret at that moment) for tools and tests that act
//! as the tenant.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use secrecy::SecretString;
use uuid::Uuid;

use super::client::{ClientOptions, Credentials, EsClient};
use super::error::EsError;
use super::transport::Transport;
use super::transport::dial::{PortForwardDialer, SharedDialer, TcpDialer};
use super::transport::http::{HttpTransport, TlsSettings};
use super::transport::sim::SimTransport;
use crate::k8s::labels;
use crate::k8s::portal_user::{self, PortalUserKey};
use crate::k8s::target::KubeTarget;

/// Elasticsearch's HTTP port.
pub const HTTP_PORT: u16 = 9200;

/// How the last hop is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportMode {
    /// In-process to the simulated Elasticsearch (the simulated Kubernetes).
    InProcess,
    /// TCP to the cluster's `-es-http` Service (the portal runs inside Kubernetes).
    Service,
    /// A port-forward to a ready pod through the API server (the portal runs outside, with a kubeconfig).
    PortForward,
}

impl TransportMode {
    /// `ESAAS_ES_TRANSPORT`: `auto` (default), `service` or `port-forward`. `auto` is in-process on the
    /// simulated Kubernetes, `service` when the portal runs in a pod (`in_cluster`), else `port-forward`.
    pub fn parse(value: Option<&str>, simulated: bool, in_cluster: bool) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("" | "auto") => Ok(if simulated {
                TransportMode::InProcess
            } else if in_cluster {
                TransportMode::Service
            } else {
                TransportMode::PortForward
            }),
            Some("service") => Ok(TransportMode::Service),
            Some("port-forward") => Ok(TransportMode::PortForward),
            Some(other) => Err(format!(
                "{other:?} is invalid: use auto, service or port-forward"
            )),
        }
    }
}

/// Which cluster to reach.
#[derive(Debug, Clone)]
pub struct ClusterAddress {
    /// Cluster id (the portal user's password is derived from it).
    pub id: Uuid,
    /// Tenant slug (the namespace is `esaas-<slug>`).
    pub tenant_slug: String,
    /// Cluster name = the Elasticsearch resource's name.
    pub name: String,
    /// HTTPS is on.
    pub tls: bool,
}

impl ClusterAddress {
    /// The namespace.
    pub fn namespace(&self) -> String {
        labels::namespace_name(&self.tenant_slug)
    }

    /// `<name>-es-http.<namespace>.svc`: the Service, and the name in its certificate.
    pub fn service_host(&self) -> String {
        format!("{}-es-http.{}.svc", self.name, self.namespace())
    }
}

/// Builds clients for clusters.
#[derive(Clone)]
pub struct Connector {
    /// The transport mode.
    pub mode: TransportMode,
    kube: KubeTarget,
    key: PortalUserKey,
    options: ClientOptions,
}

impl Connector {
    /// A connector over `kube`; `mode` is forced to in-process on the simulated Kubernetes.
    pub fn new(
        kube: KubeTarget,
        mode: TransportMode,
        key: PortalUserKey,
        options: ClientOptions,
    ) -> Self {
        let mode = if kube.sim.is_some() {
            TransportMode::InProcess
        } else {
            mode
        };
        Self {
            mode,
            kube,
            key,
            options,
        }
    }

    /// The key the portal user's passwords come from.
    pub fn key(&self) -> &PortalUserKey {
        &self.key
    }

    async fn secret(&self, namespace: &str, name: &str) -> Result<Secret, EsError> {
        let secrets: Api<Secret> = Api::namespaced(self.kube.client.clone(), namespace);
        secrets
            .get_opt(name)
            .await
            .map_err(|e| EsError::Unreachable(format!("cannot read Secret {name}: {e}")))?
            .ok_or_else(|| {
                EsError::Unreachable(format!(
                    "Secret {name} does not exist yet (is the cluster still being created?)"
                ))
            })
    }

    async fn secret_value(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Result<Vec<u8>, EsError> {
        let secret = self.secret(namespace, name).await?;
        secret
            .data
            .and_then(|mut d| d.remove(key))
            .map(|b| b.0)
            .ok_or_else(|| EsError::Unreachable(format!("Secret {name} has no `{key}` key")))
    }

    /// The transport to `cluster`.
    pub async fn transport(&self, cluster: &ClusterAddress) -> Result<Arc<dyn Transport>, EsError> {
        let namespace = cluster.namespace();
        let dialer: SharedDialer = match self.mode {
            TransportMode::InProcess => {
                let sim = self.kube.sim.clone().ok_or_else(|| {
                    EsError::Unreachable(
                        "the in-process transport needs the simulated Kubernetes".into(),
                    )
                })?;
                return Ok(Arc::new(SimTransport::new(sim, &namespace, &cluster.name)));
            }
            TransportMode::Service => Arc::new(TcpDialer {
                host: cluster.service_host(),
                port: HTTP_PORT,
            }),
            TransportMode::PortForward => Arc::new(PortForwardDialer {
                client: self.kube.client.clone(),
                namespace: namespace.clone(),
                name: cluster.name.clone(),
                port: HTTP_PORT,
            }),
        };
        let host = cluster.service_host();
        let tls = if cluster.tls {
            let ca = self
                .secret_value(
                    &namespace,
                    &format!("{}-es-http-certs-public", cluster.name),
                    "ca.crt",
                )
                .await?;
            Some(TlsSettings::new(&ca, &host)?)
        } else {
            None
        };
        Ok(Arc::new(HttpTransport::new(
            dialer,
            tls,
            &format!("{host}:{HTTP_PORT}"),
        )))
    }

    /// A client logging in as the portal's own user `esaas-portal` (role `esaas_portal`).
    pub async fn portal_client(&self, cluster: &ClusterAddress) -> Result<EsClient, EsError> {
        let credentials = Credentials {
            username: portal_user::USERNAME.to_owned(),
            password: SecretString::from(self.key.password(cluster.id).expose().to_owned()),
        };
        Ok(EsClient::new(
            self.transport(cluster).await?,
            credentials,
            self.options,
        ))
    }

    /// A client logging in as `elastic` (password read from `<name>-es-elastic-user` now, never stored).
    pub async fn elastic_client(&self, cluster: &ClusterAddress) -> Result<EsClient, EsError> {
        let password = self
            .secret_value(
                &cluster.namespace(),
                &format!("{}-es-elastic-user", cluster.name),
                "elastic",
            )
            .await?;
        let credentials = Credentials {
            username: "elastic".to_owned(),
            password: SecretString::from(String::from_utf8_lossy(&password).into_owned()),
        };
        Ok(EsClient::new(
            self.transport(cluster).await?,
            credentials,
            self.options,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_where_the_portal_runs() {
        assert_eq!(
            TransportMode::parse(None, true, false),
            Ok(TransportMode::InProcess)
        );
        assert_eq!(
            TransportMode::parse(Some("auto"), false, true),
            Ok(TransportMode::Service)
        );
        assert_eq!(
            TransportMode::parse(None, false, false),
            Ok(TransportMode::PortForward)
        );
        assert_eq!(
            TransportMode::parse(Some("service"), false, false),
            Ok(TransportMode::Service)
        );
        assert!(TransportMode::parse(Some("ssh"), false, false).is_err());
    }

    #[test]
    fn the_service_host_is_ecks() {
        let c = ClusterAddress {
            id: Uuid::nil(),
            tenant_slug: "acme".into(),
            name: "logs".into(),
            tls: true,
        };
        assert_eq!(c.service_host(), "logs-es-http.esaas-acme.svc");
    }
}
