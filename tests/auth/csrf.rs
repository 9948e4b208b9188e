//! CSRF: every form post needs the session's token (or, for the login form, the double-submit cookie), and
//! cross-site posts are refused by `Origin` / `Sec-Fetch-Site`.

use sqlx::PgPool;

use super::common::TestApp;
use super::{PASSWORD, location, login_form_token, plain_client};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn password_hash(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'ann@example.com'")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn form_posts_without_the_session_token_are_refused_and_change_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let client = app.client();
    let token = app.login(&client, "ann@example.com", PASSWORD).await;
    let hash_before = password_hash(&pool).await;

    let change = |csrf: Option<&str>| {
        let mut form = vec![
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("new_password_confirm", NEW_PASSWORD),
        ];
        if let Some(t) = csrf {
            form.push(("csrf_token", t));
        }
        client.post(app.url("/account/password")).form(&form).send()
    };
    for bad in [None, Some("wrong"), Some(&"A".repeat(43)[..])] {
        let response = change(bad).await.unwrap();
        assert_eq!(response.status(), 403, "token {bad:?}");
        assert!(response.text().await.unwrap().contains("Reload the page"));
        assert_eq!(password_hash(&pool).await, hash_before, "nothing changed");
    }
    // The token of another session does not do either.
    let other = {
        let other_client = app.client();
        app.login(&other_client, "ann@example.com", PASSWORD).await
    };
    assert_eq!(change(Some(&other)).await.unwrap().status(), 403);
    assert_eq!(password_hash(&pool).await, hash_before);

    // Positive control: with the right token the same request works (and its body reached the handler).
    let response = change(Some(&token)).await.unwrap();
    assert_eq!(response.status(), 303);
    assert_ne!(password_hash(&pool).await, hash_before);

    // Logout without a token does not log out.
    let token = app.csrf_token(&client).await;
    let response = client
        .post(app.url("/logout"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(app.csrf_token(&client).await, token, "still signed in");
}

#[sqlx::test]
async fn the_token_may_come_in_a_header(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let client = app.client();
    let token = app.login(&client, "ann@example.com", PASSWORD).await;
    let response = client
        .post(app.url("/logout"))
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
}

#[sqlx::test]
async fn the_login_form_needs_the_double_submit_cookie(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let token = login_form_token(&app).await;
    let post = |cookie: Option<String>, field: Option<String>| {
        let mut request = plain_client().post(app.url("/login"));
        if let Some(c) = cookie {
            request = request.header("cookie", format!("esaas_csrf={c}"));
        }
        let mut form = vec![
            ("email", "ann@example.com".to_owned()),
            ("password", PASSWORD.to_owned()),
        ];
        if let Some(f) = field {
            form.push(("csrf_token", f));
        }
        request.form(&form).send()
    };
    assert_eq!(
        post(None, Some(token.clone())).await.unwrap().status(),
        403,
        "no cookie"
    );
    assert_eq!(
        post(Some(token.clone()), None).await.unwrap().status(),
        403,
        "no field"
    );
    let other = login_form_token(&app).await;
    assert_eq!(
        post(Some(token.clone()), Some(other))
            .await
            .unwrap()
            .status(),
        403,
        "mismatch"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    assert_eq!(
        post(Some(token.clone()), Some(token))
            .await
            .unwrap()
            .status(),
        303
    );
}

#[sqlx::test]
async fn cross_site_posts_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let client = app.client();
    let token = app.login(&client, "ann@example.com", PASSWORD).await;
    let own_origin = format!("http://{}", app.addr);

    let logout = |header: &'static str, value: String| {
        client
            .post(app.url("/logout"))
            .header(header, value)
            .form(&[("csrf_token", token.as_str())])
            .send()
    };
    for (header, value) in [
        ("origin", "http://evil.example".to_owned()),
        ("origin", "null".to_owned()),
        ("origin", format!("http://localhost:{}", app.addr.port())),
        ("sec-fetch-site", "cross-site".to_owned()),
        ("sec-fetch-site", "same-site".to_owned()),
    ] {
        let response = logout(header, value.clone()).await.unwrap();
        assert_eq!(response.status(), 403, "{header}: {value}");
        assert!(response.text().await.unwrap().contains("Cross-site"));
    }
    assert_eq!(app.csrf_token(&client).await, token, "still signed in");

    // The login form too, even with a valid double-submit pair.
    let form_token = login_form_token(&app).await;
    let response = plain_client()
        .post(app.url("/login"))
        .header("cookie", format!("esaas_csrf={form_token}"))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf_token", form_token.as_str()),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    // Same origin is fine.
    let response = logout("origin", own_origin).await.unwrap();
    assert_eq!(response.status(), 303);
}
