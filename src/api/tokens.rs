//! `/api/v1/tokens`: your API tokens: list (with last use), create (the secret is in the answer once), and
//! revoke. A token can only make tokens that can do no more than itself: a tenant-limited token makes
//! tokens limited to the same tenant and only sees and revokes those; read-only tokens make none (they may
//! only GET); and no token it makes expires later than itself.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, ApiPath};
use crate::accounts::service;
use crate::accounts::tokens::{self, NewToken, TokenRow};
use crate::error::FieldErrors;
use crate::request_meta::RequestMeta;
use crate::tenants::{members, repo};

/// The token routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// An API token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// The token's first characters (`esaas_` and 8 more), to recognise it.
    #[schema(example = "esaas_4kT9pQ2x")]
    pub prefix: String,
    /// The tenant it is limited to (`null`: all your tenants).
    pub tenant: Option<String>,
    /// GET only.
    pub read_only: bool,
    /// `active`, `expired` or `revoked`.
    pub state: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Expires at.
    pub expires_at: DateTime<Utc>,
    /// Last used at (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked at.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&TokenRow> for TokenView {
    fn from(t: &TokenRow) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            prefix: tokens::display_prefix(&t.prefix),
            tenant: t.tenant_slug.clone(),
            read_only: t.read_only,
            state: t.state().to_owned(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// Your tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    /// Tokens, newest first.
    pub items: Vec<TokenView>,
}

/// A new token, with its secret (shown this once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// The secret: send it as `Authorization: Bearer <token>`. It cannot be shown again.
    #[schema(example = "esaas_4kT9pQ2x...")]
    pub token: String,
    /// The token's details.
    #[serde(flatten)]
    pub details: TokenView,
}

/// What a new token may do.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for (1 to 100 characters).
    #[schema(example = "ci-pipeline")]
    pub name: String,
    /// Limit the token to this tenant (slug of a tenant you can see).
    #[serde(default)]
    pub tenant: Option<String>,
    /// GET requests only.
    #[serde(default)]
    pub read_only: bool,
    /// Lifetime in days, 1 to 365 (default 90), and never past the expiry of the token making it (left out,
    /// the new token expires with it at the latest).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365, example = 90)]
    pub expires_in_days: Option<i64>,
}

/// Your API tokens (a tenant-limited token sees the tokens limited to its tenant).
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "tokens",
    operation_id = "listTokens",
    responses((status = 200, description = "Your tokens", body = TokenList))
)]
#[tracing::instrument(skip_all)]
async fn list_tokens(State(api): State<ApiState>, caller: ApiCaller) -> ApiResult<Json<TokenList>> {
    let mut conn = api.app.db.acquire().await?;
    let rows = tokens::list_for_user(&mut conn, caller.user_id(), caller.tenant_limit()).await?;
    Ok(Json(TokenList {
        items: rows.iter().map(TokenView::from).collect(),
    }))
}

/// Create a token. The answer holds the secret once (`Cache-Control: no-store`).
#[utoipa::path(
    post,
    path = "/tokens",
    tag = "tokens",
    operation_id = "createToken",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The new token and its secret", body = CreatedToken,
            headers(("Location" = String, description = "The token's URL"))),
        (status = 403, description = "A tenant-limited token may only create tokens for its tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or lifetime (past this token's expiry), or a tenant you cannot see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_token(
    State(api): State<ApiState>,
    caller: ApiCaller,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> ApiResult<Response> {
    let mut conn = api.app.db.acquire().await?;
    let tenant_id = match body.tenant.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(slug) => {
            let tenant = repo::by_slug(&mut conn, slug).await?;
            let visible = match &tenant {
                Some(t) => {
                    caller.tenant_limit().is_none_or(|l| l == t.id)
                        && (caller.owner.user_is_platform_admin
                            || members::role_of(&mut conn, t.id, caller.user_id())
                                .await?
                                .is_some())
                }
                None => false,
            };
            match tenant {
                Some(t) if visible => Some(t.id),
                _ => {
                    let mut e = FieldErrors::new();
                    e.add("tenant", format!("No tenant `{slug}` that you can see."));
                    return Err(e.into());
                }
            }
        }
    };
    if let Some(limit) = caller.tenant_limit()
        && tenant_id != Some(limit)
    {
        return Err(ApiError::forbidden(
            "This token is limited to one tenant: it may only create tokens limited to that tenant \
             (set `tenant`).",
        ));
    }
    let maker_expires_at = caller.owner.expires_at;
    let lifetime = tokens::lifetime_within(body.expires_in_days, maker_expires_at);
    let new = NewToken {
        name: body.name,
        tenant_id,
        read_only: body.read_only,
        expires_in_days: *lifetime.as_ref().unwrap_or(&tokens::DEFAULT_TTL_DAYS),
    };
    if let Err(mut errors) = lifetime {
        if let Err(more) = tokens::validate(&new) {
            errors.0.extend(more.0);
        }
        return Err(errors.into());
    }
    let (row, secret) = service::issue_token(
        &api.app.db,
        &caller.actor(),
        &meta,
        caller.user_id(),
        &new,
        Some(maker_expires_at),
    )
    .await?;
    let mut response = (
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(CreatedToken {
            token: secret,
            details: TokenView::from(&row),
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/tokens/{}", row.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `{id}` of a token path.
#[derive(Debug, Deserialize)]
pub struct TokenPath {
    /// Token id.
    pub id: Uuid,
}

/// Revoke one of your tokens (at once; revoking a revoked token changes nothing).
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "tokens",
    operation_id = "revokeToken",
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"))
)]
#[tracing::instrument(skip_all)]
async fn revoke_token(
    State(api): State<ApiState>,
    caller: ApiCaller,
    meta: RequestMeta,
    ApiPath(path): ApiPath<TokenPath>,
) -> ApiResult<StatusCode> {
    service::revoke_token(
        &api.app.db,
        &api.app.api_tokens,
        &caller.actor(),
        &meta,
        caller.user_id(),
        path.id,
        caller.tenant_limit(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
