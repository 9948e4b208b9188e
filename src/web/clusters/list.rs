//! `GET /t/{tenant}/clusters`: the tenant's clusters with their state (Creating, Ready, Changing: what, ...,
//! from [`crate::clusters::state`]; the raw health and phase in a smaller line under it), nodes, version, the
//! active operation (kind, state, last step, "waiting for Kubernetes" errors, stalled marker) and who created
//! them; filter by health (`?health=green`), pages of [`PAGE_SIZE`] by name (`?after=<name>`).
//!
//! The health counts of the filter and the rows come from one snapshot ([`crate::db::snapshot`]), and with
//! JavaScript both refresh together every 5 s (htmx fetches the same URL and swaps `#clusters-live`, which
//! holds the filter and the table), so a chip never says "Yellow 0" beside a yellow row.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::Utc;
use serde::Deserialize;

use crate::auth::TenantAccess;
use crate::clusters::list::{self as cluster_list, HealthCounts, ListRow};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::clusters::format;
use crate::web::layout::Layout;
use crate::web::nav;

/// Clusters per page.
pub const PAGE_SIZE: i64 = 100;

/// The healths the filter offers.
pub const HEALTHS: [&str; 4] = ["green", "yellow", "red", "unknown"];

/// Query string of the list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Only clusters of this health.
    #[serde(default)]
    pub health: Option<String>,
    /// Names after this one (next page).
    #[serde(default)]
    pub after: Option<String>,
}

/// One filter link.
#[derive(Debug, Clone)]
pub struct HealthFilter {
    /// `""` for all, else the health.
    pub value: &'static str,
    /// Link text.
    pub label: &'static str,
    /// Clusters it matches.
    pub count: i64,
    /// The filter in force.
    pub current: bool,
}

/// The active operation as a table cell.
#[derive(Debug, Clone)]
pub struct OperationCell {
    /// `create`, `scale`, ...
    pub kind: String,
    /// `pending`, `applying`, `waiting`.
    pub state: String,
    /// The last step.
    pub last_step: String,
    /// The last error (`waiting for Kubernetes: ...`).
    pub error: String,
    /// Why it is stalled (empty when not).
    pub stalled: String,
    /// Running for.
    pub running_for: String,
}

/// One table row.
#[derive(Debug, Clone)]
pub struct RowView {
    /// Cluster name.
    pub name: String,
    /// Desired version.
    pub version: String,
    /// Running version when different from the desired one.
    pub running_version: String,
    /// Health.
    pub health: String,
    /// Phase (or `—`).
    pub phase: String,
    /// State name for CSS (`changing`).
    pub state: &'static str,
    /// State word (`Changing`).
    pub state_label: &'static str,
    /// What it means (`scaling node set data to 5 nodes`).
    pub state_detail: String,
    /// The raw health, phase and ready nodes.
    pub state_raw: String,
    /// Ready nodes.
    pub ready: i32,
    /// Desired nodes.
    pub desired: i64,
    /// Fewer nodes ready than desired.
    pub short: bool,
    /// Deletion accepted.
    pub deleting: bool,
    /// Active operation.
    pub operation: Option<OperationCell>,
    /// Creator.
    pub created_by: String,
    /// Creation time, readable.
    pub created_at: String,
    /// Creation time, ISO.
    pub created_iso: String,
}

impl RowView {
    fn from_row(r: ListRow, now: chrono::DateTime<Utc>) -> Self {
        let running_version = if !r.observed_version.is_empty() && r.observed_version != r.version {
            r.observed_version.clone()
        } else {
            String::new()
        };
        RowView {
            state: r.state.kind.as_str(),
            state_label: r.state.kind.label(),
            state_detail: r.state.detail.clone(),
            state_raw: r.state.raw.clone(),
            operation: r.active.map(|op| OperationCell {
                kind: op.kind,
                state: op.state,
                last_step: op.last_step.unwrap_or_default(),
                error: op.last_error.unwrap_or_default(),
                stalled: op.stalled_reason.unwrap_or_default(),
                running_for: format::duration((now - op.created_at).num_seconds()),
            }),
            running_version,
            phase: if r.phase.is_empty() {
                "\u{2014}".into()
            } else {
                r.phase
            },
            name: r.name,
            version: r.version,
            health: r.health,
            ready: r.available_nodes,
            desired: r.desired_nodes,
            short: i64::from(r.available_nodes) < r.desired_nodes,
            deleting: r.deleting,
            created_by: r.created_by.unwrap_or_else(|| "\u{2014}".into()),
            created_at: format::timestamp(r.created_at),
            created_iso: format::iso(r.created_at),
        }
    }
}

/// `templates/clusters/list.html`.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/list.html")]
pub struct ListPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Tenant name.
    pub tenant_name: String,
    /// The caller may request clusters.
    pub can_change: bool,
    /// Who may request clusters (shown when the caller may not).
    pub who_may_request: String,
    /// Filter links.
    pub filters: Vec<HealthFilter>,
    /// The health filter in force (empty: all).
    pub health: String,
    /// This page's rows.
    pub rows: Vec<RowView>,
    /// Live clusters of the tenant, all healths.
    pub total: i64,
    /// Link to the next page (empty when this is the last).
    pub next_url: String,
    /// This page's URL (the table refreshes from it).
    pub self_url: String,
    /// Shown against the simulated Kubernetes.
    pub simulated: bool,
}

/// `GET /t/{tenant}/clusters`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug))]
pub async fn list_page(
    State(state): State<AppState>,
    access: TenantAccess,
    Query(query): Query<ListQuery>,
) -> AppResult<ListPage> {
    let health = query
        .health
        .as_deref()
        .filter(|h| HEALTHS.contains(h))
        .map(str::to_owned);
    let after = query.after.filter(|a| !a.is_empty() && a.len() <= 128);
    let slug = access.tenant.slug.to_string();
    let mut snapshot = crate::db::snapshot(&state.db).await?;
    let counts = cluster_list::health_counts(&mut snapshot, access.tenant.id).await?;
    let mut rows = cluster_list::list_page(
        &mut snapshot,
        access.tenant.id,
        health.as_deref(),
        after.as_deref(),
        PAGE_SIZE + 1,
    )
    .await?;
    drop(snapshot);
    let has_more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let base = format!("/t/{slug}/clusters");
    let with = |after: Option<&str>| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(h) = &health {
            q.append_pair("health", h);
        }
        if let Some(a) = after {
            q.append_pair("after", a);
        }
        let q = q.finish();
        if q.is_empty() {
            base.clone()
        } else {
            format!("{base}?{q}")
        }
    };
    let next_url = if has_more {
        rows.last().map(|r| with(Some(&r.name))).unwrap_or_default()
    } else {
        String::new()
    };
    let self_url = with(after.as_deref());
    let now = Utc::now();
    Ok(ListPage {
        layout: nav::layout_for(&state, &access.user, "Clusters", Some(&slug)).await?,
        can_change: access.role.can_change_clusters(),
        who_may_request: super::who_may_request(&access),
        filters: filters(&counts, health.as_deref()),
        health: health.unwrap_or_default(),
        rows: rows
            .into_iter()
            .map(|r| RowView::from_row(r, now))
            .collect(),
        total: counts.total(),
        next_url,
        self_url,
        simulated: state.kube.is_simulated(),
        tenant_name: access.tenant.name.clone(),
        slug,
    })
}

fn filters(counts: &HealthCounts, current: Option<&str>) -> Vec<HealthFilter> {
    let mut out = vec![HealthFilter {
        value: "",
        label: "All",
        count: counts.total(),
        current: current.is_none(),
    }];
    for (value, label) in HEALTHS.iter().zip(["Green", "Yellow", "Red", "Unknown"]) {
        out.push(HealthFilter {
            value,
            label,
            count: counts.of(value),
            current: current == Some(*value),
        });
    }
    out
}
