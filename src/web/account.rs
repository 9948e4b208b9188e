//! `GET /account` and `POST /account/password`: the signed-in user's own account and the change-password
//! form.
//!
//! The flow (throttling, verification, session rotation, revoking tokens, audit rows) is
//! [`crate::auth::password_change`]; this page checks the new password ([`password::check_strength`], its
//! confirmation, different from the current one) and shows every message beside its field. The form offers
//! (checked when the user has any) to revoke every API token of the user with the change.

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

use crate::accounts::password;
use crate::accounts::tokens;
use crate::auth::password_change::{self, PasswordChange, PasswordChangeRequest};
use crate::auth::{CurrentUser, session};
use crate::error::{AppResult, FieldErrors};
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

    let request = PasswordChangeRequest {
        current: SecretString::from(form.current_password),
        new: SecretString::from(form.new_password),
        revoke_tokens: form.revoke_tokens.is_some(),
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let cache = &state.api_tokens;
    let outcome = password_change::change_password(
        &state.db,
        &state.config,
        cache,
        &user,
        request,
        &meta,
        user_agent,
    )
    .await?;
    let (new, tokens_revoked) = match outcome {
        PasswordChange::Changed {
            session,
            tokens_revoked,
        } => (session, tokens_revoked),
        PasswordChange::Throttled(throttled) => {
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
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(throttled.retry_after_secs),
            );
            return Ok(response);
        }
        PasswordChange::WrongCurrent => {
            let mut errors = FieldErrors::new();
            errors.add("current_password", "The current password is incorrect.");
            let page = page(&state, &user, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let jar = jar.add(session::session_cookie(&state.config, &new.token));
    let message = match tokens_revoked {
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
