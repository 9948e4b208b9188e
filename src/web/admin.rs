//! Platform admin pages under `/admin/...`: tenants (list, create, name and quota), users, storage classes. Every handler
//! takes [`crate::auth::PlatformAdmin`], so signed-in users who are not platform admins get 404 and do not
//! learn that these pages exist. The admin audit log lives in [`crate::web::audit`].

pub mod quota;
pub mod storage_classes;
pub mod tenants;
pub mod users;

use axum::Router;

use crate::state::AppState;

/// The admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(tenants::router())
        .merge(quota::router())
        .merge(users::router())
        .merge(storage_classes::router())
}
