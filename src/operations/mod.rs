//! Operations: the immutable records of requested changes (`model`, `repo`; table `operations`). The cluster
//! request service (`crate::clusters::service`) inserts them in its transaction; the controller
//! (`crate::controller`) claims, applies and completes them. Handlers never call Kubernetes for changes.

pub mod model;
pub mod repo;
