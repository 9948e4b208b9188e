//! HTML rendering of [`AppError`]: an error page with the status and a safe message; 401 redirects to login.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::AppError;
use crate::web::layout::Layout;

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
        let page = ErrorPage {
            layout: Layout::anonymous(self.title()),
            status: status.as_u16(),
            detail: self.public_detail(),
        };
        let mut response = (status, page).into_response();
        if let AppError::TooManyRequests { retry_after_secs } = self
            && let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        response
    }
}
