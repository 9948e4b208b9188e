//! Bearer-token authentication of `/api/v1` (the API takes no session cookies, so CSRF cannot apply).
//!
//! [`authenticate`] runs before every authenticated route: it reads `Authorization: Bearer <token>`,
//! resolves the token (cached for [`CACHE_TTL`] so the hot path does not query the database for it),
//! applies the token's rate limit (429) and the read-only rule (a read-only token may only `GET`: 403), and
//! stores the [`ApiCaller`] in the request for handlers. A missing, malformed, unknown, expired or revoked
//! token, or one whose user is disabled, is 401 with `WWW-Authenticate: Bearer`.
//!
//! A token never grants more than its user has: roles come from the user's memberships (read per request),
//! platform-admin powers only when the user is a platform admin AND the token is not limited to a tenant,
//! and a tenant-limited token sees no other tenant (404).
//!
//! Cache (kept in [`AppState`]): a revocation through this process, in the API or the web UI, and disabling a
//! user in the web UI take effect at once (the entries are dropped); a change made elsewhere (CLI, another
//! replica) within `CACHE_TTL`. Expiry is checked on every request.
//! `last_used_at` is written at most once a minute per token, off the request path.
//!
//! After a change (`POST`, `PUT`, `PATCH`, `DELETE`) under `/tenants/{tenant}`, the tenant's cached cluster
//! reads are dropped (see `api::reads`), so API clients read their own writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::request::Parts;
use http::{Method, header};
use uuid::Uuid;

use super::ApiState;
use super::error::ApiError;
use super::token_store::{self, TokenOwner};
use crate::audit::Actor;
use crate::error::AppResult;
use crate::state::AppState;

/// How long a resolved token is trusted without asking the database again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// Entries kept before the cache is swept.
const SWEEP_ABOVE: usize = 10_000;

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
                token_store::display_prefix(&self.owner.prefix)
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

#[derive(Debug, Clone)]
struct Entry {
    owner: Arc<TokenOwner>,
    fetched: Instant,
}

/// Recently resolved tokens by hash.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The owner of a live token, from the cache or the database.
    pub async fn resolve(&self, app: &AppState, token: &str) -> AppResult<Option<Arc<TokenOwner>>> {
        if !token_store::is_well_formed(token) {
            return Ok(None);
        }
        let hash = token_store::hash(token);
        let now = Instant::now();
        let cached = self
            .lock()
            .get(&hash)
            .filter(|e| now.duration_since(e.fetched) < CACHE_TTL)
            .map(|e| e.owner.clone());
        let owner = match cached {
            Some(owner) => owner,
            None => {
                let Some((owner, stale)) = token_store::lookup(&app.db, &hash).await? else {
                    self.lock().remove(&hash);
                    return Ok(None);
                };
                if stale {
                    let db = app.db.clone();
                    let id = owner.token_id;
                    tokio::spawn(async move {
                        if let Err(e) = token_store::touch(&db, id).await {
                            tracing::warn!(error = %e, "could not record the token's last use");
                        }
                    });
                }
                let owner = Arc::new(owner);
                let mut entries = self.lock();
                if entries.len() > SWEEP_ABOVE {
                    entries.retain(|_, e| now.duration_since(e.fetched) < CACHE_TTL);
                }
                entries.insert(
                    hash,
                    Entry {
                        owner: owner.clone(),
                        fetched: now,
                    },
                );
                owner
            }
        };
        if owner.expires_at <= Utc::now() {
            return Ok(None);
        }
        Ok(Some(owner))
    }

    /// Drop a token from the cache (after it was revoked here).
    pub fn forget(&self, token_id: Uuid) {
        self.lock().retain(|_, e| e.owner.token_id != token_id);
    }

    /// Drop every token of a user from the cache (after the user was disabled here).
    pub fn forget_user(&self, user_id: Uuid) {
        self.lock().retain(|_, e| e.owner.user_id != user_id);
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
    let owner = match api.app.api_tokens.resolve(&api.app, token).await {
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
