//! Reading the audit log: filtered, newest first, keyset-paginated by id (stable under concurrent inserts,
//! no OFFSET scans). Only reads; who may read which rows is decided by the pages.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::AppResult;

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;

/// Which rows to show. Dates are whole UTC days; `to` is inclusive.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this tenant's rows.
    pub tenant_id: Option<Uuid>,
    /// Actor label contains this (case-insensitive): an email or part of it.
    pub actor: Option<String>,
    /// Action starts with this (`member.`, `quota.update`).
    pub action_prefix: Option<String>,
    /// From this day (inclusive).
    pub from: Option<NaiveDate>,
    /// Up to this day (inclusive).
    pub to: Option<NaiveDate>,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Cursor {
    /// The newest rows.
    #[default]
    Newest,
    /// Rows older than this id.
    Before(i64),
    /// Rows newer than this id (the page just above it).
    After(i64),
}

/// One audit row with its tenant's slug.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Id (the cursor).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Actor label (email, `system`, ...).
    pub actor: String,
    /// Tenant slug, when the row concerns a tenant that still exists.
    pub tenant_slug: Option<String>,
    /// Action.
    pub action: String,
    /// Target kind.
    pub target_kind: String,
    /// Target.
    pub target: String,
    /// `ok`, `denied`, `failed`.
    pub outcome: String,
    /// State before.
    pub before: Option<Value>,
    /// State after.
    pub after: Option<Value>,
    /// Request id.
    pub request_id: Option<String>,
    /// Source address.
    pub source_addr: Option<String>,
}

/// A page of rows, newest first, with the cursors of the neighbouring pages.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    /// Rows, newest first.
    pub rows: Vec<AuditRow>,
    /// Cursor for newer rows (`Cursor::After(newer)`), when there are any.
    pub newer: Option<i64>,
    /// Cursor for older rows (`Cursor::Before(older)`), when there are any.
    pub older: Option<i64>,
}

/// One page of rows matching `filter`, starting at `cursor`.
#[tracing::instrument(skip(conn))]
pub async fn page(
    conn: &mut PgConnection,
    filter: &AuditFilter,
    cursor: Cursor,
) -> AppResult<AuditPage> {
    let (before, after) = match cursor {
        Cursor::Newest => (None, None),
        Cursor::Before(id) => (Some(id), None),
        Cursor::After(id) => (None, Some(id)),
    };
    let limit = PAGE_SIZE + 1;
    let mut rows = if after.is_some() {
        sqlx::query_as!(
            AuditRow,
            r#"SELECT a.id, a.at, a.actor, t.slug AS "tenant_slug?", a.action, a.target_kind, a.target,
                      a.outcome, a.before, a.after, a.request_id, a.source_addr
               FROM audit_log a LEFT JOIN tenants t ON t.id = a.tenant_id
               WHERE ($1::uuid IS NULL OR a.tenant_id = $1)
                 AND ($2::text IS NULL OR strpos(lower(a.actor), lower($2)) > 0)
                 AND ($3::text IS NULL OR starts_with(a.action, $3))
                 AND ($4::date IS NULL OR a.at >= ($4::date)::timestamp AT TIME ZONE 'UTC')
                 AND ($5::date IS NULL OR a.at < ($5::date + 1)::timestamp AT TIME ZONE 'UTC')
                 AND a.id > $6
               ORDER BY a.id ASC
               LIMIT $7"#,
            filter.tenant_id,
            filter.actor,
            filter.action_prefix,
            filter.from,
            filter.to,
            after,
            limit
        )
        .fetch_all(&mut *conn)
        .await?
    } else {
        sqlx::query_as!(
            AuditRow,
            r#"SELECT a.id, a.at, a.actor, t.slug AS "tenant_slug?", a.action, a.target_kind, a.target,
                      a.outcome, a.before, a.after, a.request_id, a.source_addr
               FROM audit_log a LEFT JOIN tenants t ON t.id = a.tenant_id
               WHERE ($1::uuid IS NULL OR a.tenant_id = $1)
                 AND ($2::text IS NULL OR strpos(lower(a.actor), lower($2)) > 0)
                 AND ($3::text IS NULL OR starts_with(a.action, $3))
                 AND ($4::date IS NULL OR a.at >= ($4::date)::timestamp AT TIME ZONE 'UTC')
                 AND ($5::date IS NULL OR a.at < ($5::date + 1)::timestamp AT TIME ZONE 'UTC')
                 AND ($6::bigint IS NULL OR a.id < $6)
               ORDER BY a.id DESC
               LIMIT $7"#,
            filter.tenant_id,
            filter.actor,
            filter.action_prefix,
            filter.from,
            filter.to,
            before,
            limit
        )
        .fetch_all(&mut *conn)
        .await?
    };
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    if after.is_some() {
        rows.reverse();
    }
    let (newest, oldest) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id));
    let (newer, older) = match cursor {
        Cursor::Newest => (None, oldest.filter(|_| more)),
        Cursor::Before(_) => (newest, oldest.filter(|_| more)),
        // Reached by paging up from an older page, so older rows exist.
        Cursor::After(_) => (newest.filter(|_| more), oldest),
    };
    Ok(AuditPage { rows, newer, older })
}
