//! How clusters are reached from outside Kubernetes, as the platform admin chose it (`ESAAS_EXPOSE*`, read by
//! `config/`): not at all (internal only, the default), through one Ingress per cluster under a platform
//! domain, or through a `LoadBalancer` HTTP Service. Engine-independent: the ECK engine renders it
//! (`eck::ingress`, `eck::traffic_filter`, `spec.http.service`), the API and the dashboard name the
//! addresses it gives.
//!
//! Host names: `<cluster>-<tenant>.<domain>` for Elasticsearch and `<cluster>-<tenant>-kibana.<domain>` for
//! Kibana. A DNS label has at most 63 characters and cluster names (36) plus tenant slugs (40) can be longer
//! together, so a label that would not fit is shortened to its first characters plus 8 hex characters of a
//! hash of `<tenant>/<cluster>` (stable, and different for different clusters) before the `-kibana` suffix.

use sha2::{Digest, Sha256};

/// Longest DNS label.
const MAX_LABEL: usize = 63;

/// The way clusters are exposed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Exposure {
    /// Reachable only inside Kubernetes, through the `.svc` names (`ESAAS_EXPOSE` unset or `internal`).
    #[default]
    Internal,
    /// One Ingress per cluster (`ESAAS_EXPOSE=ingress`).
    Ingress(IngressSettings),
    /// The HTTP Services of Elasticsearch and Kibana are of type `LoadBalancer` (`ESAAS_EXPOSE=loadbalancer`).
    LoadBalancer,
}

/// The platform's Ingress settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressSettings {
    /// `ESAAS_EXPOSE_DOMAIN`: the domain under which every cluster gets its host names (a wildcard DNS record
    /// `*.<domain>` points at the ingress controller).
    pub domain: String,
    /// `ESAAS_EXPOSE_INGRESS_CLASS`: `spec.ingressClassName`; `None` uses the cluster's default class.
    pub class: Option<String>,
    /// Where the certificate comes from.
    pub tls: IngressTls,
}

/// The certificate of the external host names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IngressTls {
    /// The ingress controller's default certificate (e.g. ingress-nginx `--default-ssl-certificate`, a
    /// wildcard for `*.<domain>`): the Ingress lists its hosts under `tls` without a Secret.
    #[default]
    ControllerDefault,
    /// `ESAAS_EXPOSE_TLS_SECRET`: a Secret of this name in every tenant namespace (e.g. a wildcard certificate
    /// the platform's tooling copies there).
    Secret(String),
    /// `ESAAS_EXPOSE_CERT_ISSUER`: cert-manager issues a certificate per cluster from this ClusterIssuer
    /// (annotation `cert-manager.io/cluster-issuer`) into the Secret `<cluster>-ingress-tls`.
    ClusterIssuer(String),
}

impl Exposure {
    /// The word for it (`internal`, `ingress`, `loadbalancer`), as in `ESAAS_EXPOSE`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Exposure::Internal => "internal",
            Exposure::Ingress(_) => "ingress",
            Exposure::LoadBalancer => "loadbalancer",
        }
    }

    /// True unless internal only.
    pub fn is_exposed(&self) -> bool {
        !matches!(self, Exposure::Internal)
    }
}

/// Checks a platform domain: DNS labels of lower-case letters, digits and `-`, at least two of them, at most
/// 253 characters in all (no scheme, no trailing dot, no wildcard).
pub fn check_domain(domain: &str) -> Result<(), String> {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= MAX_LABEL
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.len() > 253 || !domain.contains('.') || !domain.split('.').all(label) {
        return Err(format!(
            "{domain:?} is not a domain name: use lower-case DNS labels separated by dots, such as search.example.com"
        ));
    }
    Ok(())
}

/// The first DNS label of the Elasticsearch host of a cluster: `<cluster>-<tenant>`.
pub fn elasticsearch_label(cluster: &str, tenant: &str) -> String {
    label_with_suffix(cluster, tenant, "")
}

/// The first DNS label of the Kibana host of a cluster: `<cluster>-<tenant>-kibana`.
pub fn kibana_label(cluster: &str, tenant: &str) -> String {
    label_with_suffix(cluster, tenant, "-kibana")
}

fn label_with_suffix(cluster: &str, tenant: &str, suffix: &str) -> String {
    let base = format!("{cluster}-{tenant}");
    if base.len() + suffix.len() <= MAX_LABEL {
        return format!("{base}{suffix}");
    }
    let digest = Sha256::digest(format!("{tenant}/{cluster}").as_bytes());
    let hash = hex::encode(&digest[..4]);
    let keep = MAX_LABEL - suffix.len() - hash.len() - 1;
    let head = base[..keep].trim_end_matches('-');
    format!("{head}-{hash}{suffix}")
}

impl IngressSettings {
    /// `<cluster>-<tenant>.<domain>`.
    pub fn elasticsearch_host(&self, cluster: &str, tenant: &str) -> String {
        format!("{}.{}", elasticsearch_label(cluster, tenant), self.domain)
    }

    /// `<cluster>-<tenant>-kibana.<domain>`.
    pub fn kibana_host(&self, cluster: &str, tenant: &str) -> String {
        format!("{}.{}", kibana_label(cluster, tenant), self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_cluster_dash_tenant_under_the_domain() {
        let settings = IngressSettings {
            domain: "search.example.com".into(),
            class: None,
            tls: IngressTls::ControllerDefault,
        };
        assert_eq!(
            settings.elasticsearch_host("logs", "acme"),
            "logs-acme.search.example.com"
        );
        assert_eq!(
            settings.kibana_host("logs", "acme"),
            "logs-acme-kibana.search.example.com"
        );
    }

    #[test]
    fn long_labels_are_shortened_with_a_stable_hash() {
        let cluster = "c".repeat(36);
        let tenant = "t".repeat(40);
        let es = elasticsearch_label(&cluster, &tenant);
        let kb = kibana_label(&cluster, &tenant);
        assert_eq!(es.len(), 63, "{es}");
        assert!(kb.len() <= 63 && kb.ends_with("-kibana"), "{kb}");
        assert_eq!(es, elasticsearch_label(&cluster, &tenant), "stable");
        assert_ne!(es, elasticsearch_label(&"d".repeat(36), &tenant));
        // A pair that fits is left as it is, even when only the Kibana label needs shortening.
        let fits = elasticsearch_label(&"a".repeat(22), &"b".repeat(40));
        assert_eq!(fits.len(), 63);
        assert!(!fits.contains("--"));
        assert!(kibana_label(&"a".repeat(22), &"b".repeat(40)).len() <= 63);
    }

    #[test]
    fn domains_are_checked() {
        assert!(check_domain("search.example.com").is_ok());
        assert!(check_domain("es.internal").is_ok());
        for bad in [
            "",
            "localhost",
            "https://x.example.com",
            "*.example.com",
            "Example.com",
            "x..example.com",
            "x.example.com.",
            "-x.example.com",
        ] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }
}
