//! The account page: changing the password (field messages, throttling, other sessions revoked).

use sqlx::PgPool;

use super::common::TestApp;
use super::{PASSWORD, location, post_login};

const NEW_PASSWORD: &str = "another long passphrase";

async fn change(
    app: &TestApp,
    client: &reqwest::Client,
    token: &str,
    current: &str,
    new: &str,
    confirm: &str,
) -> (u16, String) {
    let response = client
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", token),
            ("current_password", current),
            ("new_password", new),
            ("new_password_confirm", confirm),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let loc = location(&response);
    (
        status,
        if status == 303 {
            loc
        } else {
            response.text().await.unwrap()
        },
    )
}

#[sqlx::test]
async fn changing_the_password_checks_fields_and_logs_out_other_sessions(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let client = app.client();
    let token = app.login(&client, "ann@example.com", PASSWORD).await;
    let other = app.client();
    app.login(&other, "ann@example.com", PASSWORD).await;

    let (status, page) = change(&app, &client, &token, PASSWORD, "short", "short").await;
    assert_eq!(status, 422);
    assert!(
        page.contains(r#"id="new_password-error">Use at least 12 characters."#),
        "{page}"
    );

    let (status, page) = change(
        &app,
        &client,
        &token,
        PASSWORD,
        NEW_PASSWORD,
        "something else entirely",
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains(r#"id="new_password_confirm-error">The two new passwords differ."#),
        "{page}"
    );

    let (status, page) = change(
        &app,
        &client,
        &token,
        "not my password",
        NEW_PASSWORD,
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains(r#"id="current_password-error">The current password is incorrect."#),
        "{page}"
    );

    let (status, to) = change(&app, &client, &token, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 303);
    assert_eq!(to, "/account");
    // This browser continues on a fresh session and sees the message once.
    let page = client
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your password was changed."), "{page}");
    // The other browser is logged out.
    let response = other.get(app.url("/account")).send().await.unwrap();
    assert_eq!(location(&response), "/login?next=%2Faccount");
    // Old password no longer works, the new one does.
    assert_eq!(
        post_login(&app, "", "ann@example.com", PASSWORD)
            .await
            .status(),
        422
    );
    assert_eq!(
        post_login(&app, "", "ann@example.com", NEW_PASSWORD)
            .await
            .status(),
        303
    );

    let outcomes: Vec<String> = sqlx::query_scalar(
        "SELECT outcome FROM audit_log WHERE action = 'user.password_change' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(outcomes, ["failed", "ok"]);
}

#[sqlx::test]
async fn guessing_the_current_password_is_throttled(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| c.login_max_failures = 2).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let client = app.client();
    let token = app.login(&client, "ann@example.com", PASSWORD).await;
    for _ in 0..2 {
        let (status, _) = change(
            &app,
            &client,
            &token,
            "a wrong guess",
            NEW_PASSWORD,
            NEW_PASSWORD,
        )
        .await;
        assert_eq!(status, 422);
    }
    let (status, page) = change(&app, &client, &token, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 429);
    assert!(page.contains("Too many wrong passwords."), "{page}");
}
