//! "Why is this cluster yellow/red", in plain words: from `_cat/shards` (which copies are unassigned, and
//! why) and `_cluster/allocation/explain` for one copy of each index (which decider refuses it), a list of
//! [`Problem`]s `{summary, indices, fix}`. The one fix the portal can apply itself, lowering an index's
//! replicas to what the data nodes can hold, is given as an [`FixAction`]. Pure code.

use std::collections::BTreeMap;

use super::snapshot::{FixAction, Problem, ShardView};
use crate::elasticsearch::api::{AllocationExplain, ExplainRequest};

/// At most this many explain calls per poll (one per index with unassigned copies, primaries first).
pub const MAX_EXPLAINS: usize = 10;

/// The copies to explain: the first unassigned copy of each index (primaries first), at most
/// [`MAX_EXPLAINS`].
pub fn copies_to_explain(shards: &[ShardView]) -> Vec<ExplainRequest> {
    let mut first: BTreeMap<&str, &ShardView> = BTreeMap::new();
    for s in shards.iter().filter(|s| s.state == "UNASSIGNED") {
        first
            .entry(s.index.as_str())
            .and_modify(|f| {
                if s.primary && !f.primary {
                    *f = s;
                }
            })
            .or_insert(s);
    }
    let mut copies: Vec<&ShardView> = first.into_values().collect();
    copies.sort_by_key(|s| !s.primary);
    copies
        .into_iter()
        .take(MAX_EXPLAINS)
        .map(|s| ExplainRequest {
            index: s.index.clone(),
            shard: s.shard,
            primary: s.primary,
        })
        .collect()
}

fn copies(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The problems of a cluster: one per index with unassigned copies (explained when `explains` has one for
/// it), one for copies still initializing or relocating.
pub fn problems(
    shards: &[ShardView],
    explains: &[AllocationExplain],
    data_nodes: u32,
    replicas_of: &BTreeMap<String, u64>,
) -> Vec<Problem> {
    let mut by_index: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for s in shards.iter().filter(|s| s.state == "UNASSIGNED") {
        let e = by_index.entry(s.index.as_str()).or_default();
        if s.primary {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let mut out = Vec::new();
    // Red first: lost primaries.
    let mut ordered: Vec<(&str, (usize, usize))> = by_index.into_iter().collect();
    ordered.sort_by_key(|(_, (p, _))| std::cmp::Reverse(*p));
    for (index, (primaries, replicas)) in ordered {
        let explain = explains.iter().find(|e| e.index == index);
        let (what, count) = if primaries > 0 {
            ("primary", primaries)
        } else {
            ("replica", replicas)
        };
        let subject = format!("{} of `{index}`", copies(count, what));
        let mut problem = explained(&subject, what == "primary", explain, data_nodes);
        if let Some(action) = &problem.action
            && replicas_of
                .get(index)
                .is_some_and(|r| *r <= u64::from(action.replicas))
        {
            problem.action = None;
        }
        problem.indices = vec![index.to_owned()];
        if primaries > 0 && replicas > 0 {
            problem.summary.push_str(&format!(
                " {} of it {} unassigned too.",
                copies(replicas, "replica"),
                if replicas == 1 { "is" } else { "are" }
            ));
        }
        out.push(problem);
    }
    let moving: Vec<&ShardView> = shards
        .iter()
        .filter(|s| s.state == "INITIALIZING" || s.state == "RELOCATING")
        .collect();
    if !moving.is_empty() {
        let mut indices: Vec<String> = moving.iter().map(|s| s.index.clone()).collect();
        indices.dedup();
        out.push(Problem {
            summary: format!(
                "{} being recovered or moved between nodes.",
                if moving.len() == 1 {
                    "1 shard copy is".to_owned()
                } else {
                    format!("{} shard copies are", moving.len())
                }
            ),
            indices,
            fix: "Wait: Elasticsearch finishes this by itself.".into(),
            action: None,
        });
    }
    out
}

fn is_same_shard(explain: Option<&AllocationExplain>) -> bool {
    explain.is_some_and(|e| {
        !e.node_allocation_decisions.is_empty()
            && e.node_allocation_decisions.iter().all(|n| {
                n.deciders
                    .iter()
                    .any(|d| d.decider == "same_shard" && d.decision == "NO")
            })
    })
}

fn explained(
    subject: &str,
    primary: bool,
    explain: Option<&AllocationExplain>,
    data_nodes: u32,
) -> Problem {
    let problem = |summary: String, fix: &str| Problem {
        summary,
        indices: Vec::new(),
        fix: fix.to_owned(),
        action: None,
    };
    let Some(e) = explain else {
        return problem(
            format!("{subject} cannot be assigned to a node."),
            "Open the shards list for the reason of each copy.",
        );
    };
    match e.can_allocate.as_deref() {
        Some("allocation_delayed") => {
            let left = e
                .remaining_delay_in_millis
                .map(|ms| format!(" ({} s left)", ms.div_ceil(1000)))
                .unwrap_or_default();
            return problem(
                format!("{subject} waits for its node to come back{left}."),
                "Wait: Elasticsearch assigns it elsewhere when the delay ends (index.unassigned.node_left.delayed_timeout).",
            );
        }
        Some("no_valid_shard_copy") => {
            return problem(
                format!("{subject} is lost: no node holds a valid copy."),
                "Bring back the node that held it, or restore the index from a snapshot.",
            );
        }
        Some("throttled") => {
            return problem(
                format!("{subject} waits its turn to be recovered."),
                "Wait: Elasticsearch is busy recovering other shards.",
            );
        }
        Some("awaiting_info") => {
            return problem(
                format!("{subject} waits for Elasticsearch to gather shard information."),
                "Wait a moment.",
            );
        }
        _ => {}
    }
    if is_same_shard(explain) {
        let replicas = data_nodes.saturating_sub(1);
        let mut p = problem(
            format!("{subject} cannot be assigned: every other data node already holds a copy."),
            &format!("Add a data node, or set replicas to {replicas}."),
        );
        if !primary {
            p.action = Some(FixAction {
                index: e.index.clone(),
                replicas,
            });
        }
        return p;
    }
    let decider = e.refusing_deciders().first().map(|(d, _)| d.to_string());
    match decider.as_deref() {
        Some("filter") => problem(
            format!(
                "{subject} cannot be assigned: allocation filters exclude every node that could hold it."
            ),
            "Check the routing.allocation include/exclude/require settings of the index and the cluster.",
        ),
        Some("disk_threshold") => problem(
            format!("{subject} cannot be assigned: the data nodes are above the disk watermark."),
            "Free disk space (delete old indices), add data nodes, or give the nodes more storage.",
        ),
        Some("data_tier") => problem(
            format!("{subject} cannot be assigned: no data node has the tier the index prefers."),
            "Add a node set with that data tier, or change the index's _tier_preference.",
        ),
        Some("enable") => problem(
            format!(
                "{subject} cannot be assigned: shard allocation is turned off (cluster.routing.allocation.enable)."
            ),
            "Set cluster.routing.allocation.enable back to all.",
        ),
        Some("max_retry") => problem(
            format!("{subject} cannot be assigned: allocating it failed too many times."),
            "Fix the cause in the node logs, then retry with POST /_cluster/reroute?retry_failed=true.",
        ),
        Some("replica_after_primary_active") => problem(
            format!("{subject} waits for its primary to start."),
            "Wait for the primary; if it cannot be assigned, fix that first.",
        ),
        Some(other) => problem(
            format!("{subject} cannot be assigned: the `{other}` rule refuses every node."),
            e.allocate_explanation
                .as_deref()
                .unwrap_or("See Elasticsearch's allocation explanation."),
        ),
        None => problem(
            format!("{subject} cannot be assigned to a node."),
            e.allocate_explanation
                .as_deref()
                .unwrap_or("See Elasticsearch's allocation explanation."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: &str, shard: u64, primary: bool, state: &str) -> ShardView {
        ShardView {
            index: index.into(),
            shard,
            primary,
            state: state.into(),
            node: (state != "UNASSIGNED").then(|| "es-0".into()),
            unassigned_reason: (state == "UNASSIGNED").then(|| "INDEX_CREATED".into()),
            docs: None,
            store_bytes: None,
        }
    }

    fn explain(json: &str) -> AllocationExplain {
        serde_json::from_str(json).unwrap()
    }

    const SAME_SHARD: &str = r#"{"index":"logs-2026.12.01","shard":0,"primary":false,"current_state":"unassigned",
      "unassigned_info":{"reason":"INDEX_CREATED","last_allocation_status":"no"},"can_allocate":"no",
      "allocate_explanation":"Elasticsearch isn't allowed to allocate this shard to any of the nodes",
      "node_allocation_decisions":[{"node_id":"a","node_name":"es-0","node_decision":"no",
        "deciders":[{"decider":"same_shard","decision":"NO","explanation":"a copy of this shard is already allocated to this node"}]}]}"#;

    #[test]
    fn a_replica_with_nowhere_to_go_offers_fewer_replicas() {
        let shards = vec![
            shard("logs-2026.12.01", 0, true, "STARTED"),
            shard("logs-2026.12.01", 0, false, "UNASSIGNED"),
        ];
        let replicas = BTreeMap::from([("logs-2026.12.01".to_owned(), 1)]);
        let p = problems(&shards, &[explain(SAME_SHARD)], 1, &replicas);
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].summary,
            "1 replica of `logs-2026.12.01` cannot be assigned: every other data node already holds a copy."
        );
        assert_eq!(p[0].fix, "Add a data node, or set replicas to 0.");
        assert_eq!(p[0].indices, ["logs-2026.12.01"]);
        assert_eq!(
            p[0].action,
            Some(FixAction {
                index: "logs-2026.12.01".into(),
                replicas: 0
            })
        );
    }

    #[test]
    fn several_replicas_are_counted() {
        let shards: Vec<ShardView> = (0..3)
            .flat_map(|n| {
                [
                    shard("logs", n, true, "STARTED"),
                    shard("logs", n, false, "UNASSIGNED"),
                ]
            })
            .collect();
        let e = explain(&SAME_SHARD.replace("logs-2026.12.01", "logs"));
        let p = problems(&shards, &[e], 1, &BTreeMap::from([("logs".to_owned(), 1)]));
        assert!(
            p[0].summary
                .starts_with("3 replicas of `logs` cannot be assigned"),
            "{}",
            p[0].summary
        );
        assert_eq!(copies_to_explain(&shards).len(), 1, "one explain per index");
    }

    #[test]
    fn a_lost_primary_comes_first_and_is_not_fixable_by_replicas() {
        let shards = vec![
            shard("a", 0, false, "UNASSIGNED"),
            shard("b", 0, true, "UNASSIGNED"),
        ];
        let lost = explain(
            r#"{"index":"b","shard":0,"primary":true,"current_state":"unassigned","can_allocate":"no_valid_shard_copy","node_allocation_decisions":[]}"#,
        );
        let p = problems(&shards, &[lost], 2, &BTreeMap::new());
        assert_eq!(p[0].indices, ["b"]);
        assert_eq!(
            p[0].summary,
            "1 primary of `b` is lost: no node holds a valid copy."
        );
        assert!(p[0].action.is_none());
        assert_eq!(
            p[1].summary, "1 replica of `a` cannot be assigned to a node.",
            "no explanation for a"
        );
        assert_eq!(
            copies_to_explain(&shards)[0].index,
            "b",
            "primaries explained first"
        );
    }

    #[test]
    fn deciders_become_plain_words() {
        let shards = vec![shard("x", 0, false, "UNASSIGNED")];
        for (decider, words) in [
            ("filter", "allocation filters"),
            ("disk_threshold", "disk watermark"),
            ("data_tier", "tier the index prefers"),
            ("enable", "turned off"),
        ] {
            let e = explain(&format!(
                r#"{{"index":"x","shard":0,"primary":false,"current_state":"unassigned","can_allocate":"no",
              "node_allocation_decisions":[{{"node_id":"a","node_name":"es-0","node_decision":"no",
                "deciders":[{{"decider":"{decider}","decision":"NO","explanation":"e"}}]}}]}}"#
            ));
            let p = problems(&shards, &[e], 3, &BTreeMap::new());
            assert!(p[0].summary.contains(words), "{decider}: {}", p[0].summary);
            assert!(p[0].action.is_none());
        }
        let delayed = explain(
            r#"{"index":"x","shard":0,"primary":false,"current_state":"unassigned","can_allocate":"allocation_delayed","remaining_delay_in_millis":41000}"#,
        );
        assert!(
            problems(&shards, &[delayed], 3, &BTreeMap::new())[0]
                .summary
                .contains("(41 s left)")
        );
    }

    #[test]
    fn recovering_copies_say_wait() {
        let shards = vec![
            shard("x", 0, true, "STARTED"),
            shard("x", 0, false, "INITIALIZING"),
        ];
        let p = problems(&shards, &[], 2, &BTreeMap::new());
        assert_eq!(p.len(), 1);
        assert!(p[0].fix.starts_with("Wait"));
        assert!(problems(&[shard("x", 0, true, "STARTED")], &[], 1, &BTreeMap::new()).is_empty());
    }
}
