//! Operation kinds and states: the state machine every change to a cluster goes through.
//!
//! ```text
//! pending --(reconciler claims it)--> applying --(objects applied)--> waiting --(engine done at the
//!   |                                    |  ^ Kubernetes error: retry with backoff      generation)--> succeeded
//!   |                                    +--+ ("waiting for Kubernetes: <reason>")    --> failed
//!   +--(any unfinished state: the user cancels, or a delete supersedes it)--> cancelled
//!                                       waiting (or stalled) --(a newer scale/resize/reconfigure/upgrade)--> superseded
//! ```
//! "Stalled" is not a state of its own: it is an active operation with a `stalled_reason` (no progress for the
//! stall timeout). Cancelling restores the spec from before the operation as a new generation (a rollback
//! operation applies it when something had been applied); see `clusters::service::cancel`.
//! Operations are immutable requests: kind, parameters and the spec before/after never change after insert;
//! only the state, the steps log, timestamps and the last error move forward.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    /// Create the cluster's objects.
    Create,
    /// Change node counts.
    Scale,
    /// Change CPU, memory, storage.
    Resize,
    /// Rolling restart (restart-trigger annotation).
    Restart,
    /// Change the Elasticsearch version (forward only).
    Upgrade,
    /// Other spec changes (Kibana, TLS, node sets).
    Reconfigure,
    /// Remove the cluster's objects.
    Delete,
}

impl OperationKind {
    /// Database/wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Create => "create",
            OperationKind::Scale => "scale",
            OperationKind::Resize => "resize",
            OperationKind::Restart => "restart",
            OperationKind::Upgrade => "upgrade",
            OperationKind::Reconfigure => "reconfigure",
            OperationKind::Delete => "delete",
        }
    }

    /// Parse the database name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => OperationKind::Create,
            "scale" => OperationKind::Scale,
            "resize" => OperationKind::Resize,
            "restart" => OperationKind::Restart,
            "upgrade" => OperationKind::Upgrade,
            "reconfigure" => OperationKind::Reconfigure,
            "delete" => OperationKind::Delete,
            _ => return None,
        })
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an operation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationState {
    /// Recorded, not yet picked up (can be cancelled).
    Pending,
    /// A reconciler is applying it (or retrying after a Kubernetes error).
    Applying,
    /// Applied; waiting for the cluster to reach the new generation and be Ready.
    Waiting,
    /// Done.
    Succeeded,
    /// Given up (the last error says why).
    Failed,
    /// Cancelled by a user (its change rolled back), or ended by a delete ("superseded by delete").
    Cancelled,
    /// Replaced, while waiting or stalled, by a newer change to the same cluster.
    Superseded,
}

impl OperationState {
    /// Database/wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationState::Pending => "pending",
            OperationState::Applying => "applying",
            OperationState::Waiting => "waiting",
            OperationState::Succeeded => "succeeded",
            OperationState::Failed => "failed",
            OperationState::Cancelled => "cancelled",
            OperationState::Superseded => "superseded",
        }
    }

    /// Parse the database name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => OperationState::Pending,
            "applying" => OperationState::Applying,
            "waiting" => OperationState::Waiting,
            "succeeded" => OperationState::Succeeded,
            "failed" => OperationState::Failed,
            "cancelled" => OperationState::Cancelled,
            "superseded" => OperationState::Superseded,
            _ => return None,
        })
    }

    /// Still in progress (blocks a new operation on the same cluster).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            OperationState::Pending | OperationState::Applying | OperationState::Waiting
        )
    }
}

impl fmt::Display for OperationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of an operation's steps log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// When (RFC 3339).
    pub at: chrono::DateTime<chrono::Utc>,
    /// What happened.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [
            OperationKind::Create,
            OperationKind::Scale,
            OperationKind::Resize,
            OperationKind::Restart,
            OperationKind::Upgrade,
            OperationKind::Reconfigure,
            OperationKind::Delete,
        ] {
            assert_eq!(OperationKind::parse(k.as_str()), Some(k));
        }
        for s in [
            "pending",
            "applying",
            "waiting",
            "succeeded",
            "failed",
            "cancelled",
            "superseded",
        ] {
            assert_eq!(OperationState::parse(s).unwrap().as_str(), s);
        }
        assert!(OperationState::Waiting.is_active());
        assert!(!OperationState::Cancelled.is_active());
        assert!(!OperationState::Superseded.is_active());
    }
}
