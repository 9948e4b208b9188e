//! Operations on the wire: kinds, states, the progress log and pages of operations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::operations::model::OperationKind;
use crate::operations::model::OperationState;
use crate::operations::repo::Operation;
use crate::operations::repo::TenantOperation;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperationKindName {
    /// Create the cluster.
    Create,
    /// Change node counts.
    Scale,
    /// Change CPU, memory, storage.
    Resize,
    /// Rolling restart.
    Restart,
    /// Change the version.
    Upgrade,
    /// Other spec changes.
    Reconfigure,
    /// Remove the cluster.
    Delete,
}

impl From<OperationKind> for OperationKindName {
    fn from(k: OperationKind) -> Self {
        match k {
            OperationKind::Create => Self::Create,
            OperationKind::Scale => Self::Scale,
            OperationKind::Resize => Self::Resize,
            OperationKind::Restart => Self::Restart,
            OperationKind::Upgrade => Self::Upgrade,
            OperationKind::Reconfigure => Self::Reconfigure,
            OperationKind::Delete => Self::Delete,
        }
    }
}

/// Where an operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperationStateName {
    /// Recorded, not picked up yet.
    Pending,
    /// Being applied to Kubernetes.
    Applying,
    /// Applied; waiting for the cluster to be Ready at the new generation.
    Waiting,
    /// Done.
    Succeeded,
    /// Given up (`last_error` says why).
    Failed,
    /// Cancelled by a user (its change is rolled back), or ended by a delete ("superseded by delete").
    Cancelled,
    /// Replaced, while waiting or stalled, by a newer scale, resize, reconfigure or upgrade.
    Superseded,
}

impl From<OperationState> for OperationStateName {
    fn from(s: OperationState) -> Self {
        match s {
            OperationState::Pending => Self::Pending,
            OperationState::Applying => Self::Applying,
            OperationState::Waiting => Self::Waiting,
            OperationState::Succeeded => Self::Succeeded,
            OperationState::Failed => Self::Failed,
            OperationState::Cancelled => Self::Cancelled,
            OperationState::Superseded => Self::Superseded,
        }
    }
}

/// One entry of an operation's progress log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepView {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub message: String,
}

/// An operation: a requested change and its progress.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OperationView {
    /// Id.
    pub id: Uuid,
    /// Tenant slug.
    pub tenant: String,
    /// Cluster name.
    pub cluster: String,
    /// What it does.
    pub kind: OperationKindName,
    /// Where it is; `succeeded`, `failed`, `cancelled` and `superseded` are final.
    pub state: OperationStateName,
    /// True once the state is final.
    pub done: bool,
    /// Request parameters (depend on the kind).
    pub params: serde_json::Value,
    /// The cluster generation this operation produces.
    pub target_generation: i64,
    /// Progress log.
    pub steps: Vec<StepView>,
    /// The last error (a Kubernetes error while retrying, or why it failed).
    pub last_error: Option<String>,
    /// Why it seems stuck, when no progress was seen for a while.
    pub stalled_reason: Option<String>,
    /// Apply attempts so far.
    pub attempts: i32,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// Requested at.
    pub created_at: DateTime<Utc>,
    /// First picked up at.
    pub started_at: Option<DateTime<Utc>>,
    /// Applied to Kubernetes at.
    pub applied_at: Option<DateTime<Utc>>,
    /// Finished at.
    pub finished_at: Option<DateTime<Utc>>,
}

impl OperationView {
    /// The view of an operation on cluster `cluster` of tenant `tenant`.
    pub fn new(op: &Operation, tenant: &str, cluster: &str) -> Self {
        Self {
            id: op.id,
            tenant: tenant.to_owned(),
            cluster: cluster.to_owned(),
            kind: op.kind.into(),
            state: op.state.into(),
            done: !op.state.is_active(),
            params: op.params.clone(),
            target_generation: op.target_generation,
            steps: op
                .steps
                .iter()
                .map(|s| StepView {
                    at: s.at,
                    message: s.message.clone(),
                })
                .collect(),
            last_error: op.last_error.clone(),
            stalled_reason: op.stalled_reason.clone(),
            attempts: op.attempts,
            requested_by: op.requested_by,
            created_at: op.created_at,
            started_at: op.started_at,
            applied_at: op.applied_at,
            finished_at: op.finished_at,
        }
    }

    /// The view of an entry of a tenant's operations page.
    pub fn listed(op: TenantOperation, tenant: &str) -> Self {
        Self {
            id: op.id,
            tenant: tenant.to_owned(),
            cluster: op.cluster,
            kind: op.kind.into(),
            state: op.state.into(),
            done: !op.state.is_active(),
            params: op.params,
            target_generation: op.target_generation,
            steps: op
                .steps
                .into_iter()
                .map(|s| StepView {
                    at: s.at,
                    message: s.message,
                })
                .collect(),
            last_error: op.last_error,
            stalled_reason: op.stalled_reason,
            attempts: op.attempts,
            requested_by: op.requested_by,
            created_at: op.created_at,
            started_at: op.started_at,
            applied_at: op.applied_at,
            finished_at: op.finished_at,
        }
    }
}

/// A page of operations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OperationPage {
    /// Operations, newest first.
    pub items: Vec<OperationView>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}
