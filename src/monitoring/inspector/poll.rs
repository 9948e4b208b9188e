//! One poll of one cluster: the reads (health by index, nodes info and stats, `_cat/indices`, `_cat/shards`,
//! the elected master, the disk watermarks, and allocation explain for the unassigned copies), turned into a
//! [`Snapshot`] with its problems explained.

use std::collections::BTreeMap;

use serde_json::Value;

use super::explain;
use super::snapshot::{self, Answers, Snapshot, Watermarks};
use crate::elasticsearch::api::ClusterSettings;
use crate::elasticsearch::{EsClient, EsError};

/// Read everything one snapshot needs.
pub async fn collect(client: &EsClient) -> Result<Snapshot, EsError> {
    let (health, nodes_info, nodes_stats, indices, shards) = tokio::try_join!(
        client.health_by_index(),
        client.nodes_info(),
        client.nodes_stats(),
        client.cat_indices(),
        client.cat_shards(),
    )?;
    // Nice to have: a cluster without an elected master, or an old version, still gives a snapshot.
    let (master, settings) = tokio::join!(
        client.elected_master(),
        client.json::<ClusterSettings>(
            http::Method::GET,
            "/_cluster/settings?flat_settings=true&include_defaults=true",
            None,
        )
    );
    let answers = Answers {
        health,
        nodes_info,
        nodes_stats,
        indices,
        shards,
        elected_master: master.ok().flatten(),
        watermarks: settings.map(|s| watermarks(&s)).unwrap_or_default(),
    };
    let mut snapshot = snapshot::build(&answers);
    let mut explains = Vec::new();
    for copy in explain::copies_to_explain(&snapshot.shards) {
        match client.allocation_explain(Some(&copy)).await {
            Ok(e) => explains.push(e),
            Err(e) => tracing::debug!(index = %copy.index, error = %e, "allocation explain failed"),
        }
    }
    let replicas: BTreeMap<String, u64> = snapshot
        .indices
        .iter()
        .map(|i| (i.name.clone(), i.replicas))
        .collect();
    snapshot.problems = explain::problems(
        &snapshot.shards,
        &explains,
        answers.health.number_of_data_nodes,
        &replicas,
    );
    Ok(snapshot)
}

/// The disk watermarks in force.
fn watermarks(settings: &ClusterSettings) -> Watermarks {
    let d = Watermarks::default();
    let get = |key: &str, default: String| match settings
        .get(&format!("cluster.routing.allocation.disk.watermark.{key}"))
    {
        Some(Value::String(s)) => s.clone(),
        _ => default,
    };
    Watermarks {
        low: get("low", d.low),
        high: get("high", d.high),
        flood_stage: get("flood_stage", d.flood_stage),
    }
}
