//! The state of a cluster in the words people use: Creating, Ready, Changing (what), Degraded, Unavailable,
//! Stalled (why), Deleting. [`state_of`] is the one place that turns what Postgres holds (the delete flag,
//! the active operation, the observer's health, phase and ready nodes) into that state; the web list, the
//! dashboard and the API's cluster view all show its answer, so they never disagree. The raw Kubernetes and
//! engine words (health, phase) stay available in [`ClusterState::raw`] for a detail line.
//!
//! Precedence, first match wins:
//! 1. a delete was accepted (or a delete operation runs): **Deleting**;
//! 2. the active operation is stalled: **Stalled**, with the reason;
//! 3. the active operation creates the cluster: **Creating**, with the nodes ready so far;
//! 4. any other active operation: **Changing**, saying what (e.g. "scaling node set data to 5 nodes");
//! 5. no operation, but the engine reports a phase other than its settled one: **Changing** (it is still at work);
//! 6. never observed, red, or health unknown: **Unavailable**;
//! 7. yellow, or green with fewer nodes ready than requested: **Degraded**;
//! 8. green: **Ready**.
//!
//! Pure: no I/O, so every state is unit tested below.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::k8s::engine::Engine;
use crate::operations::model::{OperationKind, OperationState};
use crate::tenants::quota::units;

/// The state a person sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateKind {
    /// The cluster is being created.
    Creating,
    /// Green, every requested node ready, nothing in progress.
    Ready,
    /// A change is being applied.
    Changing,
    /// Serving, but with missing replicas (yellow) or missing nodes.
    Degraded,
    /// Not serving (red), or no status.
    Unavailable,
    /// An operation made no progress for too long.
    Stalled,
    /// A delete was accepted.
    Deleting,
}

impl StateKind {
    /// Wire and CSS name (`creating`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Creating => "creating",
            StateKind::Ready => "ready",
            StateKind::Changing => "changing",
            StateKind::Degraded => "degraded",
            StateKind::Unavailable => "unavailable",
            StateKind::Stalled => "stalled",
            StateKind::Deleting => "deleting",
        }
    }

    /// The word shown (`Creating`, ...).
    pub fn label(self) -> &'static str {
        match self {
            StateKind::Creating => "Creating",
            StateKind::Ready => "Ready",
            StateKind::Changing => "Changing",
            StateKind::Degraded => "Degraded",
            StateKind::Unavailable => "Unavailable",
            StateKind::Stalled => "Stalled",
            StateKind::Deleting => "Deleting",
        }
    }
}

/// The unfinished operation of a cluster, as far as its state needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveWork {
    /// What it does.
    pub kind: OperationKind,
    /// `pending`, `applying` or `waiting`.
    pub state: OperationState,
    /// Its request parameters.
    #[serde(default)]
    pub params: Value,
    /// Why it is considered stalled.
    #[serde(default)]
    pub stalled_reason: Option<String>,
}

/// What the observer last saw.
#[derive(Clone, Copy)]
pub struct Observed<'a> {
    /// The cluster's engine (its phase words and its name for people).
    pub engine: &'static dyn Engine,
    /// `green`, `yellow`, `red` or `unknown`.
    pub health: &'a str,
    /// The engine's phase, empty before the first observation.
    pub phase: &'a str,
    /// Ready Elasticsearch nodes.
    pub ready_nodes: i64,
    /// Requested Elasticsearch nodes.
    pub desired_nodes: i64,
    /// A status was ever written.
    pub ever: bool,
}

/// A cluster's state: the word, what it means right now, and the raw words behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterState {
    /// The state.
    pub kind: StateKind,
    /// What (Changing), why (Stalled), progress (Creating), or what is missing (Degraded, Unavailable);
    /// empty for Ready.
    pub detail: String,
    /// The engine's words: `health yellow · phase ApplyingChanges · 2 of 3 nodes ready`.
    pub raw: String,
}

impl ClusterState {
    /// `Changing: scaling node set data to 5 nodes` (or just the label).
    pub fn headline(&self) -> String {
        if self.detail.is_empty() {
            self.kind.label().to_owned()
        } else {
            format!("{}: {}", self.kind.label(), self.detail)
        }
    }
}

fn nodes(n: i64) -> String {
    format!("{n} node{}", if n == 1 { "" } else { "s" })
}

fn ready_of(o: &Observed<'_>) -> String {
    format!("{} of {} ready", o.ready_nodes, nodes(o.desired_nodes))
}

/// What an operation does, as a phrase after "Changing: " (`scaling node set data to 5 nodes`).
pub fn describe_change(work: &ActiveWork) -> String {
    let p = &work.params;
    let s = |k: &str| p[k].as_str().unwrap_or("").to_owned();
    if p.get("rollback_of").is_some() {
        return format!("rolling back the cancelled {}", s("rolled_back"))
            .trim_end()
            .to_owned();
    }
    let what = match work.kind {
        OperationKind::Create => "creating the cluster".to_owned(),
        OperationKind::Scale => format!(
            "scaling node set {} to {}",
            s("node_set"),
            nodes(p["count"].as_i64().unwrap_or(0))
        ),
        OperationKind::Resize => {
            let size = &p["size"];
            format!(
                "resizing node set {} to {} · {} · {} per node",
                s("node_set"),
                units::cpu(size["cpu_millis"].as_i64().unwrap_or(0)),
                units::memory(size["memory_mib"].as_i64().unwrap_or(0)),
                units::storage(size["storage_gib"].as_i64().unwrap_or(0))
            )
        }
        OperationKind::Upgrade => format!("upgrading from {} to {}", s("from"), s("to")),
        OperationKind::Restart => "restarting the nodes one at a time".to_owned(),
        OperationKind::Reconfigure => "applying a spec change".to_owned(),
        OperationKind::Delete => "removing the cluster".to_owned(),
    };
    if work.state == OperationState::Pending {
        format!("{what} (queued)")
    } else {
        what
    }
}

/// The raw words: `health yellow · phase ApplyingChanges · 2 of 3 nodes ready` (`no status observed yet`
/// before the first observation).
pub fn raw_words(o: &Observed<'_>) -> String {
    if !o.ever {
        return format!(
            "no status observed yet · 0 of {} ready",
            nodes(o.desired_nodes)
        );
    }
    let phase = if o.phase.is_empty() { "—" } else { o.phase };
    format!(
        "health {} · phase {phase} · {}",
        if o.health.is_empty() {
            "unknown"
        } else {
            o.health
        },
        ready_of(o)
    )
}

/// The state of a cluster (see the module doc for the precedence).
pub fn state_of(deleting: bool, active: Option<&ActiveWork>, o: Observed<'_>) -> ClusterState {
    let (kind, detail) = match active {
        _ if deleting || active.is_some_and(|w| w.kind == OperationKind::Delete) => {
            let stalled = active
                .and_then(|w| w.stalled_reason.as_deref())
                .map(|r| format!("; stalled: {r}"))
                .unwrap_or_default();
            (
                StateKind::Deleting,
                format!("removing its objects and data{stalled}"),
            )
        }
        Some(w) if w.stalled_reason.is_some() => (
            StateKind::Stalled,
            format!(
                "{}; {}",
                describe_change(w),
                w.stalled_reason.as_deref().unwrap_or_default()
            ),
        ),
        Some(w) if w.kind == OperationKind::Create => (StateKind::Creating, ready_of(&o)),
        Some(w) => (StateKind::Changing, describe_change(w)),
        None if o.ever && !o.phase.is_empty() && !o.engine.is_settled(o.phase) => (
            StateKind::Changing,
            format!("{} reports {}", o.engine.label(), o.phase),
        ),
        None if !o.ever => (
            StateKind::Unavailable,
            "no status from Kubernetes yet".to_owned(),
        ),
        None => match o.health {
            "red" => (
                StateKind::Unavailable,
                "some primary shards are not allocated: searches and writes on them fail"
                    .to_owned(),
            ),
            "yellow" => (
                StateKind::Degraded,
                "some replica shards are not allocated".to_owned(),
            ),
            "green" if o.ready_nodes < o.desired_nodes => (StateKind::Degraded, ready_of(&o)),
            "green" => (StateKind::Ready, String::new()),
            _ => (
                StateKind::Unavailable,
                "Elasticsearch does not report a health".to_owned(),
            ),
        },
    };
    ClusterState {
        kind,
        detail,
        raw: raw_words(&o),
    }
}

impl crate::clusters::repo::Cluster {
    /// This cluster's state (see [`state_of`]).
    pub fn state(&self) -> ClusterState {
        state_of(
            self.deleting,
            self.active_operation.as_ref(),
            Observed {
                engine: self.engine(),
                health: &self.status.health,
                phase: &self.status.phase,
                ready_nodes: i64::from(self.status.available_nodes),
                desired_nodes: self.resources.nodes,
                ever: self.status.observed_at.is_some(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn seen<'a>(health: &'a str, phase: &'a str, ready: i64, desired: i64) -> Observed<'a> {
        Observed {
            engine: crate::k8s::engine::default_engine(),
            health,
            phase,
            ready_nodes: ready,
            desired_nodes: desired,
            ever: true,
        }
    }

    fn work(kind: OperationKind, params: Value) -> ActiveWork {
        ActiveWork {
            kind,
            state: OperationState::Waiting,
            params,
            stalled_reason: None,
        }
    }

    #[test]
    fn creating_counts_the_nodes_ready_so_far() {
        let w = work(OperationKind::Create, json!({ "template": "three-nodes" }));
        let s = state_of(false, Some(&w), seen("red", "ApplyingChanges", 1, 3));
        assert_eq!(s.kind, StateKind::Creating, "creation is not painted red");
        assert_eq!(s.headline(), "Creating: 1 of 3 nodes ready");
        assert_eq!(
            s.raw,
            "health red · phase ApplyingChanges · 1 of 3 nodes ready"
        );
        let never = Observed {
            engine: crate::k8s::engine::default_engine(),
            ever: false,
            ..seen("unknown", "", 0, 1)
        };
        let s = state_of(false, Some(&w), never);
        assert_eq!(s.kind, StateKind::Creating);
        assert_eq!(s.headline(), "Creating: 0 of 1 node ready");
        assert_eq!(s.raw, "no status observed yet · 0 of 1 node ready");
    }

    #[test]
    fn ready_is_green_with_every_node_and_nothing_running() {
        let s = state_of(false, None, seen("green", "Ready", 3, 3));
        assert_eq!(s.kind, StateKind::Ready);
        assert_eq!(s.headline(), "Ready");
        assert_eq!(s.raw, "health green · phase Ready · 3 of 3 nodes ready");
    }

    #[test]
    fn changing_says_what() {
        let scale = work(
            OperationKind::Scale,
            json!({ "node_set": "data", "count": 5 }),
        );
        let s = state_of(false, Some(&scale), seen("green", "ApplyingChanges", 3, 5));
        assert_eq!(s.kind, StateKind::Changing);
        assert_eq!(s.headline(), "Changing: scaling node set data to 5 nodes");
        let one = work(
            OperationKind::Scale,
            json!({ "node_set": "data", "count": 1 }),
        );
        assert_eq!(
            state_of(false, Some(&one), seen("green", "Ready", 1, 1)).detail,
            "scaling node set data to 1 node"
        );
        let resize = work(
            OperationKind::Resize,
            json!({ "node_set": "data", "size": { "cpu_millis": 2000, "memory_mib": 4096, "storage_gib": 20 } }),
        );
        assert_eq!(
            state_of(false, Some(&resize), seen("green", "Ready", 3, 3)).detail,
            "resizing node set data to 2 cores · 4 GiB · 20 GiB per node"
        );
        let upgrade = work(
            OperationKind::Upgrade,
            json!({ "from": "8.15.0", "to": "8.16.1" }),
        );
        assert_eq!(
            state_of(false, Some(&upgrade), seen("yellow", "Ready", 3, 3)).headline(),
            "Changing: upgrading from 8.15.0 to 8.16.1"
        );
        let mut restart = work(OperationKind::Restart, json!({}));
        restart.state = OperationState::Pending;
        assert_eq!(
            state_of(false, Some(&restart), seen("red", "Ready", 0, 1)).headline(),
            "Changing: restarting the nodes one at a time (queued)"
        );
        let rollback = work(
            OperationKind::Reconfigure,
            json!({ "rollback_of": "x", "rolled_back": "scale" }),
        );
        assert_eq!(
            state_of(false, Some(&rollback), seen("green", "Ready", 3, 3)).detail,
            "rolling back the cancelled scale"
        );
        // The engine still at work after the operation ended.
        let s = state_of(false, None, seen("green", "ApplyingChanges", 3, 3));
        let engine = crate::k8s::engine::default_engine().label();
        assert_eq!(
            s.headline(),
            format!("Changing: {engine} reports ApplyingChanges")
        );
    }

    #[test]
    fn degraded_is_yellow_or_missing_nodes() {
        let s = state_of(false, None, seen("yellow", "Ready", 3, 3));
        assert_eq!(s.kind, StateKind::Degraded);
        assert_eq!(
            s.headline(),
            "Degraded: some replica shards are not allocated"
        );
        let s = state_of(false, None, seen("green", "Ready", 2, 3));
        assert_eq!(s.headline(), "Degraded: 2 of 3 nodes ready");
    }

    #[test]
    fn unavailable_is_red_unknown_or_never_seen() {
        let s = state_of(false, None, seen("red", "Ready", 1, 3));
        assert_eq!(s.kind, StateKind::Unavailable);
        assert!(s.detail.contains("primary shards"));
        assert_eq!(
            state_of(false, None, seen("unknown", "Ready", 0, 3)).kind,
            StateKind::Unavailable
        );
        let never = Observed {
            engine: crate::k8s::engine::default_engine(),
            ever: false,
            ..seen("unknown", "", 0, 3)
        };
        assert_eq!(
            state_of(false, None, never).headline(),
            "Unavailable: no status from Kubernetes yet"
        );
    }

    #[test]
    fn stalled_says_why_and_beats_changing() {
        let mut w = work(
            OperationKind::Scale,
            json!({ "node_set": "data", "count": 5 }),
        );
        w.stalled_reason = Some("no progress for 10 min: pods are Pending".into());
        let s = state_of(false, Some(&w), seen("green", "ApplyingChanges", 3, 5));
        assert_eq!(s.kind, StateKind::Stalled);
        assert_eq!(
            s.headline(),
            "Stalled: scaling node set data to 5 nodes; no progress for 10 min: pods are Pending"
        );
        let mut create = work(OperationKind::Create, json!({}));
        create.stalled_reason = Some("no storage".into());
        assert_eq!(
            state_of(false, Some(&create), seen("unknown", "", 0, 1)).kind,
            StateKind::Stalled
        );
    }

    #[test]
    fn deleting_beats_everything_and_hides_green() {
        let s = state_of(true, None, seen("green", "Ready", 7, 7));
        assert_eq!(s.kind, StateKind::Deleting);
        assert_eq!(s.headline(), "Deleting: removing its objects and data");
        let mut w = work(OperationKind::Delete, json!({}));
        assert_eq!(
            state_of(false, Some(&w), seen("green", "Ready", 7, 7)).kind,
            StateKind::Deleting
        );
        w.stalled_reason = Some("finalizer".into());
        assert_eq!(
            state_of(true, Some(&w), seen("green", "Ready", 7, 7)).detail,
            "removing its objects and data; stalled: finalizer"
        );
    }

    #[test]
    fn names_and_labels() {
        for k in [
            StateKind::Creating,
            StateKind::Ready,
            StateKind::Changing,
            StateKind::Degraded,
            StateKind::Unavailable,
            StateKind::Stalled,
            StateKind::Deleting,
        ] {
            assert_eq!(k.label().to_lowercase(), k.as_str());
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                Value::String(k.as_str().into())
            );
        }
    }
}
