//! The login form: success, the single failure message, timing, disabled users, `next`, audit rows, the
//! start page.

use std::time::{Duration, Instant};

use esaas::tenants::Role;
use esaas::tenants::quota::Resources;
use sqlx::PgPool;

use super::common::{self, TestApp};
use super::{PASSWORD, get_with, location, post_login, session_for, set_cookie};

#[sqlx::test]
async fn login_sets_a_hardened_session_cookie_and_redirects(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.create_user("ann@example.com", PASSWORD, false).await;

    let response = post_login(&app, "", "Ann@Example.com", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/");
    let cookie = set_cookie(&response, "esaas_session").expect("session cookie");
    let lower = cookie.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "{cookie}");
    assert!(lower.contains("samesite=lax"), "{cookie}");
    assert!(lower.contains("path=/"), "{cookie}");
    assert!(
        !lower.contains("secure"),
        "not Secure over plain http: {cookie}"
    );
    let value = super::cookie_value(&cookie);
    assert_eq!(value.len(), 43, "32 random bytes, base64url");
    // The double-submit cookie is no longer needed.
    let csrf = set_cookie(&response, "esaas_csrf").expect("esaas_csrf removed");
    assert!(csrf.to_ascii_lowercase().contains("max-age=0"), "{csrf}");

    let account = get_with(&app, &value, "/account").await;
    assert_eq!(account.status(), 200);
    assert!(account.text().await.unwrap().contains("ann@example.com"));
}

#[sqlx::test]
async fn the_shared_login_helper_works(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.create_user("bob@example.com", PASSWORD, false).await;
    let client = app.client();
    let token = app.login(&client, "bob@example.com", PASSWORD).await;
    assert_eq!(token.len(), 43);
    let page = client.get(app.url("/account")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("bob@example.com"));
}

#[sqlx::test]
async fn wrong_password_and_unknown_email_look_the_same(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.create_user("ann@example.com", PASSWORD, false).await;

    let wrong = post_login(&app, "", "ann@example.com", "not the password at all").await;
    let unknown = post_login(&app, "", "nobody@example.com", "not the password at all").await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(unknown.status(), wrong.status());
    assert!(set_cookie(&wrong, "esaas_session").is_none());
    assert!(set_cookie(&unknown, "esaas_session").is_none());
    let wrong = wrong.text().await.unwrap();
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains("Email or password is incorrect."));
    assert!(unknown.contains("Email or password is incorrect."));
    // Apart from the echoed email and the CSRF token, the pages are identical.
    let normalise = |page: &str, email: &str| {
        let token = super::common::input_value(page, "csrf_token").unwrap();
        page.replace(email, "EMAIL").replace(&token, "TOKEN")
    };
    assert_eq!(
        normalise(&wrong, "ann@example.com"),
        normalise(&unknown, "nobody@example.com")
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[sqlx::test]
async fn unknown_email_and_wrong_password_take_similar_time(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| c.login_max_failures = 1000).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    esaas::accounts::password::warm_up();
    // Warm connections and code paths.
    post_login(&app, "", "nobody@example.com", "wrong password!").await;
    post_login(&app, "", "ann@example.com", "wrong password!").await;

    let token = super::login_form_token(&app).await;
    let post = |email: String, password: String| {
        let token = token.clone();
        let url = app.url("/login");
        async move {
            let started = Instant::now();
            let response = super::plain_client()
                .post(url)
                .header("cookie", format!("esaas_csrf={token}"))
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("email", &email),
                    ("password", &password),
                ])
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), started.elapsed())
        }
    };
    // Rounds of one wrong password and one unknown email, back to back (each future starts when awaited),
    // so that load from other tests (argon2 runs in parallel there) hits both sides of a round alike; the
    // median of the per-round ratios ignores the rounds a burst of load hit anyway. Skipping the password
    // hash for unknown emails would make the ratio about 1/50 (a request without argon2 takes well under a
    // millisecond), so bounds of 1/2..2 catch that while leaving room for a busy machine.
    let (mut wrong, mut unknown, mut ratios) = (vec![], vec![], vec![]);
    for i in 0..15 {
        let wrong_password = post("ann@example.com".into(), format!("wrong password {i}"));
        let unknown_email = post(format!("nobody{i}@example.com"), "wrong password".into());
        // Alternate which goes first, so that an order effect cancels out.
        let ((ws, w), (us, u)) = if i % 2 == 0 {
            let w = wrong_password.await;
            (w, unknown_email.await)
        } else {
            let u = unknown_email.await;
            (wrong_password.await, u)
        };
        assert_eq!((ws, us), (422, 422));
        wrong.push(w);
        unknown.push(u);
        ratios.push(u.as_secs_f64() / w.as_secs_f64());
    }
    let (status, _) = post("ann@example.com".into(), PASSWORD.into()).await;
    assert_eq!(status, 303, "the right password still logs in");
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    let (w, u) = (median(wrong), median(unknown));
    eprintln!(
        "POST /login latency: median ratio unknown email / wrong password {ratio:.2}, medians {u:?} / {w:?}"
    );
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown email / wrong password latency: median ratio {ratio:.2} (medians: unknown email {u:?}, \
         wrong password {w:?}; ratios {ratios:.2?})"
    );
}

#[sqlx::test]
async fn a_disabled_user_cannot_log_in_even_with_the_right_password(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let id = app.create_user("gone@example.com", PASSWORD, false).await;
    let mut conn = pool.acquire().await.unwrap();
    esaas::accounts::users::change_disabled(
        &mut conn,
        &esaas::audit::Actor::cli(),
        &esaas::request_meta::RequestMeta::default(),
        id,
        true,
    )
    .await
    .unwrap();

    let response = post_login(&app, "", "gone@example.com", PASSWORD).await;
    assert_eq!(response.status(), 422);
    assert!(set_cookie(&response, "esaas_session").is_none());
    let page = response.text().await.unwrap();
    assert!(page.contains("Email or password is incorrect."));
    assert!(
        !page.to_lowercase().contains("disabled"),
        "the disabled state is not revealed"
    );

    let reason: String = sqlx::query_scalar(
        "SELECT after->>'reason' FROM audit_log WHERE action = 'login.failed' AND actor_user_id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(reason, "account_disabled");
}

#[sqlx::test]
async fn next_is_followed_only_for_local_paths(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    for (next, expected) in [
        ("/account", "/account"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ] {
        let response = super::post_login_with(
            &app,
            "",
            &[],
            &[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), expected, "next={next}");
    }
    // A signed-in user opening /login goes on to `next`.
    let session = session_for(&app, "ann@example.com", PASSWORD).await;
    let response = get_with(&app, &session, "/login?next=/account").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/account");
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    action: String,
    actor_user_id: Option<uuid::Uuid>,
    actor: String,
    outcome: String,
    reason: Option<String>,
    source_addr: Option<String>,
    request_id: Option<String>,
}

/// (action, actor id, actor label, outcome, reason).
type AuditSummary<'a> = (
    &'a str,
    Option<uuid::Uuid>,
    &'a str,
    &'a str,
    Option<&'a str>,
);

#[sqlx::test]
async fn logins_and_logouts_are_audited(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let id = app.create_user("ann@example.com", PASSWORD, false).await;
    post_login(&app, "", "ann@example.com", "wrong password!!").await;
    post_login(&app, "", "nobody@example.com", "wrong password!!").await;
    let client = app.client();
    let token = app.login(&client, "ann@example.com", PASSWORD).await;
    let response = client
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);

    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT action, actor_user_id, actor, outcome, after->>'reason' AS reason, source_addr, request_id
         FROM audit_log ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let summary: Vec<AuditSummary<'_>> = rows
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.actor_user_id,
                r.actor.as_str(),
                r.outcome.as_str(),
                r.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "login.failed",
                Some(id),
                "ann@example.com",
                "failed",
                Some("wrong_password")
            ),
            (
                "login.failed",
                None,
                "anonymous",
                "failed",
                Some("unknown_account")
            ),
            ("login.ok", Some(id), "ann@example.com", "ok", None),
            ("logout", Some(id), "ann@example.com", "ok", None),
        ]
    );
    for r in &rows {
        assert_eq!(
            r.source_addr.as_deref(),
            Some("127.0.0.1"),
            "source address recorded"
        );
        assert!(
            r.request_id.as_deref().is_some_and(|id| !id.is_empty()),
            "request id recorded"
        );
    }
}

/// Tenant `slug` named `name` (the switcher shows it) with small limits, and `member` in it if given.
async fn add_tenant(
    pool: &PgPool,
    slug: &str,
    name: &str,
    member: Option<(uuid::Uuid, Role)>,
) -> uuid::Uuid {
    let small = Resources {
        clusters: 1,
        nodes: 1,
        cpu_millis: 1000,
        memory_mib: 1024,
        storage_gib: 10,
    };
    let id = common::create_tenant_named(pool, slug, name, small)
        .await
        .id;
    if let Some((user, role)) = member {
        common::add_member(pool, id, user, role).await;
    }
    id
}

#[sqlx::test]
async fn the_start_page_depends_on_tenants(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.create_user("ann@example.com", PASSWORD, false).await;
    app.create_user("root@example.com", PASSWORD, true).await;

    // Anonymous: to the login page.
    let response = super::plain_client()
        .get(app.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");

    // No tenant yet.
    let ann_session = session_for(&app, "ann@example.com", PASSWORD).await;
    let response = get_with(&app, &ann_session, "/").await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("No tenant yet"));

    // Platform admin without tenants: the tenant list.
    let root_session = session_for(&app, "root@example.com", PASSWORD).await;
    let response = get_with(&app, &root_session, "/").await;
    assert_eq!(location(&response), "/admin/tenants");

    // A member: the first tenant's clusters.
    add_tenant(&pool, "zeta", "Zeta", Some((ann, Role::Viewer))).await;
    add_tenant(&pool, "acme", "Acme", Some((ann, Role::Member))).await;
    let response = get_with(&app, &ann_session, "/").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/t/acme/clusters");
}

#[sqlx::test]
async fn the_tenant_switcher_remembers_the_choice(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.create_user("ann@example.com", PASSWORD, false).await;
    add_tenant(&pool, "acme", "Acme", Some((ann, Role::Member))).await;
    let zeta = add_tenant(&pool, "zeta", "Zeta", Some((ann, Role::Viewer))).await;
    add_tenant(&pool, "other", "Other", None).await;
    let client = app.client();
    let token = app.login(&client, "ann@example.com", PASSWORD).await;

    // The switcher lists both memberships.
    let page = client
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Acme (member)") && page.contains("Zeta (viewer)"),
        "{page}"
    );

    let switch = |slug: &'static str| {
        client
            .post(app.url("/switch-tenant"))
            .form(&[("csrf_token", token.as_str()), ("tenant", slug)])
            .send()
    };
    let response = switch("zeta").await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/t/zeta/clusters");
    let active: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT active_tenant_id FROM sessions WHERE revoked_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(active, Some(zeta));
    let response = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(location(&response), "/t/zeta/clusters");

    // Not a member: as if absent.
    assert_eq!(switch("other").await.unwrap().status(), 404);
    assert_eq!(switch("nope").await.unwrap().status(), 404);

    // A platform admin may switch to any tenant; the switcher then shows it with their admin role.
    app.create_user("root@example.com", PASSWORD, true).await;
    let root = app.client();
    let root_token = app.login(&root, "root@example.com", PASSWORD).await;
    let response = root
        .post(app.url("/switch-tenant"))
        .form(&[("csrf_token", root_token.as_str()), ("tenant", "other")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/t/other/clusters");
    let page = root
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Other (platform-admin)"), "{page}");
}

#[sqlx::test]
async fn a_flash_message_is_shown_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let client = app.client();
    let token = app.login(&client, "ann@example.com", PASSWORD).await;
    let response = client
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login");
    let first = client.get(app.url("/login")).send().await.unwrap();
    assert!(
        set_cookie(&first, "esaas_flash").is_some(),
        "shown, then cleared"
    );
    assert!(
        first
            .text()
            .await
            .unwrap()
            .contains("You have been logged out.")
    );
    let second = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!second.contains("You have been logged out."));
}

#[sqlx::test]
async fn signing_in_leads_back_to_the_page_asked_for(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    // Anonymous: the redirect to the login page carries the way back.
    let response = super::plain_client()
        .get(app.url("/account/tokens?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert_eq!(to, "/login?next=%2Faccount%2Ftokens%3Fx%3D1");
    // The login page keeps it in its form, and logging in with that form goes back there.
    let page = super::plain_client()
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let next = super::common::input_value(&page, "next").expect("the form carries next");
    assert_eq!(next, "/account/tokens?x=1");
    let response = super::post_login_with(
        &app,
        "",
        &[],
        &[
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("next", &next),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/account/tokens?x=1");

    // An htmx refresh whose session is gone (logged out in another tab): no login page swapped into the
    // fragment, the whole window goes to the login page and comes back to the dashboard afterwards.
    let response = super::plain_client()
        .get(app.url("/t/acme/clusters/logs/live"))
        .header("hx-request", "true")
        .header("hx-current-url", app.url("/t/acme/clusters/logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["hx-redirect"],
        "/login?next=%2Ft%2Facme%2Fclusters%2Flogs"
    );
    assert!(response.headers().get("location").is_none());
    // (POSTs keep the plain /login redirect: see sessions::logout_revokes_the_session_even_if_the_cookie_is_replayed.)
}
