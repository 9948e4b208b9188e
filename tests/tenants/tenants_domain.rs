//! The tenants repository: create (default quota, audit, duplicate slug), read, list with counts and usage,
//! memberships, rename.

use esaas::audit::Actor;
use esaas::error::AppError;
use esaas::request_meta::RequestMeta;
use esaas::tenants::quota::{DEFAULT_LIMITS, Resources};
use esaas::tenants::{Role, TenantName, TenantSlug, repo};
use sqlx::PgPool;

use super::{add_member, audit_count, create_tenant, insert_cluster};

#[sqlx::test]
async fn create_then_read_with_default_quota_and_audit(pool: PgPool) {
    let t = create_tenant(&pool, "logs").await;
    assert_eq!(t.limits, DEFAULT_LIMITS);
    assert_eq!(
        (
            DEFAULT_LIMITS.clusters,
            DEFAULT_LIMITS.nodes,
            DEFAULT_LIMITS.cpu_millis
        ),
        (5, 20, 20_000)
    );
    let mut conn = pool.acquire().await.unwrap();
    let found = repo::by_slug(&mut conn, "logs").await.unwrap().unwrap();
    assert_eq!(found, t);
    assert_eq!(
        repo::by_id(&mut conn, t.id)
            .await
            .unwrap()
            .unwrap()
            .slug
            .as_str(),
        "logs"
    );
    assert!(repo::by_slug(&mut conn, "nope").await.unwrap().is_none());
    assert_eq!(audit_count(&pool, "tenant.create").await, 1);
}

#[sqlx::test]
async fn a_taken_slug_is_a_field_error_and_writes_nothing(pool: PgPool) {
    create_tenant(&pool, "logs").await;
    let mut tx = pool.begin().await.unwrap();
    let err = repo::create(
        &mut tx,
        &Actor::system(),
        &RequestMeta::default(),
        &TenantSlug::parse("logs").unwrap(),
        &TenantName::parse("Other").unwrap(),
        DEFAULT_LIMITS,
    )
    .await
    .unwrap_err();
    let AppError::Validation(errors) = err else {
        panic!("expected a field error, got {err:?}");
    };
    assert!(errors.get("slug").unwrap().contains("taken"), "{errors}");
    drop(tx);
    assert_eq!(super::count(&pool, "tenants").await, 1);
}

#[sqlx::test]
async fn list_all_counts_members_and_live_usage(pool: PgPool) {
    let app_users = super::common::TestApp::spawn(pool.clone()).await;
    let ann = app_users
        .create_user("ann@example.com", super::PASSWORD, false)
        .await;
    let bob = app_users
        .create_user("bob@example.com", super::PASSWORD, false)
        .await;
    let a = create_tenant(&pool, "alpha").await;
    let b = create_tenant(&pool, "beta").await;
    add_member(&pool, a.id, ann, Role::Owner).await;
    add_member(&pool, a.id, bob, Role::Viewer).await;
    add_member(&pool, b.id, ann, Role::Member).await;
    let mut conn = pool.acquire().await.unwrap();
    insert_cluster(
        &mut conn,
        a.id,
        "one",
        Resources::for_cluster(3, 3000, 6144, 90),
    )
    .await;
    insert_cluster(
        &mut conn,
        a.id,
        "two",
        Resources::for_cluster(1, 500, 1024, 10),
    )
    .await;
    let gone = insert_cluster(
        &mut conn,
        a.id,
        "gone",
        Resources::for_cluster(9, 9000, 9, 9),
    )
    .await;
    sqlx::query("UPDATE clusters SET deleted_at = now() WHERE id = $1")
        .bind(gone)
        .execute(&mut *conn)
        .await
        .unwrap();

    let all = repo::list_all(&mut conn).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].tenant.slug.as_str(), "alpha");
    assert_eq!(all[0].members, 2);
    assert_eq!(
        all[0].usage,
        Resources {
            clusters: 2,
            nodes: 4,
            cpu_millis: 3500,
            memory_mib: 7168,
            storage_gib: 100
        }
    );
    assert_eq!(all[1].members, 1);
    assert_eq!(all[1].usage, Resources::default());

    let mine = repo::memberships(&mut conn, ann).await.unwrap();
    let roles: Vec<(&str, Role)> = mine
        .iter()
        .map(|m| (m.tenant.slug.as_str(), m.role))
        .collect();
    assert_eq!(roles, vec![("alpha", Role::Owner), ("beta", Role::Member)]);
}

#[sqlx::test]
async fn rename_audits_old_and_new_name(pool: PgPool) {
    let t = create_tenant(&pool, "logs").await;
    let mut tx = pool.begin().await.unwrap();
    let meta = RequestMeta::default();
    let renamed = repo::update_name(
        &mut tx,
        &Actor::system(),
        &meta,
        t.id,
        &TenantName::parse("Logging").unwrap(),
    )
    .await
    .unwrap();
    // Same name again: nothing to record.
    repo::update_name(
        &mut tx,
        &Actor::system(),
        &meta,
        t.id,
        &TenantName::parse("Logging").unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(renamed.name, "Logging");
    let (before, after): (serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT before, after FROM audit_log WHERE action = 'tenant.update'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(before["name"], "Team logs");
    assert_eq!(after["name"], "Logging");
}
