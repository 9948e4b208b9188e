//! Reaching the emulator: a `kube::Client` over the axum router as a tower service (no socket), and the
//! kubeconfig file that points kubectl at the emulator served on a loopback port.

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

/// kubeconfig for `http://addr`: cluster `esaas-sim`, a user without credentials, context `esaas-sim`.
pub fn kubeconfig_yaml(addr: std::net::SocketAddr) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: esaas-sim
  cluster:
    server: http://{addr}
users:
- name: esaas-sim
  user: {{}}
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

/// Write [`kubeconfig_yaml`] to a file.
pub fn write_kubeconfig(addr: std::net::SocketAddr, path: &std::path::Path) -> std::io::Result<()> {
    std::fs::write(path, kubeconfig_yaml(addr))
}
