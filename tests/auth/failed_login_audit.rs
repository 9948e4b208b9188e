//! Failed logins, which anyone can cause, do not grow the audit log by a row each: repetitions are counted
//! into one row per account and source address within the login window (refusals by the per-address limit
//! into one row per address), and rows older than the retention are purged.

use sqlx::PgPool;

use super::common::TestApp;
use super::post_login_with;

async fn fail_from(app: &TestApp, addr: &str, email: &str) -> u16 {
    post_login_with(
        app,
        "",
        &[("x-forwarded-for", addr)],
        &[("email", email), ("password", "wrong")],
    )
    .await
    .status()
    .as_u16()
}

async fn failed_login_rows(app: &TestApp) -> Vec<(String, String, String, i64)> {
    sqlx::query_as(
        "SELECT target, coalesce(source_addr, ''), outcome, coalesce((after->>'count')::bigint, 1)
         FROM audit_log WHERE action = 'login.failed' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn repeated_failed_logins_are_counted_into_one_row(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| {
        c.login_max_failures = 50;
        c.trusted_proxies = esaas::request_meta::TrustedProxies::parse("127.0.0.0/8").unwrap();
    })
    .await;
    for _ in 0..20 {
        assert_eq!(fail_from(&app, "203.0.113.5", "ann@example.com").await, 422);
    }
    assert_eq!(fail_from(&app, "203.0.113.6", "ann@example.com").await, 422);
    let rows = failed_login_rows(&app).await;
    assert_eq!(
        rows,
        vec![
            (
                "ann@example.com".into(),
                "203.0.113.5".into(),
                "failed".into(),
                20
            ),
            (
                "ann@example.com".into(),
                "203.0.113.6".into(),
                "failed".into(),
                1
            ),
        ]
    );
    let last: serde_json::Value = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE action = 'login.failed' ORDER BY id LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(last["reason"], "unknown_account");
    assert!(
        last["last_at"].is_string() && last["last_request_id"].is_string(),
        "{last}"
    );

    // A new window opens a new row.
    sqlx::query("UPDATE audit_log SET at = at - interval '901 seconds'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(fail_from(&app, "203.0.113.5", "ann@example.com").await, 422);
    assert_eq!(failed_login_rows(&app).await.len(), 3);
}

#[sqlx::test]
async fn spraying_invented_accounts_from_one_address_adds_a_bounded_number_of_rows(pool: PgPool) {
    // 2 per account, so 8 per address.
    let app = TestApp::spawn_with(pool, |c| {
        c.login_max_failures = 2;
        c.trusted_proxies = esaas::request_meta::TrustedProxies::parse("127.0.0.0/8").unwrap();
    })
    .await;
    let mut refused = 0;
    for i in 0..40 {
        match fail_from(&app, "203.0.113.9", &format!("user{i}@example.com")).await {
            422 => {}
            429 => refused += 1,
            other => panic!("attempt {i}: {other}"),
        }
    }
    assert_eq!(
        refused, 32,
        "the 9th and later attempts are refused by the per-address limit"
    );
    let rows = failed_login_rows(&app).await;
    assert_eq!(
        rows.len(),
        9,
        "8 verified failures and one row for all refusals: {rows:?}"
    );
    let denied = rows.iter().find(|r| r.2 == "denied").expect("a denied row");
    assert_eq!((denied.0.as_str(), denied.3), ("203.0.113.9", 32));
}

#[sqlx::test]
async fn failed_login_rows_are_purged_after_the_retention(pool: PgPool) {
    sqlx::query(
        "INSERT INTO audit_log (actor, action, target, outcome, at) VALUES
           ('anonymous', 'login.failed', 'old@example.com', 'failed', now() - interval '31 days'),
           ('anonymous', 'login.failed', 'new@example.com', 'failed', now() - interval '29 days'),
           ('root@example.com', 'tenant.create', 'acme', 'ok', now() - interval '400 days')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let purged = esaas::auth::housekeeping::purge(
        &pool,
        std::time::Duration::from_secs(900),
        std::time::Duration::from_secs(30 * 86_400),
    )
    .await
    .unwrap();
    assert_eq!(purged.failed_login_audit, 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT target FROM audit_log ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        left,
        ["new@example.com", "acme"],
        "other audit rows are kept"
    );

    // Zero keeps them for ever.
    let purged = esaas::auth::housekeeping::purge(
        &pool,
        std::time::Duration::from_secs(900),
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(purged.failed_login_audit, 0);
}
