//! Reading the allocation settings of a cluster and its indices: allocation filters
//! (`*.routing.allocation.require|include|exclude.*`), `enable`, the disk watermarks (percentages or byte
//! values, with Elasticsearch's default max headrooms), recovery limits and the node-left delay; and byte sizes
//! written as Elasticsearch writes them (`1.5gb`).

use super::model::{Cluster, Index, Node};

/// Default `index.unassigned.node_left.delayed_timeout` (1m).
pub const DEFAULT_NODE_LEFT_DELAY_MS: u64 = 60_000;

/// One allocation filter (`cluster.routing.allocation.exclude`: attribute -> values).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The setting prefix (`cluster.routing.allocation.exclude`).
    pub setting: String,
    /// (attribute, comma-separated values) in key order.
    pub rules: Vec<(String, Vec<String>)>,
}

impl Filter {
    /// As `DiscoveryNodeFilters.toString()`: `_name:"a,b",zone:"z"`.
    pub fn describe(&self) -> String {
        self.rules
            .iter()
            .map(|(k, vs)| format!("{k}:\"{}\"", vs.join(",")))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Filters of `kind` (`require`, `include`, `exclude`) under `prefix` (`cluster.routing.allocation` or
/// `index.routing.allocation`) from flat settings; None when none is set.
pub fn filter<'a>(
    prefix: &str,
    kind: &str,
    settings: impl Iterator<Item = (&'a String, &'a String)>,
) -> Option<Filter> {
    let head = format!("{prefix}.{kind}.");
    let mut rules: Vec<(String, Vec<String>)> = settings
        .filter_map(|(k, v)| {
            let attr = k.strip_prefix(&head)?;
            if attr == "_tier_preference" {
                return None;
            }
            let values: Vec<String> = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            (!values.is_empty()).then(|| (attr.to_string(), values))
        })
        .collect();
    rules.sort();
    rules.dedup_by(|a, b| a.0 == b.0);
    (!rules.is_empty()).then(|| Filter {
        setting: format!("{prefix}.{kind}"),
        rules,
    })
}

/// The cluster filters in effect (transient over persistent).
pub fn cluster_filter(c: &Cluster, kind: &str) -> Option<Filter> {
    let mut merged = c.persistent.clone();
    merged.extend(c.transient.clone());
    filter("cluster.routing.allocation", kind, merged.iter())
}

/// The index filters.
pub fn index_filter(i: &Index, kind: &str) -> Option<Filter> {
    filter("index.routing.allocation", kind, i.settings.iter())
}

/// `*` wildcards as Elasticsearch's `Regex.simpleMatch`.
pub fn glob(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == value;
    }
    let mut rest = value;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Does the node match one attribute's values?
fn matches_attr(node: &Node, attr: &str, values: &[String]) -> bool {
    let candidates: Vec<&str> = match attr {
        "_name" => vec![node.name.as_str()],
        "_id" => vec![node.id.as_str()],
        "_ip" | "_host_ip" | "_publish_ip" | "_host" => vec![node.ip.as_str()],
        "_tier" => node.roles.iter().map(String::as_str).collect(),
        other => node
            .attributes
            .get(other)
            .map(String::as_str)
            .into_iter()
            .collect(),
    };
    values.iter().any(|v| candidates.iter().any(|c| glob(v, c)))
}

/// Does the node match the filter (`require`: every attribute; `include`/`exclude`: any)?
pub fn node_matches(f: &Filter, kind: &str, node: &Node) -> bool {
    if kind == "require" {
        f.rules.iter().all(|(a, vs)| matches_attr(node, a, vs))
    } else {
        f.rules.iter().any(|(a, vs)| matches_attr(node, a, vs))
    }
}

/// `cluster.routing.allocation.enable` for an index (index setting first), lower case.
pub fn enable(c: &Cluster, i: Option<&Index>) -> (String, &'static str) {
    if let Some(v) = i.and_then(|i| i.setting("index.routing.allocation.enable")) {
        return (
            v.to_ascii_lowercase(),
            "index setting [index.routing.allocation.enable",
        );
    }
    (
        c.setting("cluster.routing.allocation.enable")
            .unwrap_or("all")
            .to_ascii_lowercase(),
        "cluster setting [cluster.routing.allocation.enable",
    )
}

/// A watermark: a used-space percentage or a free-space byte value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Watermark {
    /// Used percentage (85.0).
    Percent(f64),
    /// Free bytes required.
    FreeBytes(u64),
}

/// The three disk watermarks with their texts and whether the default max headrooms apply.
#[derive(Debug, Clone)]
pub struct Disk {
    /// `threshold_enabled`.
    pub enabled: bool,
    /// (setting text, watermark, max headroom) for low, high, flood stage.
    pub levels: [(String, Watermark, Option<u64>); 3],
}

const GB: u64 = 1024 * 1024 * 1024;

/// Parse `85%`, `0.85` or `10gb`.
pub fn parse_watermark(text: &str) -> Option<Watermark> {
    let t = text.trim();
    if let Some(p) = t.strip_suffix('%') {
        return p.trim().parse().ok().map(Watermark::Percent);
    }
    if let Ok(ratio) = t.parse::<f64>() {
        return Some(Watermark::Percent(ratio * 100.0));
    }
    parse_bytes(t).map(Watermark::FreeBytes)
}

/// Parse an Elasticsearch byte size (`10gb`, `512mb`, `100b`).
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n.parse().ok()?;
    let factor = match unit.trim() {
        "" | "b" => 1u64,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        "t" | "tb" => 1 << 40,
        "p" | "pb" => 1 << 50,
        _ => return None,
    };
    Some((n * factor as f64) as u64)
}

/// Bytes as `ByteSizeValue.toString()` writes them (`1.5gb`, `249b`).
pub fn bytes_text(b: u64) -> String {
    const UNITS: [(&str, u64); 5] = [
        ("pb", 1 << 50),
        ("tb", 1 << 40),
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
    ];
    for (suffix, size) in UNITS {
        if b >= size {
            return format!("{}{suffix}", one_decimal(b as f64 / size as f64));
        }
    }
    format!("{b}b")
}

/// `Strings.format1Decimals`: one decimal, dropped when zero.
pub fn one_decimal(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(String::from).unwrap_or(s)
}

/// The disk settings in effect.
pub fn disk(c: &Cluster) -> Disk {
    let key = |l: &str| format!("cluster.routing.allocation.disk.watermark.{l}");
    let defaults = [
        ("low", "85%", 200 * GB),
        ("high", "90%", 150 * GB),
        ("flood_stage", "95%", 100 * GB),
    ];
    let explicit = defaults
        .iter()
        .any(|(l, _, _)| c.setting(&key(l)).is_some());
    let levels = defaults.map(|(l, def, headroom)| {
        let text = c.setting(&key(l)).unwrap_or(def).to_string();
        let wm = parse_watermark(&text).unwrap_or(Watermark::Percent(100.0));
        let room = c
            .setting(&format!("{}.max_headroom", key(l)))
            .and_then(parse_bytes)
            .or((!explicit).then_some(headroom))
            .filter(|_| matches!(wm, Watermark::Percent(_)));
        (format!("{}={text}", key(l)), wm, room)
    });
    Disk {
        enabled: c
            .setting("cluster.routing.allocation.disk.threshold_enabled")
            .is_none_or(|v| v != "false"),
        levels,
    }
}

impl Disk {
    /// Free bytes a node of `total` bytes must keep at level 0 (low), 1 (high), 2 (flood stage).
    pub fn required_free(&self, level: usize, total: u64) -> u64 {
        let (_, wm, room) = &self.levels[level];
        match wm {
            Watermark::FreeBytes(b) => *b,
            Watermark::Percent(p) => {
                let free = (total as f64 * (100.0 - p) / 100.0).max(0.0) as u64;
                room.map_or(free, |r| free.min(r))
            }
        }
    }

    /// The setting text of a level (`cluster.routing.allocation.disk.watermark.low=85%`).
    pub fn text(&self, level: usize) -> &str {
        &self.levels[level].0
    }
}

/// The node-left delay of an index (ms).
pub fn node_left_delay_ms(i: &Index) -> u64 {
    i.setting("index.unassigned.node_left.delayed_timeout")
        .and_then(parse_duration_ms)
        .unwrap_or(DEFAULT_NODE_LEFT_DELAY_MS)
}

/// Parse `1m`, `30s`, `500ms`, `0`.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    Some(match unit {
        "" | "ms" => n,
        "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => return None,
    })
}

/// A numeric cluster setting with a default.
pub fn number(c: &Cluster, key: &str, default: u64) -> u64 {
    c.setting(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_sizes() {
        assert!(glob("192.168.2.*", "192.168.2.7"));
        assert!(!glob("192.168.2.*", "192.168.3.7"));
        assert!(glob("*-1", "es-1"));
        assert!(glob("es-*-x", "es-a-x"));
        assert_eq!(bytes_text(249), "249b");
        assert_eq!(bytes_text(1536 * 1024 * 1024), "1.5gb");
        assert_eq!(bytes_text(1 << 30), "1gb");
        assert_eq!(parse_bytes("10gb"), Some(10 << 30));
        assert_eq!(parse_watermark("0.9"), Some(Watermark::Percent(90.0)));
        assert_eq!(parse_duration_ms("1m"), Some(60_000));
    }
}
