//! `x-request-id`: a client's own id is kept only when it is short and plain; otherwise the portal assigns
//! a fresh one, and that is what the answer and the audit row carry.

use sqlx::PgPool;

use super::common::TestApp;
use super::post_login_with;

/// A failed login sent with these `x-request-id` headers: the id the answer carried and the one audited.
async fn failed_login_ids(app: &TestApp, sent: &[&str], email: &str) -> (String, String) {
    let headers: Vec<(&str, &str)> = sent.iter().map(|v| ("x-request-id", *v)).collect();
    let response = post_login_with(
        app,
        "",
        &headers,
        &[("email", email), ("password", "wrong")],
    )
    .await;
    assert_eq!(response.status(), 422);
    let answered = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let audited: String = sqlx::query_scalar(
        "SELECT request_id FROM audit_log WHERE action = 'login.failed' AND target = $1",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    (answered, audited)
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

#[sqlx::test]
async fn unsafe_request_ids_are_replaced_before_they_reach_audit_rows(pool: PgPool) {
    let app = TestApp::spawn(pool).await;

    let (answered, audited) = failed_login_ids(&app, &["ci-run-42.step:7"], "a@example.com").await;
    assert_eq!(answered, "ci-run-42.step:7", "a safe id is kept");
    assert_eq!(audited, "ci-run-42.step:7");

    let long = "x".repeat(65);
    let cases: [(&[&str], &str); 4] = [
        (&[long.as_str()], "b@example.com"),
        (&["<script>alert(1)</script>"], "c@example.com"),
        (&["id with spaces; DROP TABLE"], "d@example.com"),
        (&["one", "two"], "e@example.com"),
    ];
    for (sent, email) in cases {
        let (answered, audited) = failed_login_ids(&app, sent, email).await;
        assert!(is_uuid(&answered), "{sent:?} answered as {answered:?}");
        assert_eq!(answered, audited, "{sent:?}");
    }
}
