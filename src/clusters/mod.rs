//! Clusters: the validated spec, templates, repository and the service that turns requests into operations.

pub mod credentials;
pub mod endpoints;
pub mod presets;
pub mod read;
pub mod repo;
pub mod service;
pub mod state;
pub mod storage_classes;
pub mod templates;
pub mod views;
