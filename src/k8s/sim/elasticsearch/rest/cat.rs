//! The cat APIs (`_cat/indices`, `_cat/shards`, `_cat/allocation`, `_cat/nodes`, `_cat/plugins`, `_cat/health`)
//! as `RestTable` renders them: default and optional columns with their aliases, `h` (names, aliases,
//! wildcards; the JSON key is the name as written), `s` sorting, `bytes=` units, `format=json` (every value a
//! string or null) or aligned text with `v` headers.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::super::health;
use super::super::load;
use super::super::model::{Cluster, ShardState};
use super::super::settings::{bytes_text, glob, one_decimal};
use super::{Body, Reply, Req, illegal, index_not_found, ok};

/// A cell.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Text(String),
    Bytes(u64),
    Num(f64, String),
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn n(v: impl Into<f64> + Copy + ToString) -> Cell {
    Cell::Num(v.into(), v.to_string())
}

/// A column: name, aliases, shown by default.
struct Col {
    name: &'static str,
    aliases: &'static [&'static str],
    default: bool,
}

const fn col(name: &'static str, aliases: &'static [&'static str], default: bool) -> Col {
    Col {
        name,
        aliases,
        default,
    }
}

struct Table {
    cols: Vec<Col>,
    rows: Vec<Vec<Cell>>,
}

fn render_cell(c: &Cell, unit: Option<&str>) -> Option<String> {
    match c {
        Cell::Null => None,
        Cell::Text(s) => Some(s.clone()),
        Cell::Num(_, s) => Some(s.clone()),
        Cell::Bytes(b) => Some(match unit {
            Some(u) => {
                let div: u64 = match u {
                    "b" => 1,
                    "k" | "kb" => 1 << 10,
                    "m" | "mb" => 1 << 20,
                    "g" | "gb" => 1 << 30,
                    "t" | "tb" => 1 << 40,
                    "p" | "pb" => 1 << 50,
                    _ => 1,
                };
                (b / div).to_string()
            }
            None => bytes_text(*b),
        }),
    }
}

fn compare(a: &Cell, b: &Cell) -> Ordering {
    match (a, b) {
        (Cell::Null, Cell::Null) => Ordering::Equal,
        (Cell::Null, _) => Ordering::Greater,
        (_, Cell::Null) => Ordering::Less,
        (Cell::Bytes(x), Cell::Bytes(y)) => x.cmp(y),
        (Cell::Num(x, _), Cell::Num(y, _)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

impl Table {
    fn find(&self, key: &str) -> Vec<usize> {
        if key.contains('*') {
            return (0..self.cols.len())
                .filter(|&i| glob(key, self.cols[i].name))
                .collect();
        }
        (0..self.cols.len())
            .filter(|&i| self.cols[i].name == key || self.cols[i].aliases.contains(&key))
            .collect()
    }

    fn render(mut self, req: &Req) -> Reply {
        let picked: Vec<(usize, String)> = match req.q.get("h") {
            Some(h) => h
                .split(',')
                .flat_map(|k| {
                    let k = k.trim();
                    let found = self.find(k);
                    let wildcard = k.contains('*');
                    found
                        .into_iter()
                        .map(|i| {
                            (
                                i,
                                if wildcard {
                                    self.cols[i].name.to_string()
                                } else {
                                    k.to_string()
                                },
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
            None => (0..self.cols.len())
                .filter(|&i| self.cols[i].default)
                .map(|i| (i, self.cols[i].name.to_string()))
                .collect(),
        };
        if let Some(s) = req.q.get("s") {
            let mut keys = Vec::new();
            for part in s.split(',') {
                let (key, desc) = match part.rsplit_once(':') {
                    Some((k, dir)) => (k, dir == "desc"),
                    None => (part, false),
                };
                let Some(&i) = self.find(key).first() else {
                    return illegal(&format!("Unable to sort by unknown sort key `{key}`"));
                };
                keys.push((i, desc));
            }
            self.rows.sort_by(|a, b| {
                for (i, desc) in &keys {
                    let o = compare(&a[*i], &b[*i]);
                    let o = if *desc { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let unit = req.q.get("bytes").map(String::as_str);
        let json_format = req.q.get("format").is_some_and(|f| f == "json");
        if json_format {
            let rows: Vec<Value> = self
                .rows
                .iter()
                .map(|r| {
                    let m: Map<String, Value> = picked
                        .iter()
                        .map(|(i, key)| {
                            (
                                key.clone(),
                                render_cell(&r[*i], unit).map_or(Value::Null, Value::String),
                            )
                        })
                        .collect();
                    Value::Object(m)
                })
                .collect();
            return ok(200, json!(rows));
        }
        let mut lines: Vec<Vec<String>> = Vec::new();
        if req.flag("v") {
            lines.push(picked.iter().map(|(_, k)| k.clone()).collect());
        }
        for r in &self.rows {
            lines.push(
                picked
                    .iter()
                    .map(|(i, _)| render_cell(&r[*i], unit).unwrap_or_default())
                    .collect(),
            );
        }
        let widths: Vec<usize> = (0..picked.len())
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for l in lines {
            let cells: Vec<String> = l
                .iter()
                .zip(&widths)
                .map(|(v, w)| format!("{v:<w$}"))
                .collect();
            out.push_str(cells.join(" ").trim_end());
            out.push('\n');
        }
        Reply {
            status: 200,
            body: Body::Text(out),
            headers: vec![],
        }
    }
}

/// `GET /_cat/{what}[/{index}]`.
pub fn cat(c: &Cluster, what: &str, index: Option<&str>, req: &Req) -> Reply {
    if let Some(list) = index
        && what != "allocation"
        && what != "nodes"
    {
        for name in list.split(',') {
            if !name.contains('*') && !c.indices.contains_key(name) {
                return index_not_found(name);
            }
        }
    }
    let wanted = |name: &str| index.is_none_or(|list| list.split(',').any(|p| glob(p, name)));
    let table = match what {
        "indices" => indices(c, &wanted, req),
        "shards" => shards(c, &wanted),
        "allocation" => allocation(c, index),
        "nodes" => nodes(c),
        "plugins" => Table {
            cols: vec![
                col("id", &[], false),
                col("name", &["n"], true),
                col("component", &["c"], true),
                col("version", &["v"], true),
                col("description", &["d"], false),
            ],
            rows: vec![],
        },
        "health" => health_table(c),
        _ => {
            return illegal(&format!(
                "no handler found for uri [/_cat/{what}] and method [GET]"
            ));
        }
    };
    table.render(req)
}

fn indices(c: &Cluster, wanted: &dyn Fn(&str) -> bool, req: &Req) -> Table {
    let cols = vec![
        col("health", &["h"], true),
        col("status", &["s"], true),
        col("index", &["i", "idx"], true),
        col("uuid", &["id", "uuid"], true),
        col("pri", &["p", "shards.primary", "shardsPrimary"], true),
        col("rep", &["r", "shards.replica", "shardsReplica"], true),
        col("docs.count", &["dc", "docsCount"], true),
        col("docs.deleted", &["dd", "docsDeleted"], true),
        col("store.size", &["ss", "storeSize"], true),
        col("pri.store.size", &[], true),
        col("dataset.size", &[], true),
        col("creation.date", &["cd"], false),
        col("creation.date.string", &["cds"], false),
        col("search.query_total", &["sqto", "searchQueryTotal"], false),
        col(
            "indexing.index_total",
            &["iito", "indexingIndexTotal"],
            false,
        ),
    ];
    let health_filter = req.q.get("health").cloned();
    let rows = c
        .indices
        .values()
        .filter(|i| wanted(&i.name))
        .filter_map(|i| {
            let (h, _) = health::index(c, i);
            if health_filter.as_deref().is_some_and(|f| f != h.as_str()) {
                return None;
            }
            let store: u64 = c
                .shards
                .iter()
                .filter(|s| s.index == i.name)
                .map(|s| c.copy_bytes(s))
                .sum();
            let pri: u64 = c
                .shards
                .iter()
                .filter(|s| s.index == i.name && s.primary)
                .map(|s| c.copy_bytes(s))
                .sum();
            let date = chrono::DateTime::from_timestamp_millis(i.created_ms as i64)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_default();
            Some(vec![
                t(h.as_str()),
                t("open"),
                t(&i.name),
                t(&i.uuid),
                n(i.shards),
                n(i.replicas),
                n(i.doc_count() as f64),
                n(0),
                Cell::Bytes(store),
                Cell::Bytes(pri),
                Cell::Bytes(pri),
                n(i.created_ms as f64),
                t(date),
                n(i.query_total as f64),
                n(i.index_total as f64),
            ])
        })
        .collect();
    Table { cols, rows }
}

fn shards(c: &Cluster, wanted: &dyn Fn(&str) -> bool) -> Table {
    let cols = vec![
        col("index", &["i", "idx"], true),
        col("shard", &["s", "sh"], true),
        col("prirep", &["p", "pr", "primaryOrReplica"], true),
        col("state", &["st"], true),
        col("docs", &["d", "dc"], true),
        col("store", &["sto"], true),
        col("dataset", &[], true),
        col("ip", &[], true),
        col("id", &[], false),
        col("node", &["n"], true),
        col("unassigned.reason", &["ur"], false),
        col("unassigned.at", &["ua"], false),
        col("unassigned.for", &["uf"], false),
        col("unassigned.details", &["ud"], false),
        col("recoverysource.type", &["rs"], false),
    ];
    let mut rows = Vec::new();
    let mut list: Vec<_> = c.shards.iter().filter(|s| wanted(&s.index)).collect();
    list.sort_by(|a, b| (&a.index, a.shard, !a.primary).cmp(&(&b.index, b.shard, !b.primary)));
    for s in list {
        let node = s.node.as_deref().and_then(|id| c.nodes.get(id));
        let assigned = s.state != ShardState::Unassigned;
        let docs = c
            .indices
            .get(&s.index)
            .and_then(|i| i.docs.get(s.shard as usize))
            .copied()
            .unwrap_or(0);
        let node_text =
            node.map(
                |n| match s.relocating_to.as_deref().and_then(|t| c.nodes.get(t)) {
                    Some(to) if s.state == ShardState::Relocating => {
                        format!("{} -> {} {} {}", n.name, to.ip, to.id, to.name)
                    }
                    _ => n.name.clone(),
                },
            );
        let u = s.unassigned.as_ref();
        let at = u
            .and_then(|u| chrono::DateTime::from_timestamp_millis(u.at_ms as i64))
            .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
        rows.push(vec![
            t(&s.index),
            n(s.shard),
            t(if s.primary { "p" } else { "r" }),
            t(s.state.as_str()),
            if assigned { n(docs as f64) } else { Cell::Null },
            if assigned {
                Cell::Bytes(c.copy_bytes(s))
            } else {
                Cell::Null
            },
            if assigned {
                Cell::Bytes(c.copy_bytes(s))
            } else {
                Cell::Null
            },
            node.map_or(Cell::Null, |n| t(&n.ip)),
            node.map_or(Cell::Null, |n| t(n.id.chars().take(4).collect::<String>())),
            node_text.map_or(Cell::Null, t),
            u.map_or(Cell::Null, |u| t(u.reason)),
            at.map_or(Cell::Null, t),
            u.map_or(Cell::Null, |u| {
                t(format!(
                    "{}s",
                    one_decimal(c.now_ms.saturating_sub(u.at_ms) as f64 / 1000.0)
                ))
            }),
            u.and_then(|u| u.details.clone()).map_or(Cell::Null, t),
            if s.state == ShardState::Started {
                Cell::Null
            } else {
                t(s.recovery_source.as_str())
            },
        ]);
    }
    Table { cols, rows }
}

fn allocation(c: &Cluster, filter: Option<&str>) -> Table {
    let cols = vec![
        col("shards", &["s"], true),
        col("shards.undesired", &[], true),
        col("write_load.forecast", &["wlf", "writeLoadForecast"], true),
        col(
            "disk.indices.forecast",
            &["dif", "diskIndicesForecast"],
            true,
        ),
        col("disk.indices", &["di", "diskIndices"], true),
        col("disk.used", &["du", "diskUsed"], true),
        col("disk.avail", &["da", "diskAvail"], true),
        col("disk.total", &["dt", "diskTotal"], true),
        col("disk.percent", &["dp", "diskPercent"], true),
        col("host", &["h"], true),
        col("ip", &[], true),
        col("node", &["n"], true),
        col("node.role", &["r", "role", "nodeRole"], true),
    ];
    let mut rows = Vec::new();
    for node in c.nodes.values().filter(|n| n.is_data()) {
        if filter.is_some_and(|f| !f.split(',').any(|p| glob(p, &node.name) || p == node.id)) {
            continue;
        }
        let used = c.disk_used(node);
        let avail = node.disk_total_bytes.saturating_sub(used);
        let indices: u64 = c.copies_on(&node.id).map(|s| c.copy_bytes(s)).sum();
        rows.push(vec![
            n(c.copies_on(&node.id).count() as f64),
            n(0),
            t("0.0"),
            Cell::Bytes(indices),
            Cell::Bytes(indices),
            Cell::Bytes(used),
            Cell::Bytes(avail),
            Cell::Bytes(node.disk_total_bytes),
            n((used * 100 / (used + avail).max(1)) as f64),
            t(&node.ip),
            t(&node.ip),
            t(&node.name),
            t(node.role_letters()),
        ]);
    }
    let unassigned = c
        .shards
        .iter()
        .filter(|s| s.state == ShardState::Unassigned)
        .count();
    if unassigned > 0 && filter.is_none() {
        let mut row = vec![n(unassigned as f64)];
        row.extend((0..10).map(|_| Cell::Null));
        row.push(t("UNASSIGNED"));
        row.push(Cell::Null);
        rows.push(row);
    }
    Table { cols, rows }
}

fn nodes(c: &Cluster) -> Table {
    let cols = vec![
        col("id", &["nodeId"], false),
        col("pid", &["p"], false),
        col("ip", &["i"], true),
        col("port", &["po"], false),
        col("http_address", &["http"], false),
        col("version", &["v"], false),
        col("heap.current", &["hc", "heapCurrent"], false),
        col("heap.percent", &["hp", "heapPercent"], true),
        col("heap.max", &["hm", "heapMax"], false),
        col("ram.current", &["rc", "ramCurrent"], false),
        col("ram.percent", &["rp", "ramPercent"], true),
        col("ram.max", &["rm", "ramMax"], false),
        col("file_desc.current", &["fdc"], false),
        col("file_desc.percent", &["fdp"], false),
        col("file_desc.max", &["fdm"], false),
        col("cpu", &[], true),
        col("load_1m", &["l"], true),
        col("load_5m", &["l"], true),
        col("load_15m", &["l"], true),
        col("uptime", &["u"], false),
        col("node.role", &["r", "role", "nodeRole"], true),
        col("master", &["m"], true),
        col("name", &["n"], true),
        col("disk.total", &["dt", "diskTotal"], false),
        col("disk.used", &["du", "diskUsed"], false),
        col("disk.avail", &["d", "da", "disk", "diskAvail"], false),
        col("disk.used_percent", &["dup", "diskUsedPercent"], false),
    ];
    let rows = c
        .nodes
        .values()
        .map(|node| {
            let f = load::figures(c, node);
            let used = c.disk_used(node);
            let uptime = c.now_ms.saturating_sub(node.started_ms);
            let fds = 400 + c.copies_on(&node.id).count() as u64 * 20;
            vec![
                t(node.id.chars().take(4).collect::<String>()),
                t("7"),
                t(&node.ip),
                t("9300"),
                t(format!("{}:9200", node.ip)),
                t(&node.version),
                Cell::Bytes(f.heap_used_bytes),
                n(f.heap_used_percent as f64),
                Cell::Bytes(node.heap_max_bytes),
                Cell::Bytes(node.memory_bytes * f.ram_percent / 100),
                n(f.ram_percent as f64),
                Cell::Bytes(node.memory_bytes),
                n(fds as f64),
                n(0),
                n(1_048_576),
                n(f.cpu_percent as f64),
                Cell::Num(f.load[0], format!("{:.2}", f.load[0])),
                Cell::Num(f.load[1], format!("{:.2}", f.load[1])),
                Cell::Num(f.load[2], format!("{:.2}", f.load[2])),
                t(if uptime >= 3_600_000 {
                    format!("{}h", uptime / 3_600_000)
                } else if uptime >= 60_000 {
                    format!("{}m", uptime / 60_000)
                } else {
                    format!("{}s", uptime / 1000)
                }),
                t(node.role_letters()),
                t(if c.master.as_deref() == Some(node.id.as_str()) {
                    "*"
                } else if c.master.is_some() {
                    "-"
                } else {
                    "x"
                }),
                t(&node.name),
                Cell::Bytes(node.disk_total_bytes),
                Cell::Bytes(used),
                Cell::Bytes(node.disk_total_bytes.saturating_sub(used)),
                Cell::Num(
                    used as f64 * 100.0 / node.disk_total_bytes.max(1) as f64,
                    format!(
                        "{:.2}",
                        used as f64 * 100.0 / node.disk_total_bytes.max(1) as f64
                    ),
                ),
            ]
        })
        .collect();
    Table { cols, rows }
}

fn health_table(c: &Cluster) -> Table {
    let (status, counts, copies) = health::cluster(c, None);
    let cols = vec![
        col("epoch", &["t", "time"], true),
        col("timestamp", &["ts", "hms", "hhmmss"], true),
        col("cluster", &["cl"], true),
        col("status", &["st"], true),
        col("node.total", &["nt", "nodeTotal"], true),
        col("node.data", &["nd", "nodeData"], true),
        col("shards", &["t", "sh", "shards.total", "shardsTotal"], true),
        col("pri", &["p", "shards.primary", "shardsPrimary"], true),
        col(
            "relo",
            &["r", "shards.relocating", "shardsRelocating"],
            true,
        ),
        col(
            "init",
            &["i", "shards.initializing", "shardsInitializing"],
            true,
        ),
        col(
            "unassign",
            &["u", "shards.unassigned", "shardsUnassigned"],
            true,
        ),
        col(
            "unassign.pri",
            &["up", "shards.unassigned.primary", "shardsUnassignedPrimary"],
            true,
        ),
        col("pending_tasks", &["pt", "pendingTasks"], true),
        col("max_task_wait_time", &["mtwt", "maxTaskWaitTime"], true),
        col(
            "active_shards_percent",
            &["asp", "activeShardsPercent"],
            true,
        ),
    ];
    let pct = if copies == 0 {
        100.0
    } else {
        counts.active as f64 * 100.0 / copies as f64
    };
    let ts = chrono::DateTime::from_timestamp_millis(c.now_ms as i64)
        .map(|d| d.format("%H:%M:%S").to_string())
        .unwrap_or_default();
    let rows = vec![vec![
        n((c.now_ms / 1000) as f64),
        t(ts),
        t(&c.name),
        t(status.as_str()),
        n(c.nodes.len() as f64),
        n(c.nodes.values().filter(|n| n.is_data()).count() as f64),
        n(counts.active as f64),
        n(counts.active_primary as f64),
        n(counts.relocating as f64),
        n(counts.initializing as f64),
        n(counts.unassigned as f64),
        n(counts.unassigned_primary as f64),
        n(0),
        t("-"),
        t(format!("{pct:.1}%")),
    ]];
    Table { cols, rows }
}
