//! `CurrentUser`: the signed-in user of this request, from the session cookie. Handlers that take it cannot
//! run for anonymous requests (HTML: redirect to /login). The session is resolved once per request
//! (see [`crate::auth::session::resolve`]) and shared with the CSRF middleware and other extractors.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use uuid::Uuid;

use crate::auth::session::{self, Resolved};
use crate::error::AppError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// User id.
    pub user_id: Uuid,
    /// Lower-case email.
    pub email: String,
    /// Display name (may be empty).
    pub display_name: String,
    /// Platform admins manage tenants and quotas and may see every tenant.
    pub is_platform_admin: bool,
    /// The session row id (None for API-token callers).
    pub session_id: Option<Uuid>,
    /// The session's CSRF token, for forms (empty for API-token callers).
    pub csrf_token: String,
    /// The tenant last switched to in the UI.
    pub active_tenant_id: Option<Uuid>,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match session::resolve(&parts.headers, &mut parts.extensions, state).await? {
            Resolved::User(user) => Ok(user),
            Resolved::Anonymous { .. } => Err(AppError::Unauthorized),
        }
    }
}

/// `Option<CurrentUser>`: pages that look different for signed-in users (the login page) take this; a
/// database failure is still an error (503), never "anonymous".
impl OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        let resolved = session::resolve(&parts.headers, &mut parts.extensions, state).await?;
        Ok(resolved.user().cloned())
    }
}
