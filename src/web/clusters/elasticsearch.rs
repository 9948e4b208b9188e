//! The dashboard's "Elasticsearch" section: nodes (roles, tier, elected master, version, heap, CPU, disk
//! against the watermarks, shards, uptime), indices (sortable, paged), the shard copies of one index, and
//! "why is this cluster yellow/red" with the fix the portal can apply (set an index's replicas, a CSRF form).
//! Everything comes from the inspector's last snapshot in Postgres, timestamped ("as of 12 s ago"); when
//! the last poll failed the section says why and still shows the last known data.
//!
//! The section refreshes itself every 5 s with htmx (`GET .../elasticsearch`, same query); without
//! JavaScript the sort and page links and a reload do the same. The fix's replicas field is `hx-preserve`d,
//! so a refresh does not wipe what was typed into it. Rendering it marks the cluster as watched,
//! so the inspector polls it faster.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::auth::TenantAccess;
use crate::clusters::repo::Cluster;
use crate::error::{AppError, AppResult};
use crate::monitoring::inspector::actions;
use crate::monitoring::inspector::repo::{self as inspections, Inspection};
use crate::monitoring::inspector::snapshot::{IndexView, NodeView, Watermarks};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::web::clusters::{caller, cluster_path, format};
use crate::web::flash::{self, FlashKind};
use crate::web::form::Form;

/// Indices per page.
pub const INDICES_PER_PAGE: usize = 25;

/// Sorting, paging and the index whose shards are shown.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EsQuery {
    /// `name` (default), `health`, `docs` or `size`.
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    pub dir: Option<String>,
    /// 1-based page of indices.
    pub page: Option<usize>,
    /// Show the shard copies of this index.
    pub index: Option<String>,
}

/// A node row.
#[derive(Debug, Clone)]
pub struct NodeRow {
    /// Name.
    pub name: String,
    /// Roles, comma-separated.
    pub roles: String,
    /// Tier.
    pub tier: String,
    /// The elected master.
    pub master: bool,
    /// Version.
    pub version: String,
    /// Heap used, e.g. `37 %`.
    pub heap: String,
    /// CPU, e.g. `3 %`.
    pub cpu: String,
    /// `12.0 GiB / 50.0 GiB (24 %)`.
    pub disk: String,
    /// CSS class: `disk-ok`, `disk-low`, `disk-high`, `disk-flood`.
    pub disk_class: &'static str,
    /// Which watermark is passed, in words (empty when none).
    pub disk_note: String,
    /// Shard copies.
    pub shards: u64,
    /// Uptime.
    pub uptime: String,
}

/// An index row.
#[derive(Debug, Clone)]
pub struct IndexRow {
    /// Name.
    pub name: String,
    /// Health.
    pub health: String,
    /// `open` / `close`.
    pub status: String,
    /// `3 × 1`.
    pub layout: String,
    /// Documents.
    pub docs: u64,
    /// Size.
    pub size: String,
    /// Tier.
    pub tier: String,
    /// Link showing its shards.
    pub shards_href: String,
}

/// A column header link.
#[derive(Debug, Clone)]
pub struct SortLink {
    /// Header text.
    pub label: &'static str,
    /// Link.
    pub href: String,
    /// `ascending`/`descending` when sorted by it, else `none` (for `aria-sort`).
    pub aria: &'static str,
}

/// A shard copy row.
#[derive(Debug, Clone)]
pub struct ShardRow {
    /// Shard number.
    pub shard: u64,
    /// `primary` or `replica`.
    pub kind: &'static str,
    /// State.
    pub state: String,
    /// Node (empty when unassigned).
    pub node: String,
    /// Why unassigned.
    pub reason: String,
}

/// A problem with its fix.
#[derive(Debug, Clone)]
pub struct ProblemRow {
    /// What is wrong.
    pub summary: String,
    /// What to do.
    pub fix: String,
    /// The index whose replicas the portal can set (empty: no such fix).
    pub fix_index: String,
    /// To this many replicas.
    pub fix_replicas: u32,
    /// The id of the fix's replicas field: the index in hex (an index name may hold `.`, which htmx's
    /// `#id` lookup for `hx-preserve` would read as a class) and the offered number.
    pub fix_field_id: String,
}

/// The section.
#[derive(Debug, Clone)]
pub struct EsSection {
    /// Tenant slug.
    pub slug: String,
    /// Cluster name.
    pub name: String,
    /// The htmx refresh URL (same query).
    pub refresh_href: String,
    /// Elasticsearch was read at least once.
    pub observed: bool,
    /// `12 s ago`.
    pub age: String,
    /// ISO time of the snapshot.
    pub observed_iso: String,
    /// Why the last poll failed (empty when it did not).
    pub error: String,
    /// Cluster status.
    pub status: String,
    /// Node count / data nodes / shard summary line.
    pub summary: String,
    /// Watermarks in words.
    pub watermarks: String,
    /// Nodes.
    pub nodes: Vec<NodeRow>,
    /// Index header links.
    pub sort_links: Vec<SortLink>,
    /// This page of indices.
    pub indices: Vec<IndexRow>,
    /// Total indices.
    pub index_count: usize,
    /// Page (1-based) and pages.
    pub page: usize,
    /// Pages.
    pub pages: usize,
    /// Previous page link (empty on the first).
    pub prev_href: String,
    /// Next page link (empty on the last).
    pub next_href: String,
    /// The index whose shards are listed (empty: none chosen).
    pub shards_index: String,
    /// Its shard copies.
    pub shards: Vec<ShardRow>,
    /// Problems.
    pub problems: Vec<ProblemRow>,
    /// The caller may apply fixes.
    pub can_change: bool,
    /// CSRF token for the fix form.
    pub csrf_token: String,
}

/// 1 decimal GiB/MiB/KiB/B.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn disk(node: &NodeView, w: &Watermarks) -> (String, &'static str, String) {
    let (Some(used), Some(total)) = (node.disk_used_bytes, node.disk_total_bytes) else {
        return ("—".into(), "disk-ok", String::new());
    };
    let percent = if total == 0 {
        0.0
    } else {
        used as f64 * 100.0 / total as f64
    };
    let text = format!("{} / {} ({percent:.0} %)", bytes(used), bytes(total));
    let (class, note) = match w.percents() {
        Some((_, _, flood)) if percent >= flood => (
            "disk-flood",
            format!(
                "above the flood stage watermark ({}): indices are read-only",
                w.flood_stage
            ),
        ),
        Some((_, high, _)) if percent >= high => (
            "disk-high",
            format!("above the high watermark ({}): shards move away", w.high),
        ),
        Some((low, _, _)) if percent >= low => (
            "disk-low",
            format!("above the low watermark ({}): no new shards", w.low),
        ),
        _ => ("disk-ok", String::new()),
    };
    (text, class, note)
}

fn href(slug: &str, name: &str, sort: &str, dir: &str, page: usize, index: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("sort", sort)
        .append_pair("dir", dir)
        .append_pair("page", &page.to_string());
    if !index.is_empty() {
        q.append_pair("index", index);
    }
    format!("{}?{}#elasticsearch", cluster_path(slug, name), q.finish())
}

fn sort_indices(indices: &mut [IndexView], sort: &str, desc: bool) {
    let rank = |h: &str| match h {
        "red" => 0,
        "yellow" => 1,
        "green" => 2,
        _ => 3,
    };
    match sort {
        "health" => indices.sort_by(|a, b| {
            rank(&a.health)
                .cmp(&rank(&b.health))
                .then(a.name.cmp(&b.name))
        }),
        "docs" => indices.sort_by(|a, b| a.docs_count.cmp(&b.docs_count).then(a.name.cmp(&b.name))),
        "size" => {
            indices.sort_by(|a, b| a.store_bytes.cmp(&b.store_bytes).then(a.name.cmp(&b.name)))
        }
        _ => indices.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    if desc {
        indices.reverse();
    }
}

/// Build the section from an inspection.
pub fn section(
    slug: &str,
    name: &str,
    inspection: Inspection,
    query: &EsQuery,
    can_change: bool,
    csrf_token: &str,
) -> EsSection {
    let now = Utc::now();
    let s = inspection.snapshot;
    let sort = query.sort.as_deref().unwrap_or("name");
    let desc = query.dir.as_deref() == Some("desc");
    let dir = if desc { "desc" } else { "asc" };
    let shards_index = query.index.clone().unwrap_or_default();
    let mut indices = s.indices;
    sort_indices(&mut indices, sort, desc);
    let index_count = indices.len();
    let pages = index_count.div_ceil(INDICES_PER_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let sort_links = [
        ("Index", "name"),
        ("Health", "health"),
        ("Docs", "docs"),
        ("Size", "size"),
    ]
    .into_iter()
    .map(|(label, key)| {
        let current = key == sort;
        let next_dir = if current && !desc { "desc" } else { "asc" };
        SortLink {
            label,
            href: href(slug, name, key, next_dir, 1, &shards_index),
            aria: match (current, desc) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            },
        }
    })
    .collect();
    let index_rows = indices
        .iter()
        .skip((page - 1) * INDICES_PER_PAGE)
        .take(INDICES_PER_PAGE)
        .map(|i| IndexRow {
            name: i.name.clone(),
            health: if i.health.is_empty() {
                "—".into()
            } else {
                i.health.clone()
            },
            status: i.status.clone(),
            layout: format!("{} × {}", i.primaries, i.replicas),
            docs: i.docs_count,
            size: bytes(i.store_bytes),
            tier: if i.tier.is_empty() {
                "—".into()
            } else {
                i.tier.clone()
            },
            shards_href: href(slug, name, sort, dir, page, &i.name),
        })
        .collect();
    let shards = s
        .shards
        .iter()
        .filter(|x| !shards_index.is_empty() && x.index == shards_index)
        .map(|x| ShardRow {
            shard: x.shard,
            kind: if x.primary { "primary" } else { "replica" },
            state: x.state.clone(),
            node: x.node.clone().unwrap_or_default(),
            reason: x.unassigned_reason.clone().unwrap_or_default(),
        })
        .collect();
    let nodes = s
        .nodes
        .iter()
        .map(|n| {
            let (disk, disk_class, disk_note) = disk(n, &s.watermarks);
            NodeRow {
                name: n.name.clone(),
                roles: if n.roles.is_empty() {
                    "coordinating".into()
                } else {
                    n.roles.join(", ")
                },
                tier: if n.tier.is_empty() {
                    "—".into()
                } else {
                    n.tier.clone()
                },
                master: n.master == Some(true),
                version: n.version.clone(),
                heap: n.heap_used_percent.map_or("—".into(), |p| format!("{p} %")),
                cpu: n.cpu_percent.map_or("—".into(), |p| format!("{p} %")),
                disk,
                disk_class,
                disk_note,
                shards: n.shards,
                uptime: n
                    .uptime_millis
                    .map_or("—".into(), |ms| format::duration((ms / 1000) as i64)),
            }
        })
        .collect();
    let h = &s.health;
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("sort", sort)
        .append_pair("dir", dir)
        .append_pair("page", &page.to_string());
    if !shards_index.is_empty() {
        q.append_pair("index", &shards_index);
    }
    EsSection {
        slug: slug.to_owned(),
        name: name.to_owned(),
        refresh_href: format!("{}/elasticsearch?{}", cluster_path(slug, name), q.finish()),
        observed: inspection.observed_at.is_some(),
        age: inspection
            .observed_at
            .map(|t| format::age(t, now))
            .unwrap_or_default(),
        observed_iso: inspection.observed_at.map(format::iso).unwrap_or_default(),
        error: inspection
            .error
            .map(|(_, message, _)| message)
            .unwrap_or_default(),
        status: if h.status.is_empty() {
            "unknown".into()
        } else {
            h.status.clone()
        },
        summary: format!(
            "{} {} ({} data), {} active shard copies, {} initializing, {} relocating, {} unassigned",
            h.number_of_nodes,
            if h.number_of_nodes == 1 {
                "node"
            } else {
                "nodes"
            },
            h.number_of_data_nodes,
            h.active_shards,
            h.initializing_shards,
            h.relocating_shards,
            h.unassigned_shards
        ),
        watermarks: format!(
            "Disk watermarks: low {}, high {}, flood stage {}.",
            s.watermarks.low, s.watermarks.high, s.watermarks.flood_stage
        ),
        nodes,
        sort_links,
        indices: index_rows,
        index_count,
        page,
        pages,
        prev_href: if page > 1 {
            href(slug, name, sort, dir, page - 1, &shards_index)
        } else {
            String::new()
        },
        next_href: if page < pages {
            href(slug, name, sort, dir, page + 1, &shards_index)
        } else {
            String::new()
        },
        shards_index,
        shards,
        problems: s
            .problems
            .into_iter()
            .map(|p| {
                let fix_index = p
                    .action
                    .as_ref()
                    .map(|a| a.index.clone())
                    .unwrap_or_default();
                let fix_replicas = p.action.map_or(0, |a| a.replicas);
                let hex: String = fix_index.bytes().map(|b| format!("{b:02x}")).collect();
                ProblemRow {
                    summary: p.summary,
                    fix: p.fix,
                    fix_field_id: format!("replicas-{hex}-{fix_replicas}"),
                    fix_index,
                    fix_replicas,
                }
            })
            .collect(),
        can_change,
        csrf_token: csrf_token.to_owned(),
    }
}

/// The section of `cluster` for `access` (marks the cluster as watched).
pub async fn load(
    state: &AppState,
    access: &TenantAccess,
    cluster: &Cluster,
    query: &EsQuery,
) -> AppResult<EsSection> {
    inspections::mark_watched(&state.db, cluster.id).await?;
    let inspection = inspections::load(&state.db, cluster.id)
        .await?
        .unwrap_or_default();
    Ok(section(
        access.tenant.slug.as_str(),
        &cluster.name,
        inspection,
        query,
        access.role.can_change_clusters(),
        &access.user.csrf_token,
    ))
}

/// `templates/clusters/elasticsearch_fragment.html`: the section alone, for htmx.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/elasticsearch_fragment.html")]
pub struct EsFragment {
    /// The section.
    pub es: EsSection,
}

/// `GET /t/{tenant}/clusters/{name}/elasticsearch`: the section (htmx refresh).
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn fragment(
    State(state): State<AppState>,
    access: TenantAccess,
    Path((_tenant, name)): Path<(String, String)>,
    Query(query): Query<EsQuery>,
) -> AppResult<Response> {
    let cluster = {
        let mut conn = state.db.acquire().await?;
        crate::clusters::repo::get_by_name(&mut conn, access.tenant.id, &name).await?
    };
    let es = load(&state, &access, &cluster, &query).await?;
    Ok(EsFragment { es }.into_response())
}

/// The fix form.
#[derive(Debug, Deserialize)]
pub struct ReplicasForm {
    /// New number of replicas.
    pub replicas: String,
}

/// `POST /t/{tenant}/clusters/{name}/indices/{index}/replicas`: set an index's replicas (audited).
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn set_replicas(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name, index)): Path<(String, String, String)>,
    Form(form): Form<ReplicasForm>,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let back = format!("{}#elasticsearch", cluster_path(&slug, &name));
    let Ok(replicas) = form.replicas.trim().parse::<u32>() else {
        return Ok(flash::redirect(
            &back,
            FlashKind::Error,
            "Replicas: enter a whole number from 0 to 32.",
        ));
    };
    match actions::set_replicas(&state, &caller(&access, meta), &name, &index, replicas).await {
        Ok(change) => Ok(flash::redirect(
            &back,
            FlashKind::Success,
            format!("Replicas of `{}` set to {}.", change.index, change.replicas),
        )),
        Err(AppError::Validation(errors)) => Ok(flash::redirect(
            &back,
            FlashKind::Error,
            format!("Replicas: {}", errors.get("replicas").unwrap_or("invalid")),
        )),
        Err(AppError::Conflict(message) | AppError::GatewayTimeout(message)) => {
            Ok(flash::redirect(&back, FlashKind::Error, message))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(90214), "88.1 KiB");
        assert_eq!(bytes(50 << 30), "50.0 GiB");
    }

    #[test]
    fn disk_against_the_watermarks() {
        let node = |used: u64| NodeView {
            name: "n".into(),
            roles: vec![],
            tier: String::new(),
            master: None,
            version: "9.2.1".into(),
            heap_used_percent: None,
            cpu_percent: None,
            disk_used_bytes: Some(used),
            disk_total_bytes: Some(100),
            shards: 0,
            uptime_millis: None,
        };
        let w = Watermarks::default();
        assert_eq!(disk(&node(50), &w).1, "disk-ok");
        assert_eq!(disk(&node(86), &w).1, "disk-low");
        assert_eq!(disk(&node(91), &w).1, "disk-high");
        assert!(disk(&node(96), &w).2.contains("read-only"));
    }

    #[test]
    fn indices_sort_and_page() {
        let index = |name: &str, health: &str, docs: u64| IndexView {
            name: name.into(),
            health: health.into(),
            status: "open".into(),
            primaries: 1,
            replicas: 1,
            docs_count: docs,
            store_bytes: docs,
            tier: String::new(),
        };
        let inspection = Inspection {
            observed_at: Some(Utc::now()),
            snapshot: crate::monitoring::inspector::snapshot::Snapshot {
                indices: (0..30)
                    .map(|n| index(&format!("i{n:02}"), if n == 7 { "red" } else { "green" }, n))
                    .collect(),
                ..Default::default()
            },
            error: None,
        };
        let by_health = section(
            "acme",
            "logs",
            inspection.clone(),
            &EsQuery {
                sort: Some("health".into()),
                ..Default::default()
            },
            true,
            "t",
        );
        assert_eq!(by_health.indices[0].name, "i07", "red first");
        assert_eq!(by_health.pages, 2);
        assert_eq!(by_health.indices.len(), INDICES_PER_PAGE);
        let last = section(
            "acme",
            "logs",
            inspection,
            &EsQuery {
                sort: Some("docs".into()),
                dir: Some("desc".into()),
                page: Some(2),
                ..Default::default()
            },
            true,
            "t",
        );
        assert_eq!(last.indices.len(), 5);
        assert_eq!(last.indices[0].name, "i04");
        assert!(last.next_href.is_empty());
        assert!(last.prev_href.contains("page=1"));
    }
}
