//! `GET/POST /admin/tenants/{tenant}/quota` (edit a tenant's limits) and `POST /admin/tenants/{tenant}/name`
//! (rename it), for platform admins.
//!
//! Limits are whole numbers from 0 to a per-dimension maximum; anything else re-renders the form (422) with
//! the message beside the field and the typed values kept, and nothing is written. Lowering a limit below
//! current usage is accepted (the team keeps its clusters; growth in that dimension is refused until usage
//! drops) and the redirect carries a warning naming those dimensions.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use serde::Deserialize;

use crate::audit::Actor;
use crate::auth::{CurrentUser, PlatformAdmin};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::tenants::quota::{self, LimitsInput, QuotaDimension, parse_limits_from};
use crate::tenants::{Tenant, TenantName, repo, service};
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;
use crate::web::tenants::quota::QuotaBar;

/// The tenant edit routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/tenants/{tenant}/quota",
            get(edit_page).post(save_quota),
        )
        .route("/admin/tenants/{tenant}/name", post(rename))
}

/// One limit input.
#[derive(Debug, Clone)]
pub struct LimitField {
    /// Field name (the dimension's input key).
    pub key: &'static str,
    /// Label.
    pub label: String,
    /// Unit the input is typed in (`cores`, `GiB`).
    pub unit: &'static str,
    /// The input's `step` (`1`, or `any` where decimals make sense).
    pub step: &'static str,
    /// Current (or typed) value.
    pub value: String,
    /// Maximum allowed, in the input unit.
    pub max: String,
}

/// `templates/admin/tenant_quota.html`.
#[derive(Template, WebTemplate)]
#[template(path = "admin/tenant_quota.html")]
pub struct EditPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Name field value.
    pub name: String,
    /// Limit inputs.
    pub fields: Vec<LimitField>,
    /// Usage bars against the saved limits.
    pub bars: Vec<QuotaBar>,
    /// Messages beside the fields (`name`, dimension keys).
    pub errors: FieldErrors,
}

async fn tenant_by_slug(state: &AppState, slug: &str) -> AppResult<Tenant> {
    let mut conn = state.db.acquire().await?;
    repo::by_slug(&mut conn, slug)
        .await?
        .ok_or(AppError::NotFound)
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    tenant: &Tenant,
    name: String,
    limits: LimitsInput,
    errors: FieldErrors,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let usage = quota::usage(&mut conn, tenant.id).await?;
    drop(conn);
    let fields = QuotaDimension::ALL
        .iter()
        .map(|&d| LimitField {
            key: d.input_key(),
            label: format!("Max {}", d.human_name()),
            unit: d.input_unit(),
            step: match d {
                QuotaDimension::CpuMillis | QuotaDimension::MemoryMib => "any",
                _ => "1",
            },
            value: limits.get(d).to_owned(),
            max: d.to_input(d.max_limit()),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let slug = tenant.slug.to_string();
    let page = EditPage {
        layout: nav::layout_for(state, user, "Edit tenant", Some(&slug)).await?,
        slug,
        name,
        fields,
        bars: QuotaBar::all(tenant.limits, usage),
        errors,
    };
    Ok((status, page).into_response())
}

/// `GET /admin/tenants/{tenant}/quota`.
#[tracing::instrument(skip(state, user))]
async fn edit_page(
    State(state): State<AppState>,
    PlatformAdmin(user): PlatformAdmin,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let tenant = tenant_by_slug(&state, &slug).await?;
    let limits = LimitsInput::from_limits(tenant.limits);
    render(
        &state,
        &user,
        &tenant,
        tenant.name.clone(),
        limits,
        FieldErrors::new(),
    )
    .await
}

/// `POST /admin/tenants/{tenant}/quota`.
#[tracing::instrument(skip(state, user, meta, form))]
async fn save_quota(
    State(state): State<AppState>,
    PlatformAdmin(user): PlatformAdmin,
    meta: RequestMeta,
    Path(slug): Path<String>,
    Form(form): Form<LimitsInput>,
) -> AppResult<Response> {
    let tenant = tenant_by_slug(&state, &slug).await?;
    let limits = match parse_limits_from(&form, tenant.limits) {
        Ok(l) => l,
        Err(errors) => {
            return render(&state, &user, &tenant, tenant.name.clone(), form, errors).await;
        }
    };
    let actor = Actor::user(user.user_id, &user.email);
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let change = service::set_quota(&state.db, by, tenant.id, limits).await?;
    let url = format!("/admin/tenants/{slug}/quota");
    if change.over_limit.is_empty() {
        return Ok(flash::redirect(&url, FlashKind::Success, "Quota saved."));
    }
    let names: Vec<&str> = change.over_limit.iter().map(|d| d.human_name()).collect();
    Ok(flash::redirect(
        &url,
        FlashKind::Info,
        format!(
            "Quota saved. Warning: usage is above the new limit for {}; those resources cannot grow until \
             usage drops (scaling down still works).",
            names.join(", ")
        ),
    ))
}

/// The rename form.
#[derive(Debug, Deserialize)]
pub struct NameForm {
    /// New display name.
    #[serde(default)]
    pub name: String,
}

/// `POST /admin/tenants/{tenant}/name`.
#[tracing::instrument(skip(state, user, meta, form))]
async fn rename(
    State(state): State<AppState>,
    PlatformAdmin(user): PlatformAdmin,
    meta: RequestMeta,
    Path(slug): Path<String>,
    Form(form): Form<NameForm>,
) -> AppResult<Response> {
    let tenant = tenant_by_slug(&state, &slug).await?;
    let name = match TenantName::parse(&form.name) {
        Ok(n) => n,
        Err(msg) => {
            let mut errors = FieldErrors::new();
            errors.add("name", msg);
            let limits = LimitsInput::from_limits(tenant.limits);
            return render(&state, &user, &tenant, form.name, limits, errors).await;
        }
    };
    let actor = Actor::user(user.user_id, &user.email);
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    service::rename(&state.db, by, tenant.id, &name).await?;
    Ok(flash::redirect(
        &format!("/admin/tenants/{slug}/quota"),
        FlashKind::Success,
        "Name saved.",
    ))
}
