//! Extractors that encode who may call a handler, so a handler cannot forget the check. `CurrentUser` lives
//! in `current_user.rs`; tenant access (`TenantAccess`) lives with the tenants.

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

/// A signed-in platform admin. Anonymous callers get `Unauthorized` (login redirect); signed-in users who
/// are not platform admins get `NotFound`, so admin URLs are not revealed to them.
#[derive(Debug, Clone)]
pub struct PlatformAdmin(pub CurrentUser);

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.is_platform_admin {
            Ok(PlatformAdmin(user))
        } else {
            Err(AppError::NotFound)
        }
    }
}
