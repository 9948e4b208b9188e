//! Charts rendered on the server as inline SVG: the nodes-ready and health history of a cluster, and its
//! allocated resources against the tenant's quota. Only presentation attributes (`fill`, `stroke`, ...):
//! the CSP forbids `style` attributes, and there is no client-side charting. Every chart has a `<title>` and
//! a `<desc>` saying in words what it shows, for screen readers. All text is escaped here.
//!
//! Each chart is drawn twice, at two widths ([`ChartWidth`]): an SVG scales its text with its box, so one
//! drawing for all screens would shrink its labels to a few pixels on a phone. The stylesheet shows the
//! narrow drawing below 600 px and the wide one above (the hidden one is `display: none`, so screen readers
//! meet one chart).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::clusters::repo::HistoryPoint;
use crate::tenants::quota::units;
use crate::web::clusters::format;

/// Escape text for SVG/HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The fill of a health.
pub fn health_color(health: &str) -> &'static str {
    match health {
        "green" => "#1a9c5b",
        "yellow" => "#d6a100",
        "red" => "#cc3b30",
        _ => "#8a94a3",
    }
}

/// A history point as drawn: time, health, ready nodes, desired nodes.
type Point<'a> = (DateTime<Utc>, &'a str, i32, i32);

/// The two drawings of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartWidth {
    /// 640 user units, for a card of about that width or more.
    Wide,
    /// 360 user units, for a phone: the labels keep about the size they are drawn at.
    Narrow,
}

impl ChartWidth {
    /// The width of the drawing in user units.
    fn units(self) -> f64 {
        match self {
            Self::Wide => 640.0,
            Self::Narrow => 360.0,
        }
    }

    /// The CSS class choosing the drawing by screen width, and the suffix keeping the ids unique.
    fn class(self) -> &'static str {
        match self {
            Self::Wide => "wide",
            Self::Narrow => "narrow",
        }
    }
}

/// Both drawings of a chart, the wide one first.
pub fn at_both_widths(draw: impl Fn(ChartWidth) -> String) -> String {
    draw(ChartWidth::Wide) + &draw(ChartWidth::Narrow)
}

const PLOT_X0: f64 = 40.0;
const PLOT_Y0: f64 = 14.0;
const PLOT_Y1: f64 = 124.0;
const STRIP_Y: f64 = 136.0;
const STRIP_H: f64 = 12.0;
const H: f64 = 190.0;

/// The fill of the health strip while the cluster is being created (not red: a cluster that is still coming
/// up is not failing).
pub const CREATING_COLOR: &str = "#7fa7e0";

/// History that starts this soon after the cluster's creation shows the creation.
const CREATION_WINDOW_SECS: i64 = 300;

/// The nodes-ready and desired-nodes history as step lines, with a strip coloured by health underneath.
/// `current` (health, ready, desired) extends the lines to `now`. When the history starts with the creation
/// (`created_at`), the strip is [`CREATING_COLOR`] until the first green or yellow point. The legend of the
/// strip is HTML beside the chart (`templates/clusters/live.html`), legible at any width.
pub fn history_chart(
    points: &[HistoryPoint],
    current: (&str, i32, i32),
    now: DateTime<Utc>,
    created_at: DateTime<Utc>,
    width: ChartWidth,
) -> String {
    let w_units = width.units();
    let plot_x1 = w_units - 12.0;
    let cls = width.class();
    let mut svg = String::new();
    let (cur_health, cur_ready, cur_desired) = current;
    let mut pts: Vec<Point<'_>> = points
        .iter()
        .map(|p| (p.at, p.health.as_str(), p.nodes_ready, p.nodes_desired))
        .collect();
    if pts.is_empty() {
        let _ = write!(
            svg,
            r##"<svg class="chart chart-{cls}" viewBox="0 0 {w_units} 60" role="img" aria-labelledby="history-title-{cls}"><title id="history-title-{cls}">No status history yet</title><text x="{x}" y="34" text-anchor="middle" fill="#5b6776" font-size="{fs}">{text}</text></svg>"##,
            x = w_units / 2.0,
            fs = if width == ChartWidth::Wide { 14 } else { 12 },
            text = if width == ChartWidth::Wide {
                "No status history yet: it starts with the first observation."
            } else {
                "No status history yet."
            }
        );
        return svg;
    }
    let start = pts[0].0;
    let end = now.max(start + chrono::Duration::seconds(10));
    pts.push((end, cur_health, cur_ready, cur_desired));
    let span = (end - start).num_milliseconds().max(1) as f64;
    let x = |t: DateTime<Utc>| {
        PLOT_X0 + (t - start).num_milliseconds() as f64 / span * (plot_x1 - PLOT_X0)
    };
    let ymax = pts.iter().map(|p| p.2.max(p.3)).max().unwrap_or(1).max(1);
    let y = |v: i32| PLOT_Y1 - f64::from(v) / f64::from(ymax) * (PLOT_Y1 - PLOT_Y0);

    let first_ready = pts[0].2;
    let desc = format!(
        "From {} to now, ready nodes went from {first_ready} to {cur_ready} (desired {cur_desired}); health is {cur_health} now.",
        format::timestamp(start)
    );
    let _ = write!(
        svg,
        r##"<svg class="chart chart-{cls}" viewBox="0 0 {w_units} {H}" role="img" aria-labelledby="history-title-{cls} history-desc-{cls}"><title id="history-title-{cls}">Nodes ready and health over time</title><desc id="history-desc-{cls}">{}</desc>"##,
        esc(&desc)
    );
    // Grid and y labels.
    for v in [0, ymax / 2, ymax] {
        if v == ymax / 2 && (v == 0 || v == ymax) {
            continue;
        }
        let yy = y(v);
        let _ = write!(
            svg,
            r##"<line x1="{PLOT_X0}" y1="{yy:.1}" x2="{plot_x1}" y2="{yy:.1}" stroke="#d9dee5" stroke-width="1"/><text x="{lx}" y="{ty:.1}" text-anchor="end" fill="#5b6776" font-size="11">{v}</text>"##,
            lx = PLOT_X0 - 6.0,
            ty = yy + 4.0
        );
    }
    // Step paths.
    let step_path = |value: &dyn Fn(&Point<'_>) -> i32| {
        let mut d = format!("M{:.1},{:.1}", x(pts[0].0), y(value(&pts[0])));
        for w in pts.windows(2) {
            let _ = write!(d, " H{:.1} V{:.1}", x(w[1].0), y(value(&w[1])));
        }
        d
    };
    let ready = step_path(&|p| p.2);
    let desired = step_path(&|p| p.3);
    let _ = write!(
        svg,
        r##"<path d="{ready} V{b:.1} H{x0:.1} Z" fill="#0b64dd" fill-opacity="0.12" stroke="none"/><path d="{desired}" fill="none" stroke="#5b6776" stroke-width="1.5" stroke-dasharray="5 4"/><path d="{ready}" fill="none" stroke="#0b64dd" stroke-width="2.5"/>"##,
        b = PLOT_Y1,
        x0 = x(pts[0].0)
    );
    // Health strip.
    let mut creating = (start - created_at).num_seconds() < CREATION_WINDOW_SECS;
    for w in pts.windows(2) {
        creating = creating && !matches!(w[0].1, "green" | "yellow");
        let (x1, x2) = (x(w[0].0), x(w[1].0));
        if x2 - x1 <= 0.0 {
            continue;
        }
        let (fill, word) = if creating {
            (CREATING_COLOR, format!("creating ({})", w[0].1))
        } else {
            (health_color(w[0].1), w[0].1.to_owned())
        };
        let _ = write!(
            svg,
            r##"<rect x="{x1:.1}" y="{STRIP_Y}" width="{wd:.1}" height="{STRIP_H}" fill="{fill}"><title>{}</title></rect>"##,
            esc(&format!("{word} from {}", format::timestamp(w[0].0))),
            wd = x2 - x1
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{lx}" y="{ty}" text-anchor="end" fill="#5b6776" font-size="11">health</text>"##,
        lx = PLOT_X0 - 6.0,
        ty = STRIP_Y + 10.0
    );
    // Time labels and legend.
    let _ = write!(
        svg,
        r##"<text x="{PLOT_X0}" y="166" fill="#5b6776" font-size="11">{}</text><text x="{plot_x1}" y="166" text-anchor="end" fill="#5b6776" font-size="11">now</text>"##,
        esc(&start.format("%H:%M:%S UTC").to_string())
    );
    let _ = write!(
        svg,
        r##"<g font-size="11" fill="#1c2430"><line x1="{a}" y1="182" x2="{b}" y2="182" stroke="#0b64dd" stroke-width="2.5"/><text x="{c}" y="186">ready nodes</text><line x1="{d}" y1="182" x2="{e}" y2="182" stroke="#5b6776" stroke-width="1.5" stroke-dasharray="5 4"/><text x="{f}" y="186">desired nodes</text></g></svg>"##,
        a = PLOT_X0,
        b = PLOT_X0 + 18.0,
        c = PLOT_X0 + 24.0,
        d = PLOT_X0 + 110.0,
        e = PLOT_X0 + 128.0,
        f = PLOT_X0 + 134.0
    );
    svg
}

/// One coloured part of a resource bar.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Legend label (node set name, `Kibana`).
    pub label: String,
    /// Amount per dimension: nodes, CPU millicores, memory MiB, storage GiB.
    pub amounts: [i64; 4],
}

const PALETTE: [&str; 6] = [
    "#0b64dd", "#5b9bf0", "#1a9c5b", "#7b4fc9", "#c77700", "#0f8a9d",
];
const KIBANA: &str = "#d6457f";
const OTHERS: &str = "#b3bdca";
const FREE: &str = "#eef1f5";

/// Where the parts of the resources chart go at one width.
struct ResourcesLayout {
    /// Left and right end of the bars.
    bar_x0: f64,
    bar_x1: f64,
    /// Offset of the bar below the top of its row, and its height.
    bar_dy: f64,
    bar_h: f64,
    row_h: f64,
    /// The amount's text: its x, anchor, and whether it sits on the label's line (narrow) or after the bar.
    value_x: f64,
    value_anchor: &'static str,
    legend_cols: usize,
    legend_col_w: f64,
}

impl ResourcesLayout {
    fn at(width: ChartWidth) -> Self {
        match width {
            // Label, bar, amount on one line.
            ChartWidth::Wide => Self {
                bar_x0: 78.0,
                bar_x1: 470.0,
                bar_dy: 0.0,
                bar_h: 16.0,
                row_h: 34.0,
                value_x: 478.0,
                value_anchor: "start",
                legend_cols: 4,
                legend_col_w: 150.0,
            },
            // Label and amount on a line, the bar under them across the whole width.
            ChartWidth::Narrow => Self {
                bar_x0: 0.0,
                bar_x1: 360.0,
                bar_dy: 18.0,
                bar_h: 14.0,
                row_h: 44.0,
                value_x: 360.0,
                value_anchor: "end",
                legend_cols: 2,
                legend_col_w: 180.0,
            },
        }
    }
}

/// This cluster's allocation (per node set and Kibana) next to the tenant's other clusters and the limit,
/// one bar per dimension. `tenant_usage` and `limits` are `[nodes, cpu, memory, storage]`.
pub fn resources_chart(
    segments: &[Segment],
    tenant_usage: [i64; 4],
    limits: [i64; 4],
    width: ChartWidth,
) -> String {
    let l = ResourcesLayout::at(width);
    let cls = width.class();
    let names = ["Nodes", "CPU", "Memory", "Storage"];
    let fmt = |dim: usize, v: i64| match dim {
        0 => v.to_string(),
        1 => units::cpu(v),
        2 => units::memory(v),
        _ => units::storage(v),
    };
    let legend_rows = (segments.len() + 2).div_ceil(l.legend_cols);
    let height = 8.0 + l.row_h * 4.0 + 20.0 * legend_rows as f64;
    let mut desc = String::new();
    let mut body = String::new();
    for dim in 0..4 {
        let this: i64 = segments.iter().map(|s| s.amounts[dim]).sum();
        let others = (tenant_usage[dim] - this).max(0);
        let scale_max = limits[dim].max(tenant_usage[dim]).max(1) as f64;
        let top = 8.0 + l.row_h * dim as f64;
        let bar_y = top + l.bar_dy;
        let _ = write!(
            body,
            r##"<text x="0" y="{ty:.1}" font-size="12" fill="#1c2430">{}</text><rect x="{x0}" y="{bar_y:.1}" width="{bw:.1}" height="{bh}" fill="{FREE}" rx="3"/>"##,
            names[dim],
            ty = top + 12.0,
            x0 = l.bar_x0,
            bw = l.bar_x1 - l.bar_x0,
            bh = l.bar_h
        );
        let mut cursor = l.bar_x0;
        let mut draw = |amount: i64, fill: &str, tip: String, body: &mut String| {
            if amount <= 0 {
                return;
            }
            let w = amount as f64 / scale_max * (l.bar_x1 - l.bar_x0);
            let _ = write!(
                body,
                r##"<rect x="{cursor:.1}" y="{bar_y:.1}" width="{w:.1}" height="{bh}" fill="{fill}"><title>{}</title></rect>"##,
                esc(&tip),
                bh = l.bar_h
            );
            cursor += w;
        };
        for (i, s) in segments.iter().enumerate() {
            draw(
                s.amounts[dim],
                segment_fill(i, s),
                format!("{}: {}", s.label, fmt(dim, s.amounts[dim])),
                &mut body,
            );
        }
        draw(
            others,
            OTHERS,
            format!("other clusters: {}", fmt(dim, others)),
            &mut body,
        );
        let _ = write!(
            body,
            r##"<text x="{tx}" y="{ty:.1}" text-anchor="{anchor}" font-size="12" fill="#1c2430">{} <tspan fill="#5b6776">of {} quota</tspan></text>"##,
            esc(&fmt(dim, this)),
            esc(&fmt(dim, limits[dim])),
            tx = l.value_x,
            anchor = l.value_anchor,
            ty = top + 12.0
        );
        let _ = write!(
            desc,
            "{}: this cluster {}, other clusters {}, quota {}. ",
            names[dim],
            fmt(dim, this),
            fmt(dim, others),
            fmt(dim, limits[dim])
        );
    }
    // Legend.
    let mut items: Vec<(String, &str)> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| (s.label.clone(), segment_fill(i, s)))
        .collect();
    items.push(("other clusters".into(), OTHERS));
    items.push(("free".into(), FREE));
    for (i, (label, fill)) in items.iter().enumerate() {
        let (col, row) = (i % l.legend_cols, i / l.legend_cols);
        let lx = col as f64 * l.legend_col_w;
        let ly = 8.0 + l.row_h * 4.0 + 20.0 * row as f64;
        let _ = write!(
            body,
            r##"<rect x="{lx:.1}" y="{ly:.1}" width="12" height="12" fill="{fill}" stroke="#d9dee5"/><text x="{tx:.1}" y="{ty:.1}" font-size="11" fill="#1c2430">{}</text>"##,
            esc(label),
            tx = lx + 17.0,
            ty = ly + 10.0
        );
    }
    format!(
        r##"<svg class="chart chart-{cls}" viewBox="0 0 {w} {height:.0}" role="img" aria-labelledby="resources-title-{cls} resources-desc-{cls}"><title id="resources-title-{cls}">Requested resources against the tenant quota</title><desc id="resources-desc-{cls}">{}</desc>{body}</svg>"##,
        esc(desc.trim()),
        w = width.units()
    )
}

/// The colour of a node set's (or Kibana's) part of the bars.
fn segment_fill(i: usize, s: &Segment) -> &'static str {
    if s.label == "Kibana" {
        KIBANA
    } else {
        PALETTE[i % PALETTE.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(
        secs_ago: i64,
        health: &str,
        ready: i32,
        desired: i32,
        now: DateTime<Utc>,
    ) -> HistoryPoint {
        HistoryPoint {
            at: now - chrono::Duration::seconds(secs_ago),
            health: health.into(),
            nodes_ready: ready,
            nodes_desired: desired,
        }
    }

    #[test]
    fn history_draws_lines_strip_and_words() {
        let now = Utc::now();
        let pts = vec![
            point(60, "unknown", 0, 3, now),
            point(40, "yellow", 1, 3, now),
            point(20, "green", 3, 3, now),
        ];
        let svg = history_chart(
            &pts,
            ("green", 3, 3),
            now,
            now - chrono::Duration::hours(1),
            ChartWidth::Wide,
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("ready nodes went from 0 to 3"));
        assert_eq!(
            svg.matches("<rect").count(),
            3,
            "one strip segment per point"
        );
        assert!(svg.contains("#1a9c5b") && svg.contains("#d6a100"));
        assert!(!svg.contains("style="), "no inline styles under the CSP");
    }

    #[test]
    fn creation_is_not_painted_red() {
        let now = Utc::now();
        let pts = vec![
            point(60, "red", 0, 3, now),
            point(40, "yellow", 1, 3, now),
            point(20, "red", 2, 3, now),
        ];
        let created = now - chrono::Duration::seconds(61);
        let svg = history_chart(&pts, ("green", 3, 3), now, created, ChartWidth::Wide);
        assert!(svg.contains(CREATING_COLOR), "{svg}");
        assert!(svg.contains("creating (red) from"));
        // After the cluster first came up, red is red again.
        assert_eq!(svg.matches(health_color("red")).count(), 1);
        // History that does not start with the creation is drawn as it is.
        let old = history_chart(
            &pts,
            ("green", 3, 3),
            now,
            now - chrono::Duration::days(3),
            ChartWidth::Wide,
        );
        assert!(!old.contains(CREATING_COLOR));
        assert_eq!(old.matches(health_color("red")).count(), 2);
    }

    #[test]
    fn empty_history_says_so() {
        let svg = history_chart(
            &[],
            ("unknown", 0, 3),
            Utc::now(),
            Utc::now(),
            ChartWidth::Narrow,
        );
        assert!(svg.contains("No status history yet"));
    }

    #[test]
    fn resources_show_this_cluster_others_and_quota() {
        let segments = vec![
            Segment {
                label: "data".into(),
                amounts: [3, 3000, 6144, 30],
            },
            Segment {
                label: "Kibana".into(),
                amounts: [0, 500, 1024, 0],
            },
        ];
        let svg = resources_chart(
            &segments,
            [5, 5500, 9216, 50],
            [20, 20_000, 65_536, 1000],
            ChartWidth::Wide,
        );
        assert!(
            svg.contains("CPU: this cluster 3.5 cores, other clusters 2 cores, quota 20 cores.")
        );
        assert!(svg.contains("other clusters"));
        assert!(!svg.contains("style="));
        assert_eq!(esc("<a&\"'>"), "&lt;a&amp;&quot;&#39;&gt;");
    }

    #[test]
    fn both_widths_are_drawn_with_their_own_ids() {
        let segments = vec![Segment {
            label: "data".into(),
            amounts: [3, 3000, 6144, 30],
        }];
        let both = at_both_widths(|w| {
            resources_chart(
                &segments,
                [3, 3000, 6144, 30],
                [20, 20_000, 65_536, 1000],
                w,
            )
        });
        assert_eq!(both.matches("<svg").count(), 2);
        assert!(
            both.contains(r#"class="chart chart-wide" viewBox="0 0 640 "#),
            "{both}"
        );
        assert!(
            both.contains(r#"class="chart chart-narrow" viewBox="0 0 360 "#),
            "{both}"
        );
        assert!(
            both.contains(r#"id="resources-title-wide""#)
                && both.contains(r#"id="resources-title-narrow""#)
        );
        // On a phone the amount stands at the right end of the label's line, not after the bar.
        let narrow = resources_chart(
            &segments,
            [3, 3000, 6144, 30],
            [20, 20_000, 65_536, 1000],
            ChartWidth::Narrow,
        );
        assert!(
            narrow.contains(r#"x="360" y="20.0" text-anchor="end""#),
            "{narrow}"
        );
        let now = Utc::now();
        let pts = vec![point(20, "green", 3, 3, now)];
        let history = history_chart(&pts, ("green", 3, 3), now, now, ChartWidth::Narrow);
        assert!(
            history.contains(r#"x2="348" "#) || history.contains(r#"x2="348""#),
            "{history}"
        );
    }
}
