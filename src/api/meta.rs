//! `/api/v1/templates` and `/api/v1/versions`: what a new cluster can start from, and the Elasticsearch
//! versions the platform offers (admin-managed allow-list).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::auth::ApiCaller;
use super::error::ApiResult;
use super::wire::SpecView;
use crate::clusters::{service, templates};

/// The routes.
pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(list_versions))
}

/// A named starting topology.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemplateView {
    /// Id to pass as `template` when creating a cluster.
    #[schema(example = "three-nodes")]
    pub id: String,
    /// Title.
    pub title: String,
    /// When to use it.
    pub description: String,
    /// Clusters from it are held to production rules.
    pub production: bool,
    /// The spec it starts from.
    pub spec: SpecView,
}

/// The templates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemplateList {
    /// Templates, in the order they are offered.
    pub items: Vec<TemplateView>,
}

/// Cluster templates.
#[utoipa::path(
    get,
    path = "/templates",
    tag = "meta",
    operation_id = "listTemplates",
    responses((status = 200, description = "The templates", body = TemplateList))
)]
async fn list_templates(_caller: ApiCaller) -> Json<TemplateList> {
    Json(TemplateList {
        items: templates::templates()
            .iter()
            .map(|t| TemplateView {
                id: t.id.to_owned(),
                title: t.title.to_owned(),
                description: t.description.to_owned(),
                production: t.production,
                spec: SpecView::from(&t.spec),
            })
            .collect(),
    })
}

/// The versions offered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionList {
    /// Versions for new clusters and upgrades, oldest first.
    #[schema(example = json!(["8.19.7", "9.2.1"]))]
    pub versions: Vec<String>,
    /// The newest.
    pub latest: Option<String>,
}

/// Elasticsearch versions offered for new clusters and upgrades.
#[utoipa::path(
    get,
    path = "/versions",
    tag = "meta",
    operation_id = "listVersions",
    responses((status = 200, description = "The versions", body = VersionList))
)]
async fn list_versions(
    State(api): State<ApiState>,
    _caller: ApiCaller,
) -> ApiResult<Json<VersionList>> {
    let mut conn = api.app.db.acquire().await?;
    let rules = service::spec_rules(&mut conn).await?;
    Ok(Json(VersionList {
        versions: rules
            .allowed_versions
            .iter()
            .map(ToString::to_string)
            .collect(),
        latest: rules.latest_version().map(|v| v.to_string()),
    }))
}
