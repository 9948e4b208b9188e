//! The delivery outbox: a notification becomes one `notification_deliveries` row per channel of its tenant,
//! written in the transaction of whatever caused it ([`Outbox::enqueue`] takes the caller's connection), so
//! an alert that is rolled back notifies nobody and one that commits is never forgotten. A Postgres
//! `NOTIFY` in the same transaction wakes the delivery worker when (and only when) it commits.
//!
//! The worker's side is here too: claiming due rows (`FOR UPDATE SKIP LOCKED`, so several portal processes
//! share the work), and recording each attempt's outcome. A claimed row's `next_attempt_at` moves past the
//! send timeout (a lease): if the portal dies mid-send the row is claimed again later, so delivery is at
//! least once and receivers deduplicate on the delivery id. This module never sends anything.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::channel::Channel;
use super::message::{Event, Facts};
use crate::config::Config;
use crate::error::{AppError, AppResult};

/// How long finished (delivered or failed) deliveries stay in the delivery log.
pub const LOG_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// The Postgres channel the worker listens on.
pub const WAKE_CHANNEL: &str = "esaas_notification_deliveries";

/// An alert's state change to notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// It started firing.
    Firing,
    /// It resolved.
    Resolved,
}

/// What the alert evaluator hands over.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The tenant whose channels are notified.
    pub tenant_id: Uuid,
    /// The cluster's name in that tenant.
    pub cluster: String,
    /// The rule id (`health_red`, `disk_high`, ...).
    pub rule: String,
    /// Firing or resolved.
    pub state: AlertState,
    /// The value that made it fire (or the last one seen): a number or a word.
    pub value: Option<Value>,
    /// One human sentence.
    pub summary: String,
    /// When it started firing.
    pub started_at: DateTime<Utc>,
    /// When it resolved.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What the outbox needs from the configuration: the portal's public URL (for dashboard links) and the
/// attempt bound every new delivery gets.
#[derive(Debug, Clone)]
pub struct Outbox {
    public_url: String,
    max_attempts: i32,
}

impl Outbox {
    /// The outbox of a portal started with `config`.
    pub fn new(config: &Config) -> Self {
        Self {
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            max_attempts: config.notifications.delivery.max_attempts.max(1),
        }
    }

    fn tenant_link(&self, slug: &str) -> String {
        format!("{}/t/{slug}/clusters", self.public_url)
    }

    /// Queue `n` for every channel of its tenant, in the caller's transaction; returns the delivery ids
    /// (none when the tenant has no channel). The worker is woken when the transaction commits.
    #[tracing::instrument(skip(self, conn, n), fields(tenant_id = %n.tenant_id, rule = %n.rule))]
    pub async fn enqueue(&self, conn: &mut PgConnection, n: &Notification) -> AppResult<Vec<Uuid>> {
        let slug = tenant_slug(conn, n.tenant_id).await?;
        let (event, state) = match n.state {
            AlertState::Firing => ("firing", Event::Firing),
            AlertState::Resolved => ("resolved", Event::Resolved),
        };
        let facts = Facts {
            dashboard_url: format!("{}/{}", self.tenant_link(&slug), n.cluster),
            tenant: slug,
            cluster: Some(n.cluster.clone()),
            rule: n.rule.clone(),
            state,
            value: n.value.clone(),
            summary: n.summary.clone(),
            started_at: Some(n.started_at),
            resolved_at: n.resolved_at,
        };
        let ids = sqlx::query_scalar!(
            r#"INSERT INTO notification_deliveries (tenant_id, channel_id, event, payload, max_attempts)
               SELECT $1, id, $2, $3, $4 FROM notification_channels WHERE tenant_id = $1
               RETURNING id"#,
            n.tenant_id,
            event,
            Json(&facts) as _,
            self.max_attempts
        )
        .fetch_all(&mut *conn)
        .await?;
        if !ids.is_empty() {
            wake(conn).await?;
        }
        Ok(ids)
    }

    /// Queue a test notification for one channel, in the caller's transaction.
    pub(super) async fn enqueue_test(
        &self,
        conn: &mut PgConnection,
        channel: &Channel,
    ) -> AppResult<Uuid> {
        let slug = tenant_slug(conn, channel.tenant_id).await?;
        let facts = Facts {
            dashboard_url: self.tenant_link(&slug),
            summary: format!(
                "This is a test of the notification channel {:?} of {slug}: it works.",
                channel.name
            ),
            tenant: slug,
            cluster: None,
            rule: "test".into(),
            state: Event::Test,
            value: None,
            started_at: None,
            resolved_at: None,
        };
        let id = sqlx::query_scalar!(
            r#"INSERT INTO notification_deliveries (tenant_id, channel_id, event, payload, max_attempts)
               VALUES ($1, $2, 'test', $3, $4) RETURNING id"#,
            channel.tenant_id,
            channel.id,
            Json(&facts) as _,
            self.max_attempts
        )
        .fetch_one(&mut *conn)
        .await?;
        wake(conn).await?;
        Ok(id)
    }
}

async fn tenant_slug(conn: &mut PgConnection, tenant_id: Uuid) -> AppResult<String> {
    sqlx::query_scalar!("SELECT slug FROM tenants WHERE id = $1", tenant_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// `NOTIFY` the worker; Postgres delivers it when the transaction commits, and drops it on rollback.
async fn wake(conn: &mut PgConnection) -> AppResult<()> {
    sqlx::query!("SELECT pg_notify($1, '')", WAKE_CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A delivery the worker claimed: what to send, and on which attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Delivery id (sent to receivers, the same on every attempt).
    pub id: Uuid,
    /// The channel to send through.
    pub channel_id: Uuid,
    /// The facts to render.
    pub facts: Facts,
    /// This attempt's number, from 1.
    pub attempt: i32,
    /// The bound: after this attempt fails, the delivery is given up.
    pub max_attempts: i32,
}

/// Claim up to `limit` due deliveries, leasing each for `lease`; rows whose last attempt was interrupted
/// (the lease ran out on their final attempt) are given up first. Returns the claimed rows and when the
/// next unclaimed one falls due.
#[tracing::instrument(skip(conn))]
pub async fn claim(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
) -> AppResult<(Vec<Claimed>, Option<DateTime<Utc>>)> {
    sqlx::query!(
        r#"UPDATE notification_deliveries
           SET status = 'failed', updated_at = now(),
               last_error = COALESCE(last_error || '; ', '') || 'the last attempt was interrupted (portal stopped)'
           WHERE status = 'sending' AND next_attempt_at <= now() AND attempts >= max_attempts"#
    )
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query!(
        r#"UPDATE notification_deliveries
           SET status = 'sending', attempts = attempts + 1, last_attempt_at = now(), updated_at = now(),
               next_attempt_at = now() + make_interval(secs => $2)
           WHERE id IN (SELECT id FROM notification_deliveries
                        WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
                          AND attempts < max_attempts
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING id, channel_id, payload AS "payload: Json<Facts>", attempts, max_attempts"#,
        limit,
        lease.as_secs_f64()
    )
    .fetch_all(&mut *conn)
    .await?;
    let next_due = sqlx::query_scalar!(
        r#"SELECT min(next_attempt_at) FROM notification_deliveries WHERE status IN ('pending', 'sending')"#
    )
    .fetch_one(&mut *conn)
    .await?;
    let claimed = rows
        .into_iter()
        .map(|r| Claimed {
            id: r.id,
            channel_id: r.channel_id,
            facts: r.payload.0,
            attempt: r.attempts,
            max_attempts: r.max_attempts,
        })
        .collect();
    Ok((claimed, next_due))
}

/// Record a successful attempt (ignored when the row was claimed again meanwhile).
#[tracing::instrument(skip(conn))]
pub async fn delivered(conn: &mut PgConnection, id: Uuid, attempt: i32) -> AppResult<()> {
    sqlx::query!(
        r#"UPDATE notification_deliveries
           SET status = 'delivered', delivered_at = now(), updated_at = now()
           WHERE id = $1 AND status = 'sending' AND attempts = $2"#,
        id,
        attempt
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Record a failed attempt: retried after `retry_in`, or given up when `None`.
#[tracing::instrument(skip(conn, error))]
pub async fn attempt_failed(
    conn: &mut PgConnection,
    id: Uuid,
    attempt: i32,
    error: &str,
    retry_in: Option<Duration>,
) -> AppResult<()> {
    let error: String = error.chars().take(1000).collect();
    sqlx::query!(
        r#"UPDATE notification_deliveries
           SET status = CASE WHEN $4::float8 IS NULL THEN 'failed' ELSE 'pending' END,
               next_attempt_at = CASE WHEN $4::float8 IS NULL THEN next_attempt_at
                                      ELSE now() + make_interval(secs => $4) END,
               last_error = $3, updated_at = now()
           WHERE id = $1 AND status = 'sending' AND attempts = $2"#,
        id,
        attempt,
        error,
        retry_in.map(|d| d.as_secs_f64())
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Delete finished deliveries last changed more than `older_than` ago (the delivery log's retention);
/// returns how many went.
#[tracing::instrument(skip(conn))]
pub async fn purge_finished(conn: &mut PgConnection, older_than: Duration) -> AppResult<u64> {
    Ok(sqlx::query!(
        r#"DELETE FROM notification_deliveries
           WHERE status IN ('delivered', 'failed') AND updated_at < now() - make_interval(secs => $1)"#,
        older_than.as_secs_f64()
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
