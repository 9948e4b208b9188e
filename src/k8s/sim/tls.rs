//! TLS of the served emulator: a certificate authority made for every [`super::Sim`] (never written to disk
//! except as the CA certificate inside the kubeconfig) and, for every listener, a server certificate it signs
//! for `localhost`, `127.0.0.1`, `::1` and the listener's own address.
//!
//! Why TLS on a development harness: kubectl (client-go) sends a kubeconfig's bearer token only over TLS
//! (kubernetes/kubectl#744), so a token-protected API must be HTTPS for kubectl to work at all; it also keeps
//! the token off the wire in clear when the port is opened to other machines.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The certificate authority of one simulated API server.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    ca_pem: String,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

fn tls_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("simulated API TLS: {e}"))
}

impl Authority {
    /// A new CA (ECDSA P-256) valid for a year.
    pub fn new() -> std::io::Result<Self> {
        let key = KeyPair::generate().map_err(tls_error)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "esaas simulated Kubernetes CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(365);
        let cert = params.self_signed(&key).map_err(tls_error)?;
        Ok(Self {
            ca_der: cert.der().clone(),
            ca_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate in PEM (what `certificate-authority-data` carries, base64-encoded).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A server configuration with a new certificate for the loopback names and `bound` (when it is a
    /// specific address).
    pub fn server_config(&self, bound: IpAddr) -> std::io::Result<Arc<ServerConfig>> {
        let key = KeyPair::generate().map_err(tls_error)?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(tls_error)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "esaas simulated Kubernetes API");
        let mut ips: Vec<IpAddr> =
            vec![[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()];
        if !bound.is_unspecified() && !ips.contains(&bound) {
            ips.push(bound);
        }
        params
            .subject_alt_names
            .extend(ips.into_iter().map(SanType::IpAddress));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(365);
        let cert = params.signed_by(&key, &self.issuer).map_err(tls_error)?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), self.ca_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .map_err(tls_error)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}
