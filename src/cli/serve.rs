//! `esaas serve`: migrate, connect to Kubernetes (or start the simulated one), start the background tasks
//! (watches, observer, reconciler, resync, the Elasticsearch inspector, the hourly purge of expired sessions, the notification
//! delivery worker), serve HTTP, and shut everything down gracefully.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::state::AppState;

/// Serve until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let pool = crate::db::connect_lazy(&config)?;
    crate::wait_and_migrate(&pool, Duration::from_secs(60)).await?;
    crate::accounts::password::warm_up();
    let kube = super::kube_target::kube_target(&config).await?;
    kube.check_eck_crds().await?;
    tracing::info!(kube_target = %kube.name, simulated = kube.is_simulated(), "Kubernetes target ready");
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "ESaaS Portal listening");
    let state = AppState::with_kube(config, pool, kube);
    let background = CancellationToken::new();
    crate::controller::spawn_background(&state, background.clone());
    crate::monitoring::inspector::spawn(&state, background.clone());
    crate::monitoring::notifications::worker::spawn_for(&state, background.clone())?;
    crate::auth::housekeeping::spawn(
        state.db.clone(),
        state.config.login_window,
        state.config.audit_failed_login_retention,
        background.clone(),
    );
    let app = crate::build_app(state);
    let stop = background.clone();
    crate::run(listener, app, async move {
        crate::shutdown_signal().await;
        stop.cancel();
    })
    .await?;
    background.cancel();
    tracing::info!("stopped");
    Ok(())
}
