//! The audit log over the API: `GET /tenants/{tenant}/audit` (owners, admins and platform admins) and
//! `GET /audit` (platform admins, every tenant). Newest first, 50 rows a page, keyset-paginated by id.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::access::TenantCtx;
use super::auth::ApiCaller;
use super::cursor;
use super::error::{ApiResult, Problem};
use super::extract::ApiQuery;
use crate::audit::query::{self, AuditFilter, AuditRow, Cursor};
use crate::tenants::repo;

/// The routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(tenant_audit))
        .routes(routes!(platform_audit))
}

/// One audit row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (email, with the token for API calls; `system`, `cli`, ...).
    pub actor: String,
    /// Tenant slug.
    pub tenant: Option<String>,
    /// Action (`cluster.scale`, `member.add`, `token.create`, ...).
    pub action: String,
    /// Kind of target.
    pub target_kind: String,
    /// Target (cluster name, email, slug, token prefix).
    pub target: String,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    /// State before.
    pub before: Option<serde_json::Value>,
    /// State after.
    pub after: Option<serde_json::Value>,
    /// Request id (`x-request-id`).
    pub request_id: Option<String>,
    /// Source address.
    pub source_addr: Option<String>,
}

impl From<AuditRow> for AuditEntryView {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            at: r.at,
            actor: r.actor,
            tenant: r.tenant_slug,
            action: r.action,
            target_kind: r.target_kind,
            target: r.target,
            outcome: r.outcome,
            before: r.before,
            after: r.after,
            request_id: r.request_id,
            source_addr: r.source_addr,
        }
    }
}

/// A page of audit rows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// Rows, newest first.
    pub items: Vec<AuditEntryView>,
    /// Pass as `cursor` for older rows; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of a tenant's audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantAuditQuery {
    /// Actions starting with this (`cluster.`, `member.add`).
    pub action: Option<String>,
    /// Actor contains this (case-insensitive).
    pub actor: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of the platform audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlatformAuditQuery {
    /// Only this tenant (slug).
    pub tenant: Option<String>,
    /// Actions starting with this.
    pub action: Option<String>,
    /// Actor contains this (case-insensitive).
    pub actor: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BeforeId {
    id: i64,
}

fn nonblank(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

async fn read(
    api: &ApiState,
    filter: AuditFilter,
    raw_cursor: Option<&str>,
) -> ApiResult<AuditPage> {
    let position = match raw_cursor {
        None => Cursor::Newest,
        Some(c) => Cursor::Before(cursor::decode::<BeforeId>(c)?.id),
    };
    let mut conn = api.app.db.acquire().await?;
    let page = query::page(&mut conn, &filter, position).await?;
    Ok(AuditPage {
        next_cursor: page.older.map(|id| cursor::encode(&BeforeId { id })),
        items: page.rows.into_iter().map(AuditEntryView::from).collect(),
    })
}

/// The tenant's audit log (owners, admins, platform admins).
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/audit",
    tag = "audit",
    operation_id = "tenantAuditLog",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), TenantAuditQuery),
    responses(
        (status = 200, description = "A page of audit rows", body = AuditPage),
        (status = 403, description = "Only owners and admins see the audit log", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn tenant_audit(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    ApiQuery(q): ApiQuery<TenantAuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    if !ctx.caller.is_platform_admin() {
        ctx.require(
            ctx.membership.is_some_and(|r| r.can_administer()),
            "Only owners and admins see the audit log",
        )?;
    }
    let filter = AuditFilter {
        tenant_id: Some(ctx.tenant.id),
        actor: nonblank(q.actor),
        action_prefix: nonblank(q.action),
        from: None,
        to: None,
    };
    Ok(Json(read(&api, filter, q.cursor.as_deref()).await?))
}

/// The audit log of the whole platform (platform admins).
#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    operation_id = "platformAuditLog",
    params(PlatformAuditQuery),
    responses(
        (status = 200, description = "A page of audit rows", body = AuditPage),
        (status = 403, description = "Only platform admins", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn platform_audit(
    State(api): State<ApiState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<PlatformAuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    caller.require_platform_admin()?;
    let tenant_id = match nonblank(q.tenant) {
        None => None,
        Some(slug) => {
            let mut conn = api.app.db.acquire().await?;
            match repo::by_slug(&mut conn, &slug).await? {
                Some(t) => Some(t.id),
                // An unknown tenant has no rows.
                None => {
                    return Ok(Json(AuditPage {
                        items: Vec::new(),
                        next_cursor: None,
                    }));
                }
            }
        }
    };
    let filter = AuditFilter {
        tenant_id,
        actor: nonblank(q.actor),
        action_prefix: nonblank(q.action),
        from: None,
        to: None,
    };
    Ok(Json(read(&api, filter, q.cursor.as_deref()).await?))
}
