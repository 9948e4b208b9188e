//! The notification channel service: create, update, delete, list, get, the delivery log and "send a
//! test", each in its own transaction with its audit row (`notification_channel.create`, `.update`,
//! `.delete`, `.test`). Only tenant owners and admins ([`crate::tenants::Role::can_administer`]) may see or
//! change channels: a webhook URL can itself be a credential (Slack's are). Another tenant's channel id
//! answers 404. Audit rows and logs never hold a secret: only whether it changed.
//!
//! Pages and API handlers translate their input into [`ChannelInput`] and call these; they never touch the
//! tables themselves.

use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::channel::{Channel, ChannelInput, ChannelSettings, ValidationContext};
use super::log::{self, DeliveryRecord};
use super::outbox::Outbox;
use super::repo;
use crate::audit::{self, AuditEntry};
use crate::clusters::service::Caller;
use crate::config::Config;
use crate::config::notifications::NotificationSettings;
use crate::error::{AppError, AppResult};

/// Most entries one delivery-log read returns.
pub const MAX_LOG_ENTRIES: i64 = 200;

/// What the channel service works with: the database, the platform's notification settings (for
/// validation) and the outbox (for tests). Cheap to build from the configuration per request.
#[derive(Debug, Clone)]
pub struct ChannelService {
    db: PgPool,
    settings: NotificationSettings,
    outbox: Outbox,
}

fn require_admin(caller: &Caller) -> AppResult<()> {
    if caller.role.can_administer() {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "Only owners and admins of this tenant manage its notification channels (your role: {}).",
            caller.role
        )))
    }
}

/// What audit rows record of a channel: everything but the secret.
fn audit_view(c: &Channel) -> Value {
    match &c.settings {
        ChannelSettings::Webhook { url, format } => json!({
            "id": c.id, "name": c.name, "kind": "webhook", "url": url.as_str(), "format": format.as_str(),
        }),
        ChannelSettings::Email { recipients } => json!({
            "id": c.id, "name": c.name, "kind": "email",
            "recipients": recipients.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        }),
    }
}

impl ChannelService {
    /// The service of a portal started with `config`, over `db`.
    pub fn new(db: PgPool, config: &Config) -> Self {
        Self {
            db,
            settings: config.notifications.clone(),
            outbox: Outbox::new(config),
        }
    }

    fn context(&self, existing: Option<super::channel::ChannelKind>) -> ValidationContext<'_> {
        ValidationContext {
            policy: &self.settings.webhook,
            smtp_configured: self.settings.smtp.is_some(),
            existing,
        }
    }

    async fn audit(
        &self,
        conn: &mut sqlx::PgConnection,
        caller: &Caller,
        action: &str,
        target: &str,
        before: Option<Value>,
        after: Option<Value>,
    ) -> AppResult<()> {
        audit::record(
            conn,
            AuditEntry {
                actor: &caller.actor,
                tenant_id: Some(caller.tenant_id),
                action,
                target_kind: "notification_channel",
                target,
                outcome: "ok",
                before,
                after,
                meta: &caller.meta,
            },
        )
        .await
    }

    /// Create a channel in the caller's tenant. Field errors for invalid input or a taken name.
    #[tracing::instrument(skip(self, caller, input), fields(tenant_id = %caller.tenant_id))]
    pub async fn create(&self, caller: &Caller, input: &ChannelInput) -> AppResult<Channel> {
        require_admin(caller)?;
        let valid = input.validate(self.context(None))?;
        let mut tx = self.db.begin().await?;
        crate::tenants::repo::lock(&mut tx, caller.tenant_id).await?;
        let channel = repo::insert(&mut tx, caller.tenant_id, &valid).await?;
        let mut after = audit_view(&channel);
        if valid.secret.is_some() {
            after["secret_set"] = json!(true);
        }
        self.audit(
            &mut tx,
            caller,
            "notification_channel.create",
            &channel.name,
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok(channel)
    }

    /// Update a channel's name and settings; its kind stays, its secret too unless a new one is given.
    #[tracing::instrument(skip(self, caller, input), fields(tenant_id = %caller.tenant_id))]
    pub async fn update(
        &self,
        caller: &Caller,
        id: Uuid,
        input: &ChannelInput,
    ) -> AppResult<Channel> {
        require_admin(caller)?;
        let mut tx = self.db.begin().await?;
        let before = repo::lock(&mut tx, caller.tenant_id, id).await?;
        let valid = input.validate(self.context(Some(before.settings.kind())))?;
        let channel = repo::update(&mut tx, caller.tenant_id, id, &valid).await?;
        let mut after = audit_view(&channel);
        after["secret_changed"] = json!(valid.secret.is_some());
        self.audit(
            &mut tx,
            caller,
            "notification_channel.update",
            &channel.name,
            Some(audit_view(&before)),
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok(channel)
    }

    /// Delete a channel and its delivery log (deliveries not yet sent are dropped).
    #[tracing::instrument(skip(self, caller), fields(tenant_id = %caller.tenant_id))]
    pub async fn delete(&self, caller: &Caller, id: Uuid) -> AppResult<()> {
        require_admin(caller)?;
        let mut tx = self.db.begin().await?;
        let before = repo::lock(&mut tx, caller.tenant_id, id).await?;
        repo::delete(&mut tx, caller.tenant_id, id).await?;
        self.audit(
            &mut tx,
            caller,
            "notification_channel.delete",
            &before.name,
            Some(audit_view(&before)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller's tenant's channels, by name.
    #[tracing::instrument(skip(self, caller), fields(tenant_id = %caller.tenant_id))]
    pub async fn list(&self, caller: &Caller) -> AppResult<Vec<Channel>> {
        require_admin(caller)?;
        let mut conn = self.db.acquire().await?;
        repo::list(&mut conn, caller.tenant_id).await
    }

    /// One channel of the caller's tenant.
    #[tracing::instrument(skip(self, caller), fields(tenant_id = %caller.tenant_id))]
    pub async fn get(&self, caller: &Caller, id: Uuid) -> AppResult<Channel> {
        require_admin(caller)?;
        let mut conn = self.db.acquire().await?;
        repo::get(&mut conn, caller.tenant_id, id).await
    }

    /// The newest deliveries of a channel (at most `limit`, bounded by [`MAX_LOG_ENTRIES`]).
    #[tracing::instrument(skip(self, caller), fields(tenant_id = %caller.tenant_id))]
    pub async fn deliveries(
        &self,
        caller: &Caller,
        id: Uuid,
        limit: i64,
    ) -> AppResult<Vec<DeliveryRecord>> {
        require_admin(caller)?;
        let mut conn = self.db.acquire().await?;
        repo::get(&mut conn, caller.tenant_id, id).await?;
        log::for_channel(
            &mut conn,
            caller.tenant_id,
            id,
            limit.clamp(1, MAX_LOG_ENTRIES),
        )
        .await
    }

    /// Queue a test notification through one channel; returns its delivery id (its outcome shows in the
    /// delivery log within the channel's timeout).
    #[tracing::instrument(skip(self, caller), fields(tenant_id = %caller.tenant_id))]
    pub async fn send_test(&self, caller: &Caller, id: Uuid) -> AppResult<Uuid> {
        require_admin(caller)?;
        let mut tx = self.db.begin().await?;
        let channel = repo::lock(&mut tx, caller.tenant_id, id).await?;
        let delivery = self.outbox.enqueue_test(&mut tx, &channel).await?;
        self.audit(
            &mut tx,
            caller,
            "notification_channel.test",
            &channel.name,
            None,
            Some(json!({ "id": channel.id, "delivery_id": delivery })),
        )
        .await?;
        tx.commit().await?;
        Ok(delivery)
    }
}
