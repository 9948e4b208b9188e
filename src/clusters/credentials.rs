//! Credentials reveal: the `elastic` user's password is read from the Kubernetes Secret the cluster's engine
//! keeps it in ([`crate::k8s::engine::Engine::elastic_user_secret`]) at the moment a permitted member asks, never stored in Postgres, and
//! every reveal is audited. This is the one place a request handler reads from Kubernetes directly.
//!
//! No database connection is held while Kubernetes is asked (a slow API server must not drain the pool that
//! every other request needs), and the wait is bounded by `ESAAS_KUBE_READ_TIMEOUT_SECS`: past it the reveal
//! answers 504 with a message saying Kubernetes did not answer, and nothing is audited (nothing was shown).

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use serde::Serialize;

use crate::audit::{self, AuditEntry};
use crate::clusters::repo;
use crate::clusters::service::Caller;
use crate::error::{AppError, AppResult};
use crate::k8s::labels;
use crate::state::AppState;

/// How to connect to a cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    /// User name (`elastic`).
    pub username: String,
    /// Its password.
    pub password: String,
    /// In-cluster HTTP(S) endpoint.
    pub endpoint: String,
}

/// Read the elastic user's password (members, admins and owners only; audited).
pub async fn reveal(
    state: &AppState,
    caller: &Caller,
    tenant_slug: &str,
    cluster_name: &str,
) -> AppResult<Credentials> {
    if !caller.role.can_view_credentials() {
        return Err(AppError::Forbidden(format!(
            "Your role ({}) may not see credentials.",
            caller.role
        )));
    }
    let cluster = {
        let mut conn = state.db.acquire().await?;
        repo::get_by_name(&mut conn, caller.tenant_id, cluster_name).await?
    };
    let secrets: Api<Secret> = Api::namespaced(
        state.kube.client.clone(),
        &labels::namespace_name(tenant_slug),
    );
    let engine = cluster.engine();
    let (secret_name, secret_key) = engine.elastic_user_secret(cluster_name);
    let timeout = state.config.kube_read_timeout;
    let secret = tokio::time::timeout(timeout, secrets.get_opt(&secret_name))
        .await
        .map_err(|_| {
            AppError::GatewayTimeout(format!(
                "The password could not be read: Kubernetes did not answer within {} s. Try again later.",
                timeout.as_secs_f64()
            ))
        })?
        .map_err(|e| AppError::Unavailable(anyhow::anyhow!("reading {secret_name}: {e}")))?
        .ok_or_else(|| {
            AppError::Conflict(
                "The credentials do not exist yet: the cluster is still being created.".into(),
            )
        })?;
    let password = secret
        .data
        .as_ref()
        .and_then(|d| d.get(secret_key))
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("{secret_name} has no `{secret_key}` key"))
        })?;
    let mut conn = state.db.acquire().await?;
    audit::record(
        &mut conn,
        AuditEntry {
            actor: &caller.actor,
            tenant_id: Some(caller.tenant_id),
            action: "cluster.credentials_reveal",
            target_kind: "cluster",
            target: &cluster.name,
            outcome: "ok",
            before: None,
            after: None,
            meta: &caller.meta,
        },
    )
    .await?;
    Ok(Credentials {
        username: "elastic".into(),
        password,
        endpoint: engine
            .endpoints(tenant_slug, cluster_name, cluster.spec.http_tls)
            .elasticsearch,
    })
}
