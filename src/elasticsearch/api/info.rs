//! `GET /`: the node answering, the cluster's name and uuid, and the version.

use serde::{Deserialize, Serialize};

/// The root answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The answering node.
    pub name: String,
    /// Cluster name.
    pub cluster_name: String,
    /// Cluster uuid (`_na_` before the first master election).
    pub cluster_uuid: String,
    /// Version details.
    pub version: Version,
    /// Always "You Know, for Search".
    #[serde(default)]
    pub tagline: String,
}

/// `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// e.g. `9.2.1`.
    pub number: String,
    /// `default` or `serverless`.
    #[serde(default)]
    pub build_flavor: String,
    /// Lucene version.
    #[serde(default)]
    pub lucene_version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_example() {
        let info: ClusterInfo = serde_json::from_str(r#"{"name":"es-0","cluster_name":"prod","cluster_uuid":"W_Ky1DL3QL2vgu3sdafyag",
 "version":{"number":"8.15.0","build_flavor":"default","build_type":"docker","build_hash":"abc","build_date":"2024-08-05T10:05:34Z",
  "build_snapshot":false,"lucene_version":"9.11.1","minimum_wire_compatibility_version":"7.17.0",
  "minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}"#).unwrap();
        assert_eq!(info.version.number, "8.15.0");
        assert_eq!(info.cluster_name, "prod");
        assert_eq!(info.tagline, "You Know, for Search");
    }
}
