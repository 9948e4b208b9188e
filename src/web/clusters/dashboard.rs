//! `GET /t/{tenant}/clusters/{name}`: the cluster dashboard. The live part ([`super::live`]) refreshes every
//! 3 s with htmx (a reload does the same without JavaScript); the rest is static: connection info (HTTPS
//! endpoint, user, a reveal-password button for roles that may see credentials, a copyable curl line, the
//! Kibana endpoint), the allocated resources against the quota as a chart, and the actions the caller's role
//! may use (each leads to a confirmation page).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

use crate::auth::TenantAccess;
use crate::clusters::repo::{self, Cluster};
use crate::clusters::service;
use crate::clusters::spec::is_upgrade_allowed;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::quota;
use crate::web::clusters::charts::{self, Segment};
use crate::web::clusters::elasticsearch::{self as es_section, EsQuery, EsSection};
use crate::web::clusters::live::{self, LiveView};
use crate::web::layout::Layout;
use crate::web::nav;

pub use super::connect::ConnectionView;

/// What the actions card offers.
#[derive(Debug, Clone)]
pub struct ActionsView {
    /// Any change allowed for the role.
    pub can_change: bool,
    /// Versions the cluster may be upgraded to.
    pub upgrade_targets: usize,
    /// Deletion protection on.
    pub protected: bool,
    /// Delete accepted.
    pub deleting: bool,
}

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
    /// Actions.
    pub actions: ActionsView,
    /// Allocated resources chart (inline SVG).
    pub resources_svg: String,
    /// The "Elasticsearch" section (the inspector's last snapshot).
    pub es: EsSection,
}

/// The resources chart of a cluster: its node sets and Kibana against the tenant's usage and limits.
pub fn resources_svg(
    cluster: &Cluster,
    usage: quota::Resources,
    limits: quota::Resources,
) -> String {
    let mut segments: Vec<Segment> = cluster
        .spec
        .node_sets
        .iter()
        .map(|s| {
            let n = i64::from(s.count);
            Segment {
                label: s.name.to_string(),
                amounts: [
                    n,
                    n * i64::from(s.cpu_millis),
                    n * i64::from(s.memory_mib),
                    n * i64::from(s.storage_gib),
                ],
            }
        })
        .collect();
    if let Some(k) = &cluster.spec.kibana {
        let n = i64::from(k.count);
        segments.push(Segment {
            label: "Kibana".into(),
            amounts: [
                0,
                n * i64::from(k.cpu_millis),
                n * i64::from(k.memory_mib),
                0,
            ],
        });
    }
    let dims = |r: quota::Resources| [r.nodes, r.cpu_millis, r.memory_mib, r.storage_gib];
    charts::resources_chart(&segments, dims(usage), dims(limits))
}

/// Build the dashboard page (also used by the credentials reveal, with the password filled in).
pub async fn page(
    state: &AppState,
    access: &TenantAccess,
    name: &str,
    es_query: &EsQuery,
) -> AppResult<DashboardPage> {
    let (cluster, live) = live::load(state, access, name).await?;
    let es = es_section::load(state, access, &cluster, es_query).await?;
    let mut conn = state.db.acquire().await?;
    let usage = quota::usage(&mut conn, access.tenant.id).await?;
    let rules = service::spec_rules(&mut conn).await?;
    drop(conn);
    let slug = access.tenant.slug.to_string();
    let upgrade_targets = rules
        .allowed_versions
        .iter()
        .filter(|v| **v > cluster.spec.version && is_upgrade_allowed(&cluster.spec.version, v))
        .count();
    Ok(DashboardPage {
        layout: nav::layout_for(state, &access.user, &cluster.name, Some(&slug)).await?,
        conn: ConnectionView::of(
            &cluster,
            &slug,
            &state.config.exposure,
            access.role.can_view_credentials(),
            access.role.can_change_clusters(),
        ),
        actions: ActionsView {
            can_change: access.role.can_change_clusters(),
            upgrade_targets,
            protected: cluster.deletion_protection,
            deleting: cluster.deleting,
        },
        resources_svg: resources_svg(&cluster, usage, access.tenant.limits),
        es,
        live,
    })
}

/// `GET /t/{tenant}/clusters/{name}`. A cluster that was deleted (for instance while the delete request
/// redirected here) sends the browser to the list with a message instead of a bare 404.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn dashboard(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
    Query(es_query): Query<EsQuery>,
) -> AppResult<Response> {
    match page(&state, &access, &name, &es_query).await {
        Ok(page) => Ok(page.into_response()),
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
