//! Per-token rate limiting: past the burst, 429 problem+json with `Retry-After`; other tokens are not
//! affected.

use esaas::config::rate_limit::RateLimit;
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::{Api, problem};

#[sqlx::test]
async fn a_token_over_its_limit_gets_429_with_retry_after(pool: PgPool) {
    let api = Api::start(pool).await;
    let alice = api.user("alice@example.com", false, &[]).await;
    let bob = api.user("bob@example.com", false, &[]).await;
    // The default limit is 20 requests/s with bursts of 100: 300 at once must overflow it.
    let requests = (0..300).map(|_| {
        api.http
            .get(api.app.url("/api/v1/templates"))
            .bearer_auth(&alice.token)
            .send()
    });
    let answers = futures::future::join_all(requests).await;
    let mut limited = None;
    let mut ok = 0;
    for r in answers {
        let r = r.unwrap();
        match r.status() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => limited = Some(r),
            other => panic!("unexpected {other}"),
        }
    }
    assert!(ok >= 100, "the burst passes ({ok})");
    let r = limited.expect("some requests are limited");
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&retry_after), "{retry_after}");
    let p = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(p["type"], "/api/docs#problem-rate-limited");
    // Another token has its own bucket.
    assert_eq!(
        api.get("/api/v1/templates", &bob.token).await.status(),
        StatusCode::OK
    );
}

/// The limit is the configured one (`Config::api_rate_limit`), not one read from the environment.
#[sqlx::test]
async fn the_configured_limit_applies(pool: PgPool) {
    let api = Api::start_with(pool, |c| {
        c.api_rate_limit = Some(RateLimit {
            per_second: 0.1,
            burst: 2.0,
        });
    })
    .await;
    let alice = api.user("alice@example.com", false, &[]).await;
    let statuses: Vec<StatusCode> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(api.get("/api/v1/templates", &alice.token).await.status());
        }
        v
    };
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}
