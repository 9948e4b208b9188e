//! `POST /t/{tenant}/clusters/{name}/credentials`: reveal the `elastic` user's password. The service reads
//! it from the Kubernetes Secret and audits the reveal; this page shows it once, on the response to the POST
//! (never in a URL, never cached: `Cache-Control: no-store`), inside the dashboard. When Kubernetes cannot be
//! reached, does not answer in time, or the Secret does not exist yet, the dashboard says so instead.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};

use crate::auth::TenantAccess;
use crate::clusters::credentials;
use crate::error::{AppError, AppResult};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::web::clusters::{caller, cluster_path, dashboard};
use crate::web::flash::{self, FlashKind};

/// `POST /t/{tenant}/clusters/{name}/credentials`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn reveal(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let creds = match credentials::reveal(&state, &caller(&access, meta), &slug, &name).await {
        Ok(c) => c,
        Err(AppError::Conflict(message) | AppError::GatewayTimeout(message)) => {
            return Ok(flash::redirect(
                &cluster_path(&slug, &name),
                FlashKind::Error,
                message,
            ));
        }
        Err(AppError::Unavailable(e)) => {
            tracing::warn!(error = %e, "credentials reveal: Kubernetes unavailable");
            return Ok(flash::redirect(
                &cluster_path(&slug, &name),
                FlashKind::Error,
                "The password could not be read: Kubernetes cannot be reached right now. Try again later.",
            ));
        }
        Err(e) => return Err(e),
    };
    let mut page = dashboard::page(&state, &access, &name, &Default::default()).await?;
    page.conn.password = creds.password;
    page.conn.username = creds.username;
    let mut response = page.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
