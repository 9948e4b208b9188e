//! Sends someone who is not (or no longer) signed in to the login page with the way back.
//!
//! Handlers answer an anonymous request with a plain redirect to `/login` (`AppError::Unauthorized`, whose
//! response carries the [`LoginRequired`] marker); this middleware adds `?next=<the page asked for>` to it for
//! `GET` requests, so that after logging in the user
//! lands where they were going. For htmx requests (the dashboards' self-refresh), following that redirect
//! would swap the whole login page into the refreshed fragment; they get `HX-Redirect` instead, back to the
//! page the browser shows (`HX-Current-URL`), so the whole window goes to the login page. Only local paths
//! are ever put into `next` (see [`super::login::safe_next`]).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::error_page::LoginRequired;
use super::login::safe_next;

/// `/login?next=<path>` for a local `path`, plain `/login` otherwise.
pub fn login_url(path: Option<&str>) -> String {
    match safe_next(path).filter(|p| *p != "/") {
        Some(p) => format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>()
        ),
        None => "/login".to_owned(),
    }
}

/// The path and query of the page an htmx request was made from.
fn htmx_page(headers: &HeaderMap) -> Option<String> {
    let current = headers.get("hx-current-url")?.to_str().ok()?;
    let url = url::Url::parse(current).ok()?;
    Some(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

/// Middleware: rewrite redirects to the bare login page (see the module documentation).
pub async fn middleware(req: Request, next: Next) -> Response {
    let is_get = req.method() == Method::GET;
    let htmx = req.headers().contains_key("hx-request");
    let asked = req.uri().path_and_query().map(|pq| pq.as_str().to_owned());
    let page = htmx.then(|| htmx_page(req.headers())).flatten();
    let mut response = next.run(req).await;
    if response.extensions().get::<LoginRequired>().is_none() {
        return response;
    }
    if htmx {
        let target = login_url(page.as_deref());
        if let Ok(v) = HeaderValue::from_str(&target) {
            *response.status_mut() = StatusCode::OK;
            response.headers_mut().remove(header::LOCATION);
            response.headers_mut().insert("hx-redirect", v);
        }
    } else if is_get && let Ok(v) = HeaderValue::from_str(&login_url(asked.as_deref())) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_go_into_next() {
        assert_eq!(
            login_url(Some("/t/acme/clusters?health=green")),
            "/login?next=%2Ft%2Facme%2Fclusters%3Fhealth%3Dgreen"
        );
        assert_eq!(login_url(Some("//evil.example/x")), "/login");
        assert_eq!(login_url(Some("https://evil.example/")), "/login");
        assert_eq!(login_url(Some("/logout")), "/login");
        assert_eq!(login_url(None), "/login");
        assert_eq!(
            login_url(Some("/")),
            "/login",
            "the start page needs no way back"
        );
    }

    #[test]
    fn the_htmx_page_is_the_path_and_query_of_the_current_url() {
        let mut h = HeaderMap::new();
        h.insert(
            "hx-current-url",
            HeaderValue::from_static("http://portal.example/t/acme/clusters/logs?x=1"),
        );
        assert_eq!(htmx_page(&h).as_deref(), Some("/t/acme/clusters/logs?x=1"));
        assert_eq!(htmx_page(&HeaderMap::new()), None);
    }
}
