//! The Kubernetes target of a portal started with a configuration: the simulated one (served on
//! `ESAAS_SIM_LISTEN` with a kubeconfig for it, when asked) or the cluster of the kubeconfig / in-cluster
//! service account.

use crate::config::{Config, KubeMode};
use crate::k8s::sim::Sim;
use crate::k8s::target::KubeTarget;

/// Build the target the configuration asks for. In sim mode with `ESAAS_SIM_LISTEN`, the simulated API is
/// also served on that address (loopback only unless `ESAAS_SIM_LISTEN_ALLOW_REMOTE`; checked here, before
/// binding) and a kubeconfig for it, with its bearer token, is written to `.esaas/sim-kubeconfig` (mode 600),
/// or to `.esaas/sim-kubeconfig-<port>` while another running portal owns that file.
pub async fn kube_target(config: &Config) -> anyhow::Result<KubeTarget> {
    match config.kube_mode {
        KubeMode::Sim => {
            let target = KubeTarget::simulated(config.sim_kubelet_delay, config.sim_nodes);
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
            Ok(KubeTarget {
                client,
                name,
                sim: None,
            })
        }
    }
}
