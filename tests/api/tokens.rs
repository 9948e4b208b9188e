//! Tokens: creation (secret once, hash only), scopes (tenant-limited, read-only, platform admin), expiry,
//! revocation, `last_used_at`, and 401 answers.

use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{Api, assert_read_only_within, problem};

#[sqlx::test]
async fn missing_malformed_and_unknown_tokens_are_401_with_www_authenticate(pool: PgPool) {
    let api = Api::start(pool).await;
    let r = api
        .http
        .get(api.app.url("/api/v1/tenants"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["www-authenticate"].to_str().unwrap(),
        "Bearer realm=\"esaas\""
    );
    problem(r, StatusCode::UNAUTHORIZED).await;
    for bad in [
        "nope",
        "esaas_short",
        "esaas_0123456789012345678901234567890123456789012",
    ] {
        let r = api.get("/api/v1/tenants", bad).await;
        problem(r, StatusCode::UNAUTHORIZED).await;
    }
    let r = api
        .http
        .get(api.app.url("/api/v1/tenants"))
        .header("authorization", "Basic dXNlcjpwdw==")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
    // A session cookie is no credential for the API.
    let r = api
        .http
        .get(api.app.url("/api/v1/tenants"))
        .header("cookie", "esaas_session=abc")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
}

#[sqlx::test]
async fn tokens_are_stored_as_hashes_and_shown_once(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &alice.token,
            &json!({ "name": "ci", "tenant": "acme", "read_only": true, "expires_in_days": 7 }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let created: Value = r.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("esaas_") && secret.len() == 49,
        "{secret}"
    );
    assert_eq!(created["prefix"], format!("esaas_{}", &secret[6..14]));
    assert_eq!(created["tenant"], "acme");
    assert_eq!(created["read_only"], true);
    assert_eq!(created["state"], "active");

    // Only the SHA-256 is stored; the secret appears nowhere in the database.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM api_tokens WHERE prefix = $1")
        .bind(&secret[6..14])
        .fetch_one(api.pool())
        .await
        .unwrap();
    assert_eq!(stored, esaas::accounts::tokens::hash(&secret).to_vec());
    let leaks: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM audit_log WHERE after::text LIKE '%' || $1 || '%') \
              + (SELECT count(*) FROM api_tokens WHERE name LIKE '%' || $1 || '%')",
    )
    .bind(&secret[6..])
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert_eq!(leaks, 0);

    // The list never shows secrets, and shows the new token with its scope.
    let list: Value = api
        .get("/api/v1/tokens", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains(&secret[6..]));
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    // The new token works, read-only, within its tenant: alice's own token reaches tenant beta, this
    // one does not.
    let b = api.tenant("beta").await;
    api.add_member(b, alice.user_id, Role::Owner).await;
    assert_eq!(
        api.get("/api/v1/tenants/beta/clusters", &alice.token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_read_only_within(&api, &secret, "acme", "beta").await;
}

#[sqlx::test]
async fn invalid_token_requests_are_field_errors(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    api.tenant("other").await;
    let before = api.count("api_tokens").await;
    for (body, pointer) in [
        (json!({ "name": "" }), "/name"),
        (
            json!({ "name": "x", "expires_in_days": 0 }),
            "/expires_in_days",
        ),
        (
            json!({ "name": "x", "expires_in_days": 366 }),
            "/expires_in_days",
        ),
        (json!({ "name": "x", "tenant": "other" }), "/tenant"),
        (json!({ "name": "x", "tenant": "nowhere" }), "/tenant"),
    ] {
        let r = api
            .send(Method::POST, "/api/v1/tokens", &alice.token, &body)
            .await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["errors"][0]["pointer"], pointer, "{p}");
    }
    assert_eq!(api.count("api_tokens").await, before);
}

#[sqlx::test]
async fn expired_and_revoked_tokens_are_401(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let second = api.token(alice.user_id, None, false).await;

    // Revoked through the API: refused at once (the cache entry is dropped).
    assert_eq!(
        api.get("/api/v1/tenants", &second).await.status(),
        StatusCode::OK
    );
    let list: Value = api
        .get("/api/v1/tokens", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| second.starts_with(t["prefix"].as_str().unwrap()))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api
        .req(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(
        api.get("/api/v1/tenants", &second).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let list: Value = api
        .get("/api/v1/tokens", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let revoked = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap();
    assert_eq!(revoked["state"], "revoked");
    // Revoking again changes nothing; other users' tokens are 404.
    let r = api
        .req(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let bob = api.user("bob@example.com", false, &[]).await;
    let r = api
        .req(Method::DELETE, &format!("/api/v1/tokens/{id}"), &bob.token)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND).await;

    // Expired: refused.
    let third = api.token(alice.user_id, None, false).await;
    sqlx::query(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
    )
    .bind(esaas::accounts::tokens::hash(&third).to_vec())
    .execute(api.pool())
    .await
    .unwrap();
    problem(
        api.get("/api/v1/tenants", &third).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Expiring while cached: refused from the moment it expires.
    let fourth = api.token(alice.user_id, None, false).await;
    sqlx::query("UPDATE api_tokens SET expires_at = now() + interval '1500 milliseconds' WHERE token_hash = $1")
        .bind(esaas::accounts::tokens::hash(&fourth).to_vec())
        .execute(api.pool())
        .await
        .unwrap();
    assert_eq!(
        api.get("/api/v1/tenants", &fourth).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    problem(
        api.get("/api/v1/tenants", &fourth).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // A disabled user's token stops working within the cache lifetime, even when it was cached: carol's
    // token is used (and cached), then she is disabled where this process does not hear of it (the CLI,
    // another replica: a plain UPDATE). The web UI's disable drops the entry at once
    // (`web_tokens::disabling_a_user_in_the_ui_stops_their_tokens_at_once`).
    let carol = api
        .user("carol@example.com", false, &[(t, Role::Member)])
        .await;
    assert_eq!(
        api.get("/api/v1/tenants", &carol.token).await.status(),
        StatusCode::OK
    );
    let cached_at = std::time::Instant::now();
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(carol.user_id)
        .execute(api.pool())
        .await
        .unwrap();
    loop {
        let status = api.get("/api/v1/tenants", &carol.token).await.status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            cached_at.elapsed()
                < esaas::accounts::token_cache::CACHE_TTL + std::time::Duration::from_secs(1),
            "the disabled user's token still works after the cache lifetime"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        cached_at.elapsed()
            <= esaas::accounts::token_cache::CACHE_TTL + std::time::Duration::from_secs(1),
        "refused within the cache lifetime: {:?}",
        cached_at.elapsed()
    );
    // Refused for good: the next lookup found the user disabled.
    problem(
        api.get("/api/v1/tenants", &carol.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[sqlx::test]
async fn last_use_is_recorded(pool: PgPool) {
    let api = Api::start(pool).await;
    let alice = api.user("alice@example.com", false, &[]).await;
    let hash = esaas::accounts::tokens::hash(&alice.token).to_vec();
    let before: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE token_hash = $1")
            .bind(&hash)
            .fetch_one(api.pool())
            .await
            .unwrap();
    assert!(before.is_none());
    assert_eq!(
        api.get("/api/v1/tenants", &alice.token).await.status(),
        StatusCode::OK
    );
    let mut used = None;
    for _ in 0..50 {
        used = sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE token_hash = $1")
            .bind(&hash)
            .fetch_one(api.pool())
            .await
            .unwrap();
        if used.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let used: chrono::DateTime<chrono::Utc> = used.expect("last_used_at is written");
    // Further requests within the minute write nothing new.
    for _ in 0..5 {
        api.get("/api/v1/tenants", &alice.token).await;
    }
    let again: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE token_hash = $1")
            .bind(&hash)
            .fetch_one(api.pool())
            .await
            .unwrap();
    assert_eq!(again, Some(used));
}

#[sqlx::test]
async fn tenant_limited_tokens_see_one_tenant_and_make_no_broader_tokens(pool: PgPool) {
    let api = Api::start(pool).await;
    let a = api.tenant("alpha").await;
    let b = api.tenant("beta").await;
    let alice = api
        .user(
            "alice@example.com",
            true,
            &[(a, Role::Owner), (b, Role::Owner)],
        )
        .await;
    let limited = api.token(alice.user_id, Some(a), false).await;

    let list: Value = api
        .get("/api/v1/tenants", &limited)
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, vec!["alpha"]);
    let all: Value = api
        .get("/api/v1/tenants", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    assert_eq!(
        api.get("/api/v1/tenants/alpha/clusters", &limited)
            .await
            .status(),
        StatusCode::OK
    );
    problem(
        api.get("/api/v1/tenants/beta/clusters", &limited).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // No platform-admin powers through a tenant-limited token, even for a platform admin.
    problem(
        api.get("/api/v1/audit", &limited).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants",
            &limited,
            &json!({ "slug": "gamma", "name": "Gamma" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(
        api.get("/api/v1/audit", &alice.token).await.status(),
        StatusCode::OK
    );

    // It may only mint tokens limited to its own tenant.
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &limited,
            &json!({ "name": "broader" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &limited,
            &json!({ "name": "other", "tenant": "beta" }),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &limited,
            &json!({ "name": "same", "tenant": "alpha" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // And it sees only the tokens of its tenant.
    let mine: Value = api
        .get("/api/v1/tokens", &limited)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["tenant"] == "alpha"),
        "{mine}"
    );
}

#[sqlx::test]
async fn a_token_never_grants_more_than_its_user_has(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let viewer = api
        .user("viewer@example.com", false, &[(t, Role::Viewer)])
        .await;
    let owner = api
        .user("owner@example.com", false, &[(t, Role::Owner)])
        .await;
    api.create_cluster("acme", "logs", &owner.token).await;

    // A viewer's (read-write) token cannot change clusters: the role decides.
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &viewer.token,
            &json!({ "name": "nope", "template": "single-node" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = api
        .req(
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/credentials",
            &viewer.token,
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    problem(
        api.get("/api/v1/tenants/acme/audit", &viewer.token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Not a platform admin: admin routes are 403.
    let r = api
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/quota",
            &owner.token,
            &json!({ "max_clusters": 1, "max_nodes": 1, "max_cpu_millis": 1, "max_memory_mib": 1, "max_storage_gib": 1 }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    // Demoting the user takes effect on the next request (roles are not cached).
    sqlx::query("UPDATE tenant_members SET role = 'viewer' WHERE user_id = $1")
        .bind(owner.user_id)
        .execute(api.pool())
        .await
        .unwrap();
    let r = api
        .send(
            Method::POST,
            "/api/v1/tenants/acme/clusters",
            &owner.token,
            &json!({ "name": "late", "template": "single-node" }),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // Removed from the tenant: it disappears (404).
    sqlx::query("DELETE FROM tenant_members WHERE user_id = $1")
        .bind(owner.user_id)
        .execute(api.pool())
        .await
        .unwrap();
    problem(
        api.get("/api/v1/tenants/acme/clusters", &owner.token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[sqlx::test]
async fn cli_tokens_work_and_are_audited(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Member)])
        .await;
    let token = esaas::cli::admin::create_token(
        api.pool(),
        "alice@example.com",
        "deploy",
        Some("acme"),
        true,
        30,
    )
    .await
    .unwrap();
    assert!(
        esaas::cli::admin::create_token(api.pool(), "nobody@example.com", "x", None, false, 30)
            .await
            .is_err()
    );
    api.tenant("other").await;
    assert!(
        esaas::cli::admin::create_token(
            api.pool(),
            "alice@example.com",
            "x",
            Some("other"),
            false,
            30
        )
        .await
        .is_err()
    );
    // Read-only and limited to acme, as asked: alice, a member of beta too, reaches it only with
    // another token.
    let b = api.tenant("beta").await;
    api.add_member(b, alice.user_id, Role::Member).await;
    assert_eq!(
        api.get("/api/v1/tenants/beta/clusters", &alice.token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_read_only_within(&api, &token, "acme", "beta").await;
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'token.create' AND after->>'name' = 'deploy'",
    )
    .fetch_one(api.pool())
    .await
    .unwrap();
    assert_eq!(actor, "cli");
}
