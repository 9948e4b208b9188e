//! The delivery log of a channel as pages and the API show it: one entry per notification sent through
//! it, with its status, attempts, last error and times. Reads only, always scoped by tenant.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::message::Event;
use crate::error::{AppError, AppResult};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// An attempt is in flight.
    Sending,
    /// A receiver accepted it.
    Delivered,
    /// Given up after the attempt bound (or refused for good); `last_error` says why.
    Failed,
}

impl DeliveryStatus {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "sending" => Some(Self::Sending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One line of a channel's delivery log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRecord {
    /// Delivery id (what receivers see in `X-Esaas-Delivery`).
    pub id: Uuid,
    /// The channel.
    pub channel_id: Uuid,
    /// Firing, resolved or test.
    pub event: Event,
    /// `[FIRING] health_red on acme/logs`.
    pub subject: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// The bound.
    pub max_attempts: i32,
    /// Why the last attempt failed (kept after a later success).
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was last tried.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When a receiver accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The newest `limit` deliveries of a channel of the tenant (none for another tenant's channel).
#[tracing::instrument(skip(conn))]
pub async fn for_channel(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    channel_id: Uuid,
    limit: i64,
) -> AppResult<Vec<DeliveryRecord>> {
    let rows = sqlx::query!(
        r#"SELECT id, channel_id, event, status, attempts, max_attempts, last_error, created_at,
                  last_attempt_at, next_attempt_at, delivered_at,
                  payload AS "payload: sqlx::types::Json<super::message::Facts>"
           FROM notification_deliveries
           WHERE tenant_id = $1 AND channel_id = $2
           ORDER BY created_at DESC, id DESC LIMIT $3"#,
        tenant_id,
        channel_id,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let corrupt =
                || AppError::Internal(anyhow::anyhow!("delivery {}: bad event/status", r.id));
            let status = DeliveryStatus::parse(&r.status).ok_or_else(corrupt)?;
            Ok(DeliveryRecord {
                id: r.id,
                channel_id: r.channel_id,
                event: Event::parse(&r.event).ok_or_else(corrupt)?,
                subject: r.payload.0.subject(),
                status,
                attempts: r.attempts,
                max_attempts: r.max_attempts,
                last_error: r.last_error,
                created_at: r.created_at,
                last_attempt_at: r.last_attempt_at,
                next_attempt_at: matches!(status, DeliveryStatus::Pending)
                    .then_some(r.next_attempt_at),
                delivered_at: r.delivered_at,
            })
        })
        .collect()
}
