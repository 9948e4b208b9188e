//! `GET /t/{tenant}/quota`: the tenant's usage against its limits as bars, flagged where usage is above a
//! (lowered) limit. Any member, and platform admins, may look; limits are edited on the admin page. Also
//! holds [`QuotaBar`], the bar view model the admin pages reuse.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use crate::auth::TenantAccess;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::quota::{self, QuotaDimension, Resources};
use crate::web::layout::Layout;
use crate::web::nav;

/// The quota route.
pub fn router() -> Router<AppState> {
    Router::new().route("/t/{tenant}/quota", get(quota_page))
}

/// At or above this percentage of a limit a bar turns to the warning colour.
pub const WARN_PERCENT: i64 = 80;

/// One dimension as a bar: `used / limit`.
#[derive(Debug, Clone)]
pub struct QuotaBar {
    /// Field-style key (`cpu_millis`).
    pub key: &'static str,
    /// Human name (`CPU`).
    pub name: &'static str,
    /// Usage with unit.
    pub used: String,
    /// Limit with unit.
    pub limit: String,
    /// What is left (with unit), never negative.
    pub headroom: String,
    /// Usage in percent of the limit, 0..=100.
    pub percent: i64,
    /// CSS width class of the bar's fill (`w-45`: 5 % steps, since the CSP forbids inline styles).
    pub width_class: String,
    /// `""`, `"warn"` or `"over"`.
    pub state: &'static str,
    /// Usage is above the limit.
    pub over: bool,
}

impl QuotaBar {
    /// The bars of every dimension.
    pub fn all(limits: Resources, usage: Resources) -> Vec<QuotaBar> {
        QuotaDimension::ALL
            .iter()
            .map(|&d| QuotaBar::new(d, limits.get(d), usage.get(d)))
            .collect()
    }

    /// The bar of one dimension.
    pub fn new(d: QuotaDimension, limit: i64, used: i64) -> QuotaBar {
        let percent = quota::percent(used, limit);
        // Round up to a 5 % step so any usage shows.
        let step = ((percent + 4) / 5) * 5;
        let over = used > limit;
        let state = if over {
            "over"
        } else if percent >= WARN_PERCENT {
            "warn"
        } else {
            ""
        };
        QuotaBar {
            key: d.key(),
            name: d.human_name(),
            used: d.format(used),
            limit: d.format(limit),
            headroom: d.format((limit - used).max(0)),
            percent,
            width_class: format!("w-{step}"),
            state,
            over,
        }
    }
}

/// `templates/tenants/quota.html`.
#[derive(Template, WebTemplate)]
#[template(path = "tenants/quota.html")]
pub struct QuotaPage {
    /// Base layout.
    pub layout: Layout,
    /// Tenant slug.
    pub slug: String,
    /// Tenant name.
    pub name: String,
    /// One bar per dimension.
    pub bars: Vec<QuotaBar>,
    /// Some dimension is above its limit.
    pub any_over: bool,
    /// Show the link to the admin edit page.
    pub can_edit: bool,
}

/// `GET /t/{tenant}/quota`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug))]
async fn quota_page(State(state): State<AppState>, access: TenantAccess) -> AppResult<QuotaPage> {
    let mut conn = state.db.acquire().await?;
    let usage = quota::usage(&mut conn, access.tenant.id).await?;
    drop(conn);
    let bars = QuotaBar::all(access.tenant.limits, usage);
    let slug = access.tenant.slug.to_string();
    Ok(QuotaPage {
        layout: nav::layout_for(&state, &access.user, "Quota", Some(&slug)).await?,
        any_over: bars.iter().any(|b| b.over),
        can_edit: access.can_edit_quota(),
        name: access.tenant.name.clone(),
        slug,
        bars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_round_up_and_flag() {
        let b = QuotaBar::new(QuotaDimension::CpuMillis, 20_000, 18_000);
        assert_eq!(
            (b.percent, b.width_class.as_str(), b.state),
            (90, "w-90", "warn")
        );
        assert_eq!(b.headroom, "2 cores");
        let b = QuotaBar::new(QuotaDimension::Nodes, 100, 1);
        assert_eq!(b.width_class, "w-5");
        let b = QuotaBar::new(QuotaDimension::Nodes, 4, 6);
        assert!(b.over);
        assert_eq!(
            (b.state, b.width_class.as_str(), b.headroom.as_str()),
            ("over", "w-100", "0")
        );
        assert_eq!(
            QuotaBar::new(QuotaDimension::Clusters, 0, 0).width_class,
            "w-0"
        );
    }
}
