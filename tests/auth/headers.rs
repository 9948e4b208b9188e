//! Security headers on every response; HSTS and `Secure` cookies only when the public URL is HTTPS.

use sqlx::PgPool;

use super::common::TestApp;
use super::{PASSWORD, plain_client, post_login, set_cookie};

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[sqlx::test]
async fn security_headers_are_on_pages_errors_and_static_files(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for path in ["/login", "/healthz", "/no-such-page", "/static/css/app.css"] {
        let response = plain_client().get(app.url(path)).send().await.unwrap();
        let csp =
            header(&response, "content-security-policy").unwrap_or_else(|| panic!("CSP on {path}"));
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(
            header(&response, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(&response, "x-frame-options").as_deref(),
            Some("DENY"),
            "{path}"
        );
        assert_eq!(
            header(&response, "referrer-policy").as_deref(),
            Some("strict-origin-when-cross-origin"),
            "{path}"
        );
        assert!(
            header(&response, "strict-transport-security").is_none(),
            "no HSTS over http: {path}"
        );
        assert!(header(&response, "x-request-id").is_some(), "{path}");
    }
}

#[sqlx::test]
async fn https_portals_send_hsts_and_secure_cookies(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| c.public_url = "https://portal.example".into()).await;
    app.create_user("ann@example.com", PASSWORD, false).await;
    let response = plain_client()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    let hsts = header(&response, "strict-transport-security").expect("HSTS");
    assert!(hsts.contains("max-age=63072000"), "{hsts}");

    let response = plain_client().get(app.url("/login")).send().await.unwrap();
    let csrf = set_cookie(&response, "esaas_csrf").unwrap();
    assert!(csrf.contains("Secure"), "{csrf}");
    assert!(csrf.contains("SameSite=Strict"), "{csrf}");

    let response = post_login(&app, "", "ann@example.com", PASSWORD).await;
    assert_eq!(response.status(), 303);
    let session = set_cookie(&response, "esaas_session").unwrap();
    assert!(session.contains("Secure"), "{session}");
}

#[sqlx::test]
async fn static_files_are_gzipped_but_pages_are_not(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let raw_len = std::fs::metadata(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/static/vendor/htmx-2.0.11.min.js"
    ))
    .unwrap()
    .len() as usize;
    let response = plain_client()
        .get(app.url("/static/vendor/htmx-2.0.11.min.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-encoding").as_deref(),
        Some("gzip")
    );
    assert!(header(&response, "content-security-policy").is_some());
    let body = response.bytes().await.unwrap();
    assert!(
        body.len() * 2 < raw_len,
        "gzip should at least halve htmx: {} of {raw_len} bytes",
        body.len()
    );
    // Without Accept-Encoding the file comes as it is.
    let response = plain_client()
        .get(app.url("/static/vendor/htmx-2.0.11.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "content-encoding"), None);
    assert_eq!(response.bytes().await.unwrap().len(), raw_len);
    // Pages (which carry CSRF tokens) are never compressed.
    let response = plain_client()
        .get(app.url("/login"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "content-encoding"), None);
}

/// Static files come from the configured directory (`Config::static_dir`), not from whatever
/// `ESAAS_STATIC_DIR` the test process happens to have.
#[sqlx::test]
async fn static_files_are_served_from_the_configured_directory(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("probe.txt"),
        "from the configured directory",
    )
    .unwrap();
    let path = dir.path().to_owned();
    let app = TestApp::spawn_with(pool, |c| c.static_dir = path).await;
    let r = plain_client()
        .get(app.url("/static/probe.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "from the configured directory");
    let r = plain_client()
        .get(app.url("/static/css/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the source tree's files are not served");
}
