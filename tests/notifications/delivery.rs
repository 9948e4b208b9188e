//! Webhook delivery through the worker: signed firing and resolved payloads, Slack bodies, a hanging
//! receiver that delays nobody else, retries with backoff, giving up, restarts, and rollbacks.

use std::time::{Duration, Instant};

use esaas::monitoring::notifications::AlertState;
use sqlx::PgPool;

use super::receivers::{self, HttpReceiver};
use super::*;

const SECRET: &str = "receiver-shared-secret";

#[sqlx::test]
async fn the_receiver_sees_signed_firing_and_resolved_payloads(pool: PgPool) {
    let config = loopback_config();
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::ok().await;
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Ops", &receiver.url(), SECRET),
    )
    .await;
    let _worker = start_worker(&pool, &config);

    let firing = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    wait_for_status(&pool, firing[0], "delivered", Duration::from_secs(10)).await;
    let resolved = enqueue(&pool, &config, &notification(&acme, AlertState::Resolved)).await;
    let row = wait_for_status(&pool, resolved[0], "delivered", Duration::from_secs(10)).await;
    assert_eq!(row.attempts, 1);

    let seen = receiver.seen();
    assert_eq!(seen.len(), 2);
    for (s, state, id) in [
        (&seen[0], "firing", firing[0]),
        (&seen[1], "resolved", resolved[0]),
    ] {
        assert_eq!(
            s.header("x-esaas-signature"),
            format!("sha256={}", hmac_hex(SECRET, &s.body)),
            "the signature is the HMAC of the exact body"
        );
        assert_ne!(
            s.header("x-esaas-signature"),
            format!("sha256={}", hmac_hex("wrong", &s.body))
        );
        assert_eq!(s.header("content-type"), "application/json");
        assert_eq!(s.header("x-esaas-delivery"), id.to_string());
        let body = s.json();
        assert_eq!(body["tenant"], "acme");
        assert_eq!(body["cluster"], "logs");
        assert_eq!(body["rule"], "health_red");
        assert_eq!(body["state"], state);
        assert_eq!(body["value"], "red");
        assert_eq!(body["started_at"], "2026-12-02T10:00:00Z");
        assert_eq!(
            body["dashboard_url"],
            "http://127.0.0.1/t/acme/clusters/logs"
        );
        assert_eq!(body["delivery_id"], id.to_string());
        let sent_at: chrono::DateTime<chrono::Utc> =
            body["sent_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            s.header("x-esaas-timestamp"),
            sent_at.timestamp().to_string()
        );
    }
    assert!(seen[0].json()["resolved_at"].is_null());
    assert_eq!(seen[1].json()["resolved_at"], "2026-12-02T10:05:00Z");
}

#[sqlx::test]
async fn a_slack_channel_gets_a_text_body(pool: PgPool) {
    let config = loopback_config();
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::ok().await;
    let mut input = webhook("Slack", &receiver.url(), SECRET);
    input.format = Some("slack".into());
    create_channel(&pool, &config, &acme, &input).await;
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    wait_for_status(&pool, ids[0], "delivered", Duration::from_secs(10)).await;
    let seen = receiver.seen();
    let body = seen[0].json();
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("[FIRING] health_red on acme/logs"),
        "{text}"
    );
    assert!(text.contains("http://127.0.0.1/t/acme/clusters/logs"));
    assert_eq!(body.as_object().unwrap().len(), 1);
    assert_eq!(
        seen[0].header("x-esaas-signature"),
        format!("sha256={}", hmac_hex(SECRET, &seen[0].body))
    );
}

#[sqlx::test]
async fn a_hanging_receiver_does_not_delay_another_channel(pool: PgPool) {
    let mut config = loopback_config();
    let timeout = Duration::from_secs(4);
    config.notifications.webhook.timeout = timeout;
    let acme = create_tenant(&pool, "acme").await;
    let hang = receivers::hanging().await;
    let fine = HttpReceiver::ok().await;
    let stuck = create_channel(
        &pool,
        &config,
        &acme,
        &webhook("A stuck", &format!("http://{hang}/hook"), SECRET),
    )
    .await;
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("B fine", &fine.url(), SECRET),
    )
    .await;
    let _worker = start_worker(&pool, &config);

    let queued = Instant::now();
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    let enqueue_took = queued.elapsed();
    assert_eq!(ids.len(), 2);
    wait_until(timeout, "the fine receiver gets its request", || {
        !fine.seen().is_empty()
    })
    .await;
    let fine_after = fine.seen()[0].at - queued;
    // The stuck channel's attempt is still in flight when the other has landed.
    let stuck_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM notification_deliveries WHERE channel_id = $1")
            .bind(stuck.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(delivery(&pool, stuck_id).await.status, "sending");
    assert!(
        fine_after < timeout,
        "the fine channel waited for the stuck one: {fine_after:?}"
    );
    // The stuck attempt ends at its own timeout, with the reason, and is scheduled again (it may already be
    // on its second attempt when the test looks).
    let row = wait_for_row(&pool, stuck_id, "failed once", timeout * 3, |r| {
        r.last_error.is_some()
    })
    .await;
    assert_ne!(row.status, "delivered");
    assert!(
        row.last_error.as_deref().unwrap().contains("timed out"),
        "{row:?}"
    );
    let stuck_after = queued.elapsed();
    println!(
        "figures: enqueue {enqueue_took:?}; fine channel delivered after {fine_after:?}; \
         stuck channel timed out after {stuck_after:?} (timeout {timeout:?})"
    );
}

#[sqlx::test]
async fn failures_are_retried_with_backoff_until_success(pool: PgPool) {
    let config = loopback_config(); // backoff 100 ms, doubling
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::failing(2).await;
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Flaky", &receiver.url(), SECRET),
    )
    .await;
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    let row = wait_for_status(&pool, ids[0], "delivered", Duration::from_secs(15)).await;
    assert_eq!(row.attempts, 3);
    assert_eq!(
        row.last_error.as_deref(),
        Some("HTTP 500: boom"),
        "the last failure stays in the log"
    );
    let seen = receiver.seen();
    assert_eq!(seen.len(), 3);
    let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1].at - w[0].at).collect();
    let base = config.notifications.delivery.backoff_base;
    assert!(
        gaps[0] >= base,
        "first retry after the base delay: {gaps:?}"
    );
    assert!(gaps[1] >= base * 2, "then twice as long: {gaps:?}");
    // Every attempt carries the same delivery id, signed afresh.
    for s in &seen {
        assert_eq!(s.header("x-esaas-delivery"), ids[0].to_string());
        assert_eq!(
            s.header("x-esaas-signature"),
            format!("sha256={}", hmac_hex(SECRET, &s.body))
        );
    }
    println!("figures: retry gaps {gaps:?} (base {base:?})");
}

#[sqlx::test]
async fn a_delivery_is_given_up_after_the_bound_with_the_last_error(pool: PgPool) {
    let mut config = loopback_config();
    config.notifications.delivery.max_attempts = 3;
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::failing(usize::MAX).await;
    let channel = create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Down", &receiver.url(), SECRET),
    )
    .await;
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    let row = wait_for_status(&pool, ids[0], "failed", Duration::from_secs(15)).await;
    assert_eq!(row.attempts, 3);
    assert_eq!(row.last_error.as_deref(), Some("HTTP 500: boom"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.seen().len(), 3, "no attempt after the bound");
    // The delivery log shows it.
    let service = esaas::monitoring::notifications::ChannelService::new(pool.clone(), &config);
    let log = service
        .deliveries(&caller(&acme, esaas::tenants::Role::Owner), channel.id, 10)
        .await
        .unwrap();
    assert_eq!(log[0].attempts, 3);
    assert_eq!(log[0].max_attempts, 3);
    assert_eq!(log[0].last_error.as_deref(), Some("HTTP 500: boom"));
    assert_eq!(format!("{:?}", log[0].status), "Failed");
    assert!(log[0].next_attempt_at.is_none());
}

#[sqlx::test]
async fn queued_and_interrupted_deliveries_survive_a_restart(pool: PgPool) {
    let config = loopback_config();
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::ok().await;
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Ops", &receiver.url(), SECRET),
    )
    .await;
    // Queued while no worker runs (the portal is down) ...
    let queued = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    // ... and one whose worker died mid-send (claimed, lease over).
    let interrupted = enqueue(&pool, &config, &notification(&acme, AlertState::Resolved)).await;
    sqlx::query(
        "UPDATE notification_deliveries SET status = 'sending', attempts = 1, next_attempt_at = now() - interval '1 s' WHERE id = $1",
    )
    .bind(interrupted[0])
    .execute(&pool)
    .await
    .unwrap();
    let _worker = start_worker(&pool, &config);
    assert_eq!(
        wait_for_status(&pool, queued[0], "delivered", Duration::from_secs(10))
            .await
            .attempts,
        1
    );
    assert_eq!(
        wait_for_status(&pool, interrupted[0], "delivered", Duration::from_secs(10))
            .await
            .attempts,
        2
    );
    assert_eq!(receiver.seen().len(), 2);
}

#[sqlx::test]
async fn a_rolled_back_notification_sends_nothing(pool: PgPool) {
    let config = loopback_config();
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::ok().await;
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Ops", &receiver.url(), SECRET),
    )
    .await;
    let _worker = start_worker(&pool, &config);
    let mut tx = pool.begin().await.unwrap();
    let ids = Outbox::new(&config)
        .enqueue(&mut tx, &notification(&acme, AlertState::Firing))
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    tx.rollback().await.unwrap();
    let committed = enqueue(&pool, &config, &notification(&acme, AlertState::Resolved)).await;
    wait_for_status(&pool, committed[0], "delivered", Duration::from_secs(10)).await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1, "only the committed notification was sent");
    assert_eq!(seen[0].json()["state"], "resolved");
}

#[sqlx::test]
async fn send_a_test_reaches_the_receiver(pool: PgPool) {
    let config = loopback_config();
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::ok().await;
    let channel = create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Ops", &receiver.url(), SECRET),
    )
    .await;
    let _worker = start_worker(&pool, &config);
    let service = esaas::monitoring::notifications::ChannelService::new(pool.clone(), &config);
    let id = service
        .send_test(&caller(&acme, esaas::tenants::Role::Admin), channel.id)
        .await
        .unwrap();
    wait_for_status(&pool, id, "delivered", Duration::from_secs(10)).await;
    let body = receiver.seen()[0].json();
    assert_eq!(body["state"], "test");
    assert_eq!(body["tenant"], "acme");
    assert!(body["cluster"].is_null());
    assert!(body["summary"].as_str().unwrap().contains("Ops"));
}

#[sqlx::test]
async fn finished_deliveries_past_the_retention_are_purged(pool: PgPool) {
    let config = loopback_config();
    let acme = create_tenant(&pool, "acme").await;
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Ops", "https://hooks.example.com/a", SECRET),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.extend(enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await);
    }
    // Old delivered, old failed, old but still pending, and a recent delivered one.
    for (id, status, age) in [
        (ids[0], "delivered", "31 days"),
        (ids[1], "failed", "40 days"),
        (ids[2], "pending", "40 days"),
        (ids[3], "delivered", "1 day"),
    ] {
        sqlx::query(
            "UPDATE notification_deliveries SET status = $2, updated_at = now() - $3::interval WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(age)
        .execute(&pool)
        .await
        .unwrap();
    }
    let mut conn = pool.acquire().await.unwrap();
    let purged = esaas::monitoring::notifications::outbox::purge_finished(
        &mut conn,
        esaas::monitoring::notifications::outbox::LOG_RETENTION,
    )
    .await
    .unwrap();
    assert_eq!(purged, 2);
    let left: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM notification_deliveries ORDER BY created_at")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(left, [ids[2], ids[3]], "pending and recent deliveries stay");
}
