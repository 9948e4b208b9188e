//! The HTTP-layer certificates ECK makes for every Elasticsearch with TLS on (the default): a self-signed CA
//! per cluster and a server certificate it signs for the `<name>-es-http` Service's names, published as
//! `<name>-es-http-certs-public` (`ca.crt`, `tls.crt`: what clients trust) and
//! `<name>-es-http-certs-internal` (`ca.crt`, `tls.crt`, `tls.key`: what the nodes serve with). The simulated
//! pods serve their port-forwarded HTTPS with the internal one ([`crate::k8s::sim::portforward`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::{Value, json};

use super::super::util::CtrlError;
use super::es_render::EsView;

/// Name of the Secret clients trust.
pub fn public_secret_name(cluster: &str) -> String {
    format!("{cluster}-es-http-certs-public")
}

/// Name of the Secret the nodes serve with.
pub fn internal_secret_name(cluster: &str) -> String {
    format!("{cluster}-es-http-certs-internal")
}

/// The DNS names ECK puts in the HTTP certificate.
pub fn service_names(cluster: &str, ns: &str) -> Vec<String> {
    let svc = format!("{cluster}-es-http");
    vec![
        format!("{svc}.{ns}.svc"),
        format!("{svc}.{ns}.svc.cluster.local"),
        format!("{svc}.{ns}"),
        svc,
    ]
}

fn cert_error(e: rcgen::Error) -> CtrlError {
    CtrlError(format!("simulated ECK HTTP certificate: {e}"))
}

/// The public and internal Secrets, with a new CA and server certificate (valid one year).
pub fn secrets(es: &EsView<'_>) -> Result<(Value, Value), CtrlError> {
    let now = time::OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    ca.distinguished_name
        .push(DnType::CommonName, format!("{}-http", es.name));
    ca.distinguished_name
        .push(DnType::OrganizationalUnitName, es.name);
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = now - time::Duration::hours(1);
    ca.not_after = now + time::Duration::days(365);
    let ca_cert = ca.self_signed(&ca_key).map_err(cert_error)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(cert_error)?;
    let names = service_names(es.name, es.ns);
    let mut leaf = CertificateParams::new(names.clone()).map_err(cert_error)?;
    leaf.distinguished_name
        .push(DnType::CommonName, names[0].clone());
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = now - time::Duration::hours(1);
    leaf.not_after = now + time::Duration::days(365);
    let leaf_cert = leaf.signed_by(&key, &issuer).map_err(cert_error)?;

    let ca_pem = STANDARD.encode(ca_cert.pem());
    let tls_pem = STANDARD.encode(leaf_cert.pem());
    let public = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": es.meta(&public_secret_name(es.name)),
        "type": "Opaque",
        "data": { "ca.crt": ca_pem, "tls.crt": tls_pem },
    });
    let internal = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": es.meta(&internal_secret_name(es.name)),
        "type": "Opaque",
        "data": { "ca.crt": ca_pem, "tls.crt": tls_pem, "tls.key": STANDARD.encode(key.serialize_pem()) },
    });
    Ok((public, internal))
}
