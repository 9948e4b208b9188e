//! The one way HTML pages read input: [`Form`] for form bodies (every handler uses it instead of axum's
//! `Form`, which `clippy.toml` disallows) and [`refuse_nul_in_url`] for query strings (GET forms, links).
//!
//! Both refuse a NUL character (`%00`, or a raw zero byte) anywhere in a field name or value with 400 and a
//! message: Postgres text cannot hold NUL, and without this check the value would fail deep inside a query
//! as a 500 with an ERROR log line. Everything else about reading a form is axum's (content type, size,
//! deserialisation errors). This module decides only whether input can be read; field rules live with the
//! handlers and services.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// The message of a refused NUL character.
pub const NUL_REFUSED: &str =
    "A form field contains a NUL character (%00), which is not allowed. Remove it and try again.";

/// An `application/x-www-form-urlencoded` body deserialised into `T`, refused (400) when any field holds a
/// NUL character.
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

/// Whether urlencoded `input` (a body or a query string) has a NUL in any decoded name or value.
pub fn has_nul(input: &[u8]) -> bool {
    url::form_urlencoded::parse(input).any(|(k, v)| k.contains('\0') || v.contains('\0'))
}

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        if parts.uri.query().is_some_and(|q| has_nul(q.as_bytes())) {
            return Err(AppError::BadRequest(NUL_REFUSED.into()).into_response());
        }
        // The body is read once here (within the body limit), checked, and handed to axum's extractor.
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if has_nul(&bytes) {
            return Err(AppError::BadRequest(NUL_REFUSED.into()).into_response());
        }
        #[expect(clippy::disallowed_types, reason = "the one place axum's Form is used")]
        let form = axum::extract::Form::<T>::from_request(
            Request::from_parts(parts, Body::from(bytes)),
            state,
        )
        .await
        .map_err(IntoResponse::into_response)?;
        Ok(Self(form.0))
    }
}

/// Middleware of every HTML route: 400 for a query string with a NUL character (GET forms such as the audit
/// log filter, and links).
pub async fn refuse_nul_in_url(req: Request, next: Next) -> Response {
    if req.uri().query().is_some_and(|q| has_nul(q.as_bytes())) {
        return AppError::BadRequest(NUL_REFUSED.into()).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_encoded_or_raw_in_names_and_values() {
        assert!(has_nul(b"a=1&b=x%00y"));
        assert!(has_nul(b"a%00=1"));
        assert!(has_nul(b"a=\0"));
        assert!(
            !has_nul(b"a=1&b=%2500"),
            "an encoded percent sign followed by 00 is no NUL"
        );
        assert!(!has_nul(b"a=1&b=caf%C3%A9"));
        assert!(!has_nul(b""));
    }
}
