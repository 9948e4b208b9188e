//! The `_cat` APIs, always asked for with `format=json&bytes=b`: rows of strings (or `null`), parsed here
//! into numbers. The JSON key is the column name Elasticsearch prints (`docs.count`, `store.size`, ...).

use serde::{Deserialize, Deserializer, Serialize};

/// A `_cat` number: a string of digits, `null`, or (for robustness) a JSON number.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        _ => None,
    })
}

/// A row of `GET /_cat/indices?format=json&bytes=b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatIndex {
    /// `green`, `yellow`, `red` (`red*` when unknown, `""` for closed indices).
    #[serde(default)]
    pub health: Option<String>,
    /// `open` or `close`.
    #[serde(default)]
    pub status: Option<String>,
    /// Index name.
    pub index: String,
    /// Index uuid.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Primaries.
    #[serde(default, deserialize_with = "number")]
    pub pri: Option<u64>,
    /// Replicas per primary.
    #[serde(default, deserialize_with = "number")]
    pub rep: Option<u64>,
    /// Documents (primaries only).
    #[serde(rename = "docs.count", default, deserialize_with = "number")]
    pub docs_count: Option<u64>,
    /// Bytes of all copies.
    #[serde(rename = "store.size", default, deserialize_with = "number")]
    pub store_size: Option<u64>,
    /// Bytes of the primaries.
    #[serde(rename = "pri.store.size", default, deserialize_with = "number")]
    pub pri_store_size: Option<u64>,
}

/// A row of `GET /_cat/shards?format=json&bytes=b&h=index,shard,prirep,state,docs,store,node,unassigned.reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatShard {
    /// Index name.
    pub index: String,
    /// Shard number.
    #[serde(deserialize_with = "number")]
    pub shard: Option<u64>,
    /// `p` (primary) or `r` (replica).
    pub prirep: String,
    /// `STARTED`, `INITIALIZING`, `RELOCATING` or `UNASSIGNED`.
    pub state: String,
    /// Documents (null while unassigned).
    #[serde(default, deserialize_with = "number")]
    pub docs: Option<u64>,
    /// Bytes (null while unassigned).
    #[serde(default, deserialize_with = "number")]
    pub store: Option<u64>,
    /// Node name (`<src> -> <ip> <id> <target>` while relocating; null while unassigned).
    #[serde(default)]
    pub node: Option<String>,
    /// `INDEX_CREATED`, `NODE_LEFT`, ... for unassigned copies.
    #[serde(rename = "unassigned.reason", default)]
    pub unassigned_reason: Option<String>,
}

impl CatShard {
    /// A primary copy.
    pub fn is_primary(&self) -> bool {
        self.prirep == "p"
    }

    /// The node holding the copy now (the source node while relocating).
    pub fn node_name(&self) -> Option<&str> {
        self.node
            .as_deref()
            .map(|n| n.split(" -> ").next().unwrap_or(n).trim())
    }
}

/// A row of `GET /_cat/allocation?format=json&bytes=b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatAllocation {
    /// Shard copies on the node (or unassigned, on the `UNASSIGNED` row).
    #[serde(default, deserialize_with = "number")]
    pub shards: Option<u64>,
    /// Bytes used by indices.
    #[serde(rename = "disk.indices", default, deserialize_with = "number")]
    pub disk_indices: Option<u64>,
    /// Bytes used on the disk.
    #[serde(rename = "disk.used", default, deserialize_with = "number")]
    pub disk_used: Option<u64>,
    /// Bytes available.
    #[serde(rename = "disk.avail", default, deserialize_with = "number")]
    pub disk_avail: Option<u64>,
    /// Disk size.
    #[serde(rename = "disk.total", default, deserialize_with = "number")]
    pub disk_total: Option<u64>,
    /// Used percent.
    #[serde(rename = "disk.percent", default, deserialize_with = "number")]
    pub disk_percent: Option<u64>,
    /// Node name, or `UNASSIGNED`.
    #[serde(default)]
    pub node: Option<String>,
}

/// A row of `GET /_cat/nodes?format=json&h=name,master`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatNode {
    /// Node name.
    pub name: String,
    /// `*` for the elected master, `-` for the others, `x` when no master is known.
    #[serde(default)]
    pub master: Option<String>,
}

/// A row of `GET /_cat/plugins?format=json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatPlugin {
    /// Node name.
    pub name: String,
    /// Plugin name.
    pub component: String,
    /// Plugin version.
    #[serde(default)]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cat_indices_values_are_strings() {
        let rows: Vec<CatIndex> = serde_json::from_str(r#"[{"health":"yellow","status":"open","index":"logs","uuid":"u8FNjxh8Rfy_awN11oDKYQ","pri":"1","rep":"1",
    "docs.count":"1200","docs.deleted":"0","store.size":"90214","pri.store.size":"90214","dataset.size":"90214"}]"#).unwrap();
        assert_eq!(rows[0].pri, Some(1));
        assert_eq!(rows[0].docs_count, Some(1200));
        assert_eq!(rows[0].store_size, Some(90214));
        assert_eq!(rows[0].health.as_deref(), Some("yellow"));
    }

    #[test]
    fn cat_shards_unassigned_rows_have_nulls() {
        let rows: Vec<CatShard> = serde_json::from_str(r#"[{"index":"logs","shard":"0","prirep":"p","state":"STARTED","docs":"1200","store":"90214","dataset":"90214","ip":"10.0.0.1","node":"es-0"},
   {"index":"logs","shard":"0","prirep":"r","state":"UNASSIGNED","docs":null,"store":null,"dataset":null,"ip":null,"node":null,"unassigned.reason":"INDEX_CREATED"}]"#).unwrap();
        assert!(rows[0].is_primary());
        assert_eq!(rows[0].node_name(), Some("es-0"));
        assert_eq!(rows[1].node_name(), None);
        assert_eq!(rows[1].docs, None);
        assert_eq!(rows[1].unassigned_reason.as_deref(), Some("INDEX_CREATED"));
    }

    #[test]
    fn a_relocating_row_names_its_source_node() {
        let row: CatShard = serde_json::from_str(r#"{"index":"logs","shard":"2","prirep":"r","state":"RELOCATING","docs":"1","store":"2","node":"es-0 -> 10.0.0.2 abcd es-1"}"#).unwrap();
        assert_eq!(row.node_name(), Some("es-0"));
        assert_eq!(row.shard, Some(2));
    }

    #[test]
    fn cat_allocation_has_an_unassigned_row() {
        let rows: Vec<CatAllocation> = serde_json::from_str(r#"[{"shards":"3","shards.undesired":"0","disk.indices":"100","disk.used":"700","disk.avail":"300","disk.total":"1000","disk.percent":"70","host":"h","ip":"i","node":"es-0","node.role":"dm"},
          {"shards":"1","disk.indices":null,"disk.used":null,"disk.avail":null,"disk.total":null,"disk.percent":null,"host":null,"ip":null,"node":"UNASSIGNED"}]"#).unwrap();
        assert_eq!(rows[0].disk_percent, Some(70));
        assert_eq!(rows[1].node.as_deref(), Some("UNASSIGNED"));
        assert_eq!(rows[1].disk_total, None);
        let plugins: Vec<CatPlugin> = serde_json::from_str("[]").unwrap();
        assert!(plugins.is_empty());
    }
}
