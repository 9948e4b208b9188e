//! Notification channels and their delivery against real parts: a fresh Postgres database per test, the
//! real delivery worker, real HTTP receivers (axum on loopback), a real SMTP sink over TCP, and logs
//! captured from the real tracing pipeline.

#[path = "../common/mod.rs"]
mod common;

mod channels;
mod delivery;
mod email;
mod guard;
mod logs;
mod receivers;

use std::time::{Duration, Instant};

use esaas::audit::Actor;
use esaas::clusters::service::Caller;
use esaas::config::Config;
use esaas::config::notifications as settings;
use esaas::monitoring::notifications::{
    AlertState, Channel, ChannelInput, ChannelService, Notification, Outbox, worker,
};
use esaas::request_meta::RequestMeta;
use esaas::tenants::{Role, Tenant};
use secrecy::SecretString;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The test configuration with webhooks to this host allowed (http and 127.0.0.1/32).
pub fn loopback_config() -> Config {
    let mut config = Config::for_tests("postgres://unused");
    config.notifications.webhook.allow_http = true;
    config.notifications.webhook.allowed_networks =
        settings::parse_networks("127.0.0.1/32").unwrap();
    config.notifications.webhook.timeout = Duration::from_secs(3);
    config
}

pub use common::create_tenant;

/// A caller with `role` in `tenant`.
pub fn caller(tenant: &Tenant, role: Role) -> Caller {
    Caller {
        tenant_id: tenant.id,
        role,
        actor: Actor {
            user_id: None,
            label: format!("{role}@example.com"),
        },
        meta: RequestMeta::default(),
        if_match: None,
    }
}

/// A webhook channel input.
pub fn webhook(name: &str, url: &str, secret: &str) -> ChannelInput {
    ChannelInput {
        name: name.into(),
        kind: "webhook".into(),
        url: Some(url.into()),
        format: None,
        secret: Some(SecretString::from(secret.to_owned())),
        recipients: Vec::new(),
    }
}

/// Create a channel as the tenant's owner.
pub async fn create_channel(
    pool: &PgPool,
    config: &Config,
    tenant: &Tenant,
    input: &ChannelInput,
) -> Channel {
    ChannelService::new(pool.clone(), config)
        .create(&caller(tenant, Role::Owner), input)
        .await
        .unwrap()
}

/// A firing (or resolved) health_red notification for `tenant`'s cluster `logs`.
pub fn notification(tenant: &Tenant, state: AlertState) -> Notification {
    let started_at = "2026-12-02T10:00:00Z".parse().unwrap();
    Notification {
        tenant_id: tenant.id,
        cluster: "logs".into(),
        rule: "health_red".into(),
        state,
        value: Some(serde_json::json!("red")),
        summary: "Cluster health is red.".into(),
        started_at,
        resolved_at: (state == AlertState::Resolved)
            .then(|| "2026-12-02T10:05:00Z".parse().unwrap()),
    }
}

/// Queue a notification in its own committed transaction (as the alert evaluator will).
pub async fn enqueue(pool: &PgPool, config: &Config, n: &Notification) -> Vec<Uuid> {
    let mut tx = pool.begin().await.unwrap();
    let ids = Outbox::new(config).enqueue(&mut tx, n).await.unwrap();
    tx.commit().await.unwrap();
    ids
}

/// Start the delivery worker with `config`'s settings; it stops when the token is cancelled or dropped
/// with the test's runtime.
pub fn start_worker(pool: &PgPool, config: &Config) -> CancellationToken {
    let token = CancellationToken::new();
    worker::spawn(
        pool.clone(),
        config.notifications.clone(),
        "portal.test".into(),
        token.clone(),
    )
    .unwrap();
    token
}

/// A delivery row as the test reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// The delivery row.
pub async fn delivery(pool: &PgPool, id: Uuid) -> DeliveryRow {
    sqlx::query_as("SELECT status, attempts, last_error FROM notification_deliveries WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Wait (at most `limit`) until the delivery reaches `status`; the row then.
pub async fn wait_for_status(
    pool: &PgPool,
    id: Uuid,
    status: &str,
    limit: Duration,
) -> DeliveryRow {
    wait_for_row(pool, id, status, limit, |row| row.status == status).await
}

/// Wait (at most `limit`) until the delivery row satisfies `done` (described by `what`); the row then.
pub async fn wait_for_row(
    pool: &PgPool,
    id: Uuid,
    what: &str,
    limit: Duration,
    done: impl Fn(&DeliveryRow) -> bool,
) -> DeliveryRow {
    let deadline = Instant::now() + limit;
    loop {
        let row = delivery(pool, id).await;
        if done(&row) {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "delivery {id}: not {what} within {limit:?}: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait (at most `limit`) until `f` holds.
pub async fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The hex HMAC-SHA256 of `body` with `secret`, computed independently of the portal's code.
pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
