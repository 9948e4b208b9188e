//! A signed-in user changes their own password, as a domain flow: the current password is verified with
//! argon2id off the runtime and throttled like logins (a stolen session cannot be used to guess it); on
//! success every session of the user is revoked and a fresh one made for this browser (rotation on a
//! credential change), and, when asked, every API token of the user is revoked in the same transaction and
//! dropped from the token cache (whoever knew the old password may have made some). Writes
//! `user.password_change` audit rows (ok or failed) and a `token.revoke` row per revoked token. The checks of
//! the new password's strength and confirmation are the form's (`crate::web::account`).

use secrecy::SecretString;
use serde_json::json;
use sqlx::PgPool;

use super::CurrentUser;
use super::session::{self, NewSession};
use super::throttle::{self, Throttled};
use crate::accounts::password;
use crate::accounts::token_cache::TokenCache;
use crate::accounts::{tokens, users};
use crate::audit::{self, Actor, AuditEntry};
use crate::config::Config;
use crate::error::AppResult;
use crate::request_meta::RequestMeta;

/// What the user asked for.
pub struct PasswordChangeRequest {
    /// The current password, as typed.
    pub current: SecretString,
    /// The new one (already checked for strength by the form).
    pub new: SecretString,
    /// Revoke every API token of the user as well.
    pub revoke_tokens: bool,
}

/// What came of it.
pub enum PasswordChange {
    /// Changed: this browser's new session, and how many tokens were revoked.
    Changed {
        /// The session that replaces this browser's (every other one is revoked).
        session: NewSession,
        /// API tokens revoked with it.
        tokens_revoked: usize,
    },
    /// Too many wrong current passwords: try again later (nothing was verified).
    Throttled(Throttled),
    /// The current password is wrong (audited, counted for throttling).
    WrongCurrent,
}

fn audit_entry<'a>(
    actor: &'a Actor,
    user: &'a CurrentUser,
    outcome: &'a str,
    meta: &'a RequestMeta,
) -> AuditEntry<'a> {
    AuditEntry {
        actor,
        tenant_id: None,
        action: "user.password_change",
        target_kind: "user",
        target: &user.email,
        outcome,
        before: None,
        after: (outcome != "ok").then(|| json!({ "reason": "wrong_current_password" })),
        meta,
    }
}

/// Change `user`'s password (`user_agent` is kept with the new session).
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn change_password(
    db: &PgPool,
    config: &Config,
    cache: &TokenCache,
    user: &CurrentUser,
    request: PasswordChangeRequest,
    meta: &RequestMeta,
    user_agent: Option<&str>,
) -> AppResult<PasswordChange> {
    let keys = throttle::Keys::new(&user.email, meta.source_addr.as_deref());
    let attempt = match throttle::begin(db, config, keys).await? {
        Ok(a) => a,
        Err(throttled) => return Ok(PasswordChange::Throttled(throttled)),
    };
    let hash = {
        let mut conn = db.acquire().await?;
        users::credentials_by_email(&mut conn, &user.email)
            .await?
            .map(|c| c.password_hash)
    };
    let actor = Actor::user(user.user_id, &user.email);
    if !password::verify(request.current, hash).await {
        attempt.failed(db, config).await?;
        let mut conn = db.acquire().await?;
        audit::record(&mut conn, audit_entry(&actor, user, "failed", meta)).await?;
        return Ok(PasswordChange::WrongCurrent);
    }
    attempt.succeeded(db).await?;

    let mut tx = db.begin().await?;
    // Revokes every session of the user, this one included; this browser continues on a new one.
    users::set_password(&mut tx, user.user_id, request.new).await?;
    let new = session::create(
        &mut tx,
        config,
        user.user_id,
        user.active_tenant_id,
        meta,
        user_agent,
    )
    .await?;
    audit::record(&mut tx, audit_entry(&actor, user, "ok", meta)).await?;
    let revoked = if request.revoke_tokens {
        tokens::revoke_all_for_user(&mut tx, user.user_id, &actor, meta).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    if !revoked.is_empty() {
        cache.forget_user(user.user_id);
    }
    tracing::info!(
        tokens_revoked = revoked.len(),
        "password changed; other sessions revoked"
    );
    Ok(PasswordChange::Changed {
        session: new,
        tokens_revoked: revoked.len(),
    })
}
