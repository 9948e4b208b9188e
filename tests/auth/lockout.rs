//! Nobody can lock an account out any more: failures slow guesses down per account and source address
//! (exponential back-off), and an address that logged in to the account before is not slowed by failures
//! from other addresses. Client addresses come from `X-Forwarded-For` behind a trusted proxy (the test
//! client's loopback address), so one test can speak from many addresses.

use sqlx::PgPool;

use super::common::TestApp;
use super::{PASSWORD, post_login_with};

/// POST /login from `addr`: status and `Retry-After` (seconds).
async fn login_from(app: &TestApp, addr: &str, email: &str, password: &str) -> (u16, Option<u64>) {
    let response = post_login_with(
        app,
        "",
        &[("x-forwarded-for", addr)],
        &[("email", email), ("password", password)],
    )
    .await;
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (response.status().as_u16(), retry)
}

async fn behind_proxy(pool: PgPool, max_failures: u32) -> TestApp {
    TestApp::spawn_with(pool, |c| {
        c.login_max_failures = max_failures;
        c.trusted_proxies = esaas::request_meta::TrustedProxies::parse("127.0.0.0/8").unwrap();
    })
    .await
}

/// Pretend the recorded failures happened `secs` seconds earlier.
async fn age_failures(app: &TestApp, secs: u32) {
    sqlx::query("UPDATE login_failures SET at = at - make_interval(secs => $1)")
        .bind(f64::from(secs))
        .execute(&app.pool)
        .await
        .unwrap();
}

const OWNER_ADDR: &str = "198.51.100.10";
const ATTACKER: &str = "203.0.113.66";

#[sqlx::test]
async fn failures_from_elsewhere_never_lock_the_owner_out_of_their_usual_address(pool: PgPool) {
    let app = behind_proxy(pool, 3).await;
    app.create_user("root@example.com", PASSWORD, true).await;
    assert_eq!(
        login_from(&app, OWNER_ADDR, "root@example.com", PASSWORD)
            .await
            .0,
        303
    );

    // An attacker guesses the platform admin's password from one address, then from many.
    for _ in 0..3 {
        assert_eq!(
            login_from(&app, ATTACKER, "root@example.com", "guess")
                .await
                .0,
            422
        );
    }
    let (status, retry) = login_from(&app, ATTACKER, "root@example.com", "guess").await;
    assert_eq!(status, 429);
    assert!(retry.is_some_and(|r| (1..=30).contains(&r)), "{retry:?}");
    for i in 1..=5 {
        let (status, _) =
            login_from(&app, &format!("203.0.113.{i}"), "root@example.com", "guess").await;
        assert_eq!(
            status, 429,
            "addresses the account never logged in from wait too"
        );
    }

    // The owner, from the address they logged in from before, gets in at once.
    assert_eq!(
        login_from(&app, OWNER_ADDR, "root@example.com", PASSWORD)
            .await
            .0,
        303
    );
    // And the refusals were not counted as failures: only the three real guesses are recorded.
    let failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_failures WHERE key = 'email:root@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(failures, 3);
}

#[sqlx::test]
async fn guesses_from_one_address_wait_twice_as_long_after_each_failure(pool: PgPool) {
    let app = behind_proxy(pool, 2).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    for _ in 0..2 {
        assert_eq!(
            login_from(&app, ATTACKER, "ann@example.com", "guess")
                .await
                .0,
            422
        );
    }
    let mut expected = 30;
    for round in 0..3 {
        let (status, retry) = login_from(&app, ATTACKER, "ann@example.com", PASSWORD).await;
        assert_eq!(status, 429, "round {round}: even the right password waits");
        let retry = retry.expect("Retry-After");
        assert!(
            (expected - 5..=expected).contains(&retry),
            "round {round}: retry after {retry}, expected about {expected}"
        );
        // Once the wait has passed, one more guess is verified (and fails), and the next wait doubles.
        age_failures(&app, u32::try_from(expected).unwrap() + 1).await;
        assert_eq!(
            login_from(&app, ATTACKER, "ann@example.com", "guess")
                .await
                .0,
            422
        );
        expected *= 2;
    }

    // The trade-off: an address that never logged in to the account waits too while it is guessed at...
    assert_eq!(
        login_from(&app, "192.0.2.1", "ann@example.com", PASSWORD)
            .await
            .0,
        429
    );
    // ...and nothing is locked: once the failures leave the window, the right password works there.
    age_failures(&app, 901).await;
    assert_eq!(
        login_from(&app, "192.0.2.1", "ann@example.com", PASSWORD)
            .await
            .0,
        303
    );
}
