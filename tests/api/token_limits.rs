//! Tokens never outlive their maker or grow its scope, and a password change on the account page can revoke
//! every token of the user.

use chrono::{DateTime, Utc};
use esaas::accounts::tokens::NewToken;
use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::input_value;
use crate::{Api, PASSWORD, problem};

/// A token of `user_id` living `days`.
async fn token_for_days(api: &Api, user_id: Uuid, days: i64) -> String {
    crate::common::create_token(
        api.pool(),
        user_id,
        NewToken {
            name: format!("{days}-day"),
            tenant_id: None,
            read_only: false,
            expires_in_days: days,
        },
    )
    .await
}

fn expiry(token: &Value) -> DateTime<Utc> {
    token["expires_at"].as_str().unwrap().parse().unwrap()
}

#[sqlx::test]
async fn a_token_cannot_make_a_token_that_outlives_it(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let short = token_for_days(&api, alice.user_id, 1).await;
    let listed: Value = api
        .get("/api/v1/tokens", &short)
        .await
        .json()
        .await
        .unwrap();
    let maker_expires = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "1-day")
        .map(expiry)
        .unwrap();

    for days in [365, 2, 1] {
        let r = api
            .send(
                Method::POST,
                "/api/v1/tokens",
                &short,
                &json!({ "name": "long", "expires_in_days": days }),
            )
            .await;
        let doc = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            doc["errors"][0]["pointer"], "/expires_in_days",
            "{days}: {doc}"
        );
        assert!(
            doc["errors"][0]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("cannot outlive it")),
            "{doc}"
        );
    }
    let tokens_before = api.count("api_tokens").await;

    // Without a lifetime, the new token expires together with its maker at the latest.
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &short,
            &json!({ "name": "child" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let child: Value = r.json().await.unwrap();
    assert!(expiry(&child) <= maker_expires, "{child}");
    assert!(expiry(&child) > Utc::now() + chrono::Duration::hours(23));
    assert_eq!(api.count("api_tokens").await, tokens_before + 1);

    // A long-lived token may still make a shorter one with the lifetime it asks for.
    let long = token_for_days(&api, alice.user_id, 90).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &long,
            &json!({ "name": "weekly", "expires_in_days": 7 }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let weekly: Value = r.json().await.unwrap();
    let days = (expiry(&weekly) - Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "{weekly}");
}

#[sqlx::test]
async fn a_token_cannot_make_a_token_with_more_scope(pool: PgPool) {
    let api = Api::start(pool).await;
    let a = api.tenant("alpha").await;
    let alice = api
        .user("alice@example.com", false, &[(a, Role::Owner)])
        .await;
    let read_only = api.token(alice.user_id, None, true).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &read_only,
            &json!({ "name": "rw" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let limited = api.token(alice.user_id, Some(a), false).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &limited,
            &json!({ "name": "all" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &limited,
            &json!({ "name": "alpha", "tenant": "alpha" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// POST /account/password through the browser's session.
async fn change_password(
    api: &Api,
    browser: &reqwest::Client,
    csrf: &str,
    new: &str,
    revoke: bool,
) -> reqwest::Response {
    let current = if new == "a second long passphrase" {
        "a first long passphrase"
    } else {
        PASSWORD
    };
    let mut form = vec![
        ("csrf_token", csrf),
        ("current_password", current),
        ("new_password", new),
        ("new_password_confirm", new),
    ];
    if revoke {
        form.push(("revoke_tokens", "on"));
    }
    browser
        .post(api.app.url("/account/password"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_password_change_offers_to_revoke_every_api_token(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let second = api.token(alice.user_id, Some(t), true).await;
    let browser = api.app.client();
    let csrf = api.app.login(&browser, "alice@example.com", PASSWORD).await;

    // The form offers it, checked, and says how many tokens there are.
    let html = browser
        .get(api.app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("You have 2 active API tokens"), "{html}");
    let checkbox = html
        .split("<input")
        .find(|i| i.contains("name=\"revoke_tokens\""))
        .expect("a revoke_tokens checkbox");
    assert!(checkbox.contains("checked"), "{checkbox}");

    // Left unticked, the tokens keep working.
    let r = change_password(&api, &browser, &csrf, "a first long passphrase", false).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        api.get("/api/v1/tenants", &alice.token).await.status(),
        StatusCode::OK
    );

    // Ticked, every token of the user stops at once (the cache is dropped too) and each is audited.
    assert_eq!(
        api.get("/api/v1/tenants", &second).await.status(),
        StatusCode::OK
    );
    let csrf = input_value(
        &browser
            .get(api.app.url("/account"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "csrf_token",
    )
    .unwrap();
    let r = change_password(&api, &browser, &csrf, "a second long passphrase", true).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for token in [&alice.token, &second] {
        problem(
            api.get("/api/v1/tenants", token).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'token.revoke'
           AND (after->>'all_tokens_of_user')::boolean AND actor_user_id = $1",
    )
    .bind(alice.user_id)
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert_eq!(audited, 2);
    let html = browser
        .get(api.app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("2 API tokens were revoked"), "{html}");
    assert!(html.contains("You have no active API tokens."), "{html}");
}
