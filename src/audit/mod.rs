//! The audit log: every mutating action (login failures included) writes one row in the same transaction
//! as the change it records. This module writes and reads rows; it never decides what is allowed.

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
