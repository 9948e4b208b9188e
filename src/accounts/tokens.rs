//! API tokens: generation, hashing, the `api_tokens` rows and their audit rows. Used (through
//! [`super::service`]) by the API's `/tokens` routes, the account page (`/account/tokens`) and
//! `esaas admin create-token`.
//!
//! A token is `esaas_` followed by 43 base62 characters (256 random bits from the OS-seeded CSPRNG). It is
//! shown once; only the SHA-256 of the whole string is stored (a fast hash is right for a secret with that
//! much entropy: there is nothing to brute-force). The first 8 characters after `esaas_` are kept as the
//! display prefix. Tokens expire (default 90 days, at most 365), can be limited to one tenant and to reads,
//! and are revoked by setting `revoked_at` (rows stay for the record).
//!
//! A token made with another token (`POST /api/v1/tokens`) never outlives its maker: [`lifetime_within`]
//! refuses a lifetime past the maker's expiry (422 on `expires_in_days`) and, when none is asked for, the new
//! token expires with its maker at the latest ([`create_capped`]). A password change on the account page can
//! revoke every token of the user ([`revoke_all_for_user`]; the CLI reset always does).
//!
//! This module never logs a token and never decides what a caller may do with one (see `api::auth`).

use chrono::{DateTime, Duration, Utc};
use rand::Rng as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEntry};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::request_meta::RequestMeta;

/// The recognisable start of every token (secret scanners can match `esaas_[0-9A-Za-z]{43}`).
pub const TOKEN_PREFIX: &str = "esaas_";
/// Random characters after the prefix: 43 base62 characters carry 256 bits.
pub const SECRET_LEN: usize = 43;
/// Characters of the secret kept as the display prefix.
pub const DISPLAY_PREFIX_LEN: usize = 8;
/// Lifetime of a token when none is given.
pub const DEFAULT_TTL_DAYS: i64 = 90;
/// Longest lifetime a token may have.
pub const MAX_TTL_DAYS: i64 = 365;
/// Longest token name, in characters.
pub const MAX_NAME_LEN: usize = 100;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new random token.
pub fn generate() -> String {
    let mut rng = rand::rng();
    let mut token = String::with_capacity(TOKEN_PREFIX.len() + SECRET_LEN);
    token.push_str(TOKEN_PREFIX);
    for _ in 0..SECRET_LEN {
        token.push(char::from(BASE62[rng.random_range(0..BASE62.len())]));
    }
    token
}

/// True when `token` has the shape of a token (checked before any lookup).
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_PREFIX.len() + SECRET_LEN
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// SHA-256 of the whole token string: what `api_tokens.token_hash` stores.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The prefix shown in lists: `esaas_` and the first 8 characters of the secret.
pub fn display_prefix(prefix: &str) -> String {
    format!("{TOKEN_PREFIX}{prefix}")
}

/// What a new token may do.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Name chosen by the user (what the token is for).
    pub name: String,
    /// Limit to this tenant.
    pub tenant_id: Option<Uuid>,
    /// Only GET requests.
    pub read_only: bool,
    /// Lifetime in days (1..=365).
    pub expires_in_days: i64,
}

/// A token row as lists show it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Name.
    pub name: String,
    /// The 8 characters after `esaas_`.
    pub prefix: String,
    /// Limited to this tenant.
    pub tenant_id: Option<Uuid>,
    /// That tenant's slug.
    pub tenant_slug: Option<String>,
    /// GET only.
    pub read_only: bool,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last use (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    /// Neither revoked nor expired.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none() && self.expires_at > Utc::now()
    }

    /// `active`, `expired` or `revoked`.
    pub fn state(&self) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= Utc::now() {
            "expired"
        } else {
            "active"
        }
    }
}

/// Check a token request; errors are keyed `name` and `expires_in_days`.
pub fn validate(new: &NewToken) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = new.name.trim();
    if name.is_empty() {
        errors.add("name", "Give the token a name (what it is for).");
    } else if name.chars().count() > MAX_NAME_LEN {
        errors.add(
            "name",
            format!("A token name has at most {MAX_NAME_LEN} characters."),
        );
    } else if name.chars().any(char::is_control) {
        errors.add("name", "A token name cannot contain control characters.");
    }
    if !(1..=MAX_TTL_DAYS).contains(&new.expires_in_days) {
        errors.add(
            "expires_in_days",
            format!("A token lives between 1 and {MAX_TTL_DAYS} days."),
        );
    }
    errors.into_result(())
}

/// The lifetime in days of a token made by a token that expires at `maker_expires_at`: `requested`, unless it
/// would outlive the maker (a field error on `expires_in_days`), or the default when none is requested (the
/// new token is then capped at the maker's expiry by [`create_capped`]).
pub fn lifetime_within(
    requested: Option<i64>,
    maker_expires_at: DateTime<Utc>,
) -> Result<i64, FieldErrors> {
    let Some(days) = requested else {
        return Ok(DEFAULT_TTL_DAYS);
    };
    let in_range = (1..=MAX_TTL_DAYS).contains(&days);
    if in_range && Utc::now() + Duration::days(days) > maker_expires_at {
        let left = (maker_expires_at - Utc::now()).num_days();
        let mut errors = FieldErrors::new();
        errors.add(
            "expires_in_days",
            format!(
                "The token making this one expires at {}: a token it makes cannot outlive it. Ask for at \
                 most {left} days, or leave expires_in_days out to expire together with it.",
                maker_expires_at.format("%Y-%m-%d %H:%M UTC")
            ),
        );
        return Err(errors);
    }
    Ok(days)
}

/// Create a token for `user_id`; returns its row and the secret (shown once). Writes `token.create`.
pub async fn create(
    conn: &mut PgConnection,
    user_id: Uuid,
    actor: &Actor,
    meta: &RequestMeta,
    new: &NewToken,
) -> AppResult<(TokenRow, String)> {
    create_capped(conn, user_id, actor, meta, new, None).await
}

/// Like [`create`], expiring at `not_after` at the latest (the expiry of the token that makes this one).
#[tracing::instrument(skip(conn, actor, meta, new), fields(name = %new.name))]
pub async fn create_capped(
    conn: &mut PgConnection,
    user_id: Uuid,
    actor: &Actor,
    meta: &RequestMeta,
    new: &NewToken,
    not_after: Option<DateTime<Utc>>,
) -> AppResult<(TokenRow, String)> {
    validate(new)?;
    let secret = generate();
    let prefix = secret[TOKEN_PREFIX.len()..TOKEN_PREFIX.len() + DISPLAY_PREFIX_LEN].to_owned();
    let wanted = Utc::now() + Duration::days(new.expires_in_days);
    let expires_at = not_after.map_or(wanted, |cap| wanted.min(cap));
    let id = sqlx::query_scalar!(
        r#"INSERT INTO api_tokens (user_id, name, prefix, token_hash, tenant_id, read_only, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"#,
        user_id,
        new.name.trim(),
        prefix,
        &hash(&secret)[..],
        new.tenant_id,
        new.read_only,
        expires_at
    )
    .fetch_one(&mut *conn)
    .await?;
    let row = get(conn, user_id, id).await?.ok_or(AppError::NotFound)?;
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: row.tenant_id,
            action: "token.create",
            target_kind: "token",
            target: &display_prefix(&row.prefix),
            outcome: "ok",
            before: None,
            after: Some(json!({
                "id": row.id, "user_id": user_id, "name": row.name, "tenant": row.tenant_slug,
                "read_only": row.read_only, "expires_at": row.expires_at,
            })),
            meta,
        },
    )
    .await?;
    Ok((row, secret))
}

/// One token of a user.
pub async fn get(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> AppResult<Option<TokenRow>> {
    Ok(sqlx::query_as!(
        TokenRow,
        r#"SELECT k.id, k.user_id, k.name, k.prefix, k.tenant_id, t.slug AS "tenant_slug?", k.read_only,
                  k.expires_at, k.created_at, k.last_used_at, k.revoked_at
           FROM api_tokens k LEFT JOIN tenants t ON t.id = k.tenant_id
           WHERE k.id = $1 AND k.user_id = $2"#,
        id,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// A user's tokens, newest first; with `tenant_id`, only the tokens limited to that tenant.
#[tracing::instrument(skip(conn))]
pub async fn list_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
) -> AppResult<Vec<TokenRow>> {
    Ok(sqlx::query_as!(
        TokenRow,
        r#"SELECT k.id, k.user_id, k.name, k.prefix, k.tenant_id, t.slug AS "tenant_slug?", k.read_only,
                  k.expires_at, k.created_at, k.last_used_at, k.revoked_at
           FROM api_tokens k LEFT JOIN tenants t ON t.id = k.tenant_id
           WHERE k.user_id = $1 AND ($2::uuid IS NULL OR k.tenant_id = $2)
           ORDER BY k.created_at DESC, k.id"#,
        user_id,
        tenant_id
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Revoke one of the user's tokens (with `tenant_scope`, only a token limited to that tenant; others are
/// 404). Revoking a revoked token changes nothing. Writes `token.revoke`.
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn revoke(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    tenant_scope: Option<Uuid>,
    actor: &Actor,
    meta: &RequestMeta,
) -> AppResult<TokenRow> {
    let row = get(conn, user_id, id).await?.ok_or(AppError::NotFound)?;
    if tenant_scope.is_some() && row.tenant_id != tenant_scope {
        return Err(AppError::NotFound);
    }
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        id
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: row.tenant_id,
            action: "token.revoke",
            target_kind: "token",
            target: &display_prefix(&row.prefix),
            outcome: "ok",
            before: None,
            after: Some(json!({ "id": row.id, "user_id": user_id, "name": row.name })),
            meta,
        },
    )
    .await?;
    get(conn, user_id, id).await?.ok_or(AppError::NotFound)
}

/// Revoke every token of `user_id` that is not revoked yet (after a password change or reset: whoever knew
/// the old password may have made tokens). Writes one `token.revoke` audit row per token; returns their ids
/// (the caller drops them from the token cache).
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn revoke_all_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    actor: &Actor,
    meta: &RequestMeta,
) -> AppResult<Vec<Uuid>> {
    let revoked = sqlx::query!(
        r#"UPDATE api_tokens SET revoked_at = now()
           WHERE user_id = $1 AND revoked_at IS NULL
           RETURNING id, name, prefix, tenant_id"#,
        user_id
    )
    .fetch_all(&mut *conn)
    .await?;
    for t in &revoked {
        audit::record(
            conn,
            AuditEntry {
                actor,
                tenant_id: t.tenant_id,
                action: "token.revoke",
                target_kind: "token",
                target: &display_prefix(&t.prefix),
                outcome: "ok",
                before: None,
                after: Some(json!({
                    "id": t.id, "user_id": user_id, "name": t.name, "all_tokens_of_user": true,
                })),
                meta,
            },
        )
        .await?;
    }
    Ok(revoked.into_iter().map(|t| t.id).collect())
}

/// Number of the user's tokens that are neither revoked nor expired.
pub async fn count_active(conn: &mut PgConnection, user_id: Uuid) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM api_tokens
           WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()"#,
        user_id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// What authenticating with a token yields.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    /// Token id.
    pub token_id: Uuid,
    /// Display prefix characters.
    pub prefix: String,
    /// Limited to this tenant.
    pub tenant_id: Option<Uuid>,
    /// GET only.
    pub read_only: bool,
    /// Expiry (checked on every use, also from the cache).
    pub expires_at: DateTime<Utc>,
    /// The user.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
    /// Whether the user is a platform admin.
    pub user_is_platform_admin: bool,
}

/// The owner of a live token with this hash (not revoked, user not disabled; expiry is the caller's to
/// check), and whether `last_used_at` is more than a minute old.
#[tracing::instrument(skip_all)]
pub async fn lookup(pool: &PgPool, token_hash: &[u8; 32]) -> AppResult<Option<(TokenOwner, bool)>> {
    let row = sqlx::query!(
        r#"SELECT k.id, k.prefix, k.tenant_id, k.read_only, k.expires_at,
                  (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS "stale!",
                  u.id AS user_id, u.email, u.is_platform_admin
           FROM api_tokens k JOIN users u ON u.id = k.user_id
           WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL"#,
        &token_hash[..]
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        (
            TokenOwner {
                token_id: r.id,
                prefix: r.prefix,
                tenant_id: r.tenant_id,
                read_only: r.read_only,
                expires_at: r.expires_at,
                user_id: r.user_id,
                email: r.email,
                user_is_platform_admin: r.is_platform_admin,
            },
            r.stale,
        )
    }))
}

/// Record a use (the caller limits this to once a minute per token).
pub async fn touch(pool: &PgPool, token_id: Uuid) -> AppResult<()> {
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = now() WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        token_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let a = generate();
        let b = generate();
        assert!(is_well_formed(&a), "{a}");
        assert_ne!(a, b);
        assert_eq!(a.len(), 49);
        assert!(a.starts_with("esaas_"));
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        for bad in [
            "",
            "esaas_",
            "esaas_short",
            "ghp_0123456789012345678901234567890123456789012",
            "esaas_012345678901234567890123456789012345678901-",
            "esaas_0123456789012345678901234567890123456789012x",
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn hash_is_sha256_of_the_whole_token() {
        let h = hash("esaas_abc");
        assert_eq!(h.to_vec(), Sha256::digest(b"esaas_abc").to_vec());
    }

    #[test]
    fn validation_checks_name_and_lifetime() {
        let ok = NewToken {
            name: "ci".into(),
            tenant_id: None,
            read_only: false,
            expires_in_days: 90,
        };
        assert!(validate(&ok).is_ok());
        let bad = NewToken {
            name: "  ".into(),
            expires_in_days: 0,
            ..ok.clone()
        };
        let e = validate(&bad).unwrap_err();
        assert!(e.get("name").is_some());
        assert!(e.get("expires_in_days").is_some());
        let long = NewToken {
            name: "x".repeat(101),
            expires_in_days: 366,
            ..ok
        };
        assert_eq!(validate(&long).unwrap_err().0.len(), 2);
    }
}
