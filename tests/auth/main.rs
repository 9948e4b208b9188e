//! Accounts and authentication over HTTP: login/logout, sessions, CSRF, throttling (and why it locks no one
//! out), bounded audit rows of failed logins, request ids, NUL characters in forms, `/metrics`, security
//! headers, behaviour while the database is down, and `esaas serve` as a process (signals, logs, start-up
//! refusals). Each test runs the portal on a loopback port over its own database.

#[path = "../common/mod.rs"]
mod common;

mod account;
mod csrf;
mod failed_login_audit;
mod headers;
mod lockout;
mod login;
mod metrics;
mod nul_input;
mod request_ids;
mod server_logs;
mod sessions;
mod shutdown;
mod start_up;
mod throttling;
mod unavailable;

pub use common::{PASSWORD, TestApp};
use reqwest::Response;

/// The full `Set-Cookie` line for cookie `name`, if the response sets it.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value part of a `Set-Cookie` line.
pub fn cookie_value(line: &str) -> String {
    let first = line.split(';').next().unwrap();
    first.split_once('=').unwrap().1.to_owned()
}

/// A client without a cookie jar (the test sets `Cookie` itself) that does not follow redirects.
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GET /login anonymously: the double-submit cookie value and the form's token (the same string).
pub async fn login_form_token(app: &TestApp) -> String {
    let response = plain_client().get(app.url("/login")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cookie =
        cookie_value(&set_cookie(&response, "esaas_csrf").expect("GET /login sets esaas_csrf"));
    let page = response.text().await.unwrap();
    let token = common::input_value(&page, "csrf_token").unwrap();
    assert_eq!(cookie, token);
    token
}

/// POST /login with explicit cookies: `esaas_csrf` (freshly obtained) plus `extra_cookies`.
pub async fn post_login(
    app: &TestApp,
    extra_cookies: &str,
    email: &str,
    password: &str,
) -> Response {
    post_login_with(
        app,
        extra_cookies,
        &[],
        &[("email", email), ("password", password)],
    )
    .await
}

/// POST /login with a fresh `esaas_csrf` cookie and form token, plus `extra_cookies`, extra request
/// `headers` and the form `fields` (email, password, next, ...).
pub async fn post_login_with(
    app: &TestApp,
    extra_cookies: &str,
    headers: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> Response {
    let token = login_form_token(app).await;
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(fields);
    let mut request = plain_client()
        .post(app.url("/login"))
        .header("cookie", format!("esaas_csrf={token}; {extra_cookies}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.form(&form).send().await.unwrap()
}

/// Log in without a cookie jar; returns the session cookie value.
pub async fn session_for(app: &TestApp, email: &str, password: &str) -> String {
    let response = post_login(app, "", email, password).await;
    assert_eq!(response.status(), 303);
    cookie_value(&set_cookie(&response, "esaas_session").expect("login sets esaas_session"))
}

/// GET `path` with a session cookie.
pub async fn get_with(app: &TestApp, session: &str, path: &str) -> Response {
    plain_client()
        .get(app.url(path))
        .header("cookie", format!("esaas_session={session}"))
        .send()
        .await
        .unwrap()
}

/// The `Location` header.
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
