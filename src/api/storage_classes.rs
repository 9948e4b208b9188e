//! `/api/v1/storage-classes`: the storage classes node sets may use and the default one. Every token may
//! list them; platform admins add, change (`PUT`, the default flag) and remove them. Rules and audit rows are
//! `clusters::storage_classes`'.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::auth::ApiCaller;
use super::error::{ApiResult, Problem};
use super::extract::{ApiJson, ApiPath};
use crate::clusters::storage_classes::{self, StorageClass};
use crate::request_meta::RequestMeta;

/// The routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_storage_classes))
        .routes(routes!(put_storage_class, remove_storage_class))
}

/// An offered storage class.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StorageClassView {
    /// The Kubernetes StorageClass name.
    #[schema(example = "standard")]
    pub name: String,
    /// New node sets that name no class get this one.
    pub default: bool,
}

impl From<StorageClass> for StorageClassView {
    fn from(c: StorageClass) -> Self {
        Self {
            name: c.name,
            default: c.is_default,
        }
    }
}

/// The offered classes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StorageClassList {
    /// By name.
    pub items: Vec<StorageClassView>,
}

/// Storage classes a node set may name (`storage_class`); a class outside the list is refused.
#[utoipa::path(
    get,
    path = "/storage-classes",
    tag = "meta",
    operation_id = "listStorageClasses",
    responses((status = 200, description = "The offered storage classes", body = StorageClassList))
)]
#[tracing::instrument(skip_all)]
async fn list_storage_classes(
    State(api): State<ApiState>,
    _caller: ApiCaller,
) -> ApiResult<Json<StorageClassList>> {
    let mut conn = api.app.db.acquire().await?;
    let items = storage_classes::list(&mut conn).await?;
    Ok(Json(StorageClassList {
        items: items.into_iter().map(StorageClassView::from).collect(),
    }))
}

/// `{name}` of a storage class path.
#[derive(Debug, Deserialize)]
pub struct StorageClassPath {
    /// Class name.
    pub name: String,
}

/// Whether a class is the default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutStorageClassRequest {
    /// Make it the default (taken from the previous default); `false` leaves no default when it was one.
    #[serde(default)]
    pub default: bool,
}

/// Offer a storage class, or change whether it is the default (platform admins).
#[utoipa::path(
    put,
    path = "/storage-classes/{name}",
    tag = "meta",
    operation_id = "putStorageClass",
    params(("name" = String, Path, description = "StorageClass name (a DNS subdomain)", example = "fast-ssd")),
    request_body = PutStorageClassRequest,
    responses(
        (status = 200, description = "The class was offered already and is updated", body = StorageClassView),
        (status = 201, description = "The class is offered now", body = StorageClassView),
        (status = 403, description = "Only platform admins manage storage classes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a DNS subdomain", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn put_storage_class(
    State(api): State<ApiState>,
    caller: ApiCaller,
    meta: RequestMeta,
    ApiPath(path): ApiPath<StorageClassPath>,
    ApiJson(body): ApiJson<PutStorageClassRequest>,
) -> ApiResult<Response> {
    caller.require_platform_admin()?;
    let (class, added) = storage_classes::put(
        &api.app.db,
        &caller.actor(),
        &meta,
        &path.name,
        body.default,
    )
    .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(StorageClassView::from(class))).into_response())
}

/// Stop offering a storage class (platform admins). Node sets that use it keep it.
#[utoipa::path(
    delete,
    path = "/storage-classes/{name}",
    tag = "meta",
    operation_id = "removeStorageClass",
    params(("name" = String, Path, description = "StorageClass name", example = "fast-ssd")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Only platform admins manage storage classes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn remove_storage_class(
    State(api): State<ApiState>,
    caller: ApiCaller,
    meta: RequestMeta,
    ApiPath(path): ApiPath<StorageClassPath>,
) -> ApiResult<StatusCode> {
    caller.require_platform_admin()?;
    storage_classes::remove(&api.app.db, &caller.actor(), &meta, &path.name).await?;
    Ok(StatusCode::NO_CONTENT)
}
