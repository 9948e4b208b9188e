//! Notifications of a tenant: its channels (webhook or email) and their delivery.
//!
//! * `channel`, `repo`, `service`: the channels as a domain (validation, storage, the audited service
//!   functions pages and the API call; only owners and admins, tenant-scoped, secrets write-only);
//! * `outbox`, `log`: a notification becomes one delivery row per channel in the transaction of what caused
//!   it ([`outbox::Outbox::enqueue`]); the delivery log shows what happened to each;
//! * `worker`, `webhook`, `email`, `message`, `address`: the background task that sends (concurrently,
//!   each attempt with its own timeout, retried with backoff), the two senders, what they say, and the
//!   server-side request forgery guard of webhooks;
//! * `crate::config::notifications`: what the platform configures (`ESAAS_WEBHOOK_*`, `ESAAS_SMTP_*`, `ESAAS_NOTIFY_*`).
//!
//! Nothing here evaluates alerts or serves HTTP.

pub mod address;
pub mod channel;
pub mod email;
pub mod log;
pub mod message;
pub mod outbox;
pub mod repo;
pub mod service;
pub mod webhook;
pub mod worker;

pub use crate::config::notifications::NotificationSettings;
pub use channel::{Channel, ChannelInput, ChannelKind, ChannelSettings, WebhookFormat};
pub use outbox::{AlertState, Notification, Outbox};
pub use service::ChannelService;
