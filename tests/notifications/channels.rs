//! The channel service: create, update (secret kept when not given), delete, list, get, test, each with its
//! audit row; owners/admins only; another tenant's channel id is NotFound; secrets never read back.

use esaas::error::AppError;
use esaas::monitoring::notifications::{ChannelInput, ChannelService, ChannelSettings};
use esaas::tenants::Role;
use secrecy::SecretString;
use sqlx::PgPool;

use super::{caller, create_tenant, loopback_config, webhook};

const SECRET: &str = "first-secret-value";

async fn stored_secret(pool: &PgPool, id: uuid::Uuid) -> String {
    sqlx::query_scalar("SELECT webhook_secret FROM notification_channels WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn audit_actions(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE target_kind = 'notification_channel' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn create_update_test_and_delete_are_audited_and_the_secret_is_kept(pool: PgPool) {
    let config = loopback_config();
    let service = ChannelService::new(pool.clone(), &config);
    let acme = create_tenant(&pool, "acme").await;
    let admin = caller(&acme, Role::Admin);

    let created = service
        .create(
            &admin,
            &webhook("On-call", "https://hooks.example.com/a", SECRET),
        )
        .await
        .unwrap();
    assert_eq!(created.name, "On-call");
    assert!(matches!(created.settings, ChannelSettings::Webhook { .. }));

    // Update without a secret: name and URL change, the secret stays.
    let mut change = webhook("Pager", "https://hooks.example.com/b", "");
    change.format = Some("slack".into());
    let updated = service.update(&admin, created.id, &change).await.unwrap();
    assert_eq!(updated.name, "Pager");
    assert_eq!(stored_secret(&pool, created.id).await, SECRET);
    // With a secret: it is replaced.
    change.secret = Some(SecretString::from("second-secret-value"));
    service.update(&admin, created.id, &change).await.unwrap();
    assert_eq!(
        stored_secret(&pool, created.id).await,
        "second-secret-value"
    );

    let listed = service.list(&admin).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(service.get(&admin, created.id).await.unwrap(), listed[0]);

    let delivery = service.send_test(&admin, created.id).await.unwrap();
    let log = service.deliveries(&admin, created.id, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].id, delivery);
    assert!(log[0].subject.starts_with("[TEST]"), "{}", log[0].subject);

    service.delete(&admin, created.id).await.unwrap();
    assert!(matches!(
        service.get(&admin, created.id).await,
        Err(AppError::NotFound)
    ));
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_deliveries")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "the delivery log goes with the channel");

    assert_eq!(
        audit_actions(&pool).await,
        [
            "notification_channel.create",
            "notification_channel.update",
            "notification_channel.update",
            "notification_channel.test",
            "notification_channel.delete"
        ]
    );
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE before::text LIKE '%secret-value%' OR after::text LIKE '%secret-value%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0, "audit rows never hold a secret");
    let changed: bool = sqlx::query_scalar(
        "SELECT (after->>'secret_changed')::bool FROM audit_log WHERE action = 'notification_channel.update' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(changed);
}

#[sqlx::test]
async fn invalid_input_and_taken_names_are_field_errors_and_nothing_is_written(pool: PgPool) {
    let config = loopback_config();
    let service = ChannelService::new(pool.clone(), &config);
    let acme = create_tenant(&pool, "acme").await;
    let owner = caller(&acme, Role::Owner);
    service
        .create(
            &owner,
            &webhook("Ops", "https://hooks.example.com/a", SECRET),
        )
        .await
        .unwrap();
    let Err(AppError::Validation(e)) = service
        .create(
            &owner,
            &webhook("Ops", "https://hooks.example.com/b", SECRET),
        )
        .await
    else {
        panic!("a taken name is a field error")
    };
    assert!(e.get("name").unwrap().contains("already has a channel"));
    let Err(AppError::Validation(e)) = service
        .create(&owner, &webhook("Other", "ftp://x", "short"))
        .await
    else {
        panic!("invalid fields are field errors")
    };
    assert!(e.get("url").is_some() && e.get("secret").is_some());
    // Email needs the platform's SMTP relay, which the test configuration has not.
    let email = ChannelInput {
        name: "Mail".into(),
        kind: "email".into(),
        recipients: vec!["ops@example.com".into()],
        ..ChannelInput::default()
    };
    let Err(AppError::Validation(e)) = service.create(&owner, &email).await else {
        panic!("no SMTP relay: refused")
    };
    assert!(e.get("kind").unwrap().contains("SMTP"));
    assert_eq!(service.list(&owner).await.unwrap().len(), 1);
    let audits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'notification_channel.create'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audits, 1, "refused requests write nothing");
}

#[sqlx::test]
async fn members_and_viewers_may_not_see_or_change_channels(pool: PgPool) {
    let config = loopback_config();
    let service = ChannelService::new(pool.clone(), &config);
    let acme = create_tenant(&pool, "acme").await;
    let channel = service
        .create(
            &caller(&acme, Role::Owner),
            &webhook("Ops", "https://hooks.example.com/a", SECRET),
        )
        .await
        .unwrap();
    for role in [Role::Member, Role::Viewer] {
        let who = caller(&acme, role);
        assert!(matches!(
            service.list(&who).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            service.get(&who, channel.id).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            service
                .create(&who, &webhook("X", "https://hooks.example.com/x", SECRET))
                .await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            service.delete(&who, channel.id).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            service.send_test(&who, channel.id).await,
            Err(AppError::Forbidden(_))
        ));
    }
    assert_eq!(
        service
            .list(&caller(&acme, Role::Admin))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[sqlx::test]
async fn another_tenants_channel_is_not_found(pool: PgPool) {
    let config = loopback_config();
    let service = ChannelService::new(pool.clone(), &config);
    let acme = create_tenant(&pool, "acme").await;
    let globex = create_tenant(&pool, "globex").await;
    let channel = service
        .create(
            &caller(&acme, Role::Owner),
            &webhook("Ops", "https://hooks.example.com/a", SECRET),
        )
        .await
        .unwrap();
    let intruder = caller(&globex, Role::Owner);
    let nf = |r: Result<(), AppError>| matches!(r, Err(AppError::NotFound));
    assert!(nf(service.get(&intruder, channel.id).await.map(|_| ())));
    assert!(nf(service
        .update(
            &intruder,
            channel.id,
            &webhook("Mine", "https://evil.example.com/", SECRET)
        )
        .await
        .map(|_| ())));
    assert!(nf(service.delete(&intruder, channel.id).await));
    assert!(nf(service
        .send_test(&intruder, channel.id)
        .await
        .map(|_| ())));
    assert!(nf(service
        .deliveries(&intruder, channel.id, 10)
        .await
        .map(|_| ())));
    assert!(service.list(&intruder).await.unwrap().is_empty());
    // Untouched.
    let still = service
        .get(&caller(&acme, Role::Owner), channel.id)
        .await
        .unwrap();
    assert_eq!(still, channel);
}
