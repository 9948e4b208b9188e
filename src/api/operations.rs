//! `/api/v1/tenants/{tenant}/operations`: the tenant's operations newest first (optionally of one cluster,
//! keyset-paginated by `(created_at, id)`), one operation (what clients poll after a 202), and cancelling a
//! pending one.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::access::TenantCtx;
use super::clusters::page_size;
use super::cursor;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiPath, ApiQuery};
use super::wire::{OperationPage, OperationView};
use crate::clusters::{self, service};
use crate::operations::repo::{self as ops, Operation};
use crate::request_meta::RequestMeta;

/// The operation routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_operations))
        .routes(routes!(get_operation))
        .routes(routes!(cancel_operation))
}

/// `{id}` of an operation path.
#[derive(Debug, Deserialize)]
pub struct OperationPath {
    /// Operation id.
    pub id: Uuid,
}

/// Query of the operation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OperationListQuery {
    /// Only operations of this cluster (by name).
    pub cluster: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where a page of operations starts: older than this one.
#[derive(Debug, Serialize, Deserialize)]
struct Before {
    at: DateTime<Utc>,
    id: Uuid,
}

/// List the tenant's operations, newest first.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/operations",
    tag = "operations",
    operation_id = "listOperations",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), OperationListQuery),
    responses((status = 200, description = "A page of operations", body = OperationPage))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn list_operations(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    ApiQuery(query): ApiQuery<OperationListQuery>,
) -> ApiResult<Json<OperationPage>> {
    let limit = page_size(query.limit)?;
    let before = query
        .cursor
        .as_deref()
        .map(cursor::decode::<Before>)
        .transpose()?;
    let mut conn = api.app.db.acquire().await?;
    let cluster = query.cluster.as_deref();
    let before = before.map(|b| (b.at, b.id));
    let mut items: Vec<OperationView> = ops::page_for_tenant(
        &mut conn,
        ctx.tenant.id,
        cluster,
        before,
        i64::from(limit) + 1,
    )
    .await?
    .into_iter()
    .map(|op| OperationView::listed(op, ctx.slug()))
    .collect();
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last()).flatten().map(|last| {
        cursor::encode(&Before {
            at: last.created_at,
            id: last.id,
        })
    });
    Ok(Json(OperationPage { items, next_cursor }))
}

async fn view(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    op: &Operation,
) -> ApiResult<OperationView> {
    let name = clusters::repo::name_of(conn, op.cluster_id).await?;
    Ok(OperationView::new(op, ctx.slug(), &name))
}

/// One operation (poll it after a 202 until `done`).
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/operations/{id}",
    tag = "operations",
    operation_id = "getOperation",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("id" = Uuid, Path, description = "Operation id"),
    ),
    responses((status = 200, description = "The operation", body = OperationView))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn get_operation(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    ApiPath(path): ApiPath<OperationPath>,
) -> ApiResult<Json<OperationView>> {
    let mut conn = api.app.db.acquire().await?;
    let op = ops::get(&mut conn, ctx.tenant.id, path.id).await?;
    Ok(Json(view(&mut conn, &ctx, &op).await?))
}

/// Cancel an unfinished operation (pending, applying, waiting or stalled): it ends `cancelled` and its change
/// is rolled back. The spec from before it is restored as a new generation (it must fit the quota) and, when
/// something had been applied, a rollback operation applies it (`params.rollback_of` names the cancelled one);
/// a cancelled create removes the cluster like a delete. A delete cannot be cancelled once its Elasticsearch
/// resource was deleted.
#[utoipa::path(
    post,
    path = "/tenants/{tenant}/operations/{id}/cancel",
    tag = "operations",
    operation_id = "cancelOperation",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("id" = Uuid, Path, description = "Operation id"),
    ),
    responses(
        (status = 200, description = "The cancelled operation", body = OperationView),
        (status = 403, description = "Your role may not change clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The operation has finished, its delete was already applied, or the spec from before it no longer fits the quota", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn cancel_operation(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<OperationPath>,
) -> ApiResult<Json<OperationView>> {
    let op = service::cancel(&api.app, &ctx.service_caller(meta), path.id)
        .await
        .map_err(ApiError::from)?;
    let mut conn = api.app.db.acquire().await?;
    Ok(Json(view(&mut conn, &ctx, &op).await?))
}
