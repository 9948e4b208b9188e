//! Clusters: templates, the request service that turns requests into operations, the one read of a cluster
//! by tenant and name, the list read model, credentials and endpoints. The validated spec is `crate::spec`.

pub mod credentials;
pub mod endpoints;
pub mod list;
pub mod presets;
pub mod read;
pub mod repo;
pub mod service;
pub mod state;
pub mod storage_classes;
pub mod templates;
