//! The audit log: every mutating action (login failures included) writes one row in the same transaction
//! as the change it records. This module writes and reads rows; it never decides what is allowed.
//!
//! Failures anyone can cause without logging in (failed logins) are not one row each: [`record_repeated`]
//! folds a repetition into the open row of the same action, target, source address, outcome and reason
//! within a window (`after.count`, `after.last_at`, `after.last_request_id`), so the log grows by at most a
//! few rows per address and window, and `ESAAS_AUDIT_FAILED_LOGIN_RETENTION_DAYS` bounds how long they stay
//! (purged by `auth::housekeeping`).

pub mod query;

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::AppResult;
use crate::request_meta::RequestMeta;

/// Who did something: a user, or a label for anonymous callers (`anonymous`, `system`, `cli`).
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user, when known.
    pub user_id: Option<Uuid>,
    /// Human-readable label: the email, or `anonymous` / `system` / `cli`.
    pub label: String,
}

impl Actor {
    /// A known user.
    pub fn user(user_id: Uuid, email: &str) -> Self {
        Self {
            user_id: Some(user_id),
            label: email.to_owned(),
        }
    }

    /// The `esaas admin` command line (whoever can run it holds the database credentials).
    pub fn cli() -> Self {
        Self {
            user_id: None,
            label: "cli".into(),
        }
    }

    /// The portal itself (reconciler, observer).
    pub fn system() -> Self {
        Self {
            user_id: None,
            label: "system".into(),
        }
    }
}

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// Who.
    pub actor: &'a Actor,
    /// Which tenant it concerns, if any.
    pub tenant_id: Option<Uuid>,
    /// Dotted action name: `login.failed`, `tenant.create`, `member.role_change`, `cluster.scale`, ...
    pub action: &'a str,
    /// Kind of target: `user`, `tenant`, `member`, `quota`, `cluster`, `session`, `token`.
    pub target_kind: &'a str,
    /// Target identifier (slug, email, cluster name).
    pub target: &'a str,
    /// `ok`, `denied` or `failed`.
    pub outcome: &'a str,
    /// State before, where it applies.
    pub before: Option<Value>,
    /// State after, where it applies.
    pub after: Option<Value>,
    /// Request id and source address.
    pub meta: &'a RequestMeta,
}

/// Write `entry`, or count it into the row of the same action, target kind, target, source address,
/// outcome and `after.reason` written within `window` (see the module docs). Two concurrent first
/// repetitions may each write a row; every later one is counted.
#[tracing::instrument(skip(conn, entry), fields(action = entry.action))]
pub async fn record_repeated(
    conn: &mut PgConnection,
    entry: AuditEntry<'_>,
    window: std::time::Duration,
) -> AppResult<()> {
    let reason = entry
        .after
        .as_ref()
        .and_then(|a| a.get("reason"))
        .and_then(Value::as_str);
    let counted = sqlx::query_scalar!(
        r#"UPDATE audit_log a
           SET after = coalesce(a.after, '{}'::jsonb) || jsonb_build_object(
               'count', coalesce((a.after->>'count')::bigint, 1) + 1,
               'last_at', now(),
               'last_request_id', $7::text)
           WHERE a.id = (
               SELECT id FROM audit_log
               WHERE action = $1 AND target_kind = $2 AND target = $3 AND outcome = $4
                 AND source_addr IS NOT DISTINCT FROM $5
                 AND after->>'reason' IS NOT DISTINCT FROM $6
                 AND at > now() - make_interval(secs => $8)
               ORDER BY at DESC LIMIT 1
               FOR UPDATE)
           RETURNING a.id"#,
        entry.action,
        entry.target_kind,
        entry.target,
        entry.outcome,
        entry.meta.source_addr,
        reason,
        entry.meta.request_id,
        window.as_secs_f64()
    )
    .fetch_optional(&mut *conn)
    .await?;
    if counted.is_some() {
        return Ok(());
    }
    let mut after = entry.after.clone().unwrap_or_else(|| serde_json::json!({}));
    if let Some(map) = after.as_object_mut() {
        map.insert("count".into(), 1.into());
    }
    record(
        conn,
        AuditEntry {
            after: Some(after),
            ..entry
        },
    )
    .await
}

/// Write one audit row (use the transaction of the change it records).
#[tracing::instrument(skip(conn, entry), fields(action = entry.action))]
pub async fn record(conn: &mut PgConnection, entry: AuditEntry<'_>) -> AppResult<()> {
    sqlx::query!(
        r#"INSERT INTO audit_log (actor_user_id, actor, tenant_id, action, target_kind, target, outcome,
                                  before, after, request_id, source_addr)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        entry.actor.user_id,
        entry.actor.label,
        entry.tenant_id,
        entry.action,
        entry.target_kind,
        entry.target,
        entry.outcome,
        entry.before,
        entry.after,
        entry.meta.request_id,
        entry.meta.source_addr
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
