//! With the database down, the portal stays up: `/healthz` answers, `/readyz` and pages that need the
//! database answer 503 with an error page (never a login redirect or a 500).

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

use super::common::TestApp;
use super::{PASSWORD, get_with, login_form_token, plain_client};

#[tokio::test]
async fn pages_answer_503_while_the_database_is_down() {
    // Nothing listens on port 1: every connection attempt is refused at once.
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy("postgres://postgres@127.0.0.1:1/esaas")
        .unwrap();
    let app = TestApp::spawn(pool).await;

    let healthz = plain_client()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200);
    let readyz = plain_client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), 503);

    // The login form needs no database; submitting it does.
    let token = login_form_token(&app).await;
    let response = plain_client()
        .post(app.url("/login"))
        .header("cookie", format!("esaas_csrf={token}"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("content-security-policy").is_some());
    let page = response.text().await.unwrap();
    assert!(page.contains("temporarily unavailable"), "{page}");

    // A signed-in user is not logged out by an outage: their pages answer 503, not a login redirect.
    let session = "A".repeat(43);
    let response = get_with(&app, &session, "/account").await;
    assert_eq!(response.status(), 503);
}
