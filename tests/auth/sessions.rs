//! Sessions: rotation at login, logout revocation, expiry (absolute and sliding), disabled users, the
//! stored hash, and the `PlatformAdmin` extractor.

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tower::ServiceExt as _;

use super::common::TestApp;
use super::{
    PASSWORD, cookie_value, get_with, location, plain_client, post_login, session_for, set_cookie,
};

async fn is_signed_in(app: &TestApp, session: &str) -> bool {
    let response = get_with(app, session, "/account").await;
    match response.status().as_u16() {
        200 => true,
        303 => {
            assert_eq!(location(&response), "/login?next=%2Faccount");
            false
        }
        other => panic!("unexpected status {other}"),
    }
}

#[sqlx::test]
async fn login_rotates_the_session_and_discards_the_previous_token(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    app.create_user("bob@example.com", PASSWORD, false).await;

    // A browser holding a session (say, planted by someone else) logs in: it gets a new token and the old
    // one stops working.
    let before = session_for(&app, "bob@example.com", PASSWORD).await;
    assert!(is_signed_in(&app, &before).await);
    let response = post_login(
        &app,
        &format!("esaas_session={before}"),
        "ann@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(response.status(), 303);
    let after = cookie_value(&set_cookie(&response, "esaas_session").unwrap());
    assert_ne!(after, before);
    assert!(is_signed_in(&app, &after).await);
    assert!(
        !is_signed_in(&app, &before).await,
        "the pre-login token is revoked"
    );

    // Each login is a new row.
    let again = session_for(&app, "ann@example.com", PASSWORD).await;
    assert_ne!(again, after);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 3);
}

#[sqlx::test]
async fn only_the_hash_of_the_token_is_stored(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let token = session_for(&app, "ann@example.com", PASSWORD).await;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&token)
        .unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, Sha256::digest(&raw).to_vec());
}

#[sqlx::test]
async fn logout_revokes_the_session_even_if_the_cookie_is_replayed(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let client = app.client();
    let csrf = app.login(&client, "ann@example.com", PASSWORD).await;
    // Keep a copy of the cookie as an attacker would.
    let session: String = {
        let response = post_login(&app, "", "ann@example.com", PASSWORD).await;
        cookie_value(&set_cookie(&response, "esaas_session").unwrap())
    };
    let replay_csrf = {
        let page = get_with(&app, &session, "/account")
            .await
            .text()
            .await
            .unwrap();
        super::common::input_value(&page, "csrf_token").unwrap()
    };

    let response = plain_client()
        .post(app.url("/logout"))
        .header("cookie", format!("esaas_session={session}"))
        .form(&[("csrf_token", replay_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
    let cleared = set_cookie(&response, "esaas_session").expect("cookie cleared");
    assert!(
        cleared.to_ascii_lowercase().contains("max-age=0"),
        "{cleared}"
    );

    // Replaying the old cookie: GET and POST both go to the login page, nothing runs.
    assert!(!is_signed_in(&app, &session).await);
    let replay = plain_client()
        .post(app.url("/switch-tenant"))
        .header("cookie", format!("esaas_session={session}"))
        .form(&[("csrf_token", replay_csrf.as_str()), ("tenant", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
    assert_eq!(location(&replay), "/login");
    let revoked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(revoked, 1);

    // The other browser's session is untouched.
    assert_eq!(app.csrf_token(&client).await, csrf);
}

#[sqlx::test]
async fn expired_sessions_and_disabled_users_are_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let bob = app.create_user("bob@example.com", PASSWORD, false).await;
    let ann_session = session_for(&app, "ann@example.com", PASSWORD).await;
    let bob_session = session_for(&app, "bob@example.com", PASSWORD).await;
    assert!(is_signed_in(&app, &ann_session).await);
    assert!(is_signed_in(&app, &bob_session).await);

    sqlx::query("UPDATE sessions s SET expires_at = now() - interval '1 second' FROM users u WHERE u.id = s.user_id AND u.email = 'ann@example.com'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(!is_signed_in(&app, &ann_session).await, "expired");

    // Disabled directly in the database (without revoking): the session still stops working.
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(bob)
        .execute(&pool)
        .await
        .unwrap();
    assert!(!is_signed_in(&app, &bob_session).await, "disabled user");
}

#[sqlx::test]
async fn expiry_slides_at_most_once_a_minute(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await; // session_ttl = 1 h
    app.create_user("ann@example.com", PASSWORD, false).await;
    let session = session_for(&app, "ann@example.com", PASSWORD).await;
    let remaining = || async {
        sqlx::query_scalar::<_, f64>(
            "SELECT extract(epoch FROM expires_at - now())::float8 FROM sessions",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };

    // Seen just now: a request does not write.
    sqlx::query(
        "UPDATE sessions SET expires_at = now() + interval '10 minutes', last_seen_at = now()",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert!(is_signed_in(&app, &session).await);
    assert!(remaining().await < 11.0 * 60.0);

    // Seen two minutes ago: a request extends the session by the full TTL.
    sqlx::query("UPDATE sessions SET expires_at = now() + interval '10 minutes', last_seen_at = now() - interval '2 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(is_signed_in(&app, &session).await);
    assert!(remaining().await > 59.0 * 60.0);
}

#[sqlx::test]
async fn platform_admin_extractor_hides_admin_urls(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    app.create_user("root@example.com", PASSWORD, true).await;
    let ann = session_for(&app, "ann@example.com", PASSWORD).await;
    let root = session_for(&app, "root@example.com", PASSWORD).await;

    let router: Router =
        Router::new()
            .route(
                "/admin/probe",
                get(
                    |esaas::auth::PlatformAdmin(user): esaas::auth::PlatformAdmin| async move {
                        user.email
                    },
                ),
            )
            .with_state(app.state.clone());
    let call = |cookie: Option<String>| {
        let router = router.clone();
        async move {
            let mut request = http::Request::get("/admin/probe");
            if let Some(c) = cookie {
                request = request.header("cookie", format!("esaas_session={c}"));
            }
            let response = router
                .oneshot(request.body(axum::body::Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    assert_eq!(call(Some(root)).await, (200, "root@example.com".to_owned()));
    assert_eq!(call(Some(ann)).await.0, 404);
    assert_eq!(call(None).await.0, 303);
}

#[sqlx::test]
async fn purge_removes_expired_and_long_revoked_sessions_and_old_login_failures(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let user = app.create_user("ann@example.com", PASSWORD, false).await;
    let live = session_for(&app, "ann@example.com", PASSWORD).await;
    // Four more sessions of Ann: expired, revoked two days ago, revoked a minute ago, and still valid.
    for (i, expires, revoked) in [
        (1, "now() - interval '1 minute'", "NULL"),
        (2, "now() + interval '1 day'", "now() - interval '2 days'"),
        (3, "now() + interval '1 day'", "now() - interval '1 minute'"),
        (4, "now() + interval '1 day'", "NULL"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, revoked_at) \
             VALUES ($1, $2, 'x', {expires}, {revoked})"
        )))
        .bind(vec![i as u8; 32])
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO login_failures (key, at) VALUES ('account:old', now() - interval '2 hours'), \
         ('account:recent', now() - interval '1 minute')",
    )
    .execute(&pool)
    .await
    .unwrap();

    let purged = esaas::auth::housekeeping::purge(
        &pool,
        std::time::Duration::from_secs(900),
        std::time::Duration::from_secs(90 * 86_400),
    )
    .await
    .unwrap();
    assert_eq!(
        purged.sessions, 2,
        "the expired one and the one revoked two days ago"
    );
    assert_eq!(purged.login_failures, 1);
    let left: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        left.len(),
        3,
        "the login's session, the recently revoked and the valid one"
    );
    assert!(!left.contains(&vec![1u8; 32]) && !left.contains(&vec![2u8; 32]));
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM login_failures")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(keys, ["account:recent"]);
    // The purge leaves the signed-in browser alone.
    assert!(is_signed_in(&app, &live).await);
}
