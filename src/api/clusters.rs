//! `/api/v1/tenants/{tenant}/clusters`: list (filter by health, keyset pagination by name), create, read
//! (with `ETag: "<generation>"`), update the spec (reconfigure), delete, status, pods and the credentials
//! reveal. Every change goes through `clusters::service` (one transaction: validate, lock, quota,
//! operation, audit) and answers 202 with the operation and its `Location`.
//!
//! Optimistic concurrency: `PATCH`, `DELETE` and the actions accept `If-Match: "<generation>"` (or `*`) and
//! answer 412 when the cluster has moved on. The generation is checked when the request arrives and again
//! inside the service's transaction under the cluster's row lock, so a change slipping in between is refused
//! too.
//!
//! `DELETE` takes the confirmation as the query parameter `confirm_name` (bodies on DELETE are dropped by
//! some clients and proxies): `DELETE .../clusters/logs?confirm_name=logs`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::access::{TenantCtx, TenantParam};
use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult, Problem, pointer};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::wire::{
    ClusterPage, ClusterStatus, ClusterView, KibanaRequest, NodeSetRequest, OperationView, PodList,
    PodView, SpecRequest,
};
use super::{cursor, reads};
use crate::clusters::credentials;
use crate::clusters::repo::{self, Cluster, ListFilter};
use crate::clusters::service::{self, Caller, CreateRequest};
use crate::error::AppError;
use crate::k8s::expose::Exposure;
use crate::operations::repo::Operation;
use crate::request_meta::RequestMeta;
use crate::spec::SpecPatch;

/// The cluster routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_clusters, create_cluster))
        .routes(routes!(get_cluster, update_cluster, delete_cluster))
        .routes(routes!(cluster_status))
        .routes(routes!(cluster_pods))
        .routes(routes!(reveal_credentials))
}

/// `{name}` of a cluster path (`{tenant}` is [`TenantCtx`]'s).
#[derive(Debug, Deserialize)]
pub struct ClusterPath {
    /// Cluster name.
    pub name: String,
}

/// `{tenant}` and `{name}` of a cluster path, for the reads that resolve both in one query
/// ([`reads::cluster_in_tenant`]).
#[derive(Debug, Deserialize)]
pub struct TenantClusterPath {
    /// Tenant slug.
    pub tenant: String,
    /// Cluster name.
    pub name: String,
}

/// The `ETag` of a cluster: its generation, quoted.
pub fn etag(generation: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{generation}\"")).expect("digits are a valid header value")
}

/// What an `If-Match` header may hold (RFC 9110): `*`, or entity tags (`"3"`, `W/"x"`) separated by commas.
pub const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$"#;

/// True when `raw` matches [`IF_MATCH_PATTERN`].
pub fn if_match_is_well_formed(raw: &[u8]) -> bool {
    static PATTERN: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(IF_MATCH_PATTERN).expect("a valid pattern")
    });
    PATTERN.is_match(raw)
}

/// The service caller for a change, with the request's `If-Match` (if any) as a precondition: the service
/// checks it under the cluster's row lock and answers 412 with the current `ETag` (a value that is not text
/// matches nothing). An empty `If-Match` is no entity tag at all (RFC 9110 needs `*` or at least one tag):
/// 400, not a failed precondition, and so is anything else that is not `*` or a list of entity tags
/// ([`IF_MATCH_PATTERN`], as the document declares it).
pub fn change_caller(
    ctx: &TenantCtx,
    meta: RequestMeta,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let if_match = headers
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or(""));
    if let Some(raw) = headers.get(header::IF_MATCH)
        && !if_match_is_well_formed(raw.as_bytes())
    {
        return Err(ApiError::bad_parameter(
            "If-Match",
            "give the cluster's ETag (e.g. \"3\") or *",
        ));
    }
    Ok(ctx.service_caller(meta).with_if_match(if_match))
}

/// A live cluster of the tenant (404 otherwise).
pub async fn load(api: &ApiState, ctx: &TenantCtx, name: &str) -> ApiResult<Cluster> {
    let mut conn = api.app.db.acquire().await?;
    Ok(repo::get_by_name(&mut conn, ctx.tenant.id, name).await?)
}

/// 202 with the operation and `Location: /api/v1/tenants/{tenant}/operations/{id}`.
pub fn accepted(ctx: &TenantCtx, op: &Operation, cluster: &str) -> Response {
    let location = format!("/api/v1/tenants/{}/operations/{}", ctx.slug(), op.id);
    let mut response = (
        StatusCode::ACCEPTED,
        Json(OperationView::new(op, ctx.slug(), cluster)),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// A cluster with its `ETag`.
pub fn cluster_response(
    status: StatusCode,
    ctx: &TenantCtx,
    cluster: &Cluster,
    exposure: &Exposure,
) -> Response {
    (
        status,
        [(header::ETAG, etag(cluster.generation))],
        Json(ClusterView::new(cluster, ctx.slug(), exposure)),
    )
        .into_response()
}

/// Cluster health.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// All shards allocated.
    Green,
    /// Replicas missing.
    Yellow,
    /// Primaries missing.
    Red,
    /// Not observed (yet).
    Unknown,
}

impl Health {
    fn as_str(self) -> &'static str {
        match self {
            Health::Green => "green",
            Health::Yellow => "yellow",
            Health::Red => "red",
            Health::Unknown => "unknown",
        }
    }
}

/// Query of the cluster list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClusterListQuery {
    /// Only clusters with this health.
    #[param(inline)]
    pub health: Option<Health>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where a page of clusters starts: after this name.
#[derive(Debug, Serialize, Deserialize)]
struct AfterName {
    n: String,
}

/// Default and largest page size of lists.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 100;

/// A validated page size.
pub fn page_size(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_parameter(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// List the tenant's clusters by name. Paging is by name (keyset), so clusters created or deleted while a
/// client pages never cause duplicates or skip clusters that existed throughout.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/clusters",
    tag = "clusters",
    operation_id = "listClusters",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), ClusterListQuery),
    responses((status = 200, description = "A page of clusters", body = ClusterPage))
)]
#[tracing::instrument(skip_all, fields(tenant = %tenant.0))]
async fn list_clusters(
    State(api): State<ApiState>,
    caller: ApiCaller,
    tenant: TenantParam,
    query: Result<ApiQuery<ClusterListQuery>, ApiError>,
) -> ApiResult<Json<ClusterPage>> {
    // One pooled connection for the access check and the page (as `TenantCtx` then the query would, with
    // the same answers in the same order: 404 before a bad parameter).
    let mut conn = api.app.db.acquire().await?;
    let ctx = TenantCtx::load(&mut conn, caller, &tenant.0).await?;
    let ApiQuery(query) = query?;
    let limit = page_size(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .map(cursor::decode::<AfterName>)
        .transpose()?;
    let mut clusters = repo::list_for_tenant(
        &mut conn,
        ctx.tenant.id,
        &ListFilter {
            health: query.health.map(|h| h.as_str().to_owned()),
            after_name: after.map(|a| a.n),
            limit: i64::from(limit) + 1,
        },
    )
    .await?;
    let more = clusters.len() > limit as usize;
    clusters.truncate(limit as usize);
    let next_cursor = more
        .then(|| clusters.last())
        .flatten()
        .map(|c| cursor::encode(&AfterName { n: c.name.clone() }));
    Ok(Json(ClusterPage {
        items: clusters
            .iter()
            .map(|c| ClusterView::new(c, ctx.slug(), &api.app.config.exposure))
            .collect(),
        next_cursor,
    }))
}

/// A new cluster: a name plus a template, a full spec, or both (the spec wins; the template then only
/// decides whether production rules apply).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClusterRequest {
    /// Name: a DNS label of at most 36 characters starting with a letter, unique in the tenant.
    #[schema(
        example = "logs",
        pattern = "^[a-z]([-a-z0-9]*[a-z0-9])?$",
        max_length = 36
    )]
    pub name: String,
    /// Template id (see `GET /templates`): `single-node`, `three-nodes`, `dedicated-masters`,
    /// `hot-warm-cold`.
    #[serde(default)]
    #[schema(example = "three-nodes")]
    pub template: Option<String>,
    /// The full spec.
    #[serde(default)]
    pub spec: Option<SpecRequest>,
}

/// Request a new cluster. Answers 202 with the `create` operation; poll its `Location`.
#[utoipa::path(
    post,
    path = "/tenants/{tenant}/clusters",
    tag = "clusters",
    operation_id = "createCluster",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = CreateClusterRequest,
    responses(
        (status = 202, description = "Accepted: the create operation", body = OperationView,
            headers(("Location" = String, description = "The operation's URL"))),
        (status = 403, description = "Your role may not create clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflict", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name, template or spec, or over quota", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn create_cluster(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateClusterRequest>,
) -> ApiResult<Response> {
    let has_spec = body.spec.is_some();
    let request = CreateRequest {
        name: body.name,
        template: body.template,
        spec: body.spec.as_ref().map(SpecRequest::to_input),
    };
    let caller = ctx.service_caller(meta);
    let (cluster, op) =
        service::create(&api.app, &caller, &request)
            .await
            .map_err(|e| match e {
                AppError::Validation(fields) => ApiError::validation_with(
                    &fields,
                    |field| match field {
                        "name" | "template" => Some(pointer(field)),
                        f if has_spec => Some(format!("/spec{}", pointer(f))),
                        _ => Some("/template".to_owned()),
                    },
                    None,
                ),
                other => other.into(),
            })?;
    Ok(accepted(&ctx, &op, &cluster.name))
}

/// Read a cluster. `If-None-Match: "<generation>"` answers 304 when unchanged.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/clusters/{name}",
    tag = "clusters",
    operation_id = "getCluster",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag seen before: 304 when unchanged"),
    ),
    responses(
        (status = 200, description = "The cluster", body = ClusterView,
            headers(("ETag" = String, description = "\"<generation>\": pass it as If-Match to change the cluster"))),
        (status = 304, description = "Not modified"),
    )
)]
#[tracing::instrument(skip_all)]
async fn get_cluster(
    State(api): State<ApiState>,
    caller: ApiCaller,
    ApiPath(path): ApiPath<TenantClusterPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (ctx, found) = reads::cluster_in_tenant(&api, caller, &path.tenant, &path.name).await?;
    let cluster = found.cluster.as_ref().ok_or_else(ApiError::not_found)?;
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| service::if_match_allows(v, cluster.generation))
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag(cluster.generation))],
        )
            .into_response());
    }
    Ok(cluster_response(
        StatusCode::OK,
        &ctx,
        cluster,
        &api.app.config.exposure,
    ))
}

/// Changes to a cluster's spec. Each field present replaces the current value; absent fields keep it
/// (`"kibana": null` removes Kibana). Node sets are replaced as a whole list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterPatch {
    /// New version (an upgrade: forward only, at most one major).
    #[serde(default)]
    #[schema(example = "9.2.1")]
    pub version: Option<String>,
    /// The complete new list of node sets (storage can only grow).
    #[serde(default)]
    pub node_sets: Option<Vec<NodeSetRequest>>,
    /// Kibana; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<KibanaRequest>)]
    pub kibana: Option<Option<KibanaRequest>>,
    /// HTTPS on the HTTP endpoints.
    #[serde(default)]
    pub http_tls: Option<bool>,
    /// The complete new IP allow-list (networks in CIDR notation or single addresses, at most 32; `[]`
    /// opens the endpoints to anyone who can reach them).
    #[serde(default)]
    #[schema(max_items = 32, example = json!(["203.0.113.0/24"]))]
    pub ip_allow_list: Option<Vec<String>>,
}

/// `Some(value)` for a present field, also when it is `null` (`Some(None)`); absent stays `None`.
fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Update a cluster's spec (a `reconfigure` operation). Answers 202 with the operation.
#[utoipa::path(
    patch,
    path = "/tenants/{tenant}/clusters/{name}",
    tag = "clusters",
    operation_id = "updateCluster",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        ("If-Match" = Option<String>, Header, description = "The cluster's ETag: refuse (412) if it changed"),
    ),
    request_body = ClusterPatch,
    responses(
        (status = 202, description = "Accepted: the reconfigure operation", body = OperationView,
            headers(("Location" = String, description = "The operation's URL"))),
        (status = 403, description = "Your role may not change clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another operation is pending or applying (a waiting or stalled one is superseded and ends `superseded`), or the cluster is being deleted", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the cluster's generation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid spec, nothing changed, or over quota", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn update_cluster(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<ClusterPath>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<ClusterPatch>,
) -> ApiResult<Response> {
    let patch = SpecPatch {
        version: patch.version,
        node_sets: patch
            .node_sets
            .map(|sets| sets.iter().map(NodeSetRequest::to_input).collect()),
        kibana: patch
            .kibana
            .map(|kibana| kibana.as_ref().map(KibanaRequest::to_input)),
        http_tls: patch.http_tls,
        ip_allow_list: patch.ip_allow_list,
    };
    let caller = change_caller(&ctx, meta, &headers)?;
    let op = service::reconfigure(&api.app, &caller, &path.name, &patch)
        .await
        .map_err(|e| match e {
            AppError::Validation(fields) => ApiError::validation_with(
                &fields,
                |field| {
                    Some(if field == "spec" {
                        String::new()
                    } else {
                        pointer(field)
                    })
                },
                None,
            ),
            other => other.into(),
        })?;
    Ok(accepted(&ctx, &op, &path.name))
}

/// Query of the delete.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The cluster's name again, to confirm.
    pub confirm_name: Option<String>,
}

/// Delete a cluster (refused while deletion protection is on). Answers 202 with the `delete` operation.
#[utoipa::path(
    delete,
    path = "/tenants/{tenant}/clusters/{name}",
    tag = "clusters",
    operation_id = "deleteCluster",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
        DeleteQuery,
        ("If-Match" = Option<String>, Header, description = "The cluster's ETag: refuse (412) if it changed"),
    ),
    responses(
        (status = 202, description = "Accepted: the delete operation", body = OperationView,
            headers(("Location" = String, description = "The operation's URL"))),
        (status = 403, description = "Your role may not delete clusters", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Deletion protection is on, or it is already being deleted (any other unfinished operation is superseded: it ends `cancelled`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the cluster's generation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`confirm_name` missing or not the cluster's name", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn delete_cluster(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<ClusterPath>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let caller = change_caller(&ctx, meta, &headers)?;
    let op = service::delete(
        &api.app,
        &caller,
        &path.name,
        query.confirm_name.as_deref().unwrap_or(""),
    )
    .await
    .map_err(|e| match e {
        AppError::Validation(fields) => {
            ApiError::validation_with(&fields, |f| Some(pointer(f)), Some(&["confirm_name"]))
        }
        other => other.into(),
    })?;
    Ok(accepted(&ctx, &op, &path.name))
}

/// The cluster's observed status (from the portal's database: it answers while Kubernetes is down).
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/clusters/{name}/status",
    tag = "clusters",
    operation_id = "getClusterStatus",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
    ),
    responses((status = 200, description = "The observed status", body = ClusterStatus,
        headers(("ETag" = String, description = "The cluster's ETag"))))
)]
#[tracing::instrument(skip_all)]
async fn cluster_status(
    State(api): State<ApiState>,
    caller: ApiCaller,
    ApiPath(path): ApiPath<TenantClusterPath>,
) -> ApiResult<Response> {
    let (_, found) = reads::cluster_in_tenant(&api, caller, &path.tenant, &path.name).await?;
    let cluster = found.cluster.as_ref().ok_or_else(ApiError::not_found)?;
    Ok((
        [(header::ETAG, etag(cluster.generation))],
        Json(ClusterStatus::new(cluster)),
    )
        .into_response())
}

/// The cluster's pods as last observed.
#[utoipa::path(
    get,
    path = "/tenants/{tenant}/clusters/{name}/pods",
    tag = "clusters",
    operation_id = "listClusterPods",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
    ),
    responses((status = 200, description = "The pods", body = PodList))
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn cluster_pods(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    ApiPath(path): ApiPath<ClusterPath>,
) -> ApiResult<Json<PodList>> {
    let mut conn = api.app.db.acquire().await?;
    let cluster = repo::get_by_name(&mut conn, ctx.tenant.id, &path.name).await?;
    let pods = repo::pods(&mut conn, cluster.id).await?;
    Ok(Json(PodList {
        items: pods.into_iter().map(PodView::from).collect(),
    }))
}

/// How to connect to a cluster. Shown once per request, never stored by the portal.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialsView {
    /// User name (`elastic`).
    pub username: String,
    /// Its password.
    pub password: String,
    /// In-cluster endpoint.
    pub endpoint: String,
}

/// Reveal the `elastic` user's password (read from Kubernetes at this moment; members, admins and owners;
/// audited as `cluster.credentials_reveal`). `POST` because it is recorded; the answer is `no-store`.
#[utoipa::path(
    post,
    path = "/tenants/{tenant}/clusters/{name}/credentials",
    tag = "clusters",
    operation_id = "revealClusterCredentials",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("name" = String, Path, description = "Cluster name", example = "logs"),
    ),
    responses(
        (status = 200, description = "The credentials", body = CredentialsView),
        (status = 403, description = "Your role may not see credentials", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The credentials do not exist yet", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Kubernetes did not answer in time", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = %ctx.slug()))]
async fn reveal_credentials(
    State(api): State<ApiState>,
    ctx: TenantCtx,
    meta: RequestMeta,
    ApiPath(path): ApiPath<ClusterPath>,
) -> ApiResult<Response> {
    let caller = ctx.service_caller(meta);
    let c = credentials::reveal(&api.app, &caller, ctx.slug(), &path.name).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(CredentialsView {
            username: c.username,
            password: c.password,
            endpoint: c.endpoint,
        }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None).unwrap(), 50);
        assert_eq!(page_size(Some(100)).unwrap(), 100);
        assert!(page_size(Some(0)).is_err());
        assert!(page_size(Some(101)).is_err());
    }

    #[test]
    fn patch_tells_null_from_absent() {
        let p: ClusterPatch = serde_json::from_str(r#"{"kibana": null}"#).unwrap();
        assert!(matches!(p.kibana, Some(None)));
        let p: ClusterPatch = serde_json::from_str("{}").unwrap();
        assert!(p.kibana.is_none());
        assert!(serde_json::from_str::<ClusterPatch>(r#"{"kibanna": null}"#).is_err());
    }
}
