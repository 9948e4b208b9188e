//! The account page's API tokens: create (secret shown once), use, revoke; the form needs its CSRF token.

use esaas::tenants::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::common::input_value;
use crate::{Api, PASSWORD, assert_read_only_within};

#[sqlx::test]
async fn tokens_are_created_and_revoked_on_the_account_page(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let b = api.tenant("beta").await;
    api.user(
        "alice@example.com",
        false,
        &[(t, Role::Member), (b, Role::Member)],
    )
    .await;
    let browser = api.app.client();
    let csrf = api.app.login(&browser, "alice@example.com", PASSWORD).await;

    let page = browser
        .get(api.app.url("/account/tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Create a token"));
    assert!(
        html.contains("value=\"acme\""),
        "the tenant choice is offered"
    );

    // Without the CSRF token the form is refused and nothing is created.
    let before = api.count("api_tokens").await;
    let r = browser
        .post(api.app.url("/account/tokens"))
        .form(&[
            ("name", "ci"),
            ("tenant", "acme"),
            ("expires_in_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(api.count("api_tokens").await, before);

    // Invalid input re-renders with messages.
    let r = browser
        .post(api.app.url("/account/tokens"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", ""),
            ("expires_in_days", "999"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("field-error"));
    assert_eq!(api.count("api_tokens").await, before);

    let r = browser
        .post(api.app.url("/account/tokens"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "ci"),
            ("tenant", "acme"),
            ("read_only", "on"),
            ("expires_in_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let secret = input_value(&html, "new-token")
        .or_else(|| {
            let start = html.find("esaas_")?;
            Some(html[start..start + 49].to_owned())
        })
        .expect("the new token is on the page");
    assert!(secret.starts_with("esaas_"), "{secret}");
    assert!(
        html.contains(r##"class="copy-btn btn btn-small" data-copy="#new-token""##)
            && html.contains(r#"<script src="/static/js/clusters.js" defer>"#),
        "a Copy button for the new token, with the script that drives it: {html}"
    );

    // The token works over the API, read-only, for its tenant only (alice is a member of beta too).
    assert_read_only_within(&api, &secret, "acme", "beta").await;

    // The list shows it (prefix only) and the secret is not on the page any more.
    let html = browser
        .get(api.app.url("/account/tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(&secret));
    assert!(html.contains(&secret[..14]));

    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'ci'")
        .fetch_one(api.pool())
        .await
        .unwrap();
    let r = browser
        .post(api.app.url(&format!("/account/tokens/{id}/revoke")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let revoked: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT revoked_at FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_one(api.pool())
            .await
            .unwrap();
    assert!(revoked.is_some());
    // Refused at once: the token was used (and cached) just before, and the UI drops the cache entry.
    assert_eq!(
        api.get("/api/v1/tenants", &secret).await.status(),
        StatusCode::UNAUTHORIZED,
        "a token revoked in the UI stops working immediately"
    );
}

#[sqlx::test]
async fn disabling_a_user_in_the_ui_stops_their_tokens_at_once(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let bob = api
        .user("bob@example.com", false, &[(t, Role::Member)])
        .await;
    api.user("root@example.com", true, &[]).await;
    // Bob's token is used, so the portal has it cached.
    assert_eq!(
        api.get("/api/v1/tenants", &bob.token).await.status(),
        StatusCode::OK
    );
    let admin = api.app.client();
    let csrf = api.app.login(&admin, "root@example.com", PASSWORD).await;
    let r = admin
        .post(
            api.app
                .url(&format!("/admin/users/{}/disable", bob.user_id)),
        )
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        api.get("/api/v1/tenants", &bob.token).await.status(),
        StatusCode::UNAUTHORIZED,
        "a disabled user's token stops working immediately, not after the cache's lifetime"
    );
}
