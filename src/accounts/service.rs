//! Account changes, each in its own transaction with its audit rows, and the token cache kept in step: what
//! the account pages, the admin pages and the API call (none of them begins a transaction). Revoking a
//! token or disabling an account drops the cached tokens in the same call, so no caller can forget it.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::email::Email;
use super::token_cache::TokenCache;
use super::tokens::{self, NewToken, TokenRow};
use super::users::{self, User};
use crate::audit::{self, Actor, AuditEntry};
use crate::error::AppResult;
use crate::request_meta::RequestMeta;

/// Issue a token for `user_id`, expiring at `not_after` at the latest (the expiry of the token that makes
/// it, for tokens made with a token). Returns its row and the secret (shown once).
pub async fn issue_token(
    db: &PgPool,
    actor: &Actor,
    meta: &RequestMeta,
    user_id: Uuid,
    new: &NewToken,
    not_after: Option<DateTime<Utc>>,
) -> AppResult<(TokenRow, String)> {
    let mut tx = db.begin().await?;
    let issued = tokens::create_capped(&mut tx, user_id, actor, meta, new, not_after).await?;
    tx.commit().await?;
    Ok(issued)
}

/// Revoke one of the user's tokens (with `tenant_scope`, only one limited to that tenant; others are 404)
/// and drop it from the cache at once.
pub async fn revoke_token(
    db: &PgPool,
    cache: &TokenCache,
    actor: &Actor,
    meta: &RequestMeta,
    user_id: Uuid,
    token_id: Uuid,
    tenant_scope: Option<Uuid>,
) -> AppResult<TokenRow> {
    let mut tx = db.begin().await?;
    let row = tokens::revoke(&mut tx, user_id, token_id, tenant_scope, actor, meta).await?;
    tx.commit().await?;
    cache.forget(token_id);
    Ok(row)
}

/// A platform admin creates an account (`user.create` audit row). A taken email is a field error on
/// `email`.
pub async fn create_user(
    db: &PgPool,
    actor: &Actor,
    meta: &RequestMeta,
    email: &Email,
    display_name: &str,
    password: SecretString,
    is_platform_admin: bool,
) -> AppResult<User> {
    let mut tx = db.begin().await?;
    let created = users::create(&mut tx, email, display_name, password, is_platform_admin).await?;
    audit::record(
        &mut tx,
        AuditEntry {
            actor,
            tenant_id: None,
            action: "user.create",
            target_kind: "user",
            target: &created.email,
            outcome: "ok",
            before: None,
            after: Some(json!({
                "id": created.id, "email": created.email, "display_name": created.display_name,
                "is_platform_admin": created.is_platform_admin,
            })),
            meta,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Disable (ending the account's sessions and dropping its cached tokens) or re-enable an account. 404 for
/// an unknown id.
pub async fn set_disabled(
    db: &PgPool,
    cache: &TokenCache,
    actor: &Actor,
    meta: &RequestMeta,
    user_id: Uuid,
    disabled: bool,
) -> AppResult<User> {
    let mut tx = db.begin().await?;
    let user = users::change_disabled(&mut tx, actor, meta, user_id, disabled).await?;
    tx.commit().await?;
    if disabled {
        cache.forget_user(user_id);
    }
    Ok(user)
}

/// Replace an account's password (`esaas admin reset-password`), revoking every session and every API
/// token of it, with the `user.password_reset` audit row, in one transaction. Returns how many tokens were
/// revoked.
pub async fn reset_password(
    db: &PgPool,
    actor: &Actor,
    meta: &RequestMeta,
    user: &User,
    password: SecretString,
) -> AppResult<usize> {
    let mut tx = db.begin().await?;
    users::set_password(&mut tx, user.id, password).await?;
    let revoked = tokens::revoke_all_for_user(&mut tx, user.id, actor, meta).await?;
    audit::record(
        &mut tx,
        AuditEntry {
            actor,
            tenant_id: None,
            action: "user.password_reset",
            target_kind: "user",
            target: &user.email,
            outcome: "ok",
            before: None,
            after: Some(json!({ "sessions_revoked": true, "tokens_revoked": revoked.len() })),
            meta,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(revoked.len())
}
