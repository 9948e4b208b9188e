//! `GET/POST /admin/storage-classes` and `POST /admin/storage-classes/{name}/default|remove`: the storage
//! classes node sets may use and the default one, for platform admins. Rules and audit rows are
//! `clusters::storage_classes`'; this page renders the list and collects the forms.

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
use crate::clusters::storage_classes::{self, StorageClass};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;
use crate::web::layout::Layout;
use crate::web::nav;

const PAGE_URL: &str = "/admin/storage-classes";

/// The storage class routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PAGE_URL, get(list_page).post(add))
        .route("/admin/storage-classes/{name}/default", post(make_default))
        .route("/admin/storage-classes/{name}/remove", post(remove))
}

/// The add form (kept on errors).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewClassForm {
    /// Class name.
    #[serde(default)]
    pub name: String,
    /// `on` to make it the default.
    #[serde(default)]
    pub make_default: Option<String>,
}

/// `templates/admin/storage_classes.html`.
#[derive(Template, WebTemplate)]
#[template(path = "admin/storage_classes.html")]
pub struct StorageClassesPage {
    /// Base layout.
    pub layout: Layout,
    /// The offered classes by name.
    pub classes: Vec<StorageClass>,
    /// Add form values.
    pub form: NewClassForm,
    /// Messages beside the add form's fields.
    pub errors: FieldErrors,
}

async fn render(
    state: &AppState,
    me: &CurrentUser,
    form: NewClassForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let classes = {
        let mut conn = state.db.acquire().await?;
        storage_classes::list(&mut conn).await?
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = StorageClassesPage {
        layout: nav::layout_for(state, me, "Storage classes", None).await?,
        classes,
        form,
        errors,
    };
    Ok((status, page).into_response())
}

/// `GET /admin/storage-classes`.
#[tracing::instrument(skip_all)]
async fn list_page(
    State(state): State<AppState>,
    PlatformAdmin(me): PlatformAdmin,
) -> AppResult<Response> {
    render(&state, &me, NewClassForm::default(), FieldErrors::new()).await
}

/// `POST /admin/storage-classes`: offer a class.
#[tracing::instrument(skip_all)]
async fn add(
    State(state): State<AppState>,
    PlatformAdmin(me): PlatformAdmin,
    meta: RequestMeta,
    Form(form): Form<NewClassForm>,
) -> AppResult<Response> {
    let actor = Actor::user(me.user_id, &me.email);
    let make_default = form.make_default.is_some();
    match storage_classes::put(&state.db, &actor, &meta, &form.name, make_default).await {
        Ok((class, _)) => Ok(flash::redirect(
            PAGE_URL,
            FlashKind::Success,
            format!(
                "Storage class {} is offered{}.",
                class.name,
                if class.is_default {
                    " and is the default"
                } else {
                    ""
                }
            ),
        )),
        Err(AppError::Validation(errors)) => render(&state, &me, form, errors).await,
        Err(e) => Err(e),
    }
}

/// `POST /admin/storage-classes/{name}/default`.
#[tracing::instrument(skip(state, me, meta))]
async fn make_default(
    State(state): State<AppState>,
    PlatformAdmin(me): PlatformAdmin,
    meta: RequestMeta,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let exists = {
        let mut conn = state.db.acquire().await?;
        storage_classes::list(&mut conn)
            .await?
            .iter()
            .any(|c| c.name == name)
    };
    if !exists {
        return Err(AppError::NotFound);
    }
    let actor = Actor::user(me.user_id, &me.email);
    storage_classes::put(&state.db, &actor, &meta, &name, true).await?;
    Ok(flash::redirect(
        PAGE_URL,
        FlashKind::Success,
        format!("New node sets that name no class get {name} now."),
    ))
}

/// `POST /admin/storage-classes/{name}/remove`.
#[tracing::instrument(skip(state, me, meta))]
async fn remove(
    State(state): State<AppState>,
    PlatformAdmin(me): PlatformAdmin,
    meta: RequestMeta,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let actor = Actor::user(me.user_id, &me.email);
    storage_classes::remove(&state.db, &actor, &meta, &name).await?;
    Ok(flash::redirect(
        PAGE_URL,
        FlashKind::Success,
        format!("{name} is no longer offered; node sets that use it keep it."),
    ))
}
