//! Logging in and out, as a domain flow: throttling, the argon2id verification, the new session, the audit
//! rows. The web's login form (`crate::web::login`) only parses the form and renders the outcome.
//!
//! - An unknown email, a wrong password and a disabled account (even with the right password) are one
//!   outcome, [`LoginOutcome::Refused`]: the form never reveals that an account exists or is disabled. Each
//!   case runs one argon2id verification (a dummy hash for unknown emails) and the same queries, so they
//!   take the same time too. The audit row (seen by platform admins only) records the real reason.
//! - Throttling ([`super::throttle`]) is checked before the password is verified; a throttled attempt is
//!   audited as `login.failed` with outcome `denied`.
//! - Failed and refused logins are audited with [`audit::record_repeated`]: repetitions within the login
//!   window are counted into one row per account (per address for the address rule) and source address.
//! - A login creates a new session, revokes the session the browser presented before (if any), clears the
//!   account's failures and writes `login.ok`, in one transaction.

use secrecy::SecretString;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::CurrentUser;
use super::session::{self, NewSession};
use super::throttle::{self, Rule, Throttled};
use crate::accounts::password;
use crate::accounts::users;
use crate::audit::{self, Actor, AuditEntry};
use crate::config::Config;
use crate::error::AppResult;
use crate::request_meta::RequestMeta;

/// What a login attempt came to.
pub enum LoginOutcome {
    /// The password was right and the account enabled: a new session.
    LoggedIn {
        /// The account.
        user_id: Uuid,
        /// The new session (its token goes into the cookie).
        session: NewSession,
    },
    /// Too many failures: try again later (nothing was verified).
    Throttled(Throttled),
    /// Unknown email, wrong password or disabled account: one answer for all three.
    Refused,
}

/// The browser side of an attempt: the session token it presented (revoked on success) and its user agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Browser<'a> {
    /// The session cookie the browser sent, if any.
    pub presented_session: Option<&'a str>,
    /// Its `User-Agent` (kept with the session, cut to a bounded length).
    pub user_agent: Option<&'a str>,
}

fn anonymous() -> Actor {
    Actor {
        user_id: None,
        label: "anonymous".into(),
    }
}

/// Try to log in as `email` (already trimmed, lower-cased and bounded) with `password`.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    db: &PgPool,
    config: &Config,
    email: &str,
    password: SecretString,
    browser: Browser<'_>,
    meta: &RequestMeta,
) -> AppResult<LoginOutcome> {
    let keys = throttle::Keys::new(email, meta.source_addr.as_deref());
    let attempt = match throttle::begin(db, config, keys).await? {
        Ok(attempt) => attempt,
        Err(throttled) => {
            // Refusals by the address rule are one row per address (the emails tried are the attacker's
            // choice, so they would make as many rows as attempts); the others one per account and address.
            let (target_kind, target, rule) = match throttled.rule {
                Rule::Address => (
                    "address",
                    meta.source_addr.clone().unwrap_or_default(),
                    "address",
                ),
                Rule::AccountFromAddress => ("user", email.to_owned(), "account_from_address"),
                Rule::Account => ("user", email.to_owned(), "account"),
            };
            let mut conn = db.acquire().await?;
            audit::record_repeated(
                &mut conn,
                AuditEntry {
                    actor: &anonymous(),
                    tenant_id: None,
                    action: "login.failed",
                    target_kind,
                    target: &target,
                    outcome: "denied",
                    before: None,
                    after: Some(json!({ "reason": "throttled", "rule": rule })),
                    meta,
                },
                config.login_window,
            )
            .await?;
            tracing::info!(throttled.retry_after_secs, ?throttled.rule, "login throttled");
            return Ok(LoginOutcome::Throttled(throttled));
        }
    };

    let credentials = {
        let mut conn = db.acquire().await?;
        users::credentials_by_email(&mut conn, email).await?
    };
    let (user, hash) = match credentials {
        Some(c) => (Some(c.user), Some(c.password_hash)),
        None => (None, None),
    };
    let verified = password::verify(password, hash).await;

    match user {
        Some(user) if verified && user.disabled_at.is_none() => {
            attempt.succeeded(db).await?;
            let mut tx = db.begin().await?;
            if let Some(old) = browser.presented_session {
                session::revoke_token(&mut tx, old).await?;
            }
            let new =
                session::create(&mut tx, config, user.id, None, meta, browser.user_agent).await?;
            audit::record(
                &mut tx,
                AuditEntry {
                    actor: &Actor::user(user.id, &user.email),
                    tenant_id: None,
                    action: "login.ok",
                    target_kind: "user",
                    target: &user.email,
                    outcome: "ok",
                    before: None,
                    after: None,
                    meta,
                },
            )
            .await?;
            tx.commit().await?;
            tracing::info!(user_id = %user.id, "login");
            Ok(LoginOutcome::LoggedIn {
                user_id: user.id,
                session: new,
            })
        }
        user => {
            attempt.failed(db, config).await?;
            let (actor, reason) = match &user {
                None => (anonymous(), "unknown_account"),
                Some(u) if verified => (Actor::user(u.id, &u.email), "account_disabled"),
                Some(u) => (Actor::user(u.id, &u.email), "wrong_password"),
            };
            let mut conn = db.acquire().await?;
            audit::record_repeated(
                &mut conn,
                AuditEntry {
                    actor: &actor,
                    tenant_id: None,
                    action: "login.failed",
                    target_kind: "user",
                    target: email,
                    outcome: "failed",
                    before: None,
                    after: Some(json!({ "reason": reason })),
                    meta,
                },
                config.login_window,
            )
            .await?;
            Ok(LoginOutcome::Refused)
        }
    }
}

/// End the user's session (when they have one: API-token callers do not) and write `logout`.
#[tracing::instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn logout(db: &PgPool, user: &CurrentUser, meta: &RequestMeta) -> AppResult<()> {
    let Some(session_id) = user.session_id else {
        return Ok(());
    };
    let mut tx = db.begin().await?;
    session::revoke(&mut tx, session_id).await?;
    audit::record(
        &mut tx,
        AuditEntry {
            actor: &Actor::user(user.user_id, &user.email),
            tenant_id: None,
            action: "logout",
            target_kind: "user",
            target: &user.email,
            outcome: "ok",
            before: None,
            after: None,
            meta,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
