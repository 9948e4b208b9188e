//! `GET /admin/users` (every account, a create form), `POST /admin/users` (create an account: email,
//! optional name, initial password, platform admin flag) and `POST /admin/users/{id}/disable|enable`.
//!
//! Passwords are never shown back: a form with errors keeps the other fields and empties the password.
//! Disabling revokes the account's sessions ([`users::change_disabled`]); an admin cannot disable their own
//! account (so the portal cannot lose its last admin by accident). Writes `user.create`, `user.disable`,
//! `user.enable` audit rows in the same transaction.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use crate::accounts::email::Email;
use crate::accounts::password;
use crate::accounts::{service, users};
use crate::audit::Actor;
use crate::auth::{CurrentUser, PlatformAdmin};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;

const USERS_URL: &str = "/admin/users";

/// The user admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(USERS_URL, get(users_page).post(create_user))
        .route("/admin/users/{id}/disable", post(disable))
        .route("/admin/users/{id}/enable", post(enable))
}

/// One account in the list.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Platform admin.
    pub is_platform_admin: bool,
    /// Disabled.
    pub disabled: bool,
    /// Created, `YYYY-MM-DD`.
    pub created: String,
    /// This is the caller.
    pub is_self: bool,
}

/// The create form (the password is never echoed back).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewUserForm {
    /// Email.
    #[serde(default)]
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Initial password.
    #[serde(default)]
    pub password: String,
    /// Checkbox: present (`on`) when checked.
    #[serde(default)]
    pub platform_admin: Option<String>,
}

/// `templates/admin/users.html`.
#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    /// Base layout.
    pub layout: Layout,
    /// Accounts.
    pub users: Vec<UserRow>,
    /// Create form values (password emptied).
    pub form: NewUserForm,
    /// Messages beside the create form's fields.
    pub errors: FieldErrors,
}

async fn render(
    state: &AppState,
    me: &CurrentUser,
    mut form: NewUserForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let all = users::list(&mut conn).await?;
    drop(conn);
    form.password.clear();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = UsersPage {
        layout: nav::layout_for(state, me, "Users", None).await?,
        users: all
            .into_iter()
            .map(|u| UserRow {
                is_self: u.id == me.user_id,
                id: u.id,
                email: u.email,
                display_name: u.display_name,
                is_platform_admin: u.is_platform_admin,
                disabled: u.disabled_at.is_some(),
                created: u.created_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
        form,
        errors,
    };
    Ok((status, page).into_response())
}

/// `GET /admin/users`.
#[tracing::instrument(skip_all)]
async fn users_page(
    State(state): State<AppState>,
    PlatformAdmin(me): PlatformAdmin,
) -> AppResult<Response> {
    render(&state, &me, NewUserForm::default(), FieldErrors::new()).await
}

/// `POST /admin/users`.
#[tracing::instrument(skip_all)]
async fn create_user(
    State(state): State<AppState>,
    PlatformAdmin(me): PlatformAdmin,
    meta: RequestMeta,
    Form(form): Form<NewUserForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let email = Email::parse(&form.email)
        .map_err(|m| errors.add("email", m))
        .ok();
    if let Err(m) = password::check_strength(&form.password) {
        errors.add("password", m);
    }
    let display_name = form.display_name.trim().to_owned();
    if display_name.chars().count() > 100 {
        errors.add("display_name", "A name has at most 100 characters.");
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return render(&state, &me, form, errors).await;
    };
    let is_admin = form.platform_admin.is_some();
    let actor = Actor::user(me.user_id, &me.email);
    let pw = SecretString::from(form.password.clone());
    let created = match service::create_user(
        &state.db,
        &actor,
        &meta,
        &email,
        &display_name,
        pw,
        is_admin,
    )
    .await
    {
        Ok(u) => u,
        Err(AppError::Validation(errors)) => return render(&state, &me, form, errors).await,
        Err(e) => return Err(e),
    };
    Ok(flash::redirect(
        USERS_URL,
        FlashKind::Success,
        format!("Account {} created.", created.email),
    ))
}

async fn set_disabled(
    state: &AppState,
    me: &CurrentUser,
    meta: &RequestMeta,
    id: Uuid,
    disabled: bool,
) -> AppResult<Response> {
    if disabled && id == me.user_id {
        return Ok(flash::redirect(
            USERS_URL,
            FlashKind::Error,
            "You cannot disable your own account.",
        ));
    }
    let actor = Actor::user(me.user_id, &me.email);
    let cache = &state.api_tokens;
    let user = service::set_disabled(&state.db, cache, &actor, meta, id, disabled).await?;
    let what = if disabled {
        "disabled; their sessions were ended"
    } else {
        "enabled"
    };
    Ok(flash::redirect(
        USERS_URL,
        FlashKind::Success,
        format!("{} {what}.", user.email),
    ))
}

/// `POST /admin/users/{id}/disable`.
#[tracing::instrument(skip(state, me, meta))]
async fn disable(
    State(state): State<AppState>,
    PlatformAdmin(me): PlatformAdmin,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    set_disabled(&state, &me, &meta, id, true).await
}

/// `POST /admin/users/{id}/enable`.
#[tracing::instrument(skip(state, me, meta))]
async fn enable(
    State(state): State<AppState>,
    PlatformAdmin(me): PlatformAdmin,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    set_disabled(&state, &me, &meta, id, false).await
}
