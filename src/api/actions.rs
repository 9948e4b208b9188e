//! Cluster actions: `POST .../clusters/{name}/{scale|resize|restart|upgrade}` (202 with the operation) and
//! `PUT .../clusters/{name}/deletion-protection` (200 with the cluster: nothing changes in Kubernetes).
//! All accept `If-Match` (see [`super::clusters`]).

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::access::TenantCtx;
use super::clusters::{ClusterPath, accepted, change_caller, cluster_response, load};
use super::error::{ApiResult, Problem};
use super::extract::{ApiJson, ApiPath};
use super::wire::OperationView;
use crate::clusters::service;
use crate::request_meta::RequestMeta;
use crate::spec::SizeChange;

/// The action routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(scale))
        .routes(routes!(resize))
        .routes(routes!(restart))
        .routes(routes!(upgrade))
        .routes(routes!(deletion_protection))
}

/// Scale one node set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleRequest {
    /// Node set name.
    #[schema(example = "default")]
    pub node_set: String,
    /// New number of nodes (production clusters keep an odd number of master-eligible nodes).
    #[schema(example = 5)]
    pub count: u32,
}

/// Set the number of nodes of a node set.
#[utoipa::path(
    post,
    path = "/tenants/{tenant}/clusters/{name}/scale",
    tag = "actions",
    operation_id = "scaleCluster",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ("If-Match" = Option<String>, Header, description = "The cluster's ETag: refuse (412) if it changed"),
    ),
    request_body = ScaleRequest,
    responses(
        (status = 202, description = "Accepted: the scale operation", body = OperationView,
            headers(("Location" = String, description = "The operation's URL"))),
        (status = 403, description = "Your role may not change clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another operation is pending or applying (a waiting or stalled one is superseded and ends `superseded`), or the cluster is being deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown node set, invalid count, or over quota", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn scale(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<ClusterPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ScaleRequest>,
) -> ApiResult<Response> {
    let op = service::scale(
        &api.app,
        &change_caller(&ctx, meta, &headers)?,
        &path.name,
        &body.node_set,
        body.count,
    )
    .await?;
    Ok(accepted(&ctx, &op, &path.name))
}

/// Resize every node of one node set; absent sizes keep their current value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResizeRequest {
    /// Node set name.
    #[schema(example = "default")]
    pub node_set: String,
    /// CPU per node, millicores.
    #[serde(default)]
    #[schema(example = 2000)]
    pub cpu_millis: Option<u32>,
    /// Memory per node, MiB.
    #[serde(default)]
    #[schema(example = 4096)]
    pub memory_mib: Option<u32>,
    /// Storage per node, GiB (can only grow).
    #[serde(default)]
    #[schema(example = 20)]
    pub storage_gib: Option<u32>,
}

/// Change CPU, memory or storage of the nodes of a node set.
#[utoipa::path(
    post,
    path = "/tenants/{tenant}/clusters/{name}/resize",
    tag = "actions",
    operation_id = "resizeCluster",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ("If-Match" = Option<String>, Header, description = "The cluster's ETag: refuse (412) if it changed"),
    ),
    request_body = ResizeRequest,
    responses(
        (status = 202, description = "Accepted: the resize operation", body = OperationView,
            headers(("Location" = String, description = "The operation's URL"))),
        (status = 403, description = "Your role may not change clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another operation is pending or applying (a waiting or stalled one is superseded and ends `superseded`), or the cluster is being deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown node set, invalid size, shrinking storage, or over quota", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn resize(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<ClusterPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ResizeRequest>,
) -> ApiResult<Response> {
    let size = SizeChange {
        cpu_millis: body.cpu_millis,
        memory_mib: body.memory_mib,
        storage_gib: body.storage_gib,
    };
    let op = service::resize(
        &api.app,
        &change_caller(&ctx, meta, &headers)?,
        &path.name,
        &body.node_set,
        size,
    )
    .await?;
    Ok(accepted(&ctx, &op, &path.name))
}

/// Rolling restart, one pod at a time (no body).
#[utoipa::path(
    post,
    path = "/tenants/{tenant}/clusters/{name}/restart",
    tag = "actions",
    operation_id = "restartCluster",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ("If-Match" = Option<String>, Header, description = "The cluster's ETag: refuse (412) if it changed"),
    ),
    responses(
        (status = 202, description = "Accepted: the restart operation", body = OperationView,
            headers(("Location" = String, description = "The operation's URL"))),
        (status = 403, description = "Your role may not change clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another operation is active, or the cluster is being deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn restart(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<ClusterPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let op = service::restart(&api.app, &change_caller(&ctx, meta, &headers)?, &path.name).await?;
    Ok(accepted(&ctx, &op, &path.name))
}

/// Upgrade to a newer version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeRequest {
    /// Target version: offered by `GET /versions`, newer than the current one, at most one major ahead.
    #[schema(example = "9.2.1")]
    pub version: String,
}

/// Upgrade the Elasticsearch (and Kibana) version.
#[utoipa::path(
    post,
    path = "/tenants/{tenant}/clusters/{name}/upgrade",
    tag = "actions",
    operation_id = "upgradeCluster",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ("If-Match" = Option<String>, Header, description = "The cluster's ETag: refuse (412) if it changed"),
    ),
    request_body = UpgradeRequest,
    responses(
        (status = 202, description = "Accepted: the upgrade operation", body = OperationView,
            headers(("Location" = String, description = "The operation's URL"))),
        (status = 403, description = "Your role may not change clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another operation is pending or applying (a waiting or stalled one is superseded and ends `superseded`), or the cluster is being deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Version not offered, not newer, or more than one major ahead", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn upgrade(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<ClusterPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpgradeRequest>,
) -> ApiResult<Response> {
    let op = service::upgrade(
        &api.app,
        &change_caller(&ctx, meta, &headers)?,
        &path.name,
        &body.version,
    )
    .await?;
    Ok(accepted(&ctx, &op, &path.name))
}

/// Deletion protection on or off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletionProtectionRequest {
    /// `true` refuses deletion until turned off again.
    pub enabled: bool,
}

/// Turn deletion protection on or off. Answers 200 with the cluster.
#[utoipa::path(
    put,
    path = "/tenants/{tenant}/clusters/{name}/deletion-protection",
    tag = "actions",
    operation_id = "setDeletionProtection",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ("If-Match" = Option<String>, Header, description = "The cluster's ETag: refuse (412) if it changed"),
    ),
    request_body = DeletionProtectionRequest,
    responses(
        (status = 200, description = "The cluster", body = super::wire::ClusterView,
            headers(("ETag" = String, description = "The cluster's ETag"))),
        (status = 403, description = "Your role may not change clusters", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn deletion_protection(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<ClusterPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DeletionProtectionRequest>,
) -> ApiResult<Response> {
    service::set_deletion_protection(
        &api.app,
        &change_caller(&ctx, meta, &headers)?,
        &path.name,
        body.enabled,
    )
    .await?;
    let cluster = load(&api, &ctx, &path.name).await?;
    Ok(cluster_response(
        StatusCode::OK,
        &ctx,
        &cluster,
        &api.app.config.exposure,
    ))
}
