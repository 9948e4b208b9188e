//! The Kubernetes target the portal drives: a real cluster (kubeconfig or in-cluster) or the built-in
//! simulated one. Everything else takes a `KubeTarget` and uses its `kube::Client`, so the same code path
//! (render, apply, watch, observe) runs against both.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;

use crate::config::{Config, KubeMode};
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

    /// Build the target the configuration asks for. In sim mode with `ESAAS_SIM_LISTEN`, the simulated API is
    /// also served on that address (loopback only unless `ESAAS_SIM_LISTEN_ALLOW_REMOTE`; checked here, before
    /// binding) and a kubeconfig for it, with its bearer token, is written to `.esaas/sim-kubeconfig` (mode 600),
    /// or to `.esaas/sim-kubeconfig-<port>` while another running portal owns that file.
    pub async fn from_config(config: &Config) -> anyhow::Result<Self> {
        match config.kube_mode {
            KubeMode::Sim => {
                let target = Self::simulated(config.sim_kubelet_delay, config.sim_nodes);
                if let Some(sim) = &target.sim {
                    sim.set_es_demo(config.sim_es_demo);
                }
                if let (Some(addr), Some(sim)) = (config.sim_listen, target.sim.clone()) {
                    Sim::check_listen(addr, config.sim_listen_allow_remote)
                        .map_err(|e| anyhow::anyhow!("ESAAS_SIM_LISTEN={addr}: {e}"))?;
                    let listener = tokio::net::TcpListener::bind(addr).await?;
                    let bound = listener.local_addr()?;
                    let path = crate::k8s::sim_kubeconfig::claim(
                        std::path::Path::new(".esaas"),
                        bound.port(),
                    )?;
                    let path = path.as_path();
                    sim.write_kubeconfig(bound, path)?;
                    tracing::info!(
                        addr = %bound,
                        kubeconfig = %path.display(),
                        "simulated Kubernetes API served; try: kubectl --kubeconfig {} get elasticsearch,sts,pods -A",
                        path.display()
                    );
                    let serving = sim.clone();
                    tokio::spawn(async move {
                        if let Err(e) = serving.serve_remote(listener).await {
                            tracing::error!(error = %e, "simulated Kubernetes API server stopped");
                        }
                    });
                }
                Ok(target)
            }
            KubeMode::Kubeconfig => {
                let kube_config = kube::Config::infer().await?;
                let name = std::env::var("KUBECONFIG")
                    .ok()
                    .map(|_| format!("kubeconfig ({})", kube_config.cluster_url))
                    .unwrap_or_else(|| format!("{}", kube_config.cluster_url));
                let client = kube::Client::try_from(kube_config)?;
                Ok(Self {
                    client,
                    name,
                    sim: None,
                })
            }
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
