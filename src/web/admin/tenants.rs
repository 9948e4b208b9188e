//! `GET /admin/tenants` (every tenant with members, usage bars and links to its pages) and
//! `GET/POST /admin/tenants/new` (create a tenant with the default quota and, optionally, its first owner).
//!
//! A new tenant gets [`DEFAULT_LIMITS`]. Platform admins are not made members of the tenants they create:
//! the optional "first owner" field (the email of an existing account) gives the team its owner in the same
//! transaction, so an invalid slug, a taken slug or an unknown owner leaves nothing written.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use serde::Deserialize;

use crate::audit::Actor;
use crate::auth::PlatformAdmin;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::tenants::quota::{DEFAULT_LIMITS, units};
use crate::tenants::{TenantName, TenantSlug, repo, service};
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;
use crate::web::tenants::quota::QuotaBar;

/// The tenant list and creation routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/tenants", get(list_page))
        .route("/admin/tenants/new", get(new_page).post(create))
}

/// One tenant in the list.
#[derive(Debug, Clone)]
pub struct TenantRow {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Member count.
    pub members: i64,
    /// No member is an owner: a platform admin has to add one.
    pub ownerless: bool,
    /// Usage bars.
    pub bars: Vec<QuotaBar>,
    /// Some dimension is above its limit.
    pub any_over: bool,
    /// Created, `YYYY-MM-DD`.
    pub created: String,
}

/// `templates/admin/tenants.html`.
#[derive(Template, WebTemplate)]
#[template(path = "admin/tenants.html")]
pub struct TenantsPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenants by slug.
    pub tenants: Vec<TenantRow>,
}

/// `GET /admin/tenants`.
#[tracing::instrument(skip_all)]
async fn list_page(
    State(state): State<AppState>,
    PlatformAdmin(user): PlatformAdmin,
) -> AppResult<TenantsPage> {
    let mut conn = state.db.acquire().await?;
    let all = repo::list_all(&mut conn).await?;
    drop(conn);
    let tenants = all
        .into_iter()
        .map(|s| {
            let bars = QuotaBar::all(s.tenant.limits, s.usage);
            TenantRow {
                slug: s.tenant.slug.to_string(),
                name: s.tenant.name,
                members: s.members,
                ownerless: s.owners == 0,
                any_over: bars.iter().any(|b| b.over),
                bars,
                created: s.tenant.created_at.format("%Y-%m-%d").to_string(),
            }
        })
        .collect();
    Ok(TenantsPage {
        layout: nav::layout_for(&state, &user, "Tenants", None).await?,
        tenants,
    })
}

/// The new-tenant form (kept on errors).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewTenantForm {
    /// Slug.
    #[serde(default)]
    pub slug: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Optional email of the first owner.
    #[serde(default)]
    pub owner_email: String,
}

/// `templates/admin/tenant_new.html`.
#[derive(Template, WebTemplate)]
#[template(path = "admin/tenant_new.html")]
pub struct NewTenantPage {
    /// Base layout.
    pub layout: Layout,
    /// Values.
    pub form: NewTenantForm,
    /// Messages beside the fields.
    pub errors: FieldErrors,
    /// Default limits, for the hint.
    pub defaults: String,
}

async fn new_form(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    form: NewTenantForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let d = DEFAULT_LIMITS;
    let page = NewTenantPage {
        layout: nav::layout_for(state, user, "New tenant", None).await?,
        form,
        errors,
        defaults: format!(
            "{} clusters, {} nodes, {} CPU, {} memory, {} storage",
            d.clusters,
            d.nodes,
            units::cpu(d.cpu_millis),
            units::memory(d.memory_mib),
            units::storage(d.storage_gib)
        ),
    };
    Ok((status, page).into_response())
}

/// `GET /admin/tenants/new`.
#[tracing::instrument(skip_all)]
async fn new_page(
    State(state): State<AppState>,
    PlatformAdmin(user): PlatformAdmin,
) -> AppResult<Response> {
    new_form(&state, &user, NewTenantForm::default(), FieldErrors::new()).await
}

/// `POST /admin/tenants/new`.
#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    PlatformAdmin(user): PlatformAdmin,
    meta: RequestMeta,
    Form(form): Form<NewTenantForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let slug = TenantSlug::parse(&form.slug)
        .map_err(|m| errors.add("slug", m))
        .ok();
    let name = TenantName::parse(&form.name)
        .map_err(|m| errors.add("name", m))
        .ok();
    let owner = form.owner_email.trim();
    if !owner.is_empty()
        && let Err(m) = crate::accounts::email::Email::parse(owner)
    {
        errors.add("owner_email", m);
    }
    let (Some(slug), Some(name)) = (slug, name) else {
        return new_form(&state, &user, form, errors).await;
    };
    if !errors.is_empty() {
        return new_form(&state, &user, form, errors).await;
    }
    let actor = Actor::user(user.user_id, &user.email);
    let by = service::By {
        actor: &actor,
        meta: &meta,
    };
    let owner = (!owner.is_empty()).then_some(owner);
    match service::create(&state.db, by, &slug, &name, DEFAULT_LIMITS, owner).await {
        Ok(tenant) => Ok(flash::redirect(
            "/admin/tenants",
            FlashKind::Success,
            format!("Tenant {} ({}) created.", tenant.name, tenant.slug),
        )),
        Err(AppError::Validation(errors)) => new_form(&state, &user, form, errors).await,
        Err(e) => Err(e),
    }
}
