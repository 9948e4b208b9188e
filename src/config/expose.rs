//! `ESAAS_EXPOSE*`: how clusters are reached from outside Kubernetes ([`Exposure`]). Fails fast: an unknown
//! mode, an ingress without a domain, a bad domain, or both a TLS Secret and a cert-manager issuer stop the
//! portal at start-up with the variable's name.

use anyhow::bail;

use super::Vars;
use crate::k8s::expose::{Exposure, IngressSettings, IngressTls, check_domain};

impl Vars<'_> {
    /// The exposure settings.
    pub(super) fn exposure(&self) -> anyhow::Result<Exposure> {
        let mode = self
            .var("ESAAS_EXPOSE")
            .map(|v| v.trim().to_ascii_lowercase());
        let ingress_only = [
            "ESAAS_EXPOSE_DOMAIN",
            "ESAAS_EXPOSE_INGRESS_CLASS",
            "ESAAS_EXPOSE_TLS_SECRET",
            "ESAAS_EXPOSE_CERT_ISSUER",
        ];
        match mode.as_deref() {
            None | Some("internal") | Some("loadbalancer") => {
                if let Some(name) = ingress_only.iter().find(|n| self.var(n).is_some()) {
                    bail!(
                        "{name} is set but ESAAS_EXPOSE is not ingress: set ESAAS_EXPOSE=ingress or leave {name} empty"
                    );
                }
                Ok(if mode.as_deref() == Some("loadbalancer") {
                    Exposure::LoadBalancer
                } else {
                    Exposure::Internal
                })
            }
            Some("ingress") => {
                let Some(domain) = self.var("ESAAS_EXPOSE_DOMAIN") else {
                    bail!(
                        "ESAAS_EXPOSE_DOMAIN is required with ESAAS_EXPOSE=ingress (clusters get the hosts <cluster>-<tenant>.<domain>)"
                    );
                };
                let domain = domain.trim().to_owned();
                check_domain(&domain)
                    .map_err(|e| anyhow::anyhow!("ESAAS_EXPOSE_DOMAIN is invalid: {e}"))?;
                let class = self
                    .var("ESAAS_EXPOSE_INGRESS_CLASS")
                    .map(|c| c.trim().to_owned());
                let tls = match (
                    self.var("ESAAS_EXPOSE_TLS_SECRET"),
                    self.var("ESAAS_EXPOSE_CERT_ISSUER"),
                ) {
                    (Some(_), Some(_)) => bail!(
                        "ESAAS_EXPOSE_TLS_SECRET and ESAAS_EXPOSE_CERT_ISSUER are both set: choose one"
                    ),
                    (Some(secret), None) => IngressTls::Secret(secret.trim().to_owned()),
                    (None, Some(issuer)) => IngressTls::ClusterIssuer(issuer.trim().to_owned()),
                    (None, None) => IngressTls::ControllerDefault,
                };
                Ok(Exposure::Ingress(IngressSettings { domain, class, tls }))
            }
            Some(other) => {
                bail!("ESAAS_EXPOSE={other:?} is invalid: use internal, ingress or loadbalancer")
            }
        }
    }
}
