//! `GET|PUT /_cluster/settings` and `GET|PUT /{index}/_settings` (the portal reads and writes
//! `index.number_of_replicas`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Cluster settings with `flat_settings=true`: dotted keys, string values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSettings {
    /// Survive a full restart.
    #[serde(default)]
    pub persistent: BTreeMap<String, Value>,
    /// Until the next full restart (discouraged).
    #[serde(default)]
    pub transient: BTreeMap<String, Value>,
    /// Only with `include_defaults=true`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaults: BTreeMap<String, Value>,
}

impl ClusterSettings {
    /// The effective value of a dotted key: transient, then persistent, then defaults.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.transient
            .get(key)
            .or_else(|| self.persistent.get(key))
            .or_else(|| self.defaults.get(key))
    }
}

/// `GET /{index}/_settings?flat_settings=true`: `{"<index>":{"settings":{"index.number_of_replicas":"1",...}}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexSettings {
    /// Dotted keys, string values.
    pub settings: BTreeMap<String, Value>,
}

impl IndexSettings {
    /// `index.number_of_replicas`.
    pub fn number_of_replicas(&self) -> Option<u32> {
        number(self.settings.get("index.number_of_replicas")?)
    }

    /// `index.number_of_shards`.
    pub fn number_of_shards(&self) -> Option<u32> {
        number(self.settings.get("index.number_of_shards")?)
    }
}

fn number(v: &Value) -> Option<u32> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_wins_over_persistent() {
        let s: ClusterSettings = serde_json::from_str(
            r#"{"persistent":{"cluster.routing.allocation.enable":"primaries"},
            "transient":{"cluster.routing.allocation.enable":"none"}}"#,
        )
        .unwrap();
        assert_eq!(s.get("cluster.routing.allocation.enable").unwrap(), "none");
        assert!(s.get("x").is_none());
    }

    #[test]
    fn index_settings_read_strings() {
        let all: BTreeMap<String, IndexSettings> = serde_json::from_str(r#"{"logs":{"settings":{"index.number_of_replicas":"1",
            "index.number_of_shards":"3","index.routing.allocation.include._tier_preference":"data_content"}}}"#).unwrap();
        assert_eq!(all["logs"].number_of_replicas(), Some(1));
        assert_eq!(all["logs"].number_of_shards(), Some(3));
    }
}
