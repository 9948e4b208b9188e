//! Bearer-token authentication of `/api/v1` (the API takes no session cookies, so CSRF cannot apply).
//!
//! [`authenticate`] runs before every authenticated route: it reads `Authorization: Bearer <token>`,
//! resolves the token (cached for `accounts::token_cache::CACHE_TTL` so the hot path does not query the database for it),
//! applies the token's rate limit (429) and the read-only rule (a read-only token may only `GET`: 403), and
//! stores the [`ApiCaller`] in the request for handlers. A missing, malformed, unknown, expired or revoked
//! token, or one whose user is disabled, is 401 with `WWW-Authenticate: Bearer`.
//!
//! A token never grants more than its user has: roles come from the user's memberships (read per request),
//! platform-admin powers only when the user is a platform admin AND the token is not limited to a tenant,
//! and a tenant-limited token sees no other tenant (404).
//!
//! Cache (`accounts::token_cache`, kept in `AppState`): a revocation through this process, in the API or the web UI, and disabling a
//! user in the web UI take effect at once (the entries are dropped); a change made elsewhere (CLI, another
//! replica) within `CACHE_TTL`. Expiry is checked on every request.
//! `last_used_at` is written at most once a minute per token, off the request path.
//!
//! After a change (`POST`, `PUT`, `PATCH`, `DELETE`) under `/tenants/{tenant}`, the tenant's cached cluster
//! reads are dropped (see `api::reads`), so API clients read their own writes.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{Method, header};
use uuid::Uuid;

use super::ApiState;
use super::error::ApiError;
use crate::accounts::tokens::{self, TokenOwner};
use crate::audit::Actor;

/// The authenticated caller of an API request.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The token and its user.
    pub owner: Arc<TokenOwner>,
}

impl ApiCaller {
    /// The user.
    pub fn user_id(&self) -> Uuid {
        self.owner.user_id
    }

    /// The token's id.
    pub fn token_id(&self) -> Uuid {
        self.owner.token_id
    }

    /// Platform-admin powers: the user is one and the token is not limited to a tenant.
    pub fn is_platform_admin(&self) -> bool {
        self.owner.user_is_platform_admin && self.owner.tenant_id.is_none()
    }

    /// The tenant the token is limited to.
    pub fn tenant_limit(&self) -> Option<Uuid> {
        self.owner.tenant_id
    }

    /// The audit actor: the user, labelled with the token's display prefix.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.owner.user_id),
            label: format!(
                "{} (token {})",
                self.owner.email,
                tokens::display_prefix(&self.owner.prefix)
            ),
        }
    }

    /// 403 unless the caller has platform-admin powers.
    pub fn require_platform_admin(&self) -> Result<(), ApiError> {
        if self.is_platform_admin() {
            Ok(())
        } else if self.owner.user_is_platform_admin {
            Err(ApiError::forbidden(
                "This token is limited to one tenant and carries no platform-admin powers.",
            ))
        } else {
            Err(ApiError::forbidden("Only platform admins may do this."))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<ApiCaller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("A bearer token is required."))
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &http::HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("Send an API token: `Authorization: Bearer esaas_...`.")
        })?
        .to_str()
        .map_err(|_| ApiError::unauthorized("The Authorization header is malformed."))?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("Use the Bearer scheme: `Authorization: Bearer esaas_...`.")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "Use the Bearer scheme: `Authorization: Bearer esaas_...`.",
        ));
    }
    Ok(token.trim())
}

/// Middleware of every authenticated API route (see the module docs).
pub async fn authenticate(State(api): State<ApiState>, mut req: Request, next: Next) -> Response {
    let token = match bearer(req.headers()) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let owner = match api.app.api_tokens.resolve(&api.app.db, token).await {
        Ok(Some(owner)) => owner,
        Ok(None) => {
            return ApiError::unauthorized(
                "The API token is unknown, expired or revoked (or its user is disabled).",
            )
            .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Err(retry_after) = api.limiter.check(owner.token_id) {
        return ApiError::new(
            http::StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!("This token sent too many requests; retry in {retry_after} s."),
        )
        .with_retry_after(retry_after)
        .into_response();
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if owner.read_only && !safe {
        return ApiError::forbidden("This token is read-only: it may only send GET requests.")
            .into_response();
    }
    req.extensions_mut().insert(ApiCaller { owner });
    if safe {
        return next.run(req).await;
    }
    // A change through the API: the tenant's cached reads must not outlive it.
    let tenant = req
        .uri()
        .path()
        .strip_prefix("/api/v1/tenants/")
        .and_then(|rest| rest.split('/').next())
        .filter(|slug| !slug.is_empty())
        .map(str::to_owned);
    let response = next.run(req).await;
    if let Some(slug) = tenant {
        api.reads.invalidate_tenant(&slug);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn reads_bearer_tokens() {
        assert_eq!(bearer(&headers("Bearer esaas_x")).unwrap(), "esaas_x");
        assert_eq!(bearer(&headers("bearer  esaas_x ")).unwrap(), "esaas_x");
        assert!(bearer(&headers("Basic abc")).is_err());
        assert!(bearer(&headers("esaas_x")).is_err());
        assert!(bearer(&http::HeaderMap::new()).is_err());
    }
}
