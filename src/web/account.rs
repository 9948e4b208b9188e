//! `GET /account` and `POST /account/password`: the signed-in user's own account and the change-password
//! form.
//!
//! Changing the password needs the current one (verified with argon2id off the runtime, throttled like
//! logins so a stolen session cannot be used to guess it), a new one that passes
//! [`password::check_strength`] and its confirmation; messages appear beside the fields. On success every
//! session of the user is revoked and this browser gets a fresh session (rotation on a credential change),
//! so all other devices are logged out. The form offers (checked when the user has any) to revoke every API
//! token of the user in the same transaction: whoever knew the old password may have made some. Writes
//! `user.password_change` audit rows (ok or failed) and a `token.revoke` row per revoked token.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::tokens;
use crate::accounts::users;
use crate::audit::{self, Actor, AuditEntry};
use crate::auth::throttle;
use crate::auth::{CurrentUser, password, session};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;

/// The account routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
}

/// `templates/auth/account.html`.
#[derive(Template, WebTemplate)]
#[template(path = "auth/account.html")]
pub struct AccountPage {
    /// Base layout.
    pub layout: Layout,
    /// The user's email.
    pub email: String,
    /// The user's display name.
    pub display_name: String,
    /// Whether the user is a platform admin.
    pub is_platform_admin: bool,
    /// Messages beside the change-password fields.
    pub errors: FieldErrors,
    /// The user's API tokens that are neither revoked nor expired (the form offers to revoke them).
    pub active_tokens: i64,
}

async fn page(state: &AppState, user: &CurrentUser, errors: FieldErrors) -> AppResult<AccountPage> {
    let active_tokens = {
        let mut conn = state.db.acquire().await?;
        tokens::count_active(&mut conn, user.user_id).await?
    };
    Ok(AccountPage {
        active_tokens,
        layout: nav::layout_for(state, user, "Your account", None).await?,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        is_platform_admin: user.is_platform_admin,
        errors,
    })
}

/// `GET /account`.
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
async fn account_page(State(state): State<AppState>, user: CurrentUser) -> AppResult<AccountPage> {
    page(&state, &user, FieldErrors::new()).await
}

/// The change-password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    /// The current password.
    #[serde(default)]
    pub current_password: String,
    /// The new password.
    #[serde(default)]
    pub new_password: String,
    /// The new password again.
    #[serde(default)]
    pub new_password_confirm: String,
    /// Present (`on`) when the user's API tokens are to be revoked too.
    #[serde(default)]
    pub revoke_tokens: Option<String>,
}

fn audit_entry<'a>(
    actor: &'a Actor,
    user: &'a CurrentUser,
    outcome: &'a str,
    meta: &'a RequestMeta,
) -> AuditEntry<'a> {
    AuditEntry {
        actor,
        tenant_id: None,
        action: "user.password_change",
        target_kind: "user",
        target: &user.email,
        outcome,
        before: None,
        after: (outcome != "ok").then(|| json!({ "reason": "wrong_current_password" })),
        meta,
    }
}

/// `POST /account/password`.
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    if form.current_password.is_empty() {
        errors.add("current_password", "Enter your current password.");
    }
    if let Err(msg) = password::check_strength(&form.new_password) {
        errors.add("new_password", msg);
    } else if form.new_password == form.current_password {
        errors.add(
            "new_password",
            "Choose a password different from the current one.",
        );
    } else if form.new_password != form.new_password_confirm {
        errors.add("new_password_confirm", "The two new passwords differ.");
    }
    if !errors.is_empty() {
        let page = page(&state, &user, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }

    let keys = throttle::Keys::new(&user.email, meta.source_addr.as_deref());
    let attempt = match throttle::begin(&state.db, &state.config, keys).await? {
        Ok(a) => a,
        Err(throttled) => {
            let retry_after_secs = throttled.retry_after_secs;
            let mut errors = FieldErrors::new();
            errors.add(
                "current_password",
                format!(
                    "Too many wrong passwords. Try again in {}.",
                    throttled.wait_text()
                ),
            );
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                page(&state, &user, errors).await?,
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return Ok(response);
        }
    };
    let hash = {
        let mut conn = state.db.acquire().await?;
        users::credentials_by_email(&mut conn, &user.email)
            .await?
            .map(|c| c.password_hash)
    };
    let actor = Actor::user(user.user_id, &user.email);
    if !password::verify(SecretString::from(form.current_password), hash).await {
        attempt.failed(&state.db, &state.config).await?;
        let mut conn = state.db.acquire().await?;
        audit::record(&mut conn, audit_entry(&actor, &user, "failed", &meta)).await?;
        let mut errors = FieldErrors::new();
        errors.add("current_password", "The current password is incorrect.");
        let page = page(&state, &user, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    attempt.succeeded(&state.db).await?;

    let mut tx = state.db.begin().await?;
    // Revokes every session of the user, this one included; this browser continues on a new one.
    users::set_password(&mut tx, user.user_id, SecretString::from(form.new_password)).await?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let new = session::create(
        &mut tx,
        &state.config,
        user.user_id,
        user.active_tenant_id,
        &meta,
        user_agent,
    )
    .await?;
    audit::record(&mut tx, audit_entry(&actor, &user, "ok", &meta)).await?;
    let revoked = if form.revoke_tokens.is_some() {
        tokens::revoke_all_for_user(&mut tx, user.user_id, &actor, &meta).await?
    } else {
        Vec::new()
    };
    tx.commit().await.map_err(AppError::from)?;
    if !revoked.is_empty() {
        state.api_tokens.forget_user(user.user_id);
    }
    tracing::info!(
        tokens_revoked = revoked.len(),
        "password changed; other sessions revoked"
    );
    let jar = jar.add(session::session_cookie(&state.config, &new.token));
    let message = match revoked.len() {
        0 => "Your password was changed. Your other sessions were logged out.".to_owned(),
        1 => {
            "Your password was changed. Your other sessions were logged out and your API token was \
              revoked."
                .to_owned()
        }
        n => format!(
            "Your password was changed. Your other sessions were logged out and your {n} API tokens \
             were revoked."
        ),
    };
    Ok(flash::redirect_with(jar, "/account", FlashKind::Success, message).into_response())
}
