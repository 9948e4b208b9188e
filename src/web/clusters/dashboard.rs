//! `GET /t/{tenant}/clusters/{name}`: the cluster dashboard. The live part ([`super::live`]) refreshes every
//! 3 s with htmx (a reload does the same without JavaScript); the rest is static: connection info (HTTPS
//! endpoint, user, a reveal-password button for roles that may see credentials, a copyable curl line, the
//! Kibana endpoint) and the actions the caller's role may use (each leads to a confirmation page; those that
//! cannot work now are shown disabled with the reason). The actions card is rendered from the live view
//! (one snapshot with the rest) and refreshed with it, out of band.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use http::{HeaderValue, header};

use crate::auth::{CurrentUser, TenantAccess};
use crate::clusters::repo::{self, Cluster};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::clusters::credentials as reveal;
use crate::web::clusters::elasticsearch::{self as es_section, EsQuery, EsSection};
use crate::web::clusters::live::{self, LiveView};
use crate::web::layout::Layout;
use crate::web::nav;

pub use super::connect::ConnectionView;

/// `templates/clusters/dashboard.html`.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/dashboard.html")]
pub struct DashboardPage {
    /// Base layout.
    pub layout: Layout,
    /// The live part.
    pub live: LiveView,
    /// Connection info.
    pub conn: ConnectionView,
    /// The "Elasticsearch" section (the inspector's last snapshot).
    pub es: EsSection,
}

/// Build the dashboard page.
pub async fn page(
    state: &AppState,
    access: &TenantAccess,
    name: &str,
    es_query: &EsQuery,
) -> AppResult<DashboardPage> {
    let (cluster, live) = live::load(state, access, name).await?;
    page_of(state, access, cluster, live, es_query).await
}

/// The dashboard page of a cluster and its live view.
async fn page_of(
    state: &AppState,
    access: &TenantAccess,
    cluster: Cluster,
    live: LiveView,
    es_query: &EsQuery,
) -> AppResult<DashboardPage> {
    let es = es_section::load(state, access, &cluster, es_query).await?;
    let slug = access.tenant.slug.to_string();
    Ok(DashboardPage {
        layout: nav::layout_for(state, &access.user, &cluster.name, Some(&slug)).await?,
        conn: ConnectionView::of(
            &cluster,
            &slug,
            &state.config.exposure,
            access.role.can_view_credentials(),
            access.role.can_change_clusters(),
        ),
        es,
        live,
    })
}

/// `GET /t/{tenant}/clusters/{name}`. A cluster that was deleted (for instance while the delete request
/// redirected here) sends the browser to the list with a message instead of a bare 404.
#[tracing::instrument(skip_all, fields(tenant, cluster))]
pub async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<(String, String)>, PathRejection>,
    es_query: Result<Query<EsQuery>, QueryRejection>,
    jar: CookieJar,
) -> AppResult<Response> {
    // In the order `TenantAccess` then `Query` answered: an undecodable path or a tenant the user may not
    // see is 404 before a bad query string is 400.
    let Path((tenant, name)) = path.map_err(|_| AppError::NotFound)?;
    let span = tracing::Span::current();
    span.record("tenant", tenant.as_str());
    span.record("cluster", name.as_str());
    let (access, found) = live::load_for(&state, user, &tenant, &name).await?;
    let es_query = match es_query {
        Ok(Query(q)) => q,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let page = match found {
        Some((cluster, live)) => page_of(&state, &access, cluster, live, &es_query).await,
        None => Err(AppError::NotFound),
    };
    match page {
        Ok(mut page) => {
            // The one view of a password just revealed (POST-redirect-GET): shown here, cleared here.
            let revealed = reveal::take(
                &jar,
                access.tenant.slug.as_str(),
                &name,
                state.config.is_https(),
            );
            let Some((revealed, clear)) = revealed else {
                return Ok(page.into_response());
            };
            page.conn.username = revealed.username;
            page.conn.password = revealed.password;
            let mut response = page.into_response();
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, clear);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(AppError::NotFound) => {
            let mut conn = state.db.acquire().await?;
            if repo::was_deleted(&mut conn, access.tenant.id, &name).await? {
                Ok(live::gone_redirect(&access, &name))
            } else {
                Err(AppError::NotFound)
            }
        }
        Err(e) => Err(e),
    }
}
