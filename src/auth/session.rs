//! Server-side login sessions (the `sessions` table) and their cookie.
//!
//! The `esaas_session` cookie holds 32 random bytes (base64url); only their SHA-256 is stored in
//! `sessions.token_hash`, so a leaked database does not leak usable sessions. The cookie is `HttpOnly`,
//! `SameSite=Lax`, `Path=/`, and `Secure` when the portal is public over HTTPS. It is a browser-session cookie
//! (no `Max-Age`): the server decides expiry. A session expires `config.session_ttl` after it was last used
//! (sliding; `last_seen_at`/`expires_at` are written at most once a minute so page views do not each cost a
//! write), and is rejected once revoked (logout, password change, disabled user) or when its user is
//! disabled. Every login creates a new row and token (rotation); the pre-login token, if any, is revoked.
//!
//! This module owns the session rows and resolving a request's session; it never renders pages and never
//! logs token values.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Extensions;
use http::HeaderMap;
use rand::Rng as _;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::config::Config;
use crate::error::AppResult;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "esaas_session";

/// Longest `User-Agent` kept on a session row.
const MAX_USER_AGENT: usize = 512;

/// 32 random bytes from the thread-local CSPRNG (ChaCha, seeded from the OS), base64url without padding
/// (43 characters). Used for session tokens and CSRF tokens.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a presented token, or `None` when it is not a well-formed token (then no query is made).
fn token_hash(token: &str) -> Option<Vec<u8>> {
    let raw = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    if raw.len() != 32 {
        return None;
    }
    Some(Sha256::digest(&raw).to_vec())
}

/// A freshly created session: the token goes into the cookie and nowhere else.
pub struct NewSession {
    /// Row id.
    pub id: Uuid,
    /// The cookie value (secret).
    pub token: SecretString,
    /// The session's CSRF token (rendered into forms).
    pub csrf_token: String,
}

/// Create a session for `user_id` (the caller writes the audit row in the same transaction).
#[tracing::instrument(skip(conn, config, meta, user_agent))]
pub async fn create(
    conn: &mut PgConnection,
    config: &Config,
    user_id: Uuid,
    active_tenant_id: Option<Uuid>,
    meta: &RequestMeta,
    user_agent: Option<&str>,
) -> AppResult<NewSession> {
    let token = random_token();
    let hash = token_hash(&token).expect("a fresh token is well formed");
    let csrf_token = random_token();
    let user_agent: Option<String> = user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
    let id = sqlx::query_scalar!(
        r#"INSERT INTO sessions (token_hash, user_id, csrf_token, active_tenant_id, expires_at,
                                 source_addr, user_agent)
           VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6, $7)
           RETURNING id"#,
        hash,
        user_id,
        csrf_token,
        active_tenant_id,
        config.session_ttl.as_secs_f64(),
        meta.source_addr,
        user_agent
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(NewSession {
        id,
        token: SecretString::from(token),
        csrf_token,
    })
}

/// The user of a valid session token: not revoked, not expired, user not disabled. Slides the expiry when
/// the session was last seen more than a minute ago.
#[tracing::instrument(skip_all)]
pub async fn lookup(state: &AppState, token: &str) -> AppResult<Option<CurrentUser>> {
    let Some(hash) = token_hash(token) else {
        return Ok(None);
    };
    let Some(row) = sqlx::query!(
        r#"SELECT s.id, s.csrf_token, s.active_tenant_id,
                  (s.last_seen_at < now() - interval '1 minute') AS "stale!",
                  u.id AS user_id, u.email, u.display_name, u.is_platform_admin
           FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
             AND u.disabled_at IS NULL"#,
        hash
    )
    .fetch_optional(&state.db)
    .await?
    else {
        return Ok(None);
    };
    if row.stale {
        sqlx::query!(
            r#"UPDATE sessions SET last_seen_at = now(), expires_at = now() + make_interval(secs => $2)
               WHERE id = $1 AND revoked_at IS NULL"#,
            row.id,
            state.config.session_ttl.as_secs_f64()
        )
        .execute(&state.db)
        .await?;
    }
    Ok(Some(CurrentUser {
        user_id: row.user_id,
        email: row.email,
        display_name: row.display_name,
        is_platform_admin: row.is_platform_admin,
        session_id: Some(row.id),
        csrf_token: row.csrf_token,
        active_tenant_id: row.active_tenant_id,
    }))
}

/// Revoke one session (logout). Returns whether a live session was revoked.
#[tracing::instrument(skip(conn))]
pub async fn revoke(conn: &mut PgConnection, session_id: Uuid) -> AppResult<bool> {
    let done = sqlx::query!(
        "UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        session_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revoke the session a presented token belongs to, whoever it is (the pre-login token at login).
#[tracing::instrument(skip_all)]
pub async fn revoke_token(conn: &mut PgConnection, token: &str) -> AppResult<()> {
    if let Some(hash) = token_hash(token) {
        sqlx::query!(
            "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL",
            hash
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Remember the tenant the user works in (tenant switcher, last tenant page viewed).
#[tracing::instrument(skip(conn))]
pub async fn set_active_tenant(
    conn: &mut PgConnection,
    session_id: Uuid,
    tenant_id: Uuid,
) -> AppResult<()> {
    sqlx::query!(
        "UPDATE sessions SET active_tenant_id = $2 WHERE id = $1",
        session_id,
        tenant_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The `Set-Cookie` for a new session.
pub fn session_cookie(config: &Config, token: &SecretString) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token.expose_secret().to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.is_https())
        .build()
}

/// Remove the session cookie from the browser.
pub fn clear_session_cookie(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(SESSION_COOKIE).path("/"))
}

/// The session token a request presents, if any.
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// The outcome of resolving a request's session, cached in the request extensions so the CSRF middleware
/// and every extractor of one request share one lookup.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// A valid session.
    User(CurrentUser),
    /// No valid session; `had_cookie` tells whether a (revoked, expired or forged) session cookie was sent.
    Anonymous {
        /// A session cookie was present but did not resolve.
        had_cookie: bool,
    },
}

impl Resolved {
    /// The user, when the session is valid.
    pub fn user(&self) -> Option<&CurrentUser> {
        match self {
            Resolved::User(u) => Some(u),
            Resolved::Anonymous { .. } => None,
        }
    }
}

/// Resolve (once per request) the session of a request.
pub async fn resolve(
    headers: &HeaderMap,
    extensions: &mut Extensions,
    state: &AppState,
) -> AppResult<Resolved> {
    if let Some(done) = extensions.get::<Resolved>() {
        return Ok(done.clone());
    }
    let resolved = match presented_token(headers) {
        None => Resolved::Anonymous { had_cookie: false },
        Some(token) => match lookup(state, &token).await? {
            Some(user) => Resolved::User(user),
            None => Resolved::Anonymous { had_cookie: true },
        },
    };
    extensions.insert(resolved.clone());
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_random_bytes() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    }

    #[test]
    fn only_well_formed_tokens_are_hashed() {
        let t = random_token();
        let h = token_hash(&t).unwrap();
        assert_eq!(h.len(), 32);
        assert_ne!(
            h,
            URL_SAFE_NO_PAD.decode(&t).unwrap(),
            "the stored value is a hash"
        );
        assert!(token_hash("").is_none());
        assert!(token_hash("not base64!").is_none());
        assert!(token_hash(&URL_SAFE_NO_PAD.encode([0u8; 16])).is_none());
    }

    #[test]
    fn cookie_attributes() {
        let mut config = Config::for_tests("postgres://unused");
        let token = SecretString::from(random_token());
        let c = session_cookie(&config, &token);
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.same_site(), Some(SameSite::Lax));
        assert_eq!(c.path(), Some("/"));
        assert_ne!(c.secure(), Some(true));
        config.public_url = "https://portal.example".into();
        assert_eq!(session_cookie(&config, &token).secure(), Some(true));
    }
}
