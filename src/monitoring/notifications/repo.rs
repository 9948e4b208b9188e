//! Storage of notification channels. Every read that pages and the API use leaves the secret out; only
//! [`with_secret`] (called by the delivery worker) reads it. Every query is scoped by tenant except those the
//! worker runs on rows it claimed. No permission checks here: that is `service`.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgConnection;
use uuid::Uuid;

use super::channel::{Channel, ChannelName, ChannelSettings, ValidChannel, WebhookFormat};
use crate::accounts::email::Email;
use crate::error::{AppError, AppResult, FieldErrors, ResultExt};

/// The columns of a channel row, secret excluded.
struct Row {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    kind: String,
    webhook_url: Option<String>,
    webhook_format: Option<String>,
    email_recipients: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Row {
    fn into_channel(self) -> AppResult<Channel> {
        let corrupt =
            |what: &str| AppError::Internal(anyhow::anyhow!("channel {}: {what}", self.id));
        let settings = match self.kind.as_str() {
            "webhook" => ChannelSettings::Webhook {
                url: self
                    .webhook_url
                    .as_deref()
                    .and_then(|u| u.parse().ok())
                    .ok_or_else(|| corrupt("bad webhook_url"))?,
                format: WebhookFormat::parse(self.webhook_format.as_deref().unwrap_or(""))
                    .map_err(|_| corrupt("bad webhook_format"))?,
            },
            "email" => ChannelSettings::Email {
                recipients: self
                    .email_recipients
                    .iter()
                    .map(|r| Email::parse(r))
                    .collect::<Result<_, _>>()
                    .map_err(|_| corrupt("bad recipient"))?,
            },
            _ => return Err(corrupt("bad kind")),
        };
        Ok(Channel {
            id: self.id,
            tenant_id: self.tenant_id,
            name: self.name,
            settings,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The columns one channel's settings are stored in.
struct Columns<'a> {
    kind: &'static str,
    url: Option<String>,
    format: Option<&'static str>,
    recipients: Vec<String>,
    secret: Option<&'a str>,
}

fn columns(v: &ValidChannel) -> Columns<'_> {
    let secret = v.secret.as_ref().map(|s| s.expose_secret());
    match &v.settings {
        ChannelSettings::Webhook { url, format } => Columns {
            kind: "webhook",
            url: Some(url.to_string()),
            format: Some(format.as_str()),
            recipients: Vec::new(),
            secret,
        },
        ChannelSettings::Email { recipients } => Columns {
            kind: "email",
            url: None,
            format: None,
            recipients: recipients.iter().map(|e| e.as_str().to_owned()).collect(),
            secret: None,
        },
    }
}

fn name_taken(name: &ChannelName) -> AppError {
    let mut e = FieldErrors::new();
    e.add(
        "name",
        format!(
            "This tenant already has a channel named {:?}.",
            name.as_str()
        ),
    );
    AppError::Validation(e)
}

/// Insert a channel (the secret is required for a webhook: validation made sure of it).
#[tracing::instrument(skip(conn, channel), fields(name = channel.name.as_str()))]
pub async fn insert(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    channel: &ValidChannel,
) -> AppResult<Channel> {
    let c = columns(channel);
    sqlx::query_as!(
        Row,
        r#"INSERT INTO notification_channels
               (tenant_id, name, kind, webhook_url, webhook_format, webhook_secret, email_recipients)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, tenant_id, name, kind, webhook_url, webhook_format, email_recipients,
                     created_at, updated_at"#,
        tenant_id,
        channel.name.as_str(),
        c.kind,
        c.url,
        c.format,
        c.secret,
        &c.recipients
    )
    .fetch_one(&mut *conn)
    .await
    .on_constraint("notification_channels_name_key", || {
        name_taken(&channel.name)
    })?
    .into_channel()
}

/// Update a channel's name and settings; the secret only when a new one is given.
#[tracing::instrument(skip(conn, channel), fields(name = channel.name.as_str()))]
pub async fn update(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
    channel: &ValidChannel,
) -> AppResult<Channel> {
    let c = columns(channel);
    sqlx::query_as!(
        Row,
        r#"UPDATE notification_channels
           SET name = $3, webhook_url = $4, webhook_format = $5,
               webhook_secret = COALESCE($6, webhook_secret), email_recipients = $7, updated_at = now()
           WHERE tenant_id = $1 AND id = $2
           RETURNING id, tenant_id, name, kind, webhook_url, webhook_format, email_recipients,
                     created_at, updated_at"#,
        tenant_id,
        id,
        channel.name.as_str(),
        c.url,
        c.format,
        c.secret,
        &c.recipients
    )
    .fetch_optional(&mut *conn)
    .await
    .on_constraint("notification_channels_name_key", || {
        name_taken(&channel.name)
    })?
    .ok_or(AppError::NotFound)?
    .into_channel()
}

/// One channel of the tenant, locked for the rest of the transaction; 404 when it is not the tenant's.
#[tracing::instrument(skip(conn))]
pub async fn lock(conn: &mut PgConnection, tenant_id: Uuid, id: Uuid) -> AppResult<Channel> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, tenant_id, name, kind, webhook_url, webhook_format, email_recipients,
                  created_at, updated_at
           FROM notification_channels WHERE tenant_id = $1 AND id = $2 FOR UPDATE"#,
        tenant_id,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?
    .into_channel()
}

/// One channel of the tenant; 404 when it is not the tenant's.
#[tracing::instrument(skip(conn))]
pub async fn get(conn: &mut PgConnection, tenant_id: Uuid, id: Uuid) -> AppResult<Channel> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, tenant_id, name, kind, webhook_url, webhook_format, email_recipients,
                  created_at, updated_at
           FROM notification_channels WHERE tenant_id = $1 AND id = $2"#,
        tenant_id,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?
    .into_channel()
}

/// The tenant's channels by name.
#[tracing::instrument(skip(conn))]
pub async fn list(conn: &mut PgConnection, tenant_id: Uuid) -> AppResult<Vec<Channel>> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, tenant_id, name, kind, webhook_url, webhook_format, email_recipients,
                  created_at, updated_at
           FROM notification_channels WHERE tenant_id = $1 ORDER BY name"#,
        tenant_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(Row::into_channel)
    .collect()
}

/// Delete a channel of the tenant (its delivery log goes with it); 404 when it is not the tenant's.
#[tracing::instrument(skip(conn))]
pub async fn delete(conn: &mut PgConnection, tenant_id: Uuid, id: Uuid) -> AppResult<()> {
    let n = sqlx::query!(
        "DELETE FROM notification_channels WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The channel and its webhook secret, for the delivery worker only (`None`: the channel is gone).
#[tracing::instrument(skip(conn))]
pub async fn with_secret(
    conn: &mut PgConnection,
    id: Uuid,
) -> AppResult<Option<(Channel, Option<SecretString>)>> {
    let row = sqlx::query!(
        r#"SELECT id, tenant_id, name, kind, webhook_url, webhook_format, email_recipients,
                  created_at, updated_at, webhook_secret
           FROM notification_channels WHERE id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let secret = r.webhook_secret.map(SecretString::from);
    let channel = Row {
        id: r.id,
        tenant_id: r.tenant_id,
        name: r.name,
        kind: r.kind,
        webhook_url: r.webhook_url,
        webhook_format: r.webhook_format,
        email_recipients: r.email_recipients,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
    .into_channel()?;
    Ok(Some((channel, secret)))
}
