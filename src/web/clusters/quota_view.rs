//! The quota effect of a request as the cluster pages show it: a panel with one row per limit (usage now,
//! this request's change, usage after, limit, headroom after) built from [`quota::preview`], and the short
//! messages placed beside the form fields that drive an exceeded limit (`node_sets.0.count` for nodes, the
//! CPU fields for CPU, ...), so a refusal is explained where the user can fix it.
//!
//! The preview is advisory (it does not lock); the request service checks again under the tenant lock and
//! its verdict wins.

use std::collections::BTreeMap;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{AppError, AppResult, FieldErrors};
use crate::tenants::quota::{self, QuotaDimension, QuotaPreview, QuotaPreviewRow, Resources};

/// One limit of the panel.
#[derive(Debug, Clone)]
pub struct QuotaRowView {
    /// `nodes`, `cpu_millis`, ...
    pub key: &'static str,
    /// `nodes`, `CPU`, ...
    pub name: &'static str,
    /// Usage now.
    pub usage: String,
    /// This request's change, signed (`+3`, `−1 core`, `0`).
    pub delta: String,
    /// Usage after the request.
    pub after: String,
    /// The limit.
    pub limit: String,
    /// What is left after the request (`0` when exceeded).
    pub headroom_after: String,
    /// By how much the request overshoots (empty when it fits).
    pub over_by: String,
    /// The request grows this past its limit.
    pub exceeds: bool,
    /// Usage after as a bar width class (`w-0` .. `w-100`).
    pub width_class: String,
    /// Bar state class: ``, `warn` or `over`.
    pub state: &'static str,
    /// The full refusal message when exceeded.
    pub message: String,
    /// The message is shown beside the form field that moves it, so the panel only points there.
    pub placed: bool,
}

/// The panel.
#[derive(Debug, Clone, Default)]
pub struct QuotaPanel {
    /// One row per limit.
    pub rows: Vec<QuotaRowView>,
    /// No limit would be exceeded.
    pub fits: bool,
    /// Refusals reported by the request service itself that no row of the preview explains (a race with
    /// another request), shown as a banner.
    pub service_messages: Vec<String>,
    /// What to do about a refusal: whom to ask to raise a limit (empty when everything fits).
    pub next_step: String,
    /// Where a platform admin raises this tenant's limits (empty for everyone else).
    pub raise_href: String,
}

impl QuotaPanel {
    /// The panel of a preview.
    pub fn from_preview(preview: &QuotaPreview) -> Self {
        Self {
            rows: preview.rows.iter().map(row_view).collect(),
            fits: preview.fits(),
            service_messages: Vec::new(),
            next_step: String::new(),
            raise_href: String::new(),
        }
    }

    /// Keep the request service's refusals that the preview's rows do not already say in the same words
    /// (both come from `QuotaViolation::message`, so a refusal after submitting reads as it did before).
    pub fn set_service_messages(&mut self, messages: Vec<String>) {
        self.service_messages = messages
            .into_iter()
            .filter(|m| !self.rows.iter().any(|r| r.message == *m))
            .collect();
    }

    /// Mark the rows whose message the form shows beside a field (`messages`: field -> message).
    pub fn mark_placed(&mut self, messages: &BTreeMap<String, String>) {
        for row in &mut self.rows {
            row.placed = row.exceeds && messages.values().any(|m| m.contains(&row.message));
        }
    }

    /// The limits that would be exceeded.
    pub fn exceeded(&self) -> impl Iterator<Item = &QuotaRowView> {
        self.rows.iter().filter(|r| r.exceeds)
    }
}

fn signed(d: QuotaDimension, v: i64) -> String {
    match v {
        0 => "0".into(),
        v if v > 0 => format!("+{}", d.format(v)),
        v => format!("\u{2212}{}", d.format(-v)),
    }
}

fn row_view(r: &QuotaPreviewRow) -> QuotaRowView {
    let d = r.dimension;
    let percent = r.after_percent();
    let step = ((percent + 4) / 5) * 5;
    let left_after = r.limit - r.after;
    QuotaRowView {
        key: d.key(),
        name: d.human_name(),
        usage: d.format(r.usage),
        delta: signed(d, r.delta),
        after: d.format(r.after),
        limit: d.format(r.limit),
        headroom_after: d.format(left_after.max(0)),
        over_by: if left_after < 0 {
            d.format(-left_after)
        } else {
            String::new()
        },
        exceeds: r.exceeds,
        width_class: format!("w-{step}"),
        state: if r.after > r.limit {
            "over"
        } else if percent >= 80 {
            "warn"
        } else {
            ""
        },
        message: r.violation().map(|v| v.message()).unwrap_or_default(),
        placed: false,
    }
}

/// The preview for a cluster whose new totals are `totals` (`exclude` = the cluster being changed).
pub async fn preview(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    totals: Resources,
    exclude: Option<Uuid>,
) -> AppResult<QuotaPanel> {
    let preview = quota::preview(conn, tenant_id, totals, exclude)
        .await
        .map_err(AppError::from)?;
    let mut panel = QuotaPanel::from_preview(&preview);
    if !panel.fits {
        let admins = crate::accounts::users::platform_admin_contacts(conn, 3).await?;
        panel.next_step = next_step(&admins);
    }
    Ok(panel)
}

/// "To go beyond a limit, ask a platform admin to raise it: ada@example.com or bob@example.com."
fn next_step(admins: &[String]) -> String {
    match admins {
        [] => "To go beyond a limit, ask a platform admin to raise it.".to_owned(),
        [only] => format!("To go beyond a limit, ask a platform admin to raise it: {only}."),
        [rest @ .., last] => format!(
            "To go beyond a limit, ask a platform admin to raise it: {} or {last}.",
            rest.join(", ")
        ),
    }
}

/// The messages to show beside fields: for every exceeded limit, each field `fields_of(dimension)` names
/// gets the row's message (several limits on one field are joined).
pub fn field_messages(
    panel: &QuotaPanel,
    fields_of: impl Fn(QuotaDimension) -> Vec<String>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for row in panel.exceeded() {
        let Some(d) = QuotaDimension::ALL.into_iter().find(|d| d.key() == row.key) else {
            continue;
        };
        for field in fields_of(d) {
            out.entry(field)
                .and_modify(|m| {
                    m.push(' ');
                    m.push_str(&row.message);
                })
                .or_insert_with(|| row.message.clone());
        }
    }
    out
}

/// Split the request service's field errors into the quota refusals (`quota.<dimension>`) and the rest.
pub fn split_quota_errors(errors: FieldErrors) -> (FieldErrors, Vec<String>) {
    let mut rest = FieldErrors::new();
    let mut quota = Vec::new();
    for e in errors.0 {
        if e.field.starts_with("quota.") {
            quota.push(e.message);
        } else {
            rest.0.push(e);
        }
    }
    (rest, quota)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenants::quota::evaluate;

    fn res(c: i64, n: i64, cpu: i64, mem: i64, st: i64) -> Resources {
        Resources {
            clusters: c,
            nodes: n,
            cpu_millis: cpu,
            memory_mib: mem,
            storage_gib: st,
        }
    }

    #[test]
    fn rows_show_usage_delta_after_and_headroom() {
        let p = evaluate(
            res(5, 10, 10_000, 8192, 100),
            res(1, 8, 4000, 4096, 30),
            res(1, 3, 1000, 1024, 10),
        );
        let panel = QuotaPanel::from_preview(&p);
        assert!(!panel.fits);
        let nodes = &panel.rows[1];
        assert_eq!(
            (
                nodes.usage.as_str(),
                nodes.delta.as_str(),
                nodes.after.as_str()
            ),
            ("8", "+3", "11")
        );
        assert_eq!(
            (nodes.headroom_after.as_str(), nodes.over_by.as_str()),
            ("0", "1")
        );
        assert!(nodes.exceeds);
        assert!(
            nodes.message.contains("the tenant has 2 nodes left"),
            "{}",
            nodes.message
        );
        assert_eq!(nodes.state, "over");
        let cpu = &panel.rows[2];
        assert_eq!(
            (cpu.delta.as_str(), cpu.headroom_after.as_str()),
            ("+1 core", "5 cores")
        );
        assert!(!cpu.exceeds);

        let fields = field_messages(&panel, |d| match d {
            QuotaDimension::Nodes => vec!["count".into()],
            _ => vec![],
        });
        assert_eq!(fields.len(), 1);
        assert!(fields["count"].contains("node"));
    }

    #[test]
    fn shrinking_shows_a_negative_delta() {
        let p = evaluate(
            res(5, 10, 10_000, 8192, 100),
            res(1, 5, 4000, 4096, 30),
            res(0, -2, -1000, 0, 0),
        );
        let panel = QuotaPanel::from_preview(&p);
        assert!(panel.fits);
        assert_eq!(panel.rows[1].delta, "\u{2212}2");
        assert_eq!(panel.rows[2].delta, "\u{2212}1 core");
    }

    #[test]
    fn quota_errors_are_split_off() {
        let mut e = FieldErrors::new();
        e.add("name", "taken");
        e.add("quota.nodes", "too many");
        let (rest, quota) = split_quota_errors(e);
        assert_eq!(rest.0.len(), 1);
        assert_eq!(quota, ["Too many."]);
    }
}
