//! Secrets stay out of logs and `Debug` output: every log line of a delivery run (all levels, all targets)
//! is captured through the real tracing pipeline and searched for the channel secret and the SMTP password.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use esaas::config::notifications::{SmtpSettings, SmtpTls};
use esaas::monitoring::notifications::AlertState;
use secrecy::SecretString;
use sqlx::PgPool;

use super::receivers::HttpReceiver;
use super::*;

const CHANNEL_SECRET: &str = "webhook-secret-that-must-not-leak";
const SMTP_PASSWORD: &str = "smtp-password-that-must-not-leak";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, from the first call on.
fn captured() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        logs
    })
}

#[sqlx::test]
async fn no_secret_reaches_the_logs_or_debug_output(pool: PgPool) {
    let logs = captured();
    let mut config = loopback_config();
    config.notifications.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port: 9,
        tls: SmtpTls::None,
        credentials: Some(("portal".into(), SecretString::from(SMTP_PASSWORD))),
        from: "alerts@portal.test".into(),
        timeout: Duration::from_secs(1),
    });
    let acme = create_tenant(&pool, "acme").await;
    let receiver = HttpReceiver::failing(1).await;
    let input = webhook("Ops", &receiver.url(), CHANNEL_SECRET);
    let channel = create_channel(&pool, &config, &acme, &input).await;
    let service = ChannelService::new(pool.clone(), &config);
    let mut change = webhook("Ops 2", &receiver.url(), CHANNEL_SECRET);
    change.format = Some("slack".into());
    service
        .update(
            &caller(&acme, esaas::tenants::Role::Owner),
            channel.id,
            &change,
        )
        .await
        .unwrap();
    let _worker = start_worker(&pool, &config);
    let ids = enqueue(&pool, &config, &notification(&acme, AlertState::Firing)).await;
    wait_for_status(&pool, ids[0], "delivered", Duration::from_secs(10)).await;

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(text.contains("notification delivered"), "the capture works");
    assert!(
        text.contains("will retry"),
        "the failed attempt was logged too"
    );
    assert!(
        !text.contains(CHANNEL_SECRET),
        "the channel secret was logged"
    );
    assert!(
        !text.contains(SMTP_PASSWORD),
        "the SMTP password was logged"
    );

    for debug in [
        format!("{input:?}"),
        format!("{change:?}"),
        format!("{config:?}"),
        format!("{:?}", config.notifications),
        format!("{channel:?}"),
    ] {
        assert!(
            !debug.contains(CHANNEL_SECRET) && !debug.contains(SMTP_PASSWORD),
            "{debug}"
        );
    }
}
