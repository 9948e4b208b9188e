//! Monitoring and alerting of the platform's clusters: the inspector (`inspector`), which polls each
//! cluster's Elasticsearch and keeps the latest snapshot in Postgres, and the notification channels of a
//! tenant and their delivery (`notifications`); the metrics history and the alert rules over it
//! come later and will hand their notifications to [`notifications::outbox::enqueue`].
//! Nothing here serves HTTP: the pages and the API call these services.

pub mod inspector;
pub mod notifications;
