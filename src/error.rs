//! The one error type of the portal. Handlers return `AppError`; web pages render it as an HTML error page,
//! the API wraps it in its problem+json error (`api::error`). 4xx variants carry user-safe text;
//! 5xx variants wrap the cause, which is logged and never shown.

use std::fmt;

use serde::Serialize;

/// One invalid input field: `field` is the form field name (the API turns it into a JSON pointer, `/a/b`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Form field name, dotted for nested values (`node_sets.0.count`).
    pub field: String,
    /// Human-readable reason, safe to show.
    pub message: String,
}

/// A field error's message as a sentence: a capital first letter, a full stop at the end, and names quoted
/// with typographic quotes (“fast-ssd”) rather than Markdown backticks. One place, so the request form,
/// the API's problem details and the CLI all word their refusals alike.
pub fn sentence(message: &str) -> String {
    let trimmed = message.trim();
    // Capitalise a leading word, never a leading value someone typed (`not-an-address: ...`, `9.9.9 ...`).
    let first_word = trimmed.split(' ').next().unwrap_or("");
    let capitalise = first_word.chars().all(|c| c.is_ascii_alphabetic());
    let mut out = String::with_capacity(trimmed.len() + 4);
    let mut open = true;
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '`' => {
                out.push(if open { '\u{201c}' } else { '\u{201d}' });
                open = !open;
            }
            c if i == 0 && capitalise => out.extend(c.to_uppercase()),
            c => out.push(c),
        }
    }
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// A list of field errors; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record an error for `field`. The message is made a sentence a person reads ([`sentence`]).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: sentence(&message.into()),
        });
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first message recorded for `field`, for showing beside a form input.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// `Ok(value)` when empty, otherwise `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Append another list, prefixing its fields with `prefix.` (for nested values).
    pub fn extend_prefixed(&mut self, prefix: &str, other: FieldErrors) {
        for e in other.0 {
            self.add(format!("{prefix}.{}", e.field), e.message);
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

/// Everything a handler can fail with. Each variant says its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed (not a field problem).
    #[error("{0}")]
    BadRequest(String),
    /// 422: one or more fields are invalid; forms re-render with the messages beside the fields.
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    /// 401: not logged in (HTML: redirect to the login page).
    #[error("authentication required")]
    Unauthorized,
    /// 403: logged in but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: absent, or belongs to a tenant the caller cannot see (never reveal which).
    #[error("not found")]
    NotFound,
    /// 409: conflicts with the current state (duplicate name, an operation already running, ...).
    #[error("{0}")]
    Conflict(String),
    /// 412: an `If-Match` precondition failed; `etag` is the current one (the API sends it as `ETag`).
    #[error("{detail}")]
    PreconditionFailed {
        /// What changed and what to do.
        detail: String,
        /// The resource's current entity tag, quoted.
        etag: String,
    },
    /// 429: throttled; retry after this many seconds.
    #[error("too many requests; retry in {retry_after_secs} s")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 504: a dependency (Kubernetes) did not answer in time; the text says which and what to do.
    #[error("{0}")]
    GatewayTimeout(String),
    /// 503: a dependency (the database) is unreachable; the portal recovers by itself.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// 500: a bug or an unexpected failure; logged with its cause, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// The HTTP status of this error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::BadRequest(_) => S::BAD_REQUEST,
            AppError::Validation(_) => S::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => S::UNAUTHORIZED,
            AppError::Forbidden(_) => S::FORBIDDEN,
            AppError::NotFound => S::NOT_FOUND,
            AppError::Conflict(_) => S::CONFLICT,
            AppError::PreconditionFailed { .. } => S::PRECONDITION_FAILED,
            AppError::TooManyRequests { .. } => S::TOO_MANY_REQUESTS,
            AppError::GatewayTimeout(_) => S::GATEWAY_TIMEOUT,
            AppError::Unavailable(_) => S::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short title for the status, shown on error pages and in problem+json.
    pub fn title(&self) -> &'static str {
        self.status().canonical_reason().unwrap_or("Error")
    }

    /// Text safe to show the user (never the cause of a 5xx).
    pub fn public_detail(&self) -> String {
        match self {
            AppError::Unavailable(_) => {
                "The service is temporarily unavailable (the database cannot be reached). Try again in a moment."
                    .into()
            }
            AppError::Internal(_) => "Something went wrong on our side. It has been logged.".into(),
            other => other.to_string(),
        }
    }

    /// Log 5xx causes (with the request's span, so the request id is on the line).
    pub fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Unavailable(e) => tracing::warn!(error = %e, "dependency unavailable"),
            AppError::GatewayTimeout(m) => tracing::warn!(detail = %m, "dependency timed out"),
            _ => {}
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => AppError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                AppError::Unavailable(e.into())
            }
            sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => AppError::Unavailable(e.into()),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Validation(e)
    }
}

/// Map a named unique/check constraint violation to a field error (realworld's `on_constraint`).
pub trait ResultExt<T> {
    /// When the database error is a violation of `constraint`, turn it into `f()`.
    fn on_constraint(self, constraint: &str, f: impl FnOnce() -> AppError) -> Result<T, AppError>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_constraint(self, constraint: &str, f: impl FnOnce() -> AppError) -> Result<T, AppError> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => f(),
            _ => e.into(),
        })
    }
}

/// Result type of handlers and services.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod sentence_tests {
    use super::sentence;

    #[test]
    fn messages_become_sentences_with_quotes() {
        assert_eq!(sentence("enter a name"), "Enter a name.");
        assert_eq!(sentence("Enter a name."), "Enter a name.");
        assert_eq!(
            sentence("`fast` is not offered; choose one of `standard`"),
            "\u{201c}fast\u{201d} is not offered; choose one of \u{201c}standard\u{201d}."
        );
        assert_eq!(
            sentence("use at most 36 characters (this one has 40)"),
            "Use at most 36 characters (this one has 40)."
        );
        assert_eq!(sentence("  "), "");
        assert_eq!(
            sentence("ops@x: not an address"),
            "ops@x: not an address.",
            "a typed value is not capitalised"
        );
    }
}
