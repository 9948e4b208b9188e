//! Typed responses (and the few request bodies) of the Elasticsearch REST APIs the portal uses. Field names
//! are exactly Elasticsearch's; fields the portal does not read are not modelled and unknown fields are
//! ignored, so newer versions parse. `_cat` APIs are always asked for with `format=json&bytes=b`, where every
//! value is a string or `null`: [`cat`] parses them into numbers.

pub mod cat;
pub mod explain;
pub mod health;
pub mod info;
pub mod nodes;
pub mod settings;
pub mod stats;

pub use cat::{CatAllocation, CatIndex, CatNode, CatPlugin, CatShard};
pub use explain::{AllocationExplain, ExplainRequest};
pub use health::{ClusterHealth, HealthStatus, IndexHealth};
pub use info::ClusterInfo;
pub use nodes::{NodeInfo, NodeStats, NodesInfo, NodesStats};
pub use settings::{ClusterSettings, IndexSettings};
pub use stats::ClusterStats;
