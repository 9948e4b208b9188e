//! The users repository: plain async functions over a connection or the pool.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::PgConnection;
use uuid::Uuid;

use serde_json::json;

use super::password;
use crate::accounts::email::Email;
use crate::audit::{self, Actor, AuditEntry};
use crate::error::{AppError, AppResult, FieldErrors, ResultExt};
use crate::request_meta::RequestMeta;

/// A user row (without the password hash).
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Lower-case email.
    pub email: String,
    /// Optional display name.
    pub display_name: String,
    /// May manage tenants, quotas and see everything.
    pub is_platform_admin: bool,
    /// Set when the account is disabled (cannot log in, sessions revoked).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// What a login needs: the user and their hash.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The user.
    pub user: User,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
}

/// Create a user; the password is hashed off the runtime. Duplicate emails are a field error.
#[tracing::instrument(skip(conn, password))]
pub async fn create(
    conn: &mut PgConnection,
    email: &Email,
    display_name: &str,
    password: SecretString,
    is_platform_admin: bool,
) -> AppResult<User> {
    let hash = password::hash(password).await?;
    let row = sqlx::query_as!(
        User,
        r#"INSERT INTO users (email, display_name, password_hash, is_platform_admin)
           VALUES ($1, $2, $3, $4)
           RETURNING id, email, display_name, is_platform_admin, disabled_at, created_at"#,
        email.as_str(),
        display_name,
        hash,
        is_platform_admin
    )
    .fetch_one(&mut *conn)
    .await
    .on_constraint("users_email_key", || {
        let mut e = FieldErrors::new();
        e.add("email", "A user with this email already exists.");
        AppError::Validation(e)
    })?;
    Ok(row)
}

/// Find a user and their hash by email (case-insensitive).
#[tracing::instrument(skip(conn))]
pub async fn credentials_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> AppResult<Option<Credentials>> {
    let row = sqlx::query!(
        r#"SELECT id, email, display_name, is_platform_admin, disabled_at, created_at, password_hash
           FROM users WHERE lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| Credentials {
        user: User {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            is_platform_admin: r.is_platform_admin,
            disabled_at: r.disabled_at,
            created_at: r.created_at,
        },
        password_hash: r.password_hash,
    }))
}

/// Find a user by email.
pub async fn by_email(conn: &mut PgConnection, email: &str) -> AppResult<Option<User>> {
    Ok(credentials_by_email(conn, email).await?.map(|c| c.user))
}

/// Find a user by id.
#[tracing::instrument(skip(conn))]
pub async fn by_id(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<User>> {
    Ok(sqlx::query_as!(
        User,
        r#"SELECT id, email, display_name, is_platform_admin, disabled_at, created_at
           FROM users WHERE id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Replace a user's password and revoke all their sessions (a reset logs every device out).
#[tracing::instrument(skip(conn, password))]
pub async fn set_password(
    conn: &mut PgConnection,
    user_id: Uuid,
    password: SecretString,
) -> AppResult<()> {
    let hash = password::hash(password).await?;
    let done = sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        user_id,
        hash
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    sqlx::query!(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        user_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Disable (ending their sessions) or re-enable a user, with the `user.disable`/`user.enable` audit row: the
/// one way the admin page and the CLI do it. 404 for an unknown id. The caller commits.
#[tracing::instrument(skip(conn, actor, meta))]
pub async fn change_disabled(
    conn: &mut PgConnection,
    actor: &Actor,
    meta: &RequestMeta,
    user_id: Uuid,
    disabled: bool,
) -> AppResult<User> {
    let user = by_id(conn, user_id).await?.ok_or(AppError::NotFound)?;
    set_disabled(conn, user_id, disabled).await?;
    audit::record(
        conn,
        AuditEntry {
            actor,
            tenant_id: None,
            action: if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            target_kind: "user",
            target: &user.email,
            outcome: "ok",
            before: Some(json!({ "disabled": user.disabled_at.is_some() })),
            after: Some(json!({ "disabled": disabled })),
            meta,
        },
    )
    .await?;
    Ok(user)
}

/// Set the flag without an audit row (use [`change_disabled`]).
async fn set_disabled(conn: &mut PgConnection, user_id: Uuid, disabled: bool) -> AppResult<()> {
    let done = sqlx::query!(
        r#"UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) ELSE NULL END,
                  updated_at = now()
           WHERE id = $1"#,
        user_id,
        disabled
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    if disabled {
        sqlx::query!(
            "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
            user_id
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Number of users (the first start creates an admin when this is zero).
pub async fn count(conn: &mut PgConnection) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM users"#)
        .fetch_one(&mut *conn)
        .await?)
}

/// The emails of up to `limit` enabled platform admins, by email: whom a refused request should ask to
/// raise a limit.
pub async fn platform_admin_contacts(
    conn: &mut PgConnection,
    limit: i64,
) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "SELECT email FROM users WHERE is_platform_admin AND disabled_at IS NULL
         ORDER BY lower(email) LIMIT $1",
        limit
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Every user, by email (the admin users page).
#[tracing::instrument(skip(conn))]
pub async fn list(conn: &mut PgConnection) -> AppResult<Vec<User>> {
    Ok(sqlx::query_as!(
        User,
        r#"SELECT id, email, display_name, is_platform_admin, disabled_at, created_at
           FROM users ORDER BY lower(email)"#
    )
    .fetch_all(&mut *conn)
    .await?)
}
