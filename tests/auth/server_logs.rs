//! The log of `esaas serve` with `ESAAS_LOG_FORMAT=json`: every line is one JSON object (with one `target`),
//! and what callers
//! send as secrets (a password at the login form, a bearer token, a session cookie) appears on no line,
//! although those requests are logged.

use sqlx::PgPool;

use super::common::input_value;
use crate::common::portal_process::Portal;

#[sqlx::test]
async fn json_logs_carry_no_secrets(pool: PgPool) {
    // At debug level, so the request spans are on the log too.
    let portal = Portal::start(
        &pool,
        &[("ESAAS_LOG_FORMAT", "json"), ("RUST_LOG", "debug")],
    )
    .await;
    let password = "Sekret-Passw0rd-in-a-log?";
    let token = "esaas_NotARealTokenButSecretLooking0123456789abcd";
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(portal.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = input_value(&page, "csrf_token").expect("the login form has a csrf_token");
    let r = client
        .post(portal.url("/login?next=%2Faccount"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "nobody@example.com"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "an unknown account is refused");
    let r = client
        .get(portal.url("/api/v1/tenants"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (code, lines) = portal.stop().await;
    assert_eq!(code, Some(0));

    assert!(lines.len() > 3, "the portal logged: {lines:?}");
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v.get("level").is_some(), "a level on every line: {line}");
        assert_eq!(
            line.matches("\"target\":").count(),
            1,
            "one target per line (no field shadows it): {line}"
        );
    }
    let log = lines.join("\n");
    assert!(
        log.contains("/api/v1/tenants"),
        "the requests themselves are logged: {log}"
    );
    for secret in [password, token, &csrf] {
        assert!(!log.contains(secret), "{secret:?} is in the log");
    }
}
