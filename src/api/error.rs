//! API errors as `application/problem+json` (RFC 9457): `{type, title, status, detail, errors}`.
//!
//! Every handler and extractor of `/api/v1` fails with [`ApiError`]; [`AppError`]s from the domain convert
//! into it. Field errors (dotted names such as `node_sets.0.count`) become JSON pointers into the request
//! body (`/node_sets/0/count`), or name a query `parameter`. 5xx causes are logged, never shown.
//!
//! `type` is a URI reference to the problem's description in the API documentation
//! (`/api/docs#problem-<slug>`); clients switch on `status` and `type`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, FieldErrors};

/// Media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// URI reference identifying the kind of problem (`/api/docs#problem-validation`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence, safe to show.
    pub detail: String,
    /// Per-field problems (validation errors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
}

/// One invalid field or parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProblemItem {
    /// JSON pointer (RFC 6901) into the request body, e.g. `/node_sets/0/count` (absent when the problem is
    /// not about the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Name of the query, path or header parameter at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What is wrong with it.
    pub detail: String,
}

/// An error answer of the API (boxed: results stay small on the happy path).
#[derive(Debug)]
pub struct ApiError(Box<ApiErrorInner>);

/// What an [`ApiError`] holds.
#[derive(Debug)]
pub struct ApiErrorInner {
    /// Status code.
    pub status: StatusCode,
    /// Problem type slug (`validation`, `not-found`, ...).
    pub slug: &'static str,
    /// Safe explanation.
    pub detail: String,
    /// Field problems.
    pub errors: Vec<ProblemItem>,
    /// `Retry-After` seconds (429, 409 while in progress, 503).
    pub retry_after: Option<u64>,
    /// The cause of a 5xx, logged when the response is made.
    cause: Option<AppError>,
    /// Extra headers (e.g. the current `ETag` on a 412).
    extra_headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorInner;

    fn deref(&self) -> &ApiErrorInner {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorInner {
        &mut self.0
    }
}

impl ApiError {
    /// An error with a status, a problem type slug and a detail.
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ApiErrorInner {
            status,
            slug,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            cause: None,
            extra_headers: Vec::new(),
        }))
    }

    /// 400 with a detail.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 400 about one query/path/header parameter.
    pub fn bad_parameter(parameter: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            format!("Invalid parameter `{parameter}`: {detail}"),
        );
        e.errors.push(ProblemItem {
            pointer: None,
            parameter: Some(parameter.to_owned()),
            detail,
        });
        e
    }

    /// 401: missing, malformed, unknown, expired or revoked bearer token.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403 with a reason.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "No such resource, or you cannot see it.",
        )
    }

    /// 413: the body exceeds [`crate::MAX_BODY_BYTES`].
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!(
                "The request body is larger than {} bytes.",
                crate::MAX_BODY_BYTES
            ),
        )
    }

    /// 422 with one pointer error in the body.
    pub fn invalid_body(pointer: String, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            format!("The request body does not match the expected schema: {detail}"),
        );
        e.errors.push(ProblemItem {
            pointer: Some(pointer),
            parameter: None,
            detail,
        });
        e
    }

    /// 422 from field errors; every field becomes a pointer under `prefix` (`""` or `/spec`).
    pub fn validation(fields: &FieldErrors, prefix: &str) -> Self {
        Self::validation_with(
            fields,
            |field| Some(format!("{prefix}{}", pointer(field))),
            None,
        )
    }

    /// 422 from field errors, with `locate` deciding each field's pointer (`None`: the field is the query
    /// `parameter` of that name, when `parameter_fields` lists it; else no location).
    pub fn validation_with(
        fields: &FieldErrors,
        locate: impl Fn(&str) -> Option<String>,
        parameter_fields: Option<&[&str]>,
    ) -> Self {
        let quota = fields.0.iter().any(|e| e.field.starts_with("quota."));
        let (slug, detail) = if quota {
            (
                "quota-exceeded",
                "The request would exceed the tenant's quota.".to_owned(),
            )
        } else {
            ("validation", format!("The request is invalid: {fields}"))
        };
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, slug, detail);
        e.errors = fields
            .0
            .iter()
            .map(|f| {
                if f.field.starts_with("quota.") {
                    return ProblemItem {
                        pointer: None,
                        parameter: None,
                        detail: f.message.clone(),
                    };
                }
                if parameter_fields.is_some_and(|p| p.contains(&f.field.as_str())) {
                    return ProblemItem {
                        pointer: None,
                        parameter: Some(f.field.clone()),
                        detail: f.message.clone(),
                    };
                }
                ProblemItem {
                    pointer: locate(&f.field),
                    parameter: None,
                    detail: f.message.clone(),
                }
            })
            .collect();
        e
    }

    /// Add a header to the answer.
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.extra_headers.push((name, value));
        self
    }

    /// Set `Retry-After`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The problem document of this error.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/api/docs#problem-{}", self.slug),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

/// A dotted field name as a JSON pointer: `node_sets.0.count` -> `/node_sets/0/count`; `""` -> `""`.
pub fn pointer(field: &str) -> String {
    if field.is_empty() {
        return String::new();
    }
    field
        .split('.')
        .map(|segment| format!("/{}", segment.replace('~', "~0").replace('/', "~1")))
        .collect()
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = e.status();
        let mut out = match &e {
            AppError::BadRequest(m) => ApiError::bad_request(m.clone()),
            AppError::Validation(fields) => ApiError::validation(fields, ""),
            AppError::Unauthorized => ApiError::unauthorized("Authentication required."),
            AppError::Forbidden(m) => ApiError::forbidden(m.clone()),
            AppError::NotFound => ApiError::not_found(),
            AppError::Conflict(m) => ApiError::new(status, "conflict", m.clone()),
            AppError::PreconditionFailed { detail, etag } => {
                let error = ApiError::new(status, "precondition-failed", detail.clone());
                match HeaderValue::from_str(etag) {
                    Ok(v) => error.with_header(header::ETAG, v),
                    Err(_) => error,
                }
            }
            AppError::TooManyRequests { retry_after_secs } => {
                ApiError::new(status, "rate-limited", e.public_detail())
                    .with_retry_after(*retry_after_secs)
            }
            AppError::Unavailable(_) => {
                ApiError::new(status, "unavailable", e.public_detail()).with_retry_after(5)
            }
            AppError::GatewayTimeout(m) => {
                ApiError::new(status, "timeout", m.clone()).with_retry_after(5)
            }
            AppError::Internal(_) => ApiError::new(status, "internal", e.public_detail()),
        };
        if status.is_server_error() {
            out.cause = Some(e);
        }
        out
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        AppError::from(e).into()
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError::validation(&e, "")
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            cause.log();
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"esaas\""),
            );
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        for (name, value) in self.0.extra_headers {
            headers.insert(name, value);
        }
        response
    }
}

/// Result type of API handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_fields_become_pointers() {
        assert_eq!(pointer("node_sets.0.count"), "/node_sets/0/count");
        assert_eq!(pointer("name"), "/name");
        assert_eq!(pointer(""), "");
        assert_eq!(pointer("a/b.c~d"), "/a~1b/c~0d");
    }

    #[test]
    fn validation_errors_carry_pointers_and_quota_is_its_own_type() {
        let mut fields = FieldErrors::new();
        fields.add("node_sets.0.count", "must be odd");
        let e = ApiError::validation(&fields, "/spec");
        let p = e.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.kind, "/api/docs#problem-validation");
        assert_eq!(
            p.errors[0].pointer.as_deref(),
            Some("/spec/node_sets/0/count")
        );

        let mut fields = FieldErrors::new();
        fields.add("quota.nodes", "Quota exceeded for nodes");
        let p = ApiError::from(AppError::Validation(fields)).problem();
        assert_eq!(p.kind, "/api/docs#problem-quota-exceeded");
        assert_eq!(p.errors[0].pointer, None);
    }

    #[test]
    fn unauthorized_answers_carry_www_authenticate() {
        let r = ApiError::unauthorized("no").into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let e = ApiError::from(AppError::Internal(anyhow::anyhow!("secret detail")));
        assert!(!e.problem().detail.contains("secret"));
    }
}
