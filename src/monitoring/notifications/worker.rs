//! The delivery worker: a background task that claims due deliveries from the outbox and sends each in its
//! own task with its own timeout, at most `ESAAS_NOTIFY_CONCURRENCY` at once, so a slow or hanging receiver
//! holds one slot for one timeout and never delays other channels, the caller that queued the notification,
//! or alert evaluation. A failed attempt is retried after an exponential backoff (doubling from
//! `ESAAS_NOTIFY_BACKOFF_MS` up to `ESAAS_NOTIFY_BACKOFF_MAX_SECS`, plus up to 25 % jitter so retries to
//! one receiver spread out) until the attempt bound; then the delivery is `failed` with its last error.
//!
//! It wakes on the outbox's Postgres `NOTIFY` (sent when a queuing transaction commits), when a retry falls
//! due, when a slot frees up, and every `ESAAS_NOTIFY_POLL_MS` in any case (a lost listener connection only
//! slows it down). All state is in Postgres, so a restart resumes where it stopped. It stops with the
//! shutdown token; sends in flight are abandoned and their rows come back when their lease ends.
//! Hourly (and at start) it deletes finished deliveries older than [`outbox::LOG_RETENTION`], so the
//! delivery log stays bounded.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::channel::ChannelSettings;
use super::email::EmailSender;
use super::outbox::{self, Claimed, WAKE_CHANNEL};
use super::repo;
use super::webhook::WebhookSender;
use crate::config::notifications::{DeliverySettings, NotificationSettings};

/// What the worker sends with.
#[derive(Debug)]
struct Senders {
    webhook: WebhookSender,
    email: Option<EmailSender>,
}

/// The wait before the attempt after failed attempt number `attempt` (1-based), without jitter.
pub fn backoff(settings: &DeliverySettings, attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    settings
        .backoff_base
        .saturating_mul(1u32 << doublings)
        .min(settings.backoff_max)
}

fn with_jitter(d: Duration) -> Duration {
    d + d.mul_f64(rand::rng().random_range(0.0..0.25))
}

/// Start the worker of a running portal (what `esaas serve` calls): its database and settings, greeting
/// SMTP relays with the host of `ESAAS_PUBLIC_URL`.
pub fn spawn_for(
    state: &crate::state::AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let hello = url::Url::parse(&state.config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    spawn(
        state.db.clone(),
        state.config.notifications.clone(),
        hello,
        shutdown,
    )
}

/// Start the worker (unless `delivery.concurrency` is 0). `hello` is the name the portal greets SMTP
/// relays with (its public host). Fails only when a sender cannot be built from the settings.
pub fn spawn(
    db: PgPool,
    settings: NotificationSettings,
    hello: String,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if settings.delivery.concurrency == 0 {
        return Ok(());
    }
    let senders = Arc::new(Senders {
        webhook: WebhookSender::new(settings.webhook.clone())?,
        email: settings
            .smtp
            .as_ref()
            .map(|smtp| EmailSender::new(smtp, &hello))
            .transpose()?,
    });
    let wake = Arc::new(Notify::new());
    tokio::spawn(listen(db.clone(), wake.clone(), shutdown.clone()));
    tokio::spawn(run(db, settings.delivery, senders, wake, shutdown));
    Ok(())
}

/// Forward the outbox's `NOTIFY`s to `wake`; on a lost connection, retry (polling covers the gap).
async fn listen(db: PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        let listener = async {
            let mut l = PgListener::connect_with(&db).await?;
            l.listen(WAKE_CHANNEL).await?;
            loop {
                l.recv().await?;
                wake.notify_one();
            }
            #[expect(unreachable_code, reason = "the loop only ends with an error")]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener => if let Err(e) = r {
                tracing::debug!(error = %e, "notification listener lost; polling until it is back");
            },
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn run(
    db: PgPool,
    settings: DeliverySettings,
    senders: Arc<Senders>,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let longest = senders
        .email
        .as_ref()
        .map_or(Duration::ZERO, EmailSender::timeout)
        .max(senders.webhook.timeout());
    // The lease outlives the attempt's own timeout, so a row is only claimed twice after a crash.
    let lease = longest * 2 + Duration::from_secs(5);
    let mut in_flight = JoinSet::new();
    let mut purge = tokio::time::interval(PURGE_EVERY);
    loop {
        let free = settings.concurrency.saturating_sub(in_flight.len());
        let mut next_wait = settings.poll_interval;
        if free > 0 {
            match claim(&db, free, lease).await {
                Ok((claimed, next_due)) => {
                    let full = claimed.len() == free;
                    for c in claimed {
                        in_flight.spawn(deliver(db.clone(), senders.clone(), settings.clone(), c));
                    }
                    if let Some(due) = next_due {
                        let until = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                        next_wait = next_wait.min(until.max(Duration::from_millis(10)));
                    }
                    if full {
                        next_wait = Duration::ZERO;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming notification deliveries failed"),
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = wake.notified() => {}
            _ = tokio::time::sleep(next_wait) => {}
            _ = purge.tick() => purge_log(&db).await,
        }
    }
    in_flight.abort_all();
}

/// How often finished deliveries past their retention are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

async fn purge_log(db: &PgPool) {
    let purged = async {
        let mut conn = db.acquire().await?;
        outbox::purge_finished(&mut conn, outbox::LOG_RETENTION).await
    }
    .await;
    match purged {
        Ok(0) => {}
        Ok(n) => tracing::info!(deliveries = n, "old notification deliveries deleted"),
        Err(e) => tracing::warn!(error = %e, "purging old notification deliveries failed"),
    }
}

async fn claim(
    db: &PgPool,
    limit: usize,
    lease: Duration,
) -> crate::error::AppResult<(Vec<Claimed>, Option<chrono::DateTime<Utc>>)> {
    let mut tx = db.begin().await?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let claimed = outbox::claim(&mut tx, limit, lease).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// One attempt of one delivery, bounded by its channel kind's timeout, and its outcome recorded.
#[tracing::instrument(skip_all, fields(delivery = %c.id, channel = %c.channel_id, attempt = c.attempt))]
async fn deliver(db: PgPool, senders: Arc<Senders>, settings: DeliverySettings, c: Claimed) {
    let outcome = attempt(&db, &senders, &c).await;
    let recorded = async {
        let mut conn = db.acquire().await?;
        match &outcome {
            Ok(()) => outbox::delivered(&mut conn, c.id, c.attempt).await,
            Err(e) => {
                let retry = (c.attempt < c.max_attempts)
                    .then(|| with_jitter(backoff(&settings, c.attempt)));
                outbox::attempt_failed(&mut conn, c.id, c.attempt, e, retry).await
            }
        }
    }
    .await;
    match (&outcome, recorded) {
        (_, Err(e)) => tracing::warn!(error = %e, "recording a notification attempt failed"),
        (Ok(()), Ok(())) => tracing::info!("notification delivered"),
        (Err(e), Ok(())) if c.attempt < c.max_attempts => {
            tracing::info!(error = %e, "notification attempt failed; will retry")
        }
        (Err(e), Ok(())) => tracing::warn!(error = %e, "notification given up"),
    }
}

async fn attempt(db: &PgPool, senders: &Senders, c: &Claimed) -> Result<(), String> {
    let loaded = async {
        let mut conn = db.acquire().await?;
        repo::with_secret(&mut conn, c.channel_id).await
    }
    .await
    .map_err(|e| format!("the channel could not be read: {e}"))?;
    let Some((channel, secret)) = loaded else {
        return Err("the channel was deleted".into());
    };
    match &channel.settings {
        ChannelSettings::Webhook { url, format } => {
            let secret = secret.ok_or("the channel has no secret")?;
            let send = senders.webhook.send(url, *format, &secret, c.id, &c.facts);
            bounded(senders.webhook.timeout(), send).await.map(|_| ())
        }
        ChannelSettings::Email { recipients } => {
            let Some(email) = &senders.email else {
                return Err("email is not set up on this platform (ESAAS_SMTP_HOST)".into());
            };
            bounded(email.timeout(), email.send(recipients, c.id, &c.facts)).await
        }
    }
}

/// The attempt's hard deadline, whatever the client's own timeouts do.
async fn bounded<T>(
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(limit, f).await.unwrap_or_else(|_| {
        Err(format!(
            "no answer within {} s (timed out)",
            limit.as_secs_f32()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = DeliverySettings {
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(60),
            ..DeliverySettings::default()
        };
        let waits: Vec<u64> = (1..=6).map(|a| backoff(&s, a).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        assert_eq!(backoff(&s, 1000), Duration::from_secs(60), "no overflow");
        let j = with_jitter(Duration::from_secs(8));
        assert!(j >= Duration::from_secs(8) && j < Duration::from_secs(10));
    }
}
