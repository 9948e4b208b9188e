//! Reaching the emulator: a `kube::Client` over the axum router as a tower service (no socket), and the
//! kubeconfig file (the served API's CA certificate and bearer token, mode 600) that points kubectl at the
//! emulator served on a loopback port.

use axum::Router;
use tower::ServiceBuilder;

use super::http::Internal;

/// A kube client whose requests go straight into the router. `internal` marks the requests as coming from the
/// simulated controllers (not counted, not subject to fault injection).
pub fn in_process(router: Router, internal: bool) -> kube::Client {
    let service = ServiceBuilder::new()
        .map_request(move |req: http::Request<kube::client::Body>| {
            let (parts, body) = req.into_parts();
            let mut req = http::Request::from_parts(parts, axum::body::Body::new(body));
            if internal {
                req.extensions_mut().insert(Internal);
            }
            req
        })
        .service(router);
    kube::Client::new(service, "default")
}

/// kubeconfig for `https://addr`: cluster `esaas-sim` trusting the CA `ca_pem`, a user with the bearer
/// `token`, context `esaas-sim`.
pub fn kubeconfig_yaml(addr: std::net::SocketAddr, ca_pem: &str, token: &str) -> String {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: esaas-sim
  cluster:
    server: https://{addr}
    certificate-authority-data: {ca}
users:
- name: esaas-sim
  user:
    token: {token}
contexts:
- name: esaas-sim
  context:
    cluster: esaas-sim
    user: esaas-sim
    namespace: default
current-context: esaas-sim
preferences: {{}}
"
    )
}

/// Write [`kubeconfig_yaml`] to a file readable by its owner only (mode 600, also when it existed before:
/// it holds the token).
pub fn write_kubeconfig(
    addr: std::net::SocketAddr,
    ca_pem: &str,
    token: &str,
    path: &std::path::Path,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = options.open(path)?;
    file.write_all(kubeconfig_yaml(addr, ca_pem, token).as_bytes())
}
