//! The Kubernetes target the portal drives: a real cluster (kubeconfig or in-cluster) or the built-in
//! simulated one (`crate::cli::kube_target` builds the one the configuration asks for). Everything else
//! takes a `KubeTarget` and uses its `kube::Client`, so the same code path
//! (render, apply, watch, observe) runs against both.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;

use crate::k8s::sim::{Sim, SimNodes, SimOptions};

/// A Kubernetes API the portal talks to.
#[derive(Clone)]
pub struct KubeTarget {
    /// The client (its transport is the in-process emulator for the simulated target).
    pub client: kube::Client,
    /// Shown in the UI: `simulated` or the kubeconfig context / `in-cluster`.
    pub name: String,
    /// The simulated Kubernetes, when that is the target (tests use it for fault injection).
    pub sim: Option<Sim>,
}

impl KubeTarget {
    /// True for the built-in simulated Kubernetes (the UI labels it).
    pub fn is_simulated(&self) -> bool {
        self.sim.is_some()
    }

    /// A simulated Kubernetes with these nodes and its controllers running on the current runtime.
    pub fn simulated(kubelet_delay: Duration, nodes: SimNodes) -> Self {
        let sim = Sim::new(SimOptions {
            kubelet_delay,
            run_controllers: true,
            nodes,
            ..SimOptions::default()
        });
        Self::from_sim(sim)
    }

    /// Wrap an existing simulated Kubernetes.
    pub fn from_sim(sim: Sim) -> Self {
        Self {
            client: sim.client(),
            name: "simulated".into(),
            sim: Some(sim),
        }
    }

    /// Check that the ECK custom resource definitions are installed; the error says clearly what is missing.
    pub async fn check_eck_crds(&self) -> anyhow::Result<()> {
        if self.is_simulated() {
            return Ok(());
        }
        let crds: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        for name in [
            "elasticsearches.elasticsearch.k8s.elastic.co",
            "kibanas.kibana.k8s.elastic.co",
        ] {
            match crds.get_opt(name).await {
                Ok(Some(_)) => {}
                Ok(None) => anyhow::bail!(
                    "the ECK CRD {name} is not installed in this cluster: install the ECK operator \
                     (see README.md, 'A real cluster') or run with ESAAS_KUBE=sim"
                ),
                Err(e) => anyhow::bail!("cannot read CRD {name}: {e}"),
            }
        }
        Ok(())
    }
}
