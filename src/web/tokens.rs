//! `GET/POST /account/tokens` and `POST /account/tokens/{id}/revoke`: the signed-in user's API tokens.
//!
//! Creating a token shows its secret once on the answer page (`Cache-Control: no-store`; never in a flash
//! cookie, never again). Tokens can be limited to one of the user's tenants and to reads. Rows, rules and
//! audit rows are `accounts::tokens`'s; this page only renders and collects the form (the CSRF middleware
//! checks its `csrf_token`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{StatusCode, header};
use serde::Deserialize;
use uuid::Uuid;

use crate::accounts::service;
use crate::accounts::tokens::{self, NewToken, TokenRow};
use crate::auth::CurrentUser;
use crate::error::{AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav::{self, TenantChoice};

/// The token routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/tokens", get(tokens_page).post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

/// A token as the page lists it.
#[derive(Debug, Clone)]
pub struct TokenItem {
    /// Id (for the revoke form).
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// `esaas_` and 8 characters.
    pub prefix: String,
    /// Tenant slug, or "all your tenants".
    pub scope: String,
    /// "read-only" or "read-write".
    pub access: &'static str,
    /// `active`, `expired`, `revoked`.
    pub state: &'static str,
    /// Created (UTC, minutes).
    pub created: String,
    /// Expires.
    pub expires: String,
    /// Last used, or "never".
    pub last_used: String,
}

fn minute(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl From<&TokenRow> for TokenItem {
    fn from(t: &TokenRow) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            prefix: tokens::display_prefix(&t.prefix),
            scope: t
                .tenant_slug
                .clone()
                .unwrap_or_else(|| "all your tenants".into()),
            access: if t.read_only {
                "read-only"
            } else {
                "read-write"
            },
            state: t.state(),
            created: minute(t.created_at),
            expires: minute(t.expires_at),
            last_used: t.last_used_at.map_or_else(|| "never".into(), minute),
        }
    }
}

/// The form as submitted (and re-displayed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenForm {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Tenant slug, empty for all.
    #[serde(default)]
    pub tenant: String,
    /// Checkbox: present when checked.
    #[serde(default)]
    pub read_only: Option<String>,
    /// Days.
    #[serde(default)]
    pub expires_in_days: String,
}

/// `templates/account/tokens.html`.
#[derive(Template, WebTemplate)]
#[template(path = "account/tokens.html")]
pub struct TokensPage {
    /// Base layout.
    pub layout: Layout,
    /// The user's tokens, newest first.
    pub tokens: Vec<TokenItem>,
    /// Tenants a token can be limited to.
    pub tenants: Vec<TenantChoice>,
    /// The form's values.
    pub form: TokenForm,
    /// Messages beside the fields.
    pub errors: FieldErrors,
    /// A token just created: (secret, name). Shown once.
    pub created: Option<(String, String)>,
    /// Default lifetime, for the form.
    pub default_days: i64,
    /// Longest lifetime.
    pub max_days: i64,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    form: TokenForm,
    errors: FieldErrors,
    created: Option<(String, String)>,
) -> AppResult<TokensPage> {
    let mut conn = state.db.acquire().await?;
    let rows = tokens::list_for_user(&mut conn, user.user_id, None).await?;
    Ok(TokensPage {
        layout: nav::layout_for(state, user, "API tokens", None).await?,
        tokens: rows.iter().map(TokenItem::from).collect(),
        tenants: nav::member_tenants(state, user.user_id).await?,
        form,
        errors,
        created,
        default_days: tokens::DEFAULT_TTL_DAYS,
        max_days: tokens::MAX_TTL_DAYS,
    })
}

/// `GET /account/tokens`.
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
async fn tokens_page(State(state): State<AppState>, user: CurrentUser) -> AppResult<TokensPage> {
    let form = TokenForm {
        expires_in_days: tokens::DEFAULT_TTL_DAYS.to_string(),
        ..TokenForm::default()
    };
    page(&state, &user, form, FieldErrors::new(), None).await
}

/// `POST /account/tokens`: create, then show the secret once.
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let days = match form.expires_in_days.trim() {
        "" => tokens::DEFAULT_TTL_DAYS,
        raw => raw.parse::<i64>().unwrap_or_else(|_| {
            errors.add("expires_in_days", "Enter a whole number of days.");
            tokens::DEFAULT_TTL_DAYS
        }),
    };
    let slug = form.tenant.trim();
    let tenant_id = if slug.is_empty() {
        None
    } else {
        let tenants = nav::member_tenants(&state, user.user_id).await?;
        match tenants.iter().find(|t| t.slug == slug) {
            Some(t) => Some(t.id),
            None => {
                errors.add("tenant", "Choose one of your tenants.");
                None
            }
        }
    };
    let new = NewToken {
        name: form.name.clone(),
        tenant_id,
        read_only: form.read_only.is_some(),
        expires_in_days: days,
    };
    if let Err(more) = tokens::validate(&new) {
        errors.0.extend(more.0);
    }
    if !errors.is_empty() {
        let page = page(&state, &user, form, errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let actor = crate::audit::Actor::user(user.user_id, &user.email);
    let (row, secret) =
        service::issue_token(&state.db, &actor, &meta, user.user_id, &new, None).await?;
    let fresh = TokenForm {
        expires_in_days: tokens::DEFAULT_TTL_DAYS.to_string(),
        ..TokenForm::default()
    };
    let page = page(
        &state,
        &user,
        fresh,
        FieldErrors::new(),
        Some((secret, row.name)),
    )
    .await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

/// `POST /account/tokens/{id}/revoke`.
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let actor = crate::audit::Actor::user(user.user_id, &user.email);
    let cache = &state.api_tokens;
    let row =
        service::revoke_token(&state.db, cache, &actor, &meta, user.user_id, id, None).await?;
    Ok(flash::redirect(
        "/account/tokens",
        FlashKind::Success,
        format!(
            "The token “{}” ({}) is revoked.",
            row.name,
            tokens::display_prefix(&row.prefix)
        ),
    ))
}
