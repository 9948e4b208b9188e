//! The webhook guard at send time, end to end: a receiver on loopback is refused without
//! `ESAAS_WEBHOOK_ALLOWED_NETWORKS` (by literal address and by host name, whose resolved address is
//! checked) and reached with `127.0.0.1/32` plus allow-http; http is refused once the platform stops
//! allowing it.

use std::time::Duration;

use esaas::monitoring::notifications::AlertState;
use sqlx::PgPool;

use super::receivers::HttpReceiver;
use super::*;

#[sqlx::test]
async fn a_webhook_to_loopback_is_refused_unless_allowed(pool: PgPool) {
    let allowed = loopback_config();
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::ok().await;
    // Saved while the platform allowed it; the worker below runs under stricter settings.
    create_channel(
        &pool,
        &allowed,
        &acme,
        &webhook("By address", &receiver.url(), "shared-secret"),
    )
    .await;
    create_channel(
        &pool,
        &allowed,
        &acme,
        &webhook("By name", &receiver.url_by_name(), "shared-secret"),
    )
    .await;
    let mut strict = allowed.clone();
    strict.notifications.webhook.allowed_networks.clear();
    strict.notifications.delivery.max_attempts = 1;
    let worker = start_worker(&pool, &strict);
    let ids = enqueue(&pool, &strict, &notification(&acme, AlertState::Firing)).await;
    for id in &ids {
        let row = wait_for_status(&pool, *id, "failed", Duration::from_secs(10)).await;
        let error = row.last_error.unwrap();
        assert!(error.contains("loopback"), "{error}");
        assert!(error.contains("ESAAS_WEBHOOK_ALLOWED_NETWORKS"), "{error}");
    }
    assert!(receiver.seen().is_empty(), "nothing reached the receiver");
    worker.cancel();

    // With 127.0.0.1/32 (and http) allowed, both reach it.
    let _worker = start_worker(&pool, &allowed);
    let ids = enqueue(&pool, &allowed, &notification(&acme, AlertState::Resolved)).await;
    for id in &ids {
        wait_for_status(&pool, *id, "delivered", Duration::from_secs(10)).await;
    }
    assert_eq!(receiver.seen().len(), 2);
}

#[sqlx::test]
async fn the_creation_refuses_a_literal_loopback_address_and_plain_http(pool: PgPool) {
    let acme = create_tenant(&pool, "acme").await;
    let mut config = loopback_config();
    config.notifications.webhook.allowed_networks.clear();
    let service = ChannelService::new(pool.clone(), &config);
    let owner = caller(&acme, esaas::tenants::Role::Owner);
    let Err(esaas::error::AppError::Validation(e)) = service
        .create(
            &owner,
            &webhook("Local", "http://127.0.0.1:9/hook", "shared-secret"),
        )
        .await
    else {
        panic!("refused")
    };
    assert!(e.get("url").unwrap().contains("loopback"));
    config.notifications.webhook.allow_http = false;
    let service = ChannelService::new(pool.clone(), &config);
    let Err(esaas::error::AppError::Validation(e)) = service
        .create(
            &owner,
            &webhook("Plain", "http://hooks.example.com/", "shared-secret"),
        )
        .await
    else {
        panic!("refused")
    };
    assert!(e.get("url").unwrap().contains("http"));
}

#[sqlx::test]
async fn plain_http_is_refused_at_send_time_once_disallowed(pool: PgPool) {
    let allowed = loopback_config();
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::ok().await;
    create_channel(
        &pool,
        &allowed,
        &acme,
        &webhook("Plain", &receiver.url(), "shared-secret"),
    )
    .await;
    let mut strict = allowed.clone();
    strict.notifications.webhook.allow_http = false;
    strict.notifications.delivery.max_attempts = 1;
    let _worker = start_worker(&pool, &strict);
    let ids = enqueue(&pool, &strict, &notification(&acme, AlertState::Firing)).await;
    let row = wait_for_status(&pool, ids[0], "failed", Duration::from_secs(10)).await;
    assert!(
        row.last_error
            .unwrap()
            .contains("plain http is not allowed")
    );
    assert!(receiver.seen().is_empty());
}

#[sqlx::test]
async fn redirects_are_not_followed(pool: PgPool) {
    let mut config = loopback_config();
    config.notifications.delivery.max_attempts = 1;
    let acme = create_tenant(&pool, "acme").await;
    let target = HttpReceiver::ok().await;
    let redirecting = HttpReceiver::redirecting(target.url()).await;
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Moved", &redirecting.url(), "shared-secret"),
    )
    .await;
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    let row = wait_for_status(&pool, ids[0], "failed", Duration::from_secs(10)).await;
    assert_eq!(
        row.last_error.as_deref(),
        Some("HTTP 302: redirects are not followed")
    );
    assert_eq!(redirecting.seen().len(), 1);
    assert!(
        target.seen().is_empty(),
        "the redirect's target was never asked"
    );
}

#[sqlx::test]
async fn a_long_answer_is_cut_in_the_delivery_log(pool: PgPool) {
    let mut config = loopback_config();
    config.notifications.delivery.max_attempts = 1;
    let acme = create_tenant(&pool, "acme").await;
    let chatty = HttpReceiver::failing_at_length(1 << 20).await;
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Chatty", &chatty.url(), "shared-secret"),
    )
    .await;
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    let row = wait_for_status(&pool, ids[0], "failed", Duration::from_secs(10)).await;
    let error = row.last_error.unwrap();
    assert!(error.starts_with("HTTP 500: boomboom"), "{error}");
    assert!(
        error.len() <= 220,
        "{} bytes kept of a 1 MiB answer",
        error.len()
    );
}

#[sqlx::test]
async fn an_https_url_gets_tls_and_a_plain_receiver_fails_the_handshake(pool: PgPool) {
    let mut config = loopback_config();
    config.notifications.delivery.max_attempts = 1;
    let acme = create_tenant(&pool, "acme").await;
    let plain = HttpReceiver::ok().await;
    let url = format!("https://{}/hook", plain.addr);
    create_channel(
        &pool,
        &config,
        &acme,
        &webhook("Tls", &url, "shared-secret"),
    )
    .await;
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    let row = wait_for_status(&pool, ids[0], "failed", Duration::from_secs(10)).await;
    let error = row.last_error.unwrap();
    assert!(error.starts_with("TLS handshake failed"), "{error}");
    assert!(plain.seen().is_empty(), "no request in clear");
}
