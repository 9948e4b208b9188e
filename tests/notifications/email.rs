//! Email channels end to end: the worker sends through lettre to an SMTP sink on loopback; the test reads
//! the envelope, the subject, the recipients and the plain-text body.

use std::time::Duration;

use esaas::config::notifications::{SmtpSettings, SmtpTls};
use esaas::monitoring::notifications::{AlertState, ChannelInput};
use sqlx::PgPool;

use super::receivers::smtp_sink;
use super::*;

#[sqlx::test]
async fn the_smtp_sink_receives_the_alert_email(pool: PgPool) {
    let (addr, mails) = smtp_sink().await;
    let mut config = loopback_config();
    config.notifications.smtp = Some(SmtpSettings {
        host: addr.ip().to_string(),
        port: addr.port(),
        tls: SmtpTls::None,
        credentials: None,
        from: "ESaaS Portal <alerts@portal.test>".into(),
        timeout: Duration::from_secs(5),
    });
    let acme = create_tenant(&pool, "acme").await;
    let input = ChannelInput {
        name: "Mail".into(),
        kind: "email".into(),
        recipients: vec!["ops@example.com, oncall@example.com".into()],
        ..ChannelInput::default()
    };
    create_channel(&pool, &config, &acme, &input).await;
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    wait_for_status(&pool, ids[0], "delivered", Duration::from_secs(10)).await;

    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "alerts@portal.test");
    assert_eq!(mail.to, ["ops@example.com", "oncall@example.com"]);
    let (headers, body) = mail
        .data
        .split_once("\r\n\r\n")
        .expect("headers, blank line, body");
    assert!(
        headers.contains("Subject: [FIRING] health_red on acme/logs"),
        "{headers}"
    );
    assert!(
        headers.contains("To: ops@example.com, oncall@example.com"),
        "{headers}"
    );
    assert!(
        headers.contains("From: \"ESaaS Portal\" <alerts@portal.test>"),
        "{headers}"
    );
    assert!(
        headers.contains("Content-Type: text/plain; charset=utf-8"),
        "{headers}"
    );
    assert!(
        headers.contains(&format!("Message-ID: <{}@portal.test>", ids[0])),
        "{headers}"
    );
    for line in [
        "Cluster health is red.",
        "Value: red",
        "Started: 2026-12-02T10:00:00Z",
        "Dashboard: http://127.0.0.1/t/acme/clusters/logs",
    ] {
        assert!(
            body.contains(line),
            "{line:?} missing from the body: {body}"
        );
    }
}

#[sqlx::test]
async fn an_unreachable_relay_is_retried_and_logged(pool: PgPool) {
    // A port nothing listens on: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = loopback_config();
    config.notifications.delivery.max_attempts = 2;
    config.notifications.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port: closed.port(),
        tls: SmtpTls::None,
        credentials: None,
        from: "alerts@portal.test".into(),
        timeout: Duration::from_secs(2),
    });
    let acme = create_tenant(&pool, "acme").await;
    let input = ChannelInput {
        name: "Mail".into(),
        kind: "email".into(),
        recipients: vec!["ops@example.com".into()],
        ..ChannelInput::default()
    };
    create_channel(&pool, &config, &acme, &input).await;
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    let row = wait_for_status(&pool, ids[0], "failed", Duration::from_secs(10)).await;
    assert_eq!(row.attempts, 2);
    assert!(row.last_error.unwrap().starts_with("SMTP:"));
}
