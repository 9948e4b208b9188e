//! HTML pages: one module per page group, each exposing `router()`; askama page structs live beside their
//! handlers, templates in `templates/<area>/<page>.html`.

pub mod account;
pub mod admin;
pub mod audit;
pub mod clusters;
pub mod csrf;
pub mod error_page;
pub mod flash;
pub mod form;
pub mod health;
pub mod home;
pub mod layout;
pub mod login;
pub mod login_redirect;
pub mod nav;
pub mod tenants;
pub mod tokens;

use axum::Router;
use axum::middleware;

use crate::state::AppState;

/// Every HTML route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(login::router())
        .merge(home::router())
        .merge(account::router())
        .merge(nav::router())
        .merge(tenants::router())
        .merge(admin::router())
        .merge(audit::router())
        .merge(clusters::router())
        .merge(tokens::router())
        .layer(middleware::from_fn(login_redirect::middleware))
        .layer(middleware::from_fn(form::refuse_nul_in_url))
}
