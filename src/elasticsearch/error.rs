//! Why a call to Elasticsearch failed, in words a user can act on. The `Display` text is shown in the
//! dashboard ("Elasticsearch cannot be reached: ...") and stored as the inspector's last error, so it never
//! carries a password or a response body that could.

use std::time::Duration;

/// A failed Elasticsearch call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EsError {
    /// No node answers: the pods are not ready, the Service has no endpoints, the connection was refused.
    #[error("Elasticsearch cannot be reached: {0}")]
    Unreachable(String),
    /// 401: the user or password was refused.
    #[error(
        "authentication failed for user `{user}`: the portal's credentials were refused (the user Secret may not be applied yet)"
    )]
    Authentication {
        /// The user name that was refused.
        user: String,
    },
    /// 403: the user lacks a privilege.
    #[error("user `{user}` may not do this: {reason}")]
    Forbidden {
        /// The user.
        user: String,
        /// Elasticsearch's reason.
        reason: String,
    },
    /// No answer within the timeout.
    #[error("Elasticsearch did not answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// 429 or 503 even after the retries: the cluster is overloaded or has no elected master.
    #[error(
        "Elasticsearch is busy or unavailable (HTTP {status}) after {attempts} attempts: {reason}"
    )]
    Busy {
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// Elasticsearch's reason.
        reason: String,
    },
    /// Any other error answer (400, 404, 500, ...), with Elasticsearch's own `type` and `reason`.
    #[error("Elasticsearch refused the request (HTTP {status} {kind}): {reason}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `error.type`, e.g. `index_not_found_exception`.
        kind: String,
        /// `error.reason`.
        reason: String,
    },
    /// The answer is not what this client understands (not Elasticsearch, or an unexpected shape).
    #[error("unexpected answer from Elasticsearch: {0}")]
    Decode(String),
    /// The connection could not be set up (CA certificate missing or invalid, TLS failure).
    #[error("cannot connect to Elasticsearch securely: {0}")]
    Tls(String),
}

impl EsError {
    /// Worth retrying the same request: overload and transient unavailability.
    pub fn is_retryable_status(status: u16) -> bool {
        status == 429 || status == 503
    }

    /// A short machine-readable kind (`unreachable`, `authentication`, ...), for the API and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            EsError::Unreachable(_) => "unreachable",
            EsError::Authentication { .. } => "authentication",
            EsError::Forbidden { .. } => "forbidden",
            EsError::Timeout(_) => "timeout",
            EsError::Busy { .. } => "busy",
            EsError::Api { .. } => "api",
            EsError::Decode(_) => "decode",
            EsError::Tls(_) => "tls",
        }
    }

    /// The error of an error answer: Elasticsearch's envelope
    /// `{"error":{"type","reason",...},"status":N}`, or a short note when the body is not one.
    pub fn from_answer(status: u16, body: &[u8], user: &str) -> Self {
        let (kind, reason) = error_type_and_reason(body);
        match status {
            401 => EsError::Authentication {
                user: user.to_owned(),
            },
            403 => EsError::Forbidden {
                user: user.to_owned(),
                reason,
            },
            _ => EsError::Api {
                status,
                kind,
                reason,
            },
        }
    }
}

/// `error.type` and `error.reason` of an error body (shortened), or placeholders.
pub fn error_type_and_reason(body: &[u8]) -> (String, String) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let error = &value["error"];
    let kind = error["type"].as_str().unwrap_or("unknown").to_owned();
    let reason = error["reason"]
        .as_str()
        .or_else(|| error.as_str())
        .unwrap_or("no reason given");
    let reason: String = reason.chars().take(300).collect();
    (kind, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_error_envelope() {
        let body = br#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [foo]"}],
            "type":"index_not_found_exception","reason":"no such index [foo]","index":"foo"},"status":404}"#;
        let e = EsError::from_answer(404, body, "esaas-portal");
        assert_eq!(
            e,
            EsError::Api {
                status: 404,
                kind: "index_not_found_exception".into(),
                reason: "no such index [foo]".into()
            }
        );
        assert!(e.to_string().contains("no such index [foo]"));
    }

    #[test]
    fn authentication_and_privileges_name_the_user() {
        let e = EsError::from_answer(401, b"{}", "esaas-portal");
        assert_eq!(e.kind(), "authentication");
        assert!(e.to_string().contains("`esaas-portal`"));
        let e = EsError::from_answer(
            403,
            br#"{"error":{"type":"security_exception","reason":"action [indices:admin/settings/update] is unauthorized for user [esaas-portal]"},"status":403}"#,
            "esaas-portal",
        );
        assert!(e.to_string().contains("unauthorized for user"));
        assert_eq!(error_type_and_reason(b"not json").0, "unknown");
    }

    #[test]
    fn only_overload_is_retried() {
        assert!(EsError::is_retryable_status(429));
        assert!(EsError::is_retryable_status(503));
        assert!(!EsError::is_retryable_status(500));
        assert!(!EsError::is_retryable_status(401));
    }
}
