//! Audit log pages: `GET /admin/audit` (platform admins: every row, filter by tenant slug, actor email,
//! action prefix, date range) and `GET /t/{tenant}/audit` (the tenant's rows, for its owners and admins and
//! for platform admins). Newest first, 50 per page, keyset pagination by id (`?before=` / `?after=`), the
//! filters kept in the pager links. Invalid filters (an unknown tenant, a malformed date) are shown beside
//! their field (422) instead of silently returning everything.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::audit::query::{self, AuditFilter, AuditRow, Cursor};
use crate::auth::{CurrentUser, PlatformAdmin, TenantAccess};
use crate::error::{AppResult, FieldErrors};
use crate::state::AppState;
use crate::tenants::repo;
use crate::web::layout::Layout;
use crate::web::nav;

/// The audit routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(admin_audit))
        .route("/t/{tenant}/audit", get(tenant_audit))
}

/// The filter form and cursor, as strings so bad input can be shown back.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuditQuery {
    /// Tenant slug (admin page only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tenant: String,
    /// Actor email or part of it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
    /// Action prefix.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// From day, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// To day (inclusive), `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// Cursor: rows older than this id.
    #[serde(default, skip_serializing)]
    pub before: String,
    /// Cursor: rows newer than this id.
    #[serde(default, skip_serializing)]
    pub after: String,
}

/// One row as shown.
#[derive(Debug, Clone)]
pub struct AuditRowView {
    /// Id.
    pub id: i64,
    /// `YYYY-MM-DD HH:MM:SS UTC`.
    pub at: String,
    /// Actor.
    pub actor: String,
    /// Tenant slug or empty.
    pub tenant: String,
    /// Action.
    pub action: String,
    /// `kind: target`.
    pub target: String,
    /// Outcome.
    pub outcome: String,
    /// Before, compact JSON or empty.
    pub before: String,
    /// After, compact JSON or empty.
    pub after: String,
    /// Request id or empty.
    pub request_id: String,
}

impl From<AuditRow> for AuditRowView {
    fn from(r: AuditRow) -> Self {
        let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string()).unwrap_or_default();
        AuditRowView {
            id: r.id,
            at: r.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: r.actor,
            tenant: r.tenant_slug.unwrap_or_default(),
            action: r.action,
            target: if r.target_kind.is_empty() {
                r.target
            } else {
                format!("{}: {}", r.target_kind, r.target)
            },
            outcome: r.outcome,
            before: json(r.before),
            after: json(r.after),
            request_id: r.request_id.unwrap_or_default(),
        }
    }
}

/// `templates/audit/log.html`.
#[derive(Template, WebTemplate)]
#[template(path = "audit/log.html")]
pub struct AuditLogPage {
    /// Base layout.
    pub layout: Layout,
    /// Heading.
    pub heading: String,
    /// Where the filter form and pager links go.
    pub base_url: String,
    /// Show the tenant filter (admin page).
    pub show_tenant_filter: bool,
    /// Filter values.
    pub q: AuditQuery,
    /// Messages beside the filter fields.
    pub errors: FieldErrors,
    /// Rows.
    pub rows: Vec<AuditRowView>,
    /// Link to newer rows.
    pub newer_url: Option<String>,
    /// Link to older rows.
    pub older_url: Option<String>,
    /// Link to the newest rows with the same filters (when not on the first page).
    pub newest_url: Option<String>,
}

fn parse_day(field: &str, raw: &str, errors: &mut FieldErrors) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| errors.add(field, "Enter a date as YYYY-MM-DD."))
        .ok()
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Parse everything but the tenant; the cursor falls back to the newest rows when malformed.
fn parse(q: &AuditQuery, errors: &mut FieldErrors) -> (AuditFilter, Cursor) {
    let from = parse_day("from", &q.from, errors);
    let to = parse_day("to", &q.to, errors);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        errors.add("to", "The end date is before the start date.");
    }
    let filter = AuditFilter {
        tenant_id: None,
        actor: non_empty(&q.actor),
        action_prefix: non_empty(&q.action),
        from,
        to,
    };
    let cursor = match (
        q.before.trim().parse::<i64>(),
        q.after.trim().parse::<i64>(),
    ) {
        (Ok(b), _) => Cursor::Before(b),
        (_, Ok(a)) => Cursor::After(a),
        _ => Cursor::Newest,
    };
    (filter, cursor)
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    scope: Option<&str>,
    base_url: String,
    q: AuditQuery,
    (filter, cursor): (AuditFilter, Cursor),
    errors: FieldErrors,
) -> AppResult<Response> {
    let (rows, newer, older) = if errors.is_empty() {
        let mut conn = state.db.acquire().await?;
        let page = query::page(&mut conn, &filter, cursor).await?;
        (page.rows, page.newer, page.older)
    } else {
        (Vec::new(), None, None)
    };
    let filters = serde_urlencoded::to_string(&q).unwrap_or_default();
    let link = |key: &str, id: i64| {
        let sep = if filters.is_empty() { "" } else { "&" };
        format!("{base_url}?{filters}{sep}{key}={id}")
    };
    let newest_url = (cursor != Cursor::Newest).then(|| {
        if filters.is_empty() {
            base_url.clone()
        } else {
            format!("{base_url}?{filters}")
        }
    });
    let title = match scope {
        Some(slug) => format!("Audit log of {slug}"),
        None => "Audit log".to_owned(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = AuditLogPage {
        layout: nav::layout_for(state, user, "Audit log", scope).await?,
        heading: title,
        show_tenant_filter: scope.is_none(),
        newer_url: newer.map(|id| link("after", id)),
        older_url: older.map(|id| link("before", id)),
        newest_url,
        base_url,
        q,
        errors,
        rows: rows.into_iter().map(AuditRowView::from).collect(),
    };
    Ok((status, page).into_response())
}

/// `GET /admin/audit`.
#[tracing::instrument(skip_all)]
async fn admin_audit(
    State(state): State<AppState>,
    PlatformAdmin(user): PlatformAdmin,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let (mut filter, cursor) = parse(&q, &mut errors);
    if let Some(slug) = non_empty(&q.tenant) {
        let mut conn = state.db.acquire().await?;
        match repo::by_slug(&mut conn, &slug).await? {
            Some(t) => filter.tenant_id = Some(t.id),
            None => errors.add("tenant", format!("No tenant has the slug '{slug}'.")),
        }
    }
    render(
        &state,
        &user,
        None,
        "/admin/audit".into(),
        q,
        (filter, cursor),
        errors,
    )
    .await
}

/// `GET /t/{tenant}/audit`: owners, admins and platform admins.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug))]
async fn tenant_audit(
    State(state): State<AppState>,
    access: TenantAccess,
    Query(mut q): Query<AuditQuery>,
) -> AppResult<Response> {
    access.require(
        access.role.can_administer() || access.user.is_platform_admin,
        "Only owners and admins of this tenant can read its audit log.",
    )?;
    q.tenant.clear();
    let mut errors = FieldErrors::new();
    let (mut filter, cursor) = parse(&q, &mut errors);
    filter.tenant_id = Some(access.tenant.id);
    let slug = access.tenant.slug.to_string();
    let base = format!("/t/{slug}/audit");
    render(
        &state,
        &access.user,
        Some(&slug),
        base,
        q,
        (filter, cursor),
        errors,
    )
    .await
}
