//! Login throttling per account and per source address, checked before the password (the rules that lock
//! nobody out are in `lockout.rs`).

use sqlx::PgPool;

use super::common::TestApp;
use super::{PASSWORD, post_login, set_cookie};

#[sqlx::test]
async fn too_many_failures_for_an_account_refuse_even_the_right_password(pool: PgPool) {
    let app = TestApp::spawn_with(pool.clone(), |c| c.login_max_failures = 3).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    for _ in 0..3 {
        let response = post_login(&app, "", "ann@example.com", "a wrong password").await;
        assert_eq!(response.status(), 422);
    }
    let response = post_login(&app, "", "ANN@example.com", PASSWORD).await;
    assert_eq!(response.status(), 429);
    assert!(set_cookie(&response, "esaas_session").is_none());
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "retry after {retry}");
    // From the address that failed, the account waits 30 s (doubling after each further failure).
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Too many failed login attempts. Try again in 30 seconds.")
    );

    // Another account from the same address is not affected (per-address limit is 12).
    app.create_user("bob@example.com", PASSWORD, false).await;
    assert_eq!(
        post_login(&app, "", "bob@example.com", PASSWORD)
            .await
            .status(),
        303
    );

    // The refusal is audited; it was not recorded as a further failure.
    let denied: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'login.failed' AND outcome = 'denied'
           AND after->>'reason' = 'throttled'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(denied, 1);
    let failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_failures WHERE key = 'email:ann@example.com'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(failures, 3);

    // Once the failures age out of the window, the right password works again.
    sqlx::query("UPDATE login_failures SET at = at - interval '901 seconds'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        post_login(&app, "", "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
}

#[sqlx::test]
async fn too_many_failures_from_an_address_refuse_every_account(pool: PgPool) {
    // 2 per account, so 8 per address.
    let app = TestApp::spawn_with(pool, |c| c.login_max_failures = 2).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    for i in 0..8 {
        let response = post_login(
            &app,
            "",
            &format!("guess{i}@example.com"),
            "a wrong password",
        )
        .await;
        assert_eq!(response.status(), 422, "attempt {i}");
    }
    let response = post_login(&app, "", "ann@example.com", PASSWORD).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_some());
}

#[sqlx::test]
async fn a_successful_login_clears_the_account_failures_from_its_address(pool: PgPool) {
    let app = TestApp::spawn_with(pool.clone(), |c| c.login_max_failures = 3).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    for _ in 0..2 {
        assert_eq!(
            post_login(&app, "", "ann@example.com", "a wrong password")
                .await
                .status(),
            422
        );
    }
    assert_eq!(
        post_login(&app, "", "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_failures WHERE key = 'email:ann@example.com addr:127.0.0.1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0);
    // Without the reset this would be the 4th failure in the window and refused.
    for _ in 0..2 {
        assert_eq!(
            post_login(&app, "", "ann@example.com", "a wrong password")
                .await
                .status(),
            422
        );
    }
    assert_eq!(
        post_login(&app, "", "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
}

#[sqlx::test]
async fn a_burst_of_parallel_guesses_gets_no_more_than_the_limit(pool: PgPool) {
    // The portal on a pool wide enough that all ten attempts hold a connection at once.
    let wide = sqlx::postgres::PgPoolOptions::new()
        .max_connections(14)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let app = TestApp::spawn_with(wide.clone(), |c| c.login_max_failures = 3).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let token = super::login_form_token(&app).await;
    // Hold back every reservation (a SHARE lock on login_failures lets reads through and blocks inserts),
    // start the ten guesses behind a barrier, and let go only once all ten wait to reserve: they really
    // arrive together, none was counted before the others started.
    let mut holder = wide.begin().await.unwrap();
    sqlx::query("LOCK TABLE login_failures IN SHARE MODE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(11));
    let attempts: Vec<_> = (0..10)
        .map(|i| {
            let request = super::plain_client()
                .post(app.url("/login"))
                .header("cookie", format!("esaas_csrf={token}"))
                .form(&[
                    ("csrf_token", token.clone()),
                    ("email", "ann@example.com".to_owned()),
                    ("password", format!("wrong guess {i}")),
                ]);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                request.send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    start.wait().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO login_failures%'",
        )
        .fetch_one(&wide)
        .await
        .unwrap();
        if waiting == 10 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} of 10 guesses reached the reservation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    holder.rollback().await.unwrap();
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap());
    }
    let verified = statuses.iter().filter(|s| **s == 422).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(verified + refused, 10, "{statuses:?}");
    assert!(verified <= 3, "at most 3 guesses verified: {statuses:?}");
    assert!(refused >= 7, "{statuses:?}");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), wide.close()).await;
}

/// A failed login sent through a proxy claiming the client `forwarded`: the address it was audited and
/// throttled under.
async fn audited_source(app: &TestApp, forwarded: &str) -> String {
    let response = super::post_login_with(
        app,
        "",
        &[("x-forwarded-for", forwarded)],
        &[("email", "nobody@example.com"), ("password", "wrong")],
    )
    .await;
    assert_eq!(response.status(), 422);
    sqlx::query_scalar(
        "SELECT source_addr FROM audit_log WHERE action = 'login.failed' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn x_forwarded_for_counts_only_from_trusted_proxies(pool: PgPool) {
    // Not configured: the header is the client's own claim and is ignored.
    let app = TestApp::spawn(pool.clone()).await;
    assert_eq!(audited_source(&app, "203.0.113.9").await, "127.0.0.1");

    // Behind a trusted proxy (the test client's loopback address), the right-most untrusted hop counts,
    // even when the client put something else in front of it.
    let app = TestApp::spawn_with(pool, |c| {
        c.trusted_proxies = esaas::request_meta::TrustedProxies::parse("127.0.0.0/8").unwrap();
    })
    .await;
    assert_eq!(
        audited_source(&app, "198.51.100.1, 203.0.113.9").await,
        "203.0.113.9"
    );
    let per_address: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_failures WHERE key LIKE 'addr:203.0.113.9%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        per_address, 1,
        "throttled under the client's address, not the proxy's"
    );
}
