//! Admin pages over HTTP: hidden from non-admins (404), tenant creation with field messages, quota editing
//! (validation, lowering below usage), renaming, user accounts (create, disable, enable), with audit rows.

use esaas::tenants::Role;
use esaas::tenants::quota::{DEFAULT_LIMITS, Resources};
use sqlx::PgPool;

use super::common::TestApp;
use super::{audit_count, count, create_tenant, insert_cluster, role_in};

#[sqlx::test]
async fn non_admins_get_404_for_every_admin_page(pool: PgPool) {
    let app = TestApp::init(pool.clone())
        .with_tenant("team", DEFAULT_LIMITS)
        .with_member("ann@example.com", Role::Owner)
        .spawn()
        .await;
    let s = app.session("ann@example.com");
    let ann = s.user_id;
    for path in [
        "/admin/tenants",
        "/admin/tenants/new",
        "/admin/tenants/team/quota",
        "/admin/users",
        "/admin/audit",
    ] {
        assert_eq!(s.get(&app, path).await.0, 404, "GET {path}");
    }
    let posts: [(String, Vec<(&str, &str)>); 5] = [
        (
            "/admin/tenants/new".into(),
            vec![("slug", "mine"), ("name", "Mine")],
        ),
        (
            "/admin/tenants/team/quota".into(),
            vec![
                ("clusters", "99"),
                ("nodes", "99"),
                ("cpu_cores", "1"),
                ("memory_gib", "1"),
                ("storage_gib", "1"),
            ],
        ),
        (
            "/admin/tenants/team/name".into(),
            vec![("name", "Hijacked")],
        ),
        (
            "/admin/users".into(),
            vec![
                ("email", "evil@example.com"),
                ("password", super::PASSWORD),
                ("platform_admin", "on"),
            ],
        ),
        (format!("/admin/users/{ann}/enable"), vec![]),
    ];
    for (path, fields) in posts {
        assert_eq!(
            s.post_text(&app, &path, &fields).await.0,
            404,
            "POST {path}"
        );
    }
    assert_eq!(count(&pool, "tenants").await, 1);
    assert_eq!(count(&pool, "users").await, 1);
    let limits: (i64, String) = sqlx::query_as("SELECT max_clusters, name FROM tenants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(limits, (5, "Team team".to_owned()));
    // Anonymous visitors are sent to the login page instead.
    let anon = app
        .client()
        .get(app.url("/admin/tenants"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 303);
}

#[sqlx::test]
async fn creating_a_tenant_validates_beside_the_fields_and_writes_nothing_on_error(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let s = app.sign_in("root@example.com", true).await;
    let owner = app
        .create_user("owner@example.com", super::PASSWORD, false)
        .await;

    let (status, html) = s.get(&app, "/admin/tenants/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"slug\""));

    let (status, html) = s
        .post_text(
            &app,
            "/admin/tenants/new",
            &[("slug", "Bad_Slug"), ("name", "  "), ("owner_email", "")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"slug-error\">Use only lower-case letters"),
        "{html}"
    );
    assert!(html.contains("value=\"Bad_Slug\""), "the slug is kept");
    assert!(html.contains("id=\"name-error\">Enter a name."));
    let (status, html) = s
        .post_text(
            &app,
            "/admin/tenants/new",
            &[("slug", "admin"), ("name", "Admins")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("reserved"));
    assert!(html.contains("value=\"Admins\""), "the name is kept");
    // An unknown first owner: the tenant is not created either.
    let (status, html) = s
        .post_text(
            &app,
            "/admin/tenants/new",
            &[
                ("slug", "search"),
                ("name", "Search"),
                ("owner_email", "ghost@example.com"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"owner_email-error\">No account uses ghost@example.com"));
    assert!(html.contains("value=\"search\""));
    assert_eq!(count(&pool, "tenants").await, 0);
    assert_eq!(audit_count(&pool, "tenant.create").await, 0);
    assert_eq!(count(&pool, "tenant_members").await, 0);

    let (status, loc) = s
        .post_text(
            &app,
            "/admin/tenants/new",
            &[
                ("slug", "search"),
                ("name", "Search team"),
                ("owner_email", "owner@example.com"),
            ],
        )
        .await;
    assert_eq!((status, loc.as_str()), (303, "/admin/tenants"));
    let (id, max_clusters): (uuid::Uuid, i64) =
        sqlx::query_as("SELECT id, max_clusters FROM tenants WHERE slug = 'search'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(max_clusters, 5);
    assert_eq!(role_in(&pool, id, owner).await.as_deref(), Some("owner"));
    assert_eq!(audit_count(&pool, "tenant.create").await, 1);
    assert_eq!(audit_count(&pool, "member.add").await, 1);
    let (status, html) = s.get(&app, "/admin/tenants").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Tenant Search team (search) created."),
        "the flash shows once"
    );
    assert!(html.contains("href=\"/t/search/clusters\""));
    assert!(html.contains("1 member ·"));

    let (status, html) = s
        .post_text(
            &app,
            "/admin/tenants/new",
            &[("slug", "search"), ("name", "Again")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"slug-error\">The slug &#39;search&#39; is taken")
            || html.contains("id=\"slug-error\">The slug &#x27;search&#x27; is taken"),
        "{html}"
    );
    assert_eq!(count(&pool, "tenants").await, 1);
}

#[sqlx::test]
async fn editing_the_quota_validates_and_warns_when_lowered_below_usage(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t = create_tenant(&pool, "team").await;
    let mut conn = pool.acquire().await.unwrap();
    insert_cluster(
        &mut conn,
        t.id,
        "one",
        Resources::for_cluster(6, 6000, 6144, 60),
    )
    .await;
    drop(conn);
    let s = app.sign_in("root@example.com", true).await;
    let path = "/admin/tenants/team/quota";
    let (status, html) = s.get(&app, path).await;
    assert_eq!(status, 200);
    // CPU in cores and memory in GiB, decimals allowed; the limits read the same way in the bars.
    assert!(
        html.contains(
            "name=\"cpu_cores\" type=\"number\" min=\"0\" max=\"1000000\" step=\"any\" value=\"20\""
        ),
        "{html}"
    );
    assert!(html.contains("name=\"memory_gib\" type=\"number\" min=\"0\" max=\"976562.5\" step=\"any\" value=\"64\""), "{html}");
    assert!(
        html.contains("Max CPU (cores)") && html.contains("Max memory (GiB)"),
        "{html}"
    );
    assert!(html.contains("6 cores of 20 cores"), "{html}");

    let bad = [
        ("clusters", "-1"),
        ("nodes", "ten"),
        ("cpu_cores", "1000001"),
        ("memory_gib", "0.1234"),
        ("storage_gib", ""),
    ];
    let (status, html) = s.post_text(&app, path, &bad).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"clusters-error\">A limit cannot be negative."));
    assert!(html.contains("id=\"nodes-error\">Enter a whole number."));
    assert!(
        html.contains("id=\"cpu_cores-error\">Enter at most 1,000,000 cores for CPU."),
        "{html}"
    );
    assert!(
        html.contains("id=\"memory_gib-error\">Enter GiB with at most three decimals"),
        "{html}"
    );
    assert!(html.contains("id=\"storage_gib-error\">Enter the limit for storage."));
    assert!(
        html.contains("value=\"ten\"") && html.contains("value=\"1000001\""),
        "inputs kept"
    );
    let (status, html) = s
        .post_text(
            &app,
            path,
            &[
                ("clusters", "1000001"),
                ("nodes", "1"),
                ("cpu_cores", "1"),
                ("memory_gib", "1"),
                ("storage_gib", "1"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"clusters-error\">Enter at most 10000 for clusters."),
        "{html}"
    );
    assert_eq!(audit_count(&pool, "quota.update").await, 0);
    let unchanged: i64 = sqlx::query_scalar("SELECT max_nodes FROM tenants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unchanged, 20);

    let lowered = [
        ("clusters", "5"),
        ("nodes", "4"),
        ("cpu_cores", "20"),
        ("memory_gib", "64"),
        ("storage_gib", "1000"),
    ];
    let (status, loc) = s.post_text(&app, path, &lowered).await;
    assert_eq!((status, loc.as_str()), (303, path));
    let (_, html) = s.get(&app, path).await;
    assert!(
        html.contains("Quota saved. Warning: usage is above the new limit for nodes"),
        "{html}"
    );
    let max_nodes: i64 = sqlx::query_scalar("SELECT max_nodes FROM tenants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(max_nodes, 4);
    let (before, after): (serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT before, after FROM audit_log WHERE action = 'quota.update'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(before["limits"]["nodes"], 20);
    assert_eq!(after["limits"]["nodes"], 4);
    assert_eq!(after["usage"]["nodes"], 6);
    assert_eq!(after["over_limit"], serde_json::json!(["nodes"]));

    // Rename: empty is refused beside the field, a real name is saved and audited.
    let (status, html) = s
        .post_text(&app, "/admin/tenants/team/name", &[("name", "")])
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"name-error\">Enter a name."));
    let (status, _) = s
        .post_text(&app, "/admin/tenants/team/name", &[("name", "Search Team")])
        .await;
    assert_eq!(status, 303);
    assert_eq!(audit_count(&pool, "tenant.update").await, 1);
    assert_eq!(s.get(&app, "/admin/tenants/nosuch/quota").await.0, 404);
}

/// The quota form reads CPU in cores and memory in GiB; a limit set in MiB through the API that the GiB field
/// can only show rounded (700 MiB reads 0.68) stays exact when the form is saved for another field.
#[sqlx::test]
async fn the_quota_form_takes_cores_and_gib_and_keeps_odd_limits_exact(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    create_tenant(&pool, "team").await;
    sqlx::query("UPDATE tenants SET max_memory_mib = 700")
        .execute(&pool)
        .await
        .unwrap();
    let s = app.sign_in("root@example.com", true).await;
    let path = "/admin/tenants/team/quota";
    let (_, html) = s.get(&app, path).await;
    assert!(html.contains("name=\"memory_gib\" type=\"number\" min=\"0\" max=\"976562.5\" step=\"any\" value=\"0.68\""), "{html}");
    let limits = |cpu: &'static str, memory: &'static str| {
        [
            ("clusters", "5"),
            ("nodes", "20"),
            ("cpu_cores", cpu),
            ("memory_gib", memory),
            ("storage_gib", "1000"),
        ]
    };
    let read = || async {
        sqlx::query_as::<_, (i64, i64)>("SELECT max_cpu_millis, max_memory_mib FROM tenants")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let (status, _) = s.post_text(&app, path, &limits("2.5", "0.68")).await;
    assert_eq!(status, 303);
    assert_eq!(read().await, (2500, 700), "memory left alone stays 700 MiB");
    let (status, _) = s.post_text(&app, path, &limits("2.5", "1.5")).await;
    assert_eq!(status, 303);
    assert_eq!(read().await, (2500, 1536));
    let (_, html) = s.get(&app, path).await;
    assert!(
        html.contains("value=\"2.5\"") && html.contains("value=\"1.5\""),
        "{html}"
    );
    assert!(
        html.contains("of 2.5 cores") && html.contains("of 1.5 GiB"),
        "{html}"
    );
}

#[sqlx::test]
async fn admins_create_disable_and_enable_accounts(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let s = app.sign_in("root@example.com", true).await;
    let root = s.user_id;

    let (status, html) = s
        .post_text(
            &app,
            "/admin/users",
            &[
                ("email", "new@example.com"),
                ("display_name", "New"),
                ("password", "short"),
                ("platform_admin", "on"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"password-error\">Use at least 12 characters."));
    assert!(html.contains("value=\"new@example.com\"") && html.contains("value=\"New\""));
    assert!(
        !html.contains("value=\"short\""),
        "passwords are never echoed"
    );
    assert!(html.contains("name=\"platform_admin\" checked"));
    let (status, html) = s
        .post_text(
            &app,
            "/admin/users",
            &[("email", "root@example.com"), ("password", super::PASSWORD)],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("already exists"));
    assert_eq!(count(&pool, "users").await, 1);

    let (status, _) = s
        .post_text(
            &app,
            "/admin/users",
            &[("email", "New@Example.com"), ("password", super::PASSWORD)],
        )
        .await;
    assert_eq!(status, 303);
    let (id, is_admin): (uuid::Uuid, bool) =
        sqlx::query_as("SELECT id, is_platform_admin FROM users WHERE email = 'new@example.com'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!is_admin);
    assert_eq!(audit_count(&pool, "user.create").await, 1);

    // The new user logs in; disabling them ends that session.
    let theirs = app.client();
    app.login(&theirs, "new@example.com", super::PASSWORD).await;
    let r = theirs.get(app.url("/account")).send().await.unwrap();
    assert_eq!(r.status(), 200, "signed in before the disable");
    let (status, _) = s
        .post_text(&app, &format!("/admin/users/{id}/disable"), &[])
        .await;
    assert_eq!(status, 303);
    let disabled: bool =
        sqlx::query_scalar("SELECT disabled_at IS NOT NULL FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(disabled);
    let r = theirs.get(app.url("/account")).send().await.unwrap();
    assert_eq!(r.status(), 303, "the disabled user's session is gone");
    assert_eq!(r.headers()["location"], "/login?next=%2Faccount");
    assert_eq!(audit_count(&pool, "user.disable").await, 1);

    let (status, _) = s
        .post_text(&app, &format!("/admin/users/{id}/enable"), &[])
        .await;
    assert_eq!(status, 303);
    assert_eq!(audit_count(&pool, "user.enable").await, 1);
    let disabled: bool =
        sqlx::query_scalar("SELECT disabled_at IS NOT NULL FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!disabled);

    // An admin cannot disable themselves.
    let (status, _) = s
        .post_text(&app, &format!("/admin/users/{root}/disable"), &[])
        .await;
    assert_eq!(status, 303);
    let (_, html) = s.get(&app, "/admin/users").await;
    assert!(html.contains("You cannot disable your own account."));
    assert_eq!(audit_count(&pool, "user.disable").await, 1);
    assert_eq!(
        s.post_text(
            &app,
            &format!("/admin/users/{}/disable", uuid::Uuid::new_v4()),
            &[]
        )
        .await
        .0,
        404
    );
}
