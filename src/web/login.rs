//! `GET/POST /login` and `POST /logout`.
//!
//! The flow (throttling, verification, the one message for every failure, sessions, audit rows) is
//! [`crate::auth::login`]; this page parses the form and renders the outcome: one message, "Email or
//! password is incorrect.", with one status (422), for an unknown email, a wrong password and a disabled
//! account; 429 with `Retry-After` when throttled. `next` is honoured only for local paths (see
//! [`safe_next`]).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::login::{self, LoginOutcome};
use crate::auth::{CurrentUser, session};
use crate::error::AppResult;
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::web::csrf;
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;

/// The message for every failed login.
pub const LOGIN_FAILED: &str = "Email or password is incorrect.";

/// Longest email kept in audit rows and throttling keys (the longest valid address).
const MAX_EMAIL_LEN: usize = 254;

/// The login and logout routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(logout))
}

/// `templates/auth/login.html`.
#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    /// Base layout (anonymous).
    pub layout: Layout,
    /// The double-submit CSRF token.
    pub csrf_token: String,
    /// The email typed before (re-rendered after a failure).
    pub email: String,
    /// Where to go after logging in (already checked to be local).
    pub next: String,
    /// The error to show above the form.
    pub error: Option<String>,
}

/// A `next` target is honoured only when it is a local absolute path: starts with a single `/`, no
/// backslashes, printable ASCII only, at most 2048 bytes, and not the login or logout page itself.
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    let n = next?;
    let local = n.starts_with('/')
        && !n.starts_with("//")
        && n.len() <= 2048
        && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'\\');
    let loops = ["/login", "/logout"]
        .iter()
        .any(|p| n == *p || n.starts_with(&format!("{p}?")) || n.starts_with(&format!("{p}/")));
    (local && !loops).then_some(n)
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    /// Where to go after logging in.
    pub next: Option<String>,
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    /// Email as typed.
    #[serde(default)]
    pub email: String,
    /// Password as typed (never logged).
    #[serde(default)]
    pub password: String,
    /// Where to go after logging in.
    pub next: Option<String>,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field("next", &self.next)
            .finish()
    }
}

fn render(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    email: &str,
    next: Option<&str>,
    error: Option<String>,
) -> Response {
    let (jar, csrf_token) = csrf::form_token_for_anonymous(jar, &state.config);
    let mut layout = Layout::anonymous("Log in");
    layout.flashes = flash::take();
    let page = LoginPage {
        layout,
        csrf_token,
        email: email.to_owned(),
        next: next.unwrap_or_default().to_owned(),
        error,
    };
    (status, jar, page).into_response()
}

/// `GET /login`: the form (signed-in users go straight on).
#[tracing::instrument(skip_all)]
async fn login_page(
    State(state): State<AppState>,
    jar: CookieJar,
    user: Option<CurrentUser>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    if user.is_some() {
        return Redirect::to(next.unwrap_or("/")).into_response();
    }
    render(&state, jar, StatusCode::OK, "", next, None)
}

/// `POST /login`.
#[tracing::instrument(skip_all, fields(source = meta.source_addr.as_deref().unwrap_or("-")))]
async fn log_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let email: String = form
        .email
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_EMAIL_LEN)
        .collect();
    if email.is_empty() || form.password.is_empty() {
        return Ok(render(
            &state,
            jar,
            StatusCode::UNPROCESSABLE_ENTITY,
            &email,
            next,
            Some("Enter your email and password.".into()),
        ));
    }
    let password = SecretString::from(form.password);
    let presented = session::presented_token(&headers);
    let browser = login::Browser {
        presented_session: presented.as_deref(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    };
    match login::authenticate(&state.db, &state.config, &email, password, browser, &meta).await? {
        LoginOutcome::LoggedIn { session: new, .. } => {
            let jar = csrf::clear_anonymous_token(jar)
                .add(session::session_cookie(&state.config, &new.token));
            Ok((jar, Redirect::to(next.unwrap_or("/"))).into_response())
        }
        LoginOutcome::Throttled(throttled) => {
            let message = format!(
                "Too many failed login attempts. Try again in {}.",
                throttled.wait_text()
            );
            let mut response = render(
                &state,
                jar,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                next,
                Some(message),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(throttled.retry_after_secs),
            );
            Ok(response)
        }
        LoginOutcome::Refused => Ok(render(
            &state,
            jar,
            StatusCode::UNPROCESSABLE_ENTITY,
            &email,
            next,
            Some(LOGIN_FAILED.into()),
        )),
    }
}

/// `POST /logout`: revoke the session, clear the cookie, back to the login page.
#[tracing::instrument(skip_all)]
async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    jar: CookieJar,
    user: Option<CurrentUser>,
) -> AppResult<Response> {
    if let Some(user) = &user {
        login::logout(&state.db, user, &meta).await?;
    }
    let jar = session::clear_session_cookie(jar);
    Ok(
        flash::redirect_with(jar, "/login", FlashKind::Info, "You have been logged out.")
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_be_a_local_path() {
        for ok in [
            "/",
            "/t/acme/clusters",
            "/account?tab=1",
            "/a/b#c",
            "/loginx",
        ] {
            assert_eq!(safe_next(Some(ok)), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/a\\b",
            "relative",
            "javascript:alert(1)",
            "/a b",
            "/\u{e9}",
            "/a\r\nSet-Cookie: x=1",
            "/login",
            "/login?next=/",
            "/logout",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(safe_next(None), None);
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), None);
    }
}
