//! Extractors whose rejections are problem+json: [`ApiJson`] (body), [`ApiQuery`] (query string) and
//! [`ApiPath`] (path segments). axum's own extractors answer plain text; these wrap the same parsing and
//! say where the input is wrong: a JSON pointer for bodies (`/node_sets/0/count`), a parameter name for
//! query and path values.
//!
//! Malformed JSON (syntax, truncated, trailing data) is 400; well-formed JSON of the wrong shape (wrong
//! types, unknown or missing fields) is 422; a body over [`crate::MAX_BODY_BYTES`] is 413; a body that is not
//! `application/json` (or `application/*+json`) is 415.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use http::request::Parts;
use http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::{ApiError, pointer};

/// A JSON request body of type `T` (which should `deny_unknown_fields`).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        // Every request body of the API is an object; serde would also take an array for a struct.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b == b'[') {
            return Err(ApiError::invalid_body(
                String::new(),
                "expected a JSON object, got an array",
            ));
        }
        // Postgres text cannot hold NUL; no field of the API needs it.
        if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
            return Err(ApiError::invalid_body(
                String::new(),
                "strings may not contain NUL characters (\\u0000)",
            ));
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// True for `application/json` and `application/<anything>+json`.
fn is_json(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The problem for a body that could not be read.
pub fn body_rejection(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else {
        ApiError::bad_request("The request body could not be read.")
    }
}

/// Parse a JSON document into `T`, locating errors with a JSON pointer. Integer-valued numbers written with
/// a fraction or an exponent (`3.0`, `1e3`) count as integers, as JSON Schema says they are: an integer
/// field takes them (serde alone refuses a float for `u32`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut document: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| malformed(&e))?;
    integral_numbers_as_integers(&mut document);
    match serde_path_to_error::deserialize(document) {
        Ok(v) => Ok(v),
        Err(err) => {
            let location = path_pointer(err.path());
            let inner = err.into_inner();
            let message = inner.to_string();
            let message = strip_position(&message);
            let at = match named_field(message) {
                Some(field) => format!("{location}{}", pointer(field)),
                None => location,
            };
            Err(ApiError::invalid_body(at, message))
        }
    }
}

/// Rewrite every float without a fractional part (within the 64-bit integer range) as an integer.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // 2^64 and -2^63 are exact in f64; the bounds keep the casts exact.
            let integer = if f.fract() != 0.0 || !f.is_finite() {
                None
            } else if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                Some(serde_json::Number::from(f as u64))
            } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
                Some(serde_json::Number::from(f as i64))
            } else {
                None
            };
            if let Some(i) = integer {
                *n = i;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

fn malformed(e: &serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed-json",
        format!(
            "The request body is not valid JSON: {} (line {}, column {}).",
            strip_position(&e.to_string()),
            e.line(),
            e.column()
        ),
    )
}

/// serde_json appends " at line L column C"; the pointer says where, so drop it.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// The field a "missing field `x`" message names (it belongs inside the object the path points at; for
/// unknown fields the path already ends at the field).
fn named_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

fn path_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        let part = match segment {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } => key.clone(),
            Segment::Enum { variant } => variant.clone(),
            Segment::Unknown => continue,
        };
        out.push('/');
        out.push_str(&part.replace('~', "~0").replace('/', "~1"));
    }
    out
}

/// Query parameters of type `T`; unknown parameters are ignored.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        parse_query(query).map(ApiQuery)
    }
}

/// Parse a query string into `T`, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let parameter = err
            .path()
            .iter()
            .find_map(|s| match s {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "query".to_owned());
        let message = err.into_inner().to_string();
        let parameter = match named_field(&message) {
            Some(field) if parameter == "query" => field.to_owned(),
            _ => parameter,
        };
        ApiError::bad_parameter(&parameter, message)
    })
}

/// Path segments of type `T` (a struct named after the route's `{segments}`).
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                use axum::extract::path::ErrorKind;
                let kind = e.into_kind();
                let (parameter, detail) = match &kind {
                    ErrorKind::ParseErrorAtKey {
                        key, expected_type, ..
                    } => (key.clone(), format!("expected {expected_type}")),
                    ErrorKind::DeserializeError { key, message, .. } => {
                        (key.clone(), message.clone())
                    }
                    other => ("path".to_owned(), other.to_string()),
                };
                Err(ApiError::bad_parameter(&parameter, detail))
            }
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are only deserialized")]
    struct Inner {
        count: u32,
        #[serde(default)]
        labels: BTreeMap<String, String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are only deserialized")]
    struct Outer {
        name: String,
        sets: Vec<Inner>,
    }

    fn problem(json: &str) -> crate::api::error::Problem {
        parse_json::<Outer>(json.as_bytes()).unwrap_err().problem()
    }

    #[test]
    fn wrong_types_point_at_the_value() {
        let p = problem(r#"{"name":"a","sets":[{"count":1},{"count":"x"}]}"#);
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].pointer.as_deref(), Some("/sets/1/count"));
        assert!(!p.errors[0].detail.contains("at line"), "{:?}", p.errors);
    }

    #[test]
    fn unknown_and_missing_fields_point_at_the_field() {
        let p = problem(r#"{"name":"a","sets":[{"count":1,"replicas":2}]}"#);
        assert_eq!(p.errors[0].pointer.as_deref(), Some("/sets/0/replicas"));
        let p = problem(r#"{"sets":[]}"#);
        assert_eq!(p.errors[0].pointer.as_deref(), Some("/name"));
    }

    #[test]
    fn integer_valued_numbers_are_integers() {
        let outer =
            parse_json::<Outer>(br#"{"name":"a","sets":[{"count":2402843.0},{"count":3e2}]}"#)
                .unwrap();
        assert_eq!(format!("{outer:?}").matches("count: 2402843").count(), 1);
        assert!(format!("{outer:?}").contains("count: 300"));
        let p = problem(r#"{"name":"a","sets":[{"count":2.5}]}"#);
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].pointer.as_deref(), Some("/sets/0/count"));
        let p = problem(r#"{"name":"a","sets":[{"count":-1.0}]}"#);
        assert_eq!(p.status, 422, "still a u32");
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for bad in [r#"{"name": "#, "", "nope", r#"{"name":"a","sets":[]} x"#] {
            let p = problem(bad);
            assert_eq!(p.status, 400, "{bad}");
            assert_eq!(p.kind, "/api/docs#problem-malformed-json");
        }
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields are only deserialized")]
    struct Query {
        limit: Option<u32>,
        cursor: Option<String>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Query>("limit=abc").unwrap_err().problem();
        assert_eq!(e.status, 400);
        assert_eq!(e.errors[0].parameter.as_deref(), Some("limit"));
        assert!(parse_query::<Query>("limit=5&cursor=x&other=1").is_ok());
    }
}
