//! Member rules in the domain functions: the last owner stays (also under concurrent demotions), admins
//! cannot touch owners, members and viewers cannot manage, and bad emails are field errors.

use esaas::audit::Actor;
use esaas::error::AppError;
use esaas::request_meta::RequestMeta;
use esaas::tenants::{Role, Tenant, members};
use sqlx::PgPool;
use uuid::Uuid;

use super::common::TestApp;
use super::{PASSWORD, add_member, create_tenant, role_in};

fn actor(id: Uuid) -> Actor {
    Actor::user(id, "someone@example.com")
}

async fn change(
    pool: &PgPool,
    by: Uuid,
    t: &Tenant,
    target: Uuid,
    role: Role,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await.unwrap();
    let r = members::change_role(
        &mut tx,
        &actor(by),
        &RequestMeta::default(),
        t,
        target,
        role,
    )
    .await;
    if r.is_ok() {
        tx.commit().await.unwrap();
    }
    r
}

async fn remove(pool: &PgPool, by: Uuid, t: &Tenant, target: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await.unwrap();
    let r = members::remove(&mut tx, &actor(by), &RequestMeta::default(), t, target).await;
    if r.is_ok() {
        tx.commit().await.unwrap();
    }
    r
}

async fn add(
    pool: &PgPool,
    by: Uuid,
    t: &Tenant,
    email: &str,
    role: Role,
) -> Result<members::Member, AppError> {
    let mut tx = pool.begin().await.unwrap();
    let r = members::add(&mut tx, &actor(by), &RequestMeta::default(), t, email, role).await;
    if r.is_ok() {
        tx.commit().await.unwrap();
    }
    r
}

#[sqlx::test]
async fn the_last_owner_can_be_neither_removed_nor_demoted(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.create_user("ann@example.com", PASSWORD, false).await;
    let bob = app.create_user("bob@example.com", PASSWORD, false).await;
    let t = create_tenant(&pool, "team").await;
    add_member(&pool, t.id, ann, Role::Owner).await;

    assert!(matches!(
        change(&pool, ann, &t, ann, Role::Admin).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        remove(&pool, ann, &t, ann).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(role_in(&pool, t.id, ann).await.as_deref(), Some("owner"));

    // With a second owner, the first may step down; then the second is the last one.
    add(&pool, ann, &t, "bob@example.com", Role::Owner)
        .await
        .unwrap();
    change(&pool, ann, &t, ann, Role::Admin).await.unwrap();
    assert_eq!(role_in(&pool, t.id, ann).await.as_deref(), Some("admin"));
    assert!(matches!(
        remove(&pool, bob, &t, bob).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        change(&pool, bob, &t, bob, Role::Viewer).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(role_in(&pool, t.id, bob).await.as_deref(), Some("owner"));
}

#[sqlx::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.create_user("ann@example.com", PASSWORD, false).await;
    let bob = app.create_user("bob@example.com", PASSWORD, false).await;
    let t = create_tenant(&pool, "team").await;
    add_member(&pool, t.id, ann, Role::Owner).await;
    add_member(&pool, t.id, bob, Role::Owner).await;
    let (p1, p2, t1, t2) = (pool.clone(), pool.clone(), t.clone(), t.clone());
    let a = tokio::spawn(async move { change(&p1, ann, &t1, bob, Role::Member).await.is_ok() });
    let b = tokio::spawn(async move { change(&p2, bob, &t2, ann, Role::Member).await.is_ok() });
    let succeeded = usize::from(a.await.unwrap()) + usize::from(b.await.unwrap());
    assert_eq!(succeeded, 1);
    let owners: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tenant_members WHERE tenant_id = $1 AND role = 'owner'",
    )
    .bind(t.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owners, 1);
}

#[sqlx::test]
async fn admins_cannot_touch_owners_and_members_cannot_manage(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let owner = app.create_user("owner@example.com", PASSWORD, false).await;
    let admin = app.create_user("admin@example.com", PASSWORD, false).await;
    let member = app.create_user("member@example.com", PASSWORD, false).await;
    app.create_user("new@example.com", PASSWORD, false).await;
    let outsider = app.create_user("out@example.com", PASSWORD, true).await;
    let t = create_tenant(&pool, "team").await;
    add_member(&pool, t.id, owner, Role::Owner).await;
    add_member(&pool, t.id, admin, Role::Admin).await;
    add_member(&pool, t.id, member, Role::Member).await;

    assert!(matches!(
        change(&pool, admin, &t, owner, Role::Member).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        remove(&pool, admin, &t, owner).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        change(&pool, admin, &t, member, Role::Owner).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        add(&pool, admin, &t, "new@example.com", Role::Owner).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        add(&pool, member, &t, "new@example.com", Role::Viewer).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        change(&pool, member, &t, admin, Role::Viewer).await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(role_in(&pool, t.id, owner).await.as_deref(), Some("owner"));
    assert_eq!(role_in(&pool, t.id, admin).await.as_deref(), Some("admin"));
    assert_eq!(
        role_in(&pool, t.id, member).await.as_deref(),
        Some("member")
    );

    // What admins may do.
    change(&pool, admin, &t, member, Role::Viewer)
        .await
        .unwrap();
    add(&pool, admin, &t, "new@example.com", Role::Admin)
        .await
        .unwrap();
    remove(&pool, admin, &t, member).await.unwrap();
    assert_eq!(role_in(&pool, t.id, member).await, None);
    // Unknown member: 404.
    assert!(matches!(
        remove(&pool, admin, &t, Uuid::new_v4()).await,
        Err(AppError::NotFound)
    ));
    // A platform admin who is not a member manages members as an owner would (owners included), so an
    // ownerless tenant is never a dead end; a disabled platform admin manages nothing.
    change(&pool, outsider, &t, admin, Role::Owner)
        .await
        .unwrap();
    assert_eq!(role_in(&pool, t.id, admin).await.as_deref(), Some("owner"));
    assert_eq!(
        role_in(&pool, t.id, outsider).await,
        None,
        "still not a member"
    );
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(outsider)
        .execute(&pool)
        .await
        .unwrap();
    assert!(matches!(
        change(&pool, outsider, &t, admin, Role::Admin).await,
        Err(AppError::Forbidden(_))
    ));
}

#[sqlx::test]
async fn adding_needs_an_existing_enabled_account_once(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let owner = app.create_user("owner@example.com", PASSWORD, false).await;
    let gone = app.create_user("gone@example.com", PASSWORD, false).await;
    app.create_user("bob@example.com", PASSWORD, false).await;
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(gone)
        .execute(&pool)
        .await
        .unwrap();
    let t = create_tenant(&pool, "team").await;
    add_member(&pool, t.id, owner, Role::Owner).await;

    let cases = [
        ("x@", "not a valid email address"),
        ("nobody@example.com", "No account uses nobody@example.com"),
        ("gone@example.com", "disabled"),
    ];
    for (email, expected) in cases {
        let Err(AppError::Validation(errors)) = add(&pool, owner, &t, email, Role::Member).await
        else {
            panic!("{email} should be a field error");
        };
        assert!(
            errors.get("email").unwrap().contains(expected),
            "{email}: {errors}"
        );
    }
    let added = add(&pool, owner, &t, " Bob@Example.com ", Role::Viewer)
        .await
        .unwrap();
    assert_eq!(
        (added.email.as_str(), added.role),
        ("bob@example.com", Role::Viewer)
    );
    let Err(AppError::Validation(errors)) =
        add(&pool, owner, &t, "bob@example.com", Role::Member).await
    else {
        panic!("a duplicate should be a field error");
    };
    assert!(errors.get("email").unwrap().contains("already a member"));
    let list = members::list(&mut pool.acquire().await.unwrap(), t.id)
        .await
        .unwrap();
    let roles: Vec<(&str, Role)> = list.iter().map(|m| (m.email.as_str(), m.role)).collect();
    assert_eq!(
        roles,
        vec![
            ("owner@example.com", Role::Owner),
            ("bob@example.com", Role::Viewer)
        ]
    );
    assert_eq!(super::audit_count(&pool, "member.add").await, 1);
}
