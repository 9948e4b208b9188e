//! Inside a cluster's Elasticsearch, as the inspector last saw it: `GET .../clusters/{name}/nodes`,
//! `.../indices` (keyset paging by name, `health=` filter), `.../shards` (`index=` filter, paged),
//! `.../health-report` (why it is not green, in plain words), and the one change the portal makes there,
//! `PUT .../indices/{index}/replicas` (audited; 200 with the change).
//!
//! Reads come from Postgres only (`es_inspections`), never from Elasticsearch: `observed_at` says how old
//! they are, and `error` why the last poll failed (the data is then the last known).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::access::TenantCtx;
use super::clusters::{ClusterPath, load, page_size};
use super::cursor;
use super::error::{ApiError, ApiResult, Problem};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::monitoring::inspector::actions;
use crate::monitoring::inspector::repo::{self as inspections, Inspection};
use crate::monitoring::inspector::snapshot::{
    IndexView, NodeView, Problem as HealthProblem, ShardView,
};
use crate::request_meta::RequestMeta;

/// The Elasticsearch routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_nodes))
        .routes(routes!(list_indices))
        .routes(routes!(list_shards))
        .routes(routes!(health_report))
        .routes(routes!(set_replicas))
}

/// Why the last poll failed (the data shown is the last known).
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionError {
    /// `unreachable`, `authentication`, `forbidden`, `timeout`, `busy`, `api`, `decode` or `tls`.
    pub kind: String,
    /// What happened, in words a user can act on.
    pub message: String,
    /// When.
    pub at: DateTime<Utc>,
}

fn error_of(i: &Inspection) -> Option<InspectionError> {
    i.error.as_ref().map(|(kind, message, at)| InspectionError {
        kind: kind.clone(),
        message: message.clone(),
        at: *at,
    })
}

/// The cluster's nodes.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodeList {
    /// When Elasticsearch was last read (null: never).
    pub observed_at: Option<DateTime<Utc>>,
    /// Why the last poll failed, if it did.
    pub error: Option<InspectionError>,
    /// Nodes by name.
    pub items: Vec<NodeView>,
}

/// A page of indices.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexPage {
    /// When Elasticsearch was last read (null: never).
    pub observed_at: Option<DateTime<Utc>>,
    /// Why the last poll failed, if it did.
    pub error: Option<InspectionError>,
    /// Indices by name.
    pub items: Vec<IndexView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A page of shard copies.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShardPage {
    /// When Elasticsearch was last read (null: never).
    pub observed_at: Option<DateTime<Utc>>,
    /// Why the last poll failed, if it did.
    pub error: Option<InspectionError>,
    /// By index, shard, primary first.
    pub items: Vec<ShardView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// Why the cluster is not green.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthReport {
    /// `green`, `yellow`, `red`, or `unknown` before Elasticsearch was first reached.
    pub status: String,
    /// When Elasticsearch was last read (null: never).
    pub observed_at: Option<DateTime<Utc>>,
    /// Why the last poll failed, if it did.
    pub error: Option<InspectionError>,
    /// The problems, worst first (empty when green).
    pub problems: Vec<HealthProblem>,
}

/// Index health filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IndexHealth {
    /// All copies assigned.
    Green,
    /// A replica unassigned.
    Yellow,
    /// A primary unassigned.
    Red,
}

impl IndexHealth {
    fn as_str(self) -> &'static str {
        match self {
            IndexHealth::Green => "green",
            IndexHealth::Yellow => "yellow",
            IndexHealth::Red => "red",
        }
    }
}

/// Query of the index list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndexListQuery {
    /// Only indices with this health.
    #[param(inline)]
    pub health: Option<IndexHealth>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Query of the shard list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShardListQuery {
    /// Only copies of this index.
    pub index: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where a page of indices starts: after this name.
#[derive(Debug, Serialize, Deserialize)]
struct AfterIndex {
    n: String,
}

/// Where a page of shards starts: after this copy.
#[derive(Debug, Serialize, Deserialize)]
struct AfterShard {
    i: String,
    s: u64,
    r: bool,
    n: Option<String>,
}

async fn inspection(api: &ApiState, ctx: &TenantCtx, name: &str) -> ApiResult<Inspection> {
    let cluster = load(api, ctx, name).await?;
    Ok(inspections::load(&api.app.db, cluster.id)
        .await?
        .unwrap_or_default())
}

/// The cluster's Elasticsearch nodes: roles, heap, CPU, disk, shards, as last polled.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/clusters/{name}/nodes",
    tag = "elasticsearch",
    operation_id = "listClusterNodes",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
    ),
    responses((status = 200, description = "The nodes", body = NodeList))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn list_nodes(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    ApiPath(path): ApiPath<ClusterPath>,
) -> ApiResult<Json<NodeList>> {
    let i = inspection(&api, &ctx, &path.name).await?;
    Ok(Json(NodeList {
        observed_at: i.observed_at,
        error: error_of(&i),
        items: i.snapshot.nodes,
    }))
}

/// The cluster's indices by name, as last polled.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/clusters/{name}/indices",
    tag = "elasticsearch",
    operation_id = "listClusterIndices",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        IndexListQuery,
    ),
    responses((status = 200, description = "A page of indices", body = IndexPage))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn list_indices(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    ApiPath(path): ApiPath<ClusterPath>,
    ApiQuery(query): ApiQuery<IndexListQuery>,
) -> ApiResult<Json<IndexPage>> {
    let limit = page_size(query.limit)? as usize;
    let after = query
        .cursor
        .as_deref()
        .map(cursor::decode::<AfterIndex>)
        .transpose()?;
    let i = inspection(&api, &ctx, &path.name).await?;
    let error = error_of(&i);
    let mut items: Vec<IndexView> = i
        .snapshot
        .indices
        .into_iter()
        .filter(|x| query.health.is_none_or(|h| x.health == h.as_str()))
        .filter(|x| after.as_ref().is_none_or(|a| x.name > a.n))
        .take(limit + 1)
        .collect();
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = more.then(|| items.last()).flatten().map(|last| {
        cursor::encode(&AfterIndex {
            n: last.name.clone(),
        })
    });
    Ok(Json(IndexPage {
        observed_at: i.observed_at,
        error,
        items,
        next_cursor,
    }))
}

/// The cluster's shard copies (state, node, why unassigned), as last polled.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/clusters/{name}/shards",
    tag = "elasticsearch",
    operation_id = "listClusterShards",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ShardListQuery,
    ),
    responses((status = 200, description = "A page of shard copies", body = ShardPage))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn list_shards(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    ApiPath(path): ApiPath<ClusterPath>,
    ApiQuery(query): ApiQuery<ShardListQuery>,
) -> ApiResult<Json<ShardPage>> {
    let limit = page_size(query.limit)? as usize;
    let after = query
        .cursor
        .as_deref()
        .map(cursor::decode::<AfterShard>)
        .transpose()?;
    let i = inspection(&api, &ctx, &path.name).await?;
    let error = error_of(&i);
    let key = |s: &ShardView| (s.index.clone(), s.shard, !s.primary, s.node.clone());
    let mut items: Vec<ShardView> = i
        .snapshot
        .shards
        .into_iter()
        .filter(|s| query.index.as_ref().is_none_or(|x| &s.index == x))
        .filter(|s| {
            after
                .as_ref()
                .is_none_or(|a| key(s) > (a.i.clone(), a.s, a.r, a.n.clone()))
        })
        .take(limit + 1)
        .collect();
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = more.then(|| items.last()).flatten().map(|last| {
        cursor::encode(&AfterShard {
            i: last.index.clone(),
            s: last.shard,
            r: !last.primary,
            n: last.node.clone(),
        })
    });
    Ok(Json(ShardPage {
        observed_at: i.observed_at,
        error,
        items,
        next_cursor,
    }))
}

/// Why the cluster is yellow or red, in plain words, with what to do.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/clusters/{name}/health-report",
    tag = "elasticsearch",
    operation_id = "getClusterHealthReport",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
    ),
    responses((status = 200, description = "The health report", body = HealthReport))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn health_report(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    ApiPath(path): ApiPath<ClusterPath>,
) -> ApiResult<Json<HealthReport>> {
    let i = inspection(&api, &ctx, &path.name).await?;
    let status = if i.observed_at.is_some() {
        i.snapshot.health.status.clone()
    } else {
        "unknown".to_owned()
    };
    Ok(Json(HealthReport {
        status,
        observed_at: i.observed_at,
        error: error_of(&i),
        problems: i.snapshot.problems,
    }))
}

/// `{tenant}`, `{name}` and `{index}` of an index path.
#[derive(Debug, Deserialize)]
pub struct IndexPath {
    /// Cluster name.
    pub name: String,
    /// Index name.
    pub index: String,
}

/// Set an index's replicas.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicasRequest {
    /// `number_of_replicas`, 0 to 32.
    #[schema(example = 0, minimum = 0, maximum = 32)]
    pub replicas: u32,
}

/// The change made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplicasView {
    /// The index.
    pub index: String,
    /// Replicas before (null when it could not be read).
    pub before: Option<u32>,
    /// Replicas now.
    pub replicas: u32,
}

/// Set the number of replicas of an index (the fix the health report offers when replicas cannot be
/// assigned). Applied at once in Elasticsearch, audited; the index must be one the inspector has seen.
#[utoipa::path(
    put,
    path = "/tenants/{tenant}/clusters/{name}/indices/{index}/replicas",
    tag = "elasticsearch",
    operation_id = "setIndexReplicas",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ("index" = String, Path, description = "Index name", example = "logs-2026.12.01"),
    ),
    request_body = ReplicasRequest,
    responses(
        (status = 200, description = "Changed", body = ReplicasView),
        (status = 403, description = "Your role may not change clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Elasticsearch cannot be reached or refused the change", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid number of replicas", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Elasticsearch did not answer in time", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn set_replicas(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<IndexPath>,
    ApiJson(body): ApiJson<ReplicasRequest>,
) -> ApiResult<Json<ReplicasView>> {
    let change = actions::set_replicas(
        &api.app,
        &ctx.service_caller(meta),
        &path.name,
        &path.index,
        body.replicas,
    )
    .await
    .map_err(ApiError::from)?;
    Ok(Json(ReplicasView {
        index: change.index,
        before: change.before,
        replicas: change.replicas,
    }))
}
