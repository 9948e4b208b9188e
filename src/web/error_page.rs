//! HTML rendering of [`AppError`]: an error page with the status and a safe message; 401 redirects to login.
//! The error is rendered where the handler fails, which does not know who asks, so the page carries the
//! anonymous layout and an [`ErrorShown`] marker; [`with_navigation`] renders it again inside the signed-in
//! user's navigation, so a 403 or 404 never strands anyone without the menu.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, header};

use crate::auth::session::{self, Resolved};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::nav;

/// What an error page said (its status, title and safe detail), for [`with_navigation`].
#[derive(Debug, Clone)]
pub struct ErrorShown {
    status: u16,
    title: &'static str,
    detail: String,
}

/// Marks the redirect of a request that needs a signed-in user (see [`super::login_redirect`]).
#[derive(Debug, Clone, Copy)]
pub struct LoginRequired;

/// `templates/error.html`.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Base layout.
    pub layout: Layout,
    /// HTTP status code.
    pub status: u16,
    /// Safe detail text.
    pub detail: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        if matches!(self, AppError::Unauthorized) {
            // `login_redirect` adds the way back (it knows the request; this does not).
            let mut response = Redirect::to("/login").into_response();
            response.extensions_mut().insert(LoginRequired);
            return response;
        }
        let status = self.status();
        let shown = ErrorShown {
            status: status.as_u16(),
            title: self.title(),
            detail: self.public_detail(),
        };
        let page = ErrorPage {
            layout: Layout::anonymous(shown.title),
            status: shown.status,
            detail: shown.detail.clone(),
        };
        let mut response = (status, page).into_response();
        response.extensions_mut().insert(shown);
        if let AppError::TooManyRequests { retry_after_secs } = self
            && let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        response
    }
}

/// Middleware: an error page answered to a signed-in user is rendered again with their navigation (tenant
/// switcher, menu, account). htmx fragments and anonymous callers keep the plain page; when the layout
/// cannot be built (the database is down: that may be the error itself), the plain page stays too.
pub async fn with_navigation(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let htmx = req.headers().contains_key("hx-request");
    let headers = req.headers().clone();
    let response = next.run(req).await;
    let Some(shown) = response.extensions().get::<ErrorShown>().cloned() else {
        return response;
    };
    if htmx {
        return response;
    }
    let mut extensions = http::Extensions::new();
    let Ok(Resolved::User(user)) = session::resolve(&headers, &mut extensions, &state).await else {
        return response;
    };
    let Ok(layout) = nav::layout_for(&state, &user, shown.title, None).await else {
        return response;
    };
    let page = ErrorPage {
        layout,
        status: shown.status,
        detail: shown.detail,
    };
    let Ok(html) = page.render() else {
        return response;
    };
    let (mut parts, _plain) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, Body::from(html))
}
