//! Where a cluster is reached: the in-cluster addresses of its Elasticsearch and Kibana HTTP Services (from
//! its engine), and
//! the external ones the platform's exposure gives (`k8s::expose`): `https://<cluster>-<tenant>.<domain>`
//! through the Ingress (TLS ends at the ingress controller), or the load balancer's address on the
//! Service's port once the observer has seen one. `None` when the cluster is internal only, or while a load
//! balancer has no address yet.

use serde::Serialize;

use crate::clusters::repo::Cluster;
use crate::k8s::expose::Exposure;

/// One HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Inside Kubernetes: the Service's `.svc` name.
    pub internal: String,
    /// From outside Kubernetes, when the cluster is exposed and the address is known.
    pub external: Option<String>,
}

/// The endpoints of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoints {
    /// Elasticsearch's HTTP API.
    pub elasticsearch: Endpoint,
    /// Kibana, when the cluster has it.
    pub kibana: Option<Endpoint>,
}

/// `host:port` for a URL (IPv6 addresses in brackets).
fn host_port(address: &str, port: u16) -> String {
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

/// The endpoints of `cluster` (tenant `tenant_slug`) under the platform's `exposure`.
pub fn of(exposure: &Exposure, tenant_slug: &str, cluster: &Cluster) -> Endpoints {
    let tls = cluster.spec.http_tls;
    let scheme = if tls { "https" } else { "http" };
    let lb = &cluster.status.load_balancers;
    let (es_external, kibana_external) = match exposure {
        Exposure::Internal => (None, None),
        Exposure::Ingress(settings) => (
            Some(format!(
                "https://{}",
                settings.elasticsearch_host(&cluster.name, tenant_slug)
            )),
            Some(format!(
                "https://{}",
                settings.kibana_host(&cluster.name, tenant_slug)
            )),
        ),
        Exposure::LoadBalancer => (
            lb.elasticsearch
                .as_deref()
                .map(|a| format!("{scheme}://{}", host_port(a, 9200))),
            lb.kibana
                .as_deref()
                .map(|a| format!("{scheme}://{}", host_port(a, 5601))),
        ),
    };
    let internal = cluster.engine().endpoints(tenant_slug, &cluster.name, tls);
    Endpoints {
        elasticsearch: Endpoint {
            internal: internal.elasticsearch,
            external: es_external,
        },
        kibana: cluster.spec.kibana.as_ref().map(|_| Endpoint {
            internal: internal.kibana,
            external: kibana_external,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_get_brackets() {
        assert_eq!(host_port("203.0.113.7", 9200), "203.0.113.7:9200");
        assert_eq!(host_port("2001:db8::7", 9200), "[2001:db8::7]:9200");
        assert_eq!(host_port("lb.example.net", 5601), "lb.example.net:5601");
    }
}
