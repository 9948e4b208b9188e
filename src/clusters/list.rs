//! Read models for the cluster pages: the tenant's cluster list joined with each cluster's active operation
//! (one query, so a list of a thousand clusters costs one round trip), and the count of clusters per health
//! for the list's filter. Read-only: nothing here writes, and nothing here calls Kubernetes. Each row carries
//! its [`ClusterState`] from [`crate::clusters::state::state_of`], the same function the dashboard and the
//! API use.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::clusters::state::{ActiveWork, ClusterState, Observed, state_of};
use crate::error::AppResult;
use crate::operations::model::{OperationKind, OperationState};

/// One row of the clusters list.
#[derive(Debug, Clone)]
pub struct ListRow {
    /// Cluster name.
    pub name: String,
    /// Desired Elasticsearch version.
    pub version: String,
    /// Version the nodes run (empty before the first observation).
    pub observed_version: String,
    /// `green`, `yellow`, `red` or `unknown`.
    pub health: String,
    /// The engine's phase (empty before the first observation).
    pub phase: String,
    /// Ready Elasticsearch nodes.
    pub available_nodes: i32,
    /// Desired Elasticsearch nodes.
    pub desired_nodes: i64,
    /// A delete was accepted.
    pub deleting: bool,
    /// Creator's email (None when the account is gone).
    pub created_by: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The active operation, if any.
    pub active: Option<ActiveOperation>,
    /// The state in people's words.
    pub state: ClusterState,
}

/// The active operation of a cluster, as the list shows it.
#[derive(Debug, Clone)]
pub struct ActiveOperation {
    /// Operation id.
    pub id: Uuid,
    /// `create`, `scale`, ...
    pub kind: String,
    /// `pending`, `applying` or `waiting`.
    pub state: String,
    /// The last step's message.
    pub last_step: Option<String>,
    /// The last error (`waiting for Kubernetes: ...` while retrying).
    pub last_error: Option<String>,
    /// Why it is considered stalled.
    pub stalled_reason: Option<String>,
    /// When it was requested.
    pub created_at: DateTime<Utc>,
}

/// A page of a tenant's live clusters ordered by name, each with its active operation: names after
/// `after_name`, only `health` when given, at most `limit`.
#[tracing::instrument(skip(conn))]
pub async fn list_page(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    health: Option<&str>,
    after_name: Option<&str>,
    limit: i64,
) -> AppResult<Vec<ListRow>> {
    let rows = sqlx::query!(
        r#"SELECT c.name, c.engine, c.spec->>'version' AS "version?", c.observed_version, c.health, c.phase,
                  c.available_nodes, c.nodes, c.deleting, u.email AS "created_by?", c.created_at,
                  c.status_observed_at, o.params AS "op_params?",
                  o.id AS "op_id?", o.kind AS "op_kind?", o.state AS "op_state?",
                  o.steps->-1->>'message' AS "op_last_step?", o.last_error AS "op_error?",
                  o.stalled_reason AS "op_stalled?", o.created_at AS "op_created_at?"
           FROM clusters c
           LEFT JOIN users u ON u.id = c.created_by
           LEFT JOIN operations o ON o.cluster_id = c.id AND o.state IN ('pending', 'applying', 'waiting')
           WHERE c.tenant_id = $1 AND c.deleted_at IS NULL
             AND ($2::text IS NULL OR c.health = $2)
             AND ($3::text IS NULL OR c.name > $3)
           ORDER BY c.name
           LIMIT $4"#,
        tenant_id,
        health,
        after_name,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let work = match (r.op_kind.as_deref(), r.op_state.as_deref()) {
                (Some(kind), Some(state)) => OperationKind::parse(kind)
                    .zip(OperationState::parse(state))
                    .map(|(kind, state)| ActiveWork {
                        kind,
                        state,
                        params: r.op_params.clone().unwrap_or_default(),
                        stalled_reason: r.op_stalled.clone(),
                    }),
                _ => None,
            };
            let state = state_of(
                r.deleting,
                work.as_ref(),
                Observed {
                    engine: crate::k8s::engine::by_name(&r.engine)
                        .unwrap_or_else(crate::k8s::engine::default_engine),
                    health: &r.health,
                    phase: &r.phase,
                    ready_nodes: i64::from(r.available_nodes),
                    desired_nodes: r.nodes,
                    ever: r.status_observed_at.is_some(),
                },
            );
            ListRow {
                name: r.name,
                version: r.version.unwrap_or_default(),
                observed_version: r.observed_version,
                health: r.health,
                phase: r.phase,
                available_nodes: r.available_nodes,
                desired_nodes: r.nodes,
                deleting: r.deleting,
                created_by: r.created_by,
                created_at: r.created_at,
                active: match (r.op_id, r.op_kind, r.op_state, r.op_created_at) {
                    (Some(id), Some(kind), Some(state), Some(created_at)) => {
                        Some(ActiveOperation {
                            id,
                            kind,
                            state,
                            last_step: r.op_last_step,
                            last_error: r.op_error,
                            stalled_reason: r.op_stalled,
                            created_at,
                        })
                    }
                    _ => None,
                },
                state,
            }
        })
        .collect())
}

/// How many live clusters a tenant has per health.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthCounts {
    /// Green clusters.
    pub green: i64,
    /// Yellow clusters.
    pub yellow: i64,
    /// Red clusters.
    pub red: i64,
    /// Clusters without a known health.
    pub unknown: i64,
}

impl HealthCounts {
    /// Every live cluster.
    pub fn total(&self) -> i64 {
        self.green + self.yellow + self.red + self.unknown
    }

    /// The count of one health (`green`, ...); 0 for anything else.
    pub fn of(&self, health: &str) -> i64 {
        match health {
            "green" => self.green,
            "yellow" => self.yellow,
            "red" => self.red,
            "unknown" => self.unknown,
            _ => 0,
        }
    }
}

/// The live clusters of a tenant counted per health.
#[tracing::instrument(skip(conn))]
pub async fn health_counts(conn: &mut PgConnection, tenant_id: Uuid) -> AppResult<HealthCounts> {
    let rows = sqlx::query!(
        r#"SELECT health, count(*) AS "n!" FROM clusters
           WHERE tenant_id = $1 AND deleted_at IS NULL GROUP BY health"#,
        tenant_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = HealthCounts::default();
    for r in rows {
        match r.health.as_str() {
            "green" => counts.green = r.n,
            "yellow" => counts.yellow = r.n,
            "red" => counts.red = r.n,
            _ => counts.unknown += r.n,
        }
    }
    Ok(counts)
}
