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
use super::views::{OperationPage, OperationView, StepView};
use crate::clusters::service;
use crate::error::{AppError, AppResult};
use crate::operations::model::{OperationKind, OperationState, Step};
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

/// One page of a tenant's operations, newest first, as views.
async fn page(
    conn: &mut PgConnection,
    tenant_slug: &str,
    tenant_id: Uuid,
    cluster: Option<&str>,
    before: Option<&Before>,
    limit: i64,
) -> AppResult<Vec<OperationView>> {
    let rows = sqlx::query!(
        r#"SELECT o.id, c.name AS cluster, o.kind, o.state, o.params, o.target_generation, o.steps,
                  o.last_error, o.stalled_reason, o.attempts, o.requested_by, o.created_at, o.started_at,
                  o.applied_at, o.finished_at
           FROM operations o JOIN clusters c ON c.id = o.cluster_id
           WHERE o.tenant_id = $1 AND ($2::text IS NULL OR c.name = $2)
             AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3, $4::uuid))
           ORDER BY o.created_at DESC, o.id DESC
           LIMIT $5"#,
        tenant_id,
        cluster,
        before.map(|b| b.at),
        before.map(|b| b.id),
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let bad =
                |what: &str| AppError::Internal(anyhow::anyhow!("operation {}: bad {what}", r.id));
            let kind = OperationKind::parse(&r.kind).ok_or_else(|| bad("kind"))?;
            let state = OperationState::parse(&r.state).ok_or_else(|| bad("state"))?;
            let steps: Vec<Step> =
                serde_json::from_value(r.steps.clone()).map_err(|_| bad("steps"))?;
            Ok(OperationView {
                id: r.id,
                tenant: tenant_slug.to_owned(),
                cluster: r.cluster,
                kind: kind.into(),
                state: state.into(),
                done: !state.is_active(),
                params: r.params,
                target_generation: r.target_generation,
                steps: steps
                    .into_iter()
                    .map(|s| StepView {
                        at: s.at,
                        message: s.message,
                    })
                    .collect(),
                last_error: r.last_error,
                stalled_reason: r.stalled_reason,
                attempts: r.attempts,
                requested_by: r.requested_by,
                created_at: r.created_at,
                started_at: r.started_at,
                applied_at: r.applied_at,
                finished_at: r.finished_at,
            })
        })
        .collect()
}

/// The name of an operation's cluster.
async fn cluster_name(conn: &mut PgConnection, cluster_id: Uuid) -> AppResult<String> {
    Ok(
        sqlx::query_scalar!("SELECT name FROM clusters WHERE id = $1", cluster_id)
            .fetch_one(&mut *conn)
            .await?,
    )
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
    let mut conn = api.app.db.acquire().await.map_err(AppError::from)?;
    let mut items = page(
        &mut conn,
        ctx.slug(),
        ctx.tenant.id,
        query.cluster.as_deref(),
        before.as_ref(),
        i64::from(limit) + 1,
    )
    .await?;
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
    let name = cluster_name(conn, op.cluster_id).await?;
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
    let mut conn = api.app.db.acquire().await.map_err(AppError::from)?;
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
    let mut conn = api.app.db.acquire().await.map_err(AppError::from)?;
    Ok(Json(view(&mut conn, &ctx, &op).await?))
}
