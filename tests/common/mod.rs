//! Shared test helpers: a portal served on a loopback port over a fresh database (one per test, made by
//! `#[sqlx::test]`), clients with cookie jars, and shortcuts to create users and tenants.
//! Include it from a test binary with `#[path = "../common/mod.rs"] mod common;`.
#![allow(dead_code)]

pub mod poll;
pub mod portal_process;

use std::net::SocketAddr;

use esaas::config::Config;
use esaas::state::AppState;
use secrecy::SecretString;
use sqlx::PgPool;

/// A running portal for one test.
pub struct TestApp {
    /// The test's own database.
    pub pool: PgPool,
    /// The application state the server runs with.
    pub state: AppState,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl TestApp {
    /// Serve the portal on 127.0.0.1:0 over `pool` with the test configuration.
    pub async fn spawn(pool: PgPool) -> Self {
        Self::spawn_with(pool, |_| {}).await
    }

    /// Like `spawn`, letting the test adjust the configuration first.
    pub async fn spawn_with(pool: PgPool, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_tests("postgres://unused");
        tweak(&mut config);
        let state = AppState::new(config, pool.clone());
        let app = esaas::build_app(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = esaas::run(listener, app, std::future::pending()).await;
        });
        Self { pool, state, addr }
    }

    /// Absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client with its own cookie jar that does not follow redirects (tests assert them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Create a user directly in the database.
    pub async fn create_user(
        &self,
        email: &str,
        password: &str,
        platform_admin: bool,
    ) -> uuid::Uuid {
        let mut conn = self.pool.acquire().await.unwrap();
        let email = esaas::accounts::email::Email::parse(email).unwrap();
        esaas::accounts::users::create(
            &mut conn,
            &email,
            "",
            SecretString::from(password.to_owned()),
            platform_admin,
        )
        .await
        .unwrap()
        .id
    }
}

/// Extract the value of `<input ... name="NAME" ... value="VALUE">` from an HTML page (first match).
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let pos = html.find(&needle)?;
    let tag_start = html[..pos].rfind('<')?;
    let tag_end = pos + html[pos..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + 7;
    let end = tag[v..].find('"')? + v;
    Some(tag[v..end].replace("&#x2f;", "/").replace("&#43;", "+"))
}

impl TestApp {
    /// Log `client` in through the real login form: GET /login (which sets the `esaas_csrf` double-submit
    /// cookie), read its `csrf_token`, POST email and password, and assert the 303 redirect. Returns the new
    /// session's CSRF token (read from /account), to post other forms with:
    /// `client.post(app.url("/x")).form(&[("csrf_token", token.as_str()), ...])`.
    pub async fn login(&self, client: &reqwest::Client, email: &str, password: &str) -> String {
        let page = client
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = input_value(&page, "csrf_token").expect("the login form has a csrf_token");
        let response = client
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::SEE_OTHER,
            "logging in as {email} should redirect"
        );
        self.csrf_token(client).await
    }

    /// The CSRF token of `client`'s session (from the forms of the signed-in /account page).
    pub async fn csrf_token(&self, client: &reqwest::Client) -> String {
        let response = client.get(self.url("/account")).send().await.unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::OK,
            "GET /account needs a session"
        );
        let page = response.text().await.unwrap();
        input_value(&page, "csrf_token").expect("signed-in pages carry a csrf_token")
    }
}

impl TestApp {
    /// Like [`TestApp::spawn_with`], and also start the portal's background tasks (watches, observer,
    /// reconciler, resync) against its simulated Kubernetes, as `esaas serve` does. They stop when the
    /// returned token is cancelled (or with the test's runtime).
    pub async fn spawn_with_background(
        pool: PgPool,
        tweak: impl FnOnce(&mut Config),
    ) -> (Self, tokio_util::sync::CancellationToken) {
        let app = Self::spawn_with(pool, tweak).await;
        let shutdown = tokio_util::sync::CancellationToken::new();
        esaas::controller::spawn_background(&app.state, shutdown.clone());
        (app, shutdown)
    }
}
