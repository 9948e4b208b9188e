//! Tenant pages under `/t/{tenant}/...` owned by the tenants area: members and quota (the clusters pages
//! live with the clusters, the audit page in [`crate::web::audit`]). Every handler takes
//! [`crate::auth::TenantAccess`], so non-members get 404.

pub mod members;
pub mod quota;

use axum::Router;

use crate::state::AppState;

/// The members and quota routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(members::router())
        .merge(quota::router())
}
