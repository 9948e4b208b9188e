//! The inspector: polls each live cluster's Elasticsearch (as the portal's own user `esaas-portal`) and keeps
//! the latest snapshot in Postgres (`es_inspections`), so the dashboard and the API read Postgres only, stay
//! fast, and keep showing the last known data, with the reason, while Elasticsearch cannot be reached.
//!
//! Scheduling: every `ESAAS_ES_POLL_SECS` (default 30) with ±10 % jitter so clusters created together do not
//! poll together; every 5 s while someone watches the cluster's dashboard ([`repo::mark_watched`]); at most
//! `ESAAS_ES_POLL_CONCURRENCY` polls at once per process. Due clusters are claimed with
//! `FOR UPDATE SKIP LOCKED`, so portal replicas share the work.
//!
//! When Elasticsearch refuses the portal's password (the Secret was never applied, or `ESAAS_ES_USER_KEY`
//! changed), the inspector re-applies the cluster's portal user Secret; ECK then updates the file realm.
//!
//! It never changes anything inside Elasticsearch: changes are audited service calls ([`actions`]).

pub mod actions;
pub mod explain;
pub mod poll;
pub mod repo;
pub mod snapshot;

use std::time::Duration;

use futures::StreamExt;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::elasticsearch::connect::ClusterAddress;
use crate::elasticsearch::{Connector, EsError};
use crate::error::AppResult;
use crate::k8s::apply::DesiredObject;
use crate::k8s::eck::RenderContext;
use crate::state::AppState;

/// What the inspector needs, and nothing more.
#[derive(Clone)]
pub struct Inspector {
    db: PgPool,
    connector: Connector,
    kube: kube::Client,
    interval: Duration,
    concurrency: usize,
}

/// The outcome of one poll.
#[derive(Debug, Clone, PartialEq)]
pub enum PollOutcome {
    /// A snapshot was stored.
    Stored {
        /// Indices seen.
        indices: usize,
        /// Shard copies seen.
        shards: usize,
    },
    /// Elasticsearch could not be read; the error was stored.
    Failed(EsError),
}

impl Inspector {
    /// The inspector of the portal's state.
    pub fn new(state: &AppState) -> Self {
        Self {
            db: state.db.clone(),
            connector: state.es.clone(),
            kube: state.kube.client.clone(),
            interval: state.config.es_poll_interval,
            concurrency: state.config.es_poll_concurrency.max(1),
        }
    }

    /// Poll one cluster now and store what was seen (or why nothing was).
    pub async fn poll(&self, cluster: &ClusterAddress) -> AppResult<PollOutcome> {
        let result = match self.connector.portal_client(cluster).await {
            Ok(client) => poll::collect(&client).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(snapshot) => {
                repo::store_snapshot(&self.db, cluster.id, chrono::Utc::now(), &snapshot).await?;
                Ok(PollOutcome::Stored {
                    indices: snapshot.indices.len(),
                    shards: snapshot.shards.len(),
                })
            }
            Err(e) => {
                if matches!(e, EsError::Authentication { .. }) {
                    self.reapply_portal_user(cluster).await;
                }
                repo::store_error(&self.db, cluster.id, &e).await?;
                Ok(PollOutcome::Failed(e))
            }
        }
    }

    /// Poll the cluster with this id now (tests, and after the portal changed something).
    pub async fn poll_cluster(&self, cluster_id: Uuid) -> AppResult<Option<PollOutcome>> {
        match repo::address(&self.db, cluster_id).await? {
            Some(address) => Ok(Some(self.poll(&address).await?)),
            None => Ok(None),
        }
    }

    /// Claim the clusters that are due and poll them (bounded concurrency). Returns how many were polled.
    pub async fn poll_due(&self) -> AppResult<usize> {
        let limit = i64::try_from(self.concurrency * 4).unwrap_or(64);
        let due = repo::claim_due(&self.db, limit, self.interval).await?;
        let count = due.len();
        futures::stream::iter(due)
            .for_each_concurrent(self.concurrency, |cluster| async move {
                if let Err(e) = self.poll(&cluster).await {
                    tracing::warn!(cluster = %cluster.name, error = %e, "storing a poll failed");
                }
            })
            .await;
        Ok(count)
    }

    async fn reapply_portal_user(&self, cluster: &ClusterAddress) {
        let ctx = RenderContext {
            tenant_slug: cluster.tenant_slug.clone(),
            cluster_name: cluster.name.clone(),
            cluster_id: cluster.id,
            restart_trigger: None,
            portal_user_password: self.connector.key().password(cluster.id),
            exposure: crate::k8s::expose::Exposure::Internal,
        };
        let secret = crate::k8s::eck::render::render_portal_user(&ctx);
        match DesiredObject::from_object(&secret, "secrets") {
            Ok(object) => {
                if let Err(e) = object.apply(&self.kube).await {
                    tracing::warn!(cluster = %cluster.name, error = %e, "re-applying the portal user failed");
                } else {
                    tracing::info!(cluster = %cluster.name, "portal user refused; its Secret was re-applied");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot render the portal user"),
        }
    }
}

/// Start the inspector loop (not when `ESAAS_ES_POLL_SECS` is 0); it stops with `shutdown`.
pub fn spawn(state: &AppState, shutdown: CancellationToken) {
    if state.config.es_poll_interval.is_zero() {
        return;
    }
    let inspector = Inspector::new(state);
    tokio::spawn(async move {
        loop {
            let polled = match inspector.poll_due().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "inspector pass failed");
                    0
                }
            };
            // A full batch means more are due: go on at once; otherwise look again in a second.
            let pause = if polled >= inspector.concurrency * 4 {
                Duration::ZERO
            } else {
                Duration::from_secs(1)
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    });
}
