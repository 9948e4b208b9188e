//! The members and quota pages over HTTP: what each role sees and may do, 404 across tenants, audit rows,
//! and the add form re-rendered with its message and input.

use esaas::tenants::Role;
use esaas::tenants::quota::{DEFAULT_LIMITS, Resources};
use sqlx::PgPool;

use super::common::TestApp;
use super::{add_member, audit_count, create_tenant, insert_cluster, role_in};

#[sqlx::test]
async fn a_viewer_sees_members_but_cannot_change_anything(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t = create_tenant(&pool, "team").await;
    let s = app.sign_in("viewer@example.com", false).await;
    let viewer = s.user_id;
    let owner = app
        .create_user("owner@example.com", super::PASSWORD, false)
        .await;
    app.create_user("new@example.com", super::PASSWORD, false)
        .await;
    add_member(&pool, t.id, viewer, Role::Viewer).await;
    add_member(&pool, t.id, owner, Role::Owner).await;

    let (status, html) = s.get(&app, "/t/team/members").await;
    assert_eq!(status, 200);
    assert!(html.contains("owner@example.com"));
    assert!(!html.contains("Add a member"), "viewers get no add form");
    assert!(!html.contains("/remove\""), "viewers get no remove buttons");

    let owner_path = format!("/t/team/members/{owner}");
    let attempts = [
        (
            "/t/team/members".to_owned(),
            vec![("email", "new@example.com"), ("role", "viewer")],
        ),
        (format!("{owner_path}/role"), vec![("role", "viewer")]),
        (format!("{owner_path}/remove"), vec![]),
        (
            format!("/t/team/members/{viewer}/role"),
            vec![("role", "owner")],
        ),
    ];
    for (path, fields) in attempts {
        let (status, _) = s.post_text(&app, &path, &fields).await;
        assert_eq!(status, 403, "POST {path}");
    }
    assert_eq!(role_in(&pool, t.id, owner).await.as_deref(), Some("owner"));
    assert_eq!(
        role_in(&pool, t.id, viewer).await.as_deref(),
        Some("viewer")
    );
    assert_eq!(super::count(&pool, "tenant_members").await, 2);
    let member_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'member.%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(member_rows, 0);
    // The tenant's audit log is for owners and admins.
    assert_eq!(s.get(&app, "/t/team/audit").await.0, 403);
    // The quota page is readable, without the edit link.
    let (status, html) = s.get(&app, "/t/team/quota").await;
    assert_eq!(status, 200);
    assert!(!html.contains("Edit limits"));
}

#[sqlx::test]
async fn a_member_of_one_tenant_gets_404_for_everything_of_another(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let a = create_tenant(&pool, "alpha").await;
    let b = create_tenant(&pool, "beta").await;
    let s = app.sign_in("ann@example.com", false).await;
    let ann = s.user_id;
    let bob = app
        .create_user("bob@example.com", super::PASSWORD, false)
        .await;
    add_member(&pool, a.id, ann, Role::Owner).await;
    add_member(&pool, b.id, bob, Role::Owner).await;

    for path in [
        "/t/beta/members",
        "/t/beta/quota",
        "/t/beta/audit",
        "/t/nosuch/members",
        "/t/beta/clusters",
    ] {
        assert_eq!(s.get(&app, path).await.0, 404, "GET {path}");
    }
    let bob_path = format!("/t/beta/members/{bob}");
    let posts = [
        (
            "/t/beta/members".to_owned(),
            vec![("email", "ann@example.com"), ("role", "owner")],
        ),
        (format!("{bob_path}/role"), vec![("role", "viewer")]),
        (format!("{bob_path}/remove"), vec![]),
    ];
    for (path, fields) in posts {
        assert_eq!(
            s.post_text(&app, &path, &fields).await.0,
            404,
            "POST {path}"
        );
    }
    assert_eq!(role_in(&pool, b.id, bob).await.as_deref(), Some("owner"));
    assert_eq!(role_in(&pool, b.id, ann).await, None);
    // Their own tenant works.
    assert_eq!(s.get(&app, "/t/alpha/members").await.0, 200);
}

#[sqlx::test]
async fn an_owner_manages_members_and_every_change_is_audited(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t = create_tenant(&pool, "team").await;
    let s = app.sign_in("owner@example.com", false).await;
    let owner = s.user_id;
    let bob = app
        .create_user("bob@example.com", super::PASSWORD, false)
        .await;
    add_member(&pool, t.id, owner, Role::Owner).await;

    let (status, html) = s.get(&app, "/t/team/members").await;
    assert_eq!(status, 200);
    assert!(html.contains("Add a member"));
    assert!(html.contains("name=\"csrf_token\""));

    let (status, loc) = s
        .post_text(
            &app,
            "/t/team/members",
            &[("email", "bob@example.com"), ("role", "member")],
        )
        .await;
    assert_eq!((status, loc.as_str()), (303, "/t/team/members"));
    let (_, html) = s.get(&app, "/t/team/members").await;
    assert!(
        html.contains("Added bob@example.com as member."),
        "the flash shows on the next page"
    );
    assert_eq!(role_in(&pool, t.id, bob).await.as_deref(), Some("member"));

    let (status, _) = s
        .post_text(
            &app,
            &format!("/t/team/members/{bob}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(role_in(&pool, t.id, bob).await.as_deref(), Some("admin"));
    let (before, after, actor): (serde_json::Value, serde_json::Value, String) = sqlx::query_as(
        "SELECT before, after, actor FROM audit_log WHERE action = 'member.role_change' AND tenant_id = $1",
    )
    .bind(t.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (before["role"].as_str(), after["role"].as_str()),
        (Some("member"), Some("admin"))
    );
    assert_eq!(actor, "owner@example.com");

    // The last owner cannot leave: redirected back with the reason, nothing changed.
    let (status, _) = s
        .post_text(&app, &format!("/t/team/members/{owner}/remove"), &[])
        .await;
    assert_eq!(status, 303);
    let (_, html) = s.get(&app, "/t/team/members").await;
    assert!(html.contains("at least one owner"), "{html}");
    assert_eq!(role_in(&pool, t.id, owner).await.as_deref(), Some("owner"));
    let (status, _) = s
        .post_text(
            &app,
            &format!("/t/team/members/{owner}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(role_in(&pool, t.id, owner).await.as_deref(), Some("owner"));

    let (status, _) = s
        .post_text(&app, &format!("/t/team/members/{bob}/remove"), &[])
        .await;
    assert_eq!(status, 303);
    assert_eq!(role_in(&pool, t.id, bob).await, None);
    assert_eq!(audit_count(&pool, "member.add").await, 1);
    assert_eq!(audit_count(&pool, "member.role_change").await, 1);
    assert_eq!(audit_count(&pool, "member.remove").await, 1);

    // The owner reads the tenant's audit log.
    let (status, html) = s.get(&app, "/t/team/audit").await;
    assert_eq!(status, 200);
    assert!(html.contains("member.remove") && html.contains("member.add"));
}

#[sqlx::test]
async fn an_admin_cannot_change_an_owner_over_http(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t = create_tenant(&pool, "team").await;
    let s = app.sign_in("admin@example.com", false).await;
    let admin = s.user_id;
    let owner = app
        .create_user("owner@example.com", super::PASSWORD, false)
        .await;
    add_member(&pool, t.id, admin, Role::Admin).await;
    add_member(&pool, t.id, owner, Role::Owner).await;
    let (_, html) = s.get(&app, "/t/team/members").await;
    assert!(
        !html.contains(&format!("/t/team/members/{owner}/remove")),
        "no remove button for an owner"
    );
    assert!(
        !html.contains("<option value=\"owner\""),
        "admins cannot give the owner role"
    );
    assert_eq!(
        s.post_text(&app, &format!("/t/team/members/{owner}/remove"), &[])
            .await
            .0,
        403
    );
    assert_eq!(
        s.post_text(
            &app,
            &format!("/t/team/members/{owner}/role"),
            &[("role", "member")]
        )
        .await
        .0,
        403
    );
    assert_eq!(role_in(&pool, t.id, owner).await.as_deref(), Some("owner"));
}

#[sqlx::test]
async fn invalid_add_input_is_shown_beside_the_field_with_the_input_kept(pool: PgPool) {
    let app = TestApp::init(pool.clone())
        .with_tenant("team", DEFAULT_LIMITS)
        .with_member("owner@example.com", Role::Owner)
        .spawn()
        .await;
    let s = app.session("owner@example.com");

    let (status, html) = s
        .post_text(
            &app,
            "/t/team/members",
            &[("email", "nobody@example.com"), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains(
            "class=\"field-error\" id=\"email-error\">No account uses nobody@example.com"
        ),
        "{html}"
    );
    assert!(
        html.contains("value=\"nobody@example.com\""),
        "the email is kept"
    );
    assert!(
        html.contains("<option value=\"viewer\" selected>"),
        "the role is kept"
    );

    let (status, html) = s
        .post_text(
            &app,
            "/t/team/members",
            &[("email", "owner@example.com"), ("role", "member")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("already a member"));

    let (status, html) = s
        .post_text(
            &app,
            "/t/team/members",
            &[("email", "x@example.com"), ("role", "root")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"role-error\">Choose one of"));
    assert!(html.contains("value=\"x@example.com\""));
    assert_eq!(super::count(&pool, "tenant_members").await, 1);
}

#[sqlx::test]
async fn the_quota_page_shows_usage_and_flags_a_lowered_limit(pool: PgPool) {
    let app = TestApp::init(pool.clone())
        .with_tenant("team", DEFAULT_LIMITS)
        .with_member("m@example.com", Role::Member)
        .spawn()
        .await;
    let t = app.tenant("team").clone();
    let s = app.session("m@example.com");
    let mut conn = pool.acquire().await.unwrap();
    insert_cluster(
        &mut conn,
        t.id,
        "one",
        Resources::for_cluster(3, 18_000, 6144, 90),
    )
    .await;
    let (status, html) = s.get(&app, "/t/team/quota").await;
    assert_eq!(status, 200);
    assert!(html.contains("18 cores of 20 cores"), "{html}");
    assert!(html.contains("class=\"bar warn\""), "90 % is a warning");
    assert!(!html.contains("over limit"));
    sqlx::query("UPDATE tenants SET max_nodes = 2 WHERE id = $1")
        .bind(t.id)
        .execute(&mut *conn)
        .await
        .unwrap();
    let (_, html) = s.get(&app, "/t/team/quota").await;
    assert!(
        html.contains("3 of 2 <strong class=\"over-text\">over limit</strong>"),
        "{html}"
    );
    assert!(html.contains("class=\"bar over\""));
}

#[sqlx::test]
async fn a_platform_admin_gives_an_ownerless_tenant_its_owner(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t = create_tenant(&pool, "team").await;
    let s = app.sign_in("root@example.com", true).await;
    let bob = app
        .create_user("bob@example.com", super::PASSWORD, false)
        .await;

    // The admin list flags the tenant nobody can manage.
    let (_, html) = s.get(&app, "/admin/tenants").await;
    let card = &html[html.find("id=\"tenant-team\"").unwrap()..];
    assert!(card.contains("no owner"), "{card}");
    // The clusters page says who may request, instead of a dead 403 later.
    let (status, html) = s.get(&app, "/t/team/clusters").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("owners, admins and members of the tenant may"),
        "{html}"
    );
    let (status, html) = s.get(&app, "/t/team/clusters/new").await;
    assert_eq!(status, 403);
    assert!(html.contains("Members page"), "{html}");

    // The members page offers the platform admin the add form, owners included.
    let (status, html) = s.get(&app, "/t/team/members").await;
    assert_eq!(status, 200);
    assert!(html.contains("platform-admin"));
    assert!(html.contains("Add a member"));
    assert!(html.contains("value=\"owner\""));
    let (status, _) = s
        .post_text(
            &app,
            "/t/team/members",
            &[("email", "bob@example.com"), ("role", "owner")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(role_in(&pool, t.id, bob).await.as_deref(), Some("owner"));
    assert_eq!(audit_count(&pool, "member.add").await, 1);
    let (_, html) = s.get(&app, "/admin/tenants").await;
    let card = &html[html.find("id=\"tenant-team\"").unwrap()..];
    let card = &card[..card.find("</section>").unwrap()];
    assert!(!card.contains("no owner"), "{card}");

    // Still read-only for clusters, and the quota page links to the admin page.
    let (status, html) = s.get(&app, "/t/team/quota").await;
    assert_eq!(status, 200);
    assert!(html.contains("/admin/tenants/team/quota"));
    assert_eq!(s.get(&app, "/t/team/audit").await.0, 200);
}

#[sqlx::test]
async fn the_menu_offers_only_pages_the_user_can_open(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t = create_tenant(&pool, "team").await;
    let s = app.sign_in("mia@example.com", false).await;
    let member = s.user_id;
    let o = app.sign_in("otto@example.com", false).await;
    let owner = o.user_id;
    add_member(&pool, t.id, member, Role::Member).await;
    add_member(&pool, t.id, owner, Role::Owner).await;
    let audit_link = "href=\"/t/team/audit\"";

    let (status, html) = s.get(&app, "/t/team/clusters").await;
    assert_eq!(status, 200);
    assert!(!html.contains(audit_link), "a member gets no Audit link");
    assert_eq!(s.get(&app, "/t/team/audit").await.0, 403);
    let (_, html) = o.get(&app, "/t/team/clusters").await;
    assert!(html.contains(audit_link), "an owner gets the Audit link");
    assert_eq!(o.get(&app, "/t/team/audit").await.0, 200);

    // The account page leads to the API tokens and the API documentation, and both open.
    let (status, html) = s.get(&app, "/account").await;
    assert_eq!(status, 200);
    for link in ["/account/tokens", "/api/docs"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
        assert_eq!(s.get(&app, link).await.0, 200, "{link}");
    }
}

#[sqlx::test]
async fn removing_a_member_asks_first(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t = create_tenant(&pool, "team").await;
    let o = app.sign_in("otto@example.com", false).await;
    let owner = o.user_id;
    let v = app.sign_in("vic@example.com", false).await;
    let viewer = v.user_id;
    add_member(&pool, t.id, owner, Role::Owner).await;
    add_member(&pool, t.id, viewer, Role::Viewer).await;
    let confirm = format!("/t/team/members/{viewer}/remove");

    // The list links to a confirmation page; no form removes on one click.
    let (_, html) = o.get(&app, "/t/team/members").await;
    assert!(html.contains(&format!("href=\"{confirm}\"")), "{html}");
    assert!(!html.contains(&format!("action=\"{confirm}\"")), "{html}");
    let (status, page) = o.get(&app, &confirm).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Remove vic@example.com from Team team?"),
        "{page}"
    );
    assert!(page.contains(&format!("action=\"{confirm}\"")), "{page}");
    assert_eq!(
        role_in(&pool, t.id, viewer).await.as_deref(),
        Some("viewer")
    );
    // Viewers may not open it; an id that is no member is 404.
    assert_eq!(v.get(&app, &confirm).await.0, 403);
    let stranger = uuid::Uuid::new_v4();
    assert_eq!(
        o.get(&app, &format!("/t/team/members/{stranger}/remove"))
            .await
            .0,
        404
    );
    // Confirming removes.
    let (status, _) = o.post_text(&app, &confirm, &[]).await;
    assert_eq!(status, 303);
    assert_eq!(role_in(&pool, t.id, viewer).await, None);
}
