//! Monitoring and alerting of the platform's clusters. For now it holds the notification channels of a
//! tenant and their delivery (`notifications`); the inspector's metrics history and the alert rules over it
//! come later and will hand their notifications to [`notifications::outbox::enqueue`].
//! Nothing here serves HTTP: the pages and the API call these services.

pub mod notifications;
