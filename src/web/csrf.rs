//! Cross-site request forgery protection for every HTML form, as one middleware (so no handler can forget).
//!
//! For every `POST`/`PUT`/`PATCH`/`DELETE` whose path does not start with `/api/` (the bearer-token API,
//! which browsers cannot forge: no ambient credentials):
//! 1. Cross-site requests are refused when the browser says so: `Sec-Fetch-Site` must be `same-origin` (or
//!    `none`, a user-initiated navigation) and `Origin`, when sent, must be the portal's own origin (its public
//!    URL, or the `Host` the request was sent to). `Origin: null` is refused.
//! 2. A token is required, from the `x-csrf-token` header (htmx, scripts) or else from the `csrf_token` field
//!    of an `application/x-www-form-urlencoded` body, which is buffered (within [`crate::MAX_BODY_BYTES`]) and
//!    passed on intact. Other body types must use the header.
//! 3. It must equal (constant-time) the session's `csrf_token`; for `/login`, and for any request without a
//!    valid session, it must equal the `esaas_csrf` double-submit cookie set when the form was rendered
//!    ([`form_token_for_anonymous`]). A mismatch answers 403 with an error page, except that a request whose
//!    session cookie has expired or been revoked is sent to the login page (nothing ran either way).
//!
//! This module decides only whether a form post is genuine; it never changes state.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use http::{HeaderMap, Method, StatusCode, header};
use subtle::ConstantTimeEq;

use crate::auth::session::{self, Resolved};
use crate::config::Config;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::error_page::ErrorPage;
use crate::web::layout::Layout;

/// Form field carrying the token.
pub const CSRF_FIELD: &str = "csrf_token";
/// Header carrying the token (for htmx requests and scripts).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The double-submit cookie of forms shown without a session (the login form).
pub const CSRF_COOKIE: &str = "esaas_csrf";
/// The one path whose form is always checked against the double-submit cookie (a session, if any, is about
/// to be replaced).
const LOGIN_PATH: &str = "/login";

/// Constant-time comparison of a presented token with the expected one (empty never matches).
pub fn tokens_match(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// The token to put into a form rendered without a session (login): the one in the browser's `esaas_csrf`
/// cookie when it has a well-formed one, else a new one set on `jar` (`HttpOnly`, `SameSite=Strict`).
pub fn form_token_for_anonymous(jar: CookieJar, config: &Config) -> (CookieJar, String) {
    if let Some(existing) = jar.get(CSRF_COOKIE)
        && is_well_formed(existing.value())
    {
        let token = existing.value().to_owned();
        return (jar, token);
    }
    let token = session::random_token();
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(config.is_https())
        .build();
    (jar.add(cookie), token)
}

/// Drop the double-submit cookie (after a successful login it is no longer needed).
pub fn clear_anonymous_token(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(CSRF_COOKIE).path("/"))
}

fn is_well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a request must carry a CSRF token.
fn needs_check(method: &Method, path: &str) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && !path.starts_with("/api/")
}

/// Whether the browser's fetch metadata and `Origin` say the request comes from the portal's own pages.
/// Absent headers (older browsers, non-browser clients) are accepted: the token check still applies.
fn same_origin(headers: &HeaderMap, authority: Option<&str>, config: &Config) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str().map(url::Url::parse) else {
        return false;
    };
    let Ok(origin) = origin else {
        // `null` and other opaque origins.
        return false;
    };
    let origin = origin.origin();
    if !origin.is_tuple() {
        return false;
    }
    if url::Url::parse(&config.public_url).is_ok_and(|public| public.origin() == origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority);
    let Some(host) = host else {
        return false;
    };
    let scheme = match &origin {
        url::Origin::Tuple(scheme, _, _) => scheme.as_str(),
        url::Origin::Opaque(_) => return false,
    };
    url::Url::parse(&format!("{scheme}://{host}/")).is_ok_and(|own| own.origin() == origin)
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn is_urlencoded(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// Whether a body error (anywhere in its chain) is the body size limit.
fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

fn forbidden(detail: &str) -> Response {
    AppError::Forbidden(detail.to_owned()).into_response()
}

fn too_large() -> Response {
    let page = ErrorPage {
        layout: Layout::anonymous("Payload Too Large"),
        status: StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
        detail: "The form is too large.".into(),
    };
    (StatusCode::PAYLOAD_TOO_LARGE, page).into_response()
}

/// The middleware (added in [`crate::build_app`]).
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !needs_check(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let authority = req.uri().authority().map(|a| a.as_str().to_owned());
    if !same_origin(req.headers(), authority.as_deref(), &state.config) {
        tracing::info!("refused a cross-site form post");
        return forbidden("Cross-site form submissions are not accepted.");
    }
    let (mut parts, body) = req.into_parts();
    let resolved = match session::resolve(&parts.headers, &mut parts.extensions, &state).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };

    let header_token = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (presented, body) = match header_token {
        Some(t) => (Some(t), body),
        None if is_urlencoded(&parts.headers) => {
            match to_bytes(body, crate::MAX_BODY_BYTES).await {
                Ok(bytes) => (form_field(&bytes, CSRF_FIELD), Body::from(bytes)),
                Err(e) => {
                    return if is_length_limit(&e) {
                        too_large()
                    } else {
                        AppError::BadRequest("The form could not be read.".into()).into_response()
                    };
                }
            }
        }
        None => (None, body),
    };
    let presented = presented.unwrap_or_default();

    let double_submit = || {
        CookieJar::from_headers(&parts.headers)
            .get(CSRF_COOKIE)
            .is_some_and(|c| tokens_match(&presented, c.value()))
    };
    let ok = if parts.uri.path() == LOGIN_PATH {
        double_submit()
    } else {
        match &resolved {
            Resolved::User(user) => tokens_match(&presented, &user.csrf_token),
            Resolved::Anonymous { had_cookie } => {
                if double_submit() {
                    true
                } else if *had_cookie {
                    // The session ended (expired, revoked): nothing runs; ask the user to log in again.
                    return AppError::Unauthorized.into_response();
                } else {
                    false
                }
            }
        }
    };
    if !ok {
        tracing::info!(path = %parts.uri.path(), "refused a form post without a valid CSRF token");
        return forbidden(
            "This form has expired or did not come from this portal. Reload the page and try again.",
        );
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_unsafe_methods_outside_the_api_are_checked() {
        assert!(needs_check(&Method::POST, "/login"));
        assert!(needs_check(&Method::DELETE, "/t/x/clusters/y"));
        assert!(!needs_check(&Method::GET, "/login"));
        assert!(!needs_check(&Method::HEAD, "/"));
        assert!(!needs_check(&Method::POST, "/api/v1/clusters"));
        assert!(needs_check(&Method::POST, "/apix"));
    }

    #[test]
    fn origin_rules() {
        let c = Config::for_tests("postgres://unused");
        let host = [("host", "127.0.0.1:8080")];
        assert!(
            same_origin(&headers(&host), None, &c),
            "no Origin: accepted"
        );
        let ok = [
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ];
        assert!(same_origin(&headers(&ok), None, &c));
        let public = [("host", "internal:9000"), ("origin", "http://127.0.0.1")];
        assert!(
            same_origin(&headers(&public), None, &c),
            "the public URL is ours"
        );
        let evil = [
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ];
        assert!(!same_origin(&headers(&evil), None, &c));
        let port = [
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8081"),
        ];
        assert!(!same_origin(&headers(&port), None, &c));
        let null = [("host", "127.0.0.1:8080"), ("origin", "null")];
        assert!(!same_origin(&headers(&null), None, &c));
        let site = [("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")];
        assert!(!same_origin(&headers(&site), None, &c));
        let same_site = [("host", "127.0.0.1:8080"), ("sec-fetch-site", "same-site")];
        assert!(!same_origin(&headers(&same_site), None, &c));
        let same = [
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert!(same_origin(&headers(&same), None, &c));
        let h2 = [("origin", "http://portal.example:8443")];
        assert!(same_origin(&headers(&h2), Some("portal.example:8443"), &c));
    }

    #[test]
    fn token_comparison() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abd", "abc"));
        assert!(!tokens_match("ab", "abc"));
        assert!(!tokens_match("", ""));
    }

    #[test]
    fn form_field_is_found_anywhere_in_the_body() {
        assert_eq!(
            form_field(b"a=1&csrf_token=x%2By&b=2", "csrf_token").as_deref(),
            Some("x+y")
        );
        assert_eq!(form_field(b"a=1", "csrf_token"), None);
    }

    #[test]
    fn anonymous_token_is_reused_when_well_formed() {
        let c = Config::for_tests("postgres://unused");
        let (jar, t1) = form_token_for_anonymous(CookieJar::new(), &c);
        let cookie = jar.get(CSRF_COOKIE).unwrap();
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert_eq!(cookie.http_only(), Some(true));
        let (_, t2) = form_token_for_anonymous(jar.clone(), &c);
        assert_eq!(t1, t2);
        let forged = CookieJar::new().add(Cookie::new(CSRF_COOKIE, "short"));
        let (_, t3) = form_token_for_anonymous(forged, &c);
        assert_ne!(t3, "short");
    }
}
