//! `GET/POST /login` and `POST /logout`.
//!
//! Decisions (see also `crate::auth::throttle` and `crate::auth::session`):
//! - One message, "Email or password is incorrect.", with one status (422), for an unknown email, a wrong
//!   password and a disabled account, even when the disabled account's password is right: the login form
//!   never reveals that an account exists or is disabled. Each case runs one argon2id verification (a dummy
//!   hash for unknown emails) and the same queries, so they also take the same time. The audit row (seen by
//!   platform admins only) records the real reason.
//! - Throttling (`crate::auth::throttle`: per address, and a back-off per account that never slows the
//!   owner's usual addresses) is checked before the password is verified; a throttled attempt answers 429
//!   with `Retry-After` on the login page and is audited as `login.failed` with outcome `denied`.
//! - Failed and refused logins are audited with [`audit::record_repeated`]: repetitions within the login
//!   window are counted into one row per account (per address for the address rule) and source address.
//! - A successful login creates a new session (new row, new token), revokes the session the browser
//!   presented before (if any), clears the account's failures and writes `login.ok`; logout revokes the
//!   session, clears the cookie and writes `logout`.
//! - `next` is honoured only for local paths (see [`safe_next`]).

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
use serde_json::json;

use crate::accounts::users;
use crate::audit::{self, Actor, AuditEntry};
use crate::auth::throttle::{self, Rule};
use crate::auth::{CurrentUser, password, session};
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
        .route("/login", get(login_page).post(login))
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

fn anonymous() -> Actor {
    Actor {
        user_id: None,
        label: "anonymous".into(),
    }
}

/// `POST /login`.
#[tracing::instrument(skip_all, fields(source = meta.source_addr.as_deref().unwrap_or("-")))]
async fn login(
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

    let keys = throttle::Keys::new(&email, meta.source_addr.as_deref());
    let attempt = match throttle::begin(&state.db, &state.config, keys).await? {
        Ok(attempt) => attempt,
        Err(throttled) => {
            // Refusals by the address rule are one row per address (the emails tried are the attacker's
            // choice, so they would make as many rows as attempts); the others one per account and address.
            let (target_kind, target, rule) = match throttled.rule {
                Rule::Address => (
                    "address",
                    meta.source_addr.clone().unwrap_or_default(),
                    "address",
                ),
                Rule::AccountFromAddress => ("user", email.clone(), "account_from_address"),
                Rule::Account => ("user", email.clone(), "account"),
            };
            let mut conn = state.db.acquire().await?;
            audit::record_repeated(
                &mut conn,
                AuditEntry {
                    actor: &anonymous(),
                    tenant_id: None,
                    action: "login.failed",
                    target_kind,
                    target: &target,
                    outcome: "denied",
                    before: None,
                    after: Some(json!({ "reason": "throttled", "rule": rule })),
                    meta: &meta,
                },
                state.config.login_window,
            )
            .await?;
            let retry_after_secs = throttled.retry_after_secs;
            tracing::info!(retry_after_secs, ?throttled.rule, "login throttled");
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
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return Ok(response);
        }
    };

    let credentials = {
        let mut conn = state.db.acquire().await?;
        users::credentials_by_email(&mut conn, &email).await?
    };
    let (user, hash) = match credentials {
        Some(c) => (Some(c.user), Some(c.password_hash)),
        None => (None, None),
    };
    let verified = password::verify(password, hash).await;

    match user {
        Some(user) if verified && user.disabled_at.is_none() => {
            attempt.succeeded(&state.db).await?;
            let mut tx = state.db.begin().await?;
            if let Some(old) = session::presented_token(&headers) {
                session::revoke_token(&mut tx, &old).await?;
            }
            let user_agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok());
            let new =
                session::create(&mut tx, &state.config, user.id, None, &meta, user_agent).await?;
            audit::record(
                &mut tx,
                AuditEntry {
                    actor: &Actor::user(user.id, &user.email),
                    tenant_id: None,
                    action: "login.ok",
                    target_kind: "user",
                    target: &user.email,
                    outcome: "ok",
                    before: None,
                    after: None,
                    meta: &meta,
                },
            )
            .await?;
            tx.commit().await?;
            tracing::info!(user_id = %user.id, "login");
            let jar = csrf::clear_anonymous_token(jar)
                .add(session::session_cookie(&state.config, &new.token));
            Ok((jar, Redirect::to(next.unwrap_or("/"))).into_response())
        }
        user => {
            attempt.failed(&state.db, &state.config).await?;
            let (actor, reason) = match &user {
                None => (anonymous(), "unknown_account"),
                Some(u) if verified => (Actor::user(u.id, &u.email), "account_disabled"),
                Some(u) => (Actor::user(u.id, &u.email), "wrong_password"),
            };
            let mut conn = state.db.acquire().await?;
            audit::record_repeated(
                &mut conn,
                AuditEntry {
                    actor: &actor,
                    tenant_id: None,
                    action: "login.failed",
                    target_kind: "user",
                    target: &email,
                    outcome: "failed",
                    before: None,
                    after: Some(json!({ "reason": reason })),
                    meta: &meta,
                },
                state.config.login_window,
            )
            .await?;
            Ok(render(
                &state,
                jar,
                StatusCode::UNPROCESSABLE_ENTITY,
                &email,
                next,
                Some(LOGIN_FAILED.into()),
            ))
        }
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
    if let Some(user) = user
        && let Some(session_id) = user.session_id
    {
        let mut tx = state.db.begin().await?;
        session::revoke(&mut tx, session_id).await?;
        audit::record(
            &mut tx,
            AuditEntry {
                actor: &Actor::user(user.user_id, &user.email),
                tenant_id: None,
                action: "logout",
                target_kind: "user",
                target: &user.email,
                outcome: "ok",
                before: None,
                after: None,
                meta: &meta,
            },
        )
        .await?;
        tx.commit().await?;
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
