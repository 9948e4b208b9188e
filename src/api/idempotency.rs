//! `Idempotency-Key` for every `POST`, `PUT`, `PATCH` and `DELETE` of the API, so automation can retry a
//! request whose answer it did not get without doing the work twice.
//!
//! Keys are scoped to the token (two tokens never see each other's responses) and kept 24 hours:
//! * The first request with a key inserts a placeholder row (the primary key `(token_id, key)` makes this
//!   the one decision point, so of two concurrent identical requests exactly one runs), runs, and stores its
//!   response (status, headers, body). The request runs in its own task, so a client that disconnects does
//!   not leave a half-recorded key behind.
//! * A retry with the same key and the same request (SHA-256 of method, path with query, and body) gets the
//!   stored response again, with `Idempotent-Replayed: true`, and nothing runs.
//! * The same key with a different request is refused with 422; while the first request still runs, 409
//!   with `Retry-After: 1`.
//! * 5xx answers are not stored (the key is released, a retry runs again). Answers that carry a secret
//!   (`Cache-Control: no-store`: a new token, revealed credentials) are not stored either: a retry gets 409
//!   saying so, and nothing runs twice.
//! * After 24 hours a key is forgotten (a request with it runs again); expired rows are deleted lazily,
//!   at most every ten minutes. A placeholder older than ten minutes (its process died mid-request) may be
//!   taken over.

use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::ApiState;
use super::auth::ApiCaller;
use super::error::ApiError;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on replayed responses.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// Largest response kept.
const MAX_STORED_BODY: usize = 8 * 1024 * 1024;
/// Seconds between sweeps of expired keys.
const SWEEP_EVERY_SECS: i64 = 600;

/// When expired keys were last swept (unix seconds).
#[derive(Debug, Default)]
pub struct Housekeeping {
    last_sweep: AtomicI64,
}

impl Housekeeping {
    /// Delete expired keys in the background when the last sweep is old enough.
    fn maybe_sweep(&self, db: &PgPool) {
        let now = chrono::Utc::now().timestamp();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now - last < SWEEP_EVERY_SECS
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let db = db.clone();
        tokio::spawn(async move {
            match sqlx::query!(
                "DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'"
            )
            .execute(&db)
            .await
            {
                Ok(done) if done.rows_affected() > 0 => {
                    tracing::info!(
                        deleted = done.rows_affected(),
                        "expired idempotency keys deleted"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not delete expired idempotency keys"),
            }
        });
    }
}

/// Check a key: 1..=255 visible ASCII characters.
pub fn validate_key(key: &HeaderValue) -> Result<&str, ApiError> {
    let key = key.to_str().unwrap_or("");
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_parameter(
            "Idempotency-Key",
            format!("use 1 to {MAX_KEY_LEN} visible ASCII characters, e.g. a UUID"),
        ));
    }
    Ok(key)
}

/// SHA-256 of what makes two requests "the same".
pub fn request_hash(method: &Method, path_and_query: &str, body: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\n");
    h.update(path_and_query.as_bytes());
    h.update(b"\n");
    h.update(body);
    h.finalize().to_vec()
}

/// A key seen before.
struct Stored {
    request_hash: Vec<u8>,
    status: Option<i16>,
    headers: Option<serde_json::Value>,
    body: Option<Vec<u8>>,
    secret: bool,
}

/// Claim the key (`None`) or return what it holds.
async fn claim(
    db: &PgPool,
    token_id: Uuid,
    key: &str,
    hash: &[u8],
) -> Result<Option<Stored>, ApiError> {
    for _ in 0..3 {
        let claimed = sqlx::query_scalar!(
            r#"INSERT INTO idempotency_keys (token_id, key, request_hash) VALUES ($1, $2, $3)
               ON CONFLICT (token_id, key) DO UPDATE
                  SET request_hash = EXCLUDED.request_hash, status = NULL, headers = NULL, body = NULL,
                      secret = false, created_at = now()
                  WHERE idempotency_keys.created_at < now() - interval '24 hours'
                     OR (idempotency_keys.status IS NULL
                         AND idempotency_keys.created_at < now() - interval '10 minutes')
               RETURNING true AS "claimed!""#,
            token_id,
            key,
            hash
        )
        .fetch_optional(db)
        .await?;
        if claimed.is_some() {
            return Ok(None);
        }
        let existing = sqlx::query_as!(
            Stored,
            r#"SELECT request_hash, status, headers, body, secret FROM idempotency_keys
               WHERE token_id = $1 AND key = $2"#,
            token_id,
            key
        )
        .fetch_optional(db)
        .await?;
        if let Some(stored) = existing {
            return Ok(Some(stored));
        }
        // Swept between the two statements: claim again.
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "idempotency-in-progress",
        "The idempotency key is busy; retry.",
    )
    .with_retry_after(1))
}

/// Response headers worth replaying (everything the handler set; the outer layers add the rest again).
fn headers_json(headers: &HeaderMap) -> serde_json::Value {
    serde_json::Value::Array(
        headers
            .iter()
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|v| serde_json::json!([name.as_str(), v]))
            })
            .collect(),
    )
}

fn replay(stored: Stored) -> Response {
    let status = stored
        .status
        .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body.unwrap_or_default()).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    if let Some(serde_json::Value::Array(pairs)) = stored.headers {
        for pair in pairs {
            if let (Some(name), Some(value)) = (
                pair.get(0).and_then(|v| v.as_str()),
                pair.get(1).and_then(|v| v.as_str()),
            ) && let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name), HeaderValue::from_str(value))
            {
                headers.append(name, value);
            }
        }
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

fn is_secret(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .any(|v| v.to_str().is_ok_and(|s| s.contains("no-store")))
}

/// Middleware of every authenticated route (runs after [`super::auth::authenticate`]).
pub async fn middleware(State(api): State<ApiState>, req: Request, next: Next) -> Response {
    let mutating = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    // Only operations the API has: a method the route lacks is the router's 405, and records no key.
    let declared = req.extensions().get::<MatchedPath>().is_some_and(|p| {
        api.operations
            .contains(&(req.method().clone(), p.as_str().to_owned()))
    });
    let Some(raw_key) = req
        .headers()
        .get(HEADER)
        .filter(|_| mutating && declared)
        .cloned()
    else {
        return next.run(req).await;
    };
    let Some(caller) = req.extensions().get::<ApiCaller>().cloned() else {
        return next.run(req).await;
    };
    let key = match validate_key(&raw_key) {
        Ok(k) => k.to_owned(),
        Err(e) => return e.into_response(),
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, crate::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return ApiError::payload_too_large().into_response(),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let hash = request_hash(&parts.method, &path, &bytes);
    api.idempotency.maybe_sweep(&api.app.db);
    match claim(&api.app.db, caller.token_id(), &key, &hash).await {
        Err(e) => e.into_response(),
        Ok(Some(stored)) => {
            if stored.request_hash != hash {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency-key-reused",
                    "This Idempotency-Key was already used with a different request (method, path or \
                     body); use a new key for a new request.",
                )
                .into_response()
            } else if stored.status.is_none() {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency-in-progress",
                    "A request with this Idempotency-Key is still running; retry shortly.",
                )
                .with_retry_after(1)
                .into_response()
            } else if stored.secret {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency-secret-not-kept",
                    "A request with this Idempotency-Key already ran; its answer carried a secret and is \
                     not kept. List the resources to find what it created.",
                )
                .into_response()
            } else {
                replay(stored)
            }
        }
        Ok(None) => {
            let db = api.app.db.clone();
            let token_id = caller.token_id();
            let req = Request::from_parts(parts, Body::from(bytes));
            // Own task: a client disconnect must not abandon a claimed key halfway.
            let task = {
                let (db, key) = (db.clone(), key.clone());
                tokio::spawn(async move {
                    let response = next.run(req).await;
                    record(&db, token_id, &key, response).await
                })
            };
            match task.await {
                Ok(response) => response,
                Err(e) => {
                    release(&db, token_id, &key).await;
                    ApiError::from(anyhow::anyhow!("idempotent request task failed: {e}"))
                        .into_response()
                }
            }
        }
    }
}

/// Store the answer of a claimed key (or release the key) and return the answer.
async fn record(db: &PgPool, token_id: Uuid, key: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_STORED_BODY).await {
        Ok(b) => b,
        Err(e) => {
            release(db, token_id, key).await;
            return ApiError::from(anyhow::anyhow!("reading the response to store it: {e}"))
                .into_response();
        }
    };
    if parts.status.is_server_error() {
        release(db, token_id, key).await;
    } else {
        let secret = is_secret(&parts.headers);
        let stored = sqlx::query!(
            r#"UPDATE idempotency_keys SET status = $3, headers = $4, body = $5, secret = $6
               WHERE token_id = $1 AND key = $2"#,
            token_id,
            key,
            i16::try_from(parts.status.as_u16()).unwrap_or(500),
            headers_json(&parts.headers),
            (!secret).then(|| bytes.to_vec()),
            secret
        )
        .execute(db)
        .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, "could not store the response of an idempotent request");
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn release(db: &PgPool, token_id: Uuid, key: &str) {
    if let Err(e) = sqlx::query!(
        "DELETE FROM idempotency_keys WHERE token_id = $1 AND key = $2 AND status IS NULL",
        token_id,
        key
    )
    .execute(db)
    .await
    {
        tracing::warn!(error = %e, "could not release an idempotency key");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii() {
        assert!(validate_key(&HeaderValue::from_static("3f2a-01")).is_ok());
        assert!(validate_key(&HeaderValue::from_static("")).is_err());
        assert!(validate_key(&HeaderValue::from_static("a b")).is_err());
        let long = "k".repeat(256);
        assert!(validate_key(&HeaderValue::from_str(&long).unwrap()).is_err());
    }

    #[test]
    fn request_hash_covers_method_path_and_body() {
        let a = request_hash(&Method::POST, "/x", b"{}");
        assert_eq!(a, request_hash(&Method::POST, "/x", b"{}"));
        assert_ne!(a, request_hash(&Method::PUT, "/x", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/y", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/x", b"{ }"));
    }

    #[test]
    fn replays_status_headers_and_body() {
        let mut headers = HeaderMap::new();
        headers.insert(header::LOCATION, HeaderValue::from_static("/api/v1/x"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let r = replay(Stored {
            request_hash: vec![],
            status: Some(202),
            headers: Some(headers_json(&headers)),
            body: Some(b"{}".to_vec()),
            secret: false,
        });
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        assert_eq!(r.headers()[header::LOCATION], "/api/v1/x");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()[REPLAYED_HEADER], "true");
    }
}
