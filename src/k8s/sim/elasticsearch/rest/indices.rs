//! Index APIs: `PUT /{index}` (settings `number_of_shards`, `number_of_replicas`, any `index.*`), `DELETE`,
//! `GET`/`HEAD /{index}`, `GET|PUT /{index}/_settings` (dynamic `number_of_replicas`, routing, blocks; static
//! `number_of_shards` refused on open indices), and the write path: `_bulk` (NDJSON, per-item results, the
//! flood-stage block, auto-created indices) and `_doc`, which count documents and grow the store but keep no
//! documents; `_search`/`_count` count searches and answer totals only.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::super::allocator;
use super::super::load;
use super::super::model::{Cluster, flatten, nest};
use super::super::settings::glob;
use super::{Reply, Req, error, illegal, index_not_found, ok};

fn normalise(pairs: Vec<(String, Option<String>)>) -> Vec<(String, Option<String>)> {
    pairs
        .into_iter()
        .map(|(k, v)| {
            let k = k.strip_prefix("settings.").map(String::from).unwrap_or(k);
            if k.starts_with("index.") {
                (k, v)
            } else {
                (format!("index.{k}"), v)
            }
        })
        .collect()
}

fn invalid_name(name: &str) -> Option<String> {
    let bad = |why: &str| Some(format!("Invalid index name [{name}], {why}"));
    if name != name.to_lowercase() {
        return bad("must be lowercase");
    }
    if name.starts_with(['_', '-', '+']) {
        return bad("must not start with '_', '-', or '+'");
    }
    if name.chars().any(|c| "\\/*?\"<>| ,#:".contains(c)) {
        return bad("must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]");
    }
    if name.len() > 255 {
        return bad("index name is too long");
    }
    None
}

/// Create an index with `settings` (flat `index.*`); the reply.
pub fn create_with(
    c: &mut Cluster,
    name: &str,
    pairs: Vec<(String, Option<String>)>,
) -> Result<(), Reply> {
    if let Some(reason) = invalid_name(name) {
        let mut m = Map::new();
        m.insert("index_uuid".into(), json!("_na_"));
        m.insert("index".into(), json!(name));
        return Err(error(400, "invalid_index_name_exception", &reason, m));
    }
    if let Some(i) = c.indices.get(name) {
        let mut m = Map::new();
        m.insert("index_uuid".into(), json!(i.uuid));
        m.insert("index".into(), json!(name));
        return Err(error(
            400,
            "resource_already_exists_exception",
            &format!("index [{name}/{}] already exists", i.uuid),
            m,
        ));
    }
    let mut settings = BTreeMap::new();
    let (mut shards, mut replicas) = (1u32, 1u32);
    for (k, v) in pairs {
        let Some(v) = v else { continue };
        match k.as_str() {
            "index.number_of_shards" => match v.parse::<u32>() {
                Ok(n) if (1..=1024).contains(&n) => shards = n,
                _ => {
                    return Err(illegal(&format!(
                        "Failed to parse value [{v}] for setting [index.number_of_shards] must be >= 1"
                    )));
                }
            },
            "index.number_of_replicas" => match v.parse::<u32>() {
                Ok(n) => replicas = n,
                _ => {
                    return Err(illegal(&format!(
                        "Failed to parse value [{v}] for setting [index.number_of_replicas] must be >= 0"
                    )));
                }
            },
            _ => {
                settings.insert(k, v);
            }
        }
    }
    allocator::create_index(c, name, shards, replicas, settings);
    Ok(())
}

/// `PUT /{index}`.
pub fn create(c: &mut Cluster, name: &str, req: &Req) -> Reply {
    let body = match req.json() {
        Ok(b) => b.unwrap_or(json!({})),
        Err(r) => return r,
    };
    let mut pairs = Vec::new();
    if let Some(s) = body.get("settings") {
        flatten("", s, &mut pairs);
    }
    if let Err(r) = create_with(c, name, normalise(pairs)) {
        return r;
    }
    let acked = c
        .shards
        .iter()
        .filter(|s| s.index == name && s.primary)
        .all(|s| s.node.is_some());
    ok(
        200,
        json!({ "acknowledged": true, "shards_acknowledged": acked, "index": name }),
    )
}

/// `DELETE /{index}`.
pub fn delete(c: &mut Cluster, name: &str) -> Reply {
    let names = resolve(c, Some(name));
    if names.is_empty() {
        return index_not_found(name);
    }
    for n in names {
        allocator::delete_index(c, &n);
    }
    ok(200, json!({ "acknowledged": true }))
}

fn resolve(c: &Cluster, target: Option<&str>) -> Vec<String> {
    match target {
        None | Some("_all") => c.indices.keys().cloned().collect(),
        Some(list) => c
            .indices
            .keys()
            .filter(|k| list.split(',').any(|p| glob(p, k)))
            .cloned()
            .collect(),
    }
}

fn settings_of(c: &Cluster, name: &str) -> BTreeMap<String, String> {
    let Some(i) = c.indices.get(name) else {
        return BTreeMap::new();
    };
    let mut s = i.settings.clone();
    s.insert("index.number_of_shards".into(), i.shards.to_string());
    s.insert("index.number_of_replicas".into(), i.replicas.to_string());
    s.insert("index.uuid".into(), i.uuid.clone());
    s.insert("index.provided_name".into(), i.name.clone());
    s.insert("index.creation_date".into(), i.created_ms.to_string());
    s.insert("index.version.created".into(), "8512000".into());
    s
}

fn render(map: &BTreeMap<String, String>, flat: bool) -> Value {
    if flat {
        Value::Object(map.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
    } else {
        nest(map)
    }
}

/// `GET|HEAD /{index}`.
pub fn get(c: &Cluster, name: &str, req: &Req) -> Reply {
    let names = resolve(c, Some(name));
    if names.is_empty() {
        return index_not_found(name);
    }
    let flat = req.flag("flat_settings");
    let out: Map<String, Value> = names
        .iter()
        .map(|n| (n.clone(), json!({ "aliases": {}, "mappings": {}, "settings": render(&settings_of(c, n), flat) })))
        .collect();
    ok(200, Value::Object(out))
}

/// `GET /{index}/_settings`.
pub fn get_settings(c: &Cluster, name: Option<&str>, req: &Req) -> Reply {
    let names = resolve(c, name);
    if names.is_empty()
        && let Some(n) = name
        && !n.contains('*')
    {
        return index_not_found(n);
    }
    let flat = req.flag("flat_settings");
    let out: Map<String, Value> = names
        .iter()
        .map(|n| {
            (
                n.clone(),
                json!({ "settings": render(&settings_of(c, n), flat) }),
            )
        })
        .collect();
    ok(200, Value::Object(out))
}

/// `PUT /{index}/_settings`.
pub fn put_settings(c: &mut Cluster, name: Option<&str>, req: &Req) -> Reply {
    let body = match req.json() {
        Ok(Some(b)) => b,
        Ok(None) => {
            return error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: no settings to update;",
                Map::new(),
            );
        }
        Err(r) => return r,
    };
    let names = resolve(c, name);
    if names.is_empty()
        && let Some(n) = name
    {
        return index_not_found(n);
    }
    let mut pairs = Vec::new();
    flatten("", &body, &mut pairs);
    let pairs = normalise(pairs);
    for (k, _) in &pairs {
        if matches!(
            k.as_str(),
            "index.number_of_shards" | "index.uuid" | "index.creation_date" | "index.provided_name"
        ) {
            let list = names
                .iter()
                .filter_map(|n| c.indices.get(n).map(|i| format!("[{}/{}]", i.name, i.uuid)))
                .collect::<Vec<_>>()
                .join(", ");
            return illegal(&format!(
                "Can't update non dynamic settings [[{k}]] for open indices [{list}]"
            ));
        }
    }
    for n in &names {
        for (k, v) in &pairs {
            if k == "index.number_of_replicas" {
                match v.as_deref().map(str::parse::<u32>) {
                    Some(Ok(r)) => allocator::set_replicas(c, n, r),
                    None => allocator::set_replicas(c, n, 1),
                    Some(Err(_)) => {
                        return illegal(&format!(
                            "Failed to parse value [{}] for setting [index.number_of_replicas] must be >= 0",
                            v.clone().unwrap_or_default()
                        ));
                    }
                }
                continue;
            }
            let Some(i) = c.indices.get_mut(n) else {
                continue;
            };
            match v {
                Some(v) => i.settings.insert(k.clone(), v.clone()),
                None => i.settings.remove(k),
            };
        }
    }
    allocator::reroute(c);
    ok(200, json!({ "acknowledged": true }))
}

fn block_reason(index: &str) -> String {
    format!(
        "index [{index}] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];"
    )
}

/// The outcome of one write.
enum Written {
    Ok {
        seq_no: u64,
        total: u32,
        successful: u32,
    },
    Failed {
        status: u16,
        ty: &'static str,
        reason: String,
        shard: Option<u32>,
    },
}

fn shard_for(id: &str, shards: u32) -> u32 {
    let h = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    h % shards.max(1)
}

/// Write one document to `index` (auto-creating it); `delta` documents (-1 for a delete), `bytes` of source.
fn write(
    c: &mut Cluster,
    index: &str,
    id: &str,
    delta: i64,
    bytes: u64,
    create_missing: bool,
) -> Written {
    if !c.indices.contains_key(index) {
        if !create_missing {
            return Written::Failed {
                status: 404,
                ty: "index_not_found_exception",
                reason: format!("no such index [{index}]"),
                shard: None,
            };
        }
        if let Err(r) = create_with(c, index, vec![]) {
            let reason = match r.body {
                super::Body::Json(v) => v
                    .pointer("/error/reason")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                _ => String::new(),
            };
            return Written::Failed {
                status: r.status,
                ty: "invalid_index_name_exception",
                reason,
                shard: None,
            };
        }
        allocator::advance(c, c.now_ms + 1);
    }
    let Some(i) = c.indices.get(index) else {
        unreachable!("created above")
    };
    if i.read_only_allow_delete() && delta >= 0 {
        return Written::Failed {
            status: 429,
            ty: "cluster_block_exception",
            reason: block_reason(index),
            shard: None,
        };
    }
    let shard = shard_for(id, i.shards);
    let copies: Vec<_> = c
        .shards
        .iter()
        .filter(|s| s.index == index && s.shard == shard)
        .cloned()
        .collect();
    if !copies.iter().any(|s| s.primary && s.state.active()) {
        return Written::Failed {
            status: 503,
            ty: "unavailable_shards_exception",
            reason: format!(
                "[{index}][{shard}] primary shard is not active Timeout: [1m], request: [BulkShardRequest [[{index}][{shard}]] containing [1] requests]"
            ),
            shard: Some(shard),
        };
    }
    let total = copies.len() as u32;
    let successful = copies.iter().filter(|s| s.state.active()).count() as u32;
    let nodes: Vec<String> = copies
        .iter()
        .filter(|s| s.state.active())
        .filter_map(|s| s.node.as_deref().map(|n| c.node_name(n).to_string()))
        .collect();
    let i = c.indices.get_mut(index).expect("index exists");
    let docs = &mut i.docs[shard as usize];
    *docs = (*docs as i64 + delta).max(0) as u64;
    i.bytes[shard as usize] += bytes;
    i.index_total += 1;
    let seq_no = i.index_total - 1;
    for n in nodes {
        load::indexed(c, &n, 1);
    }
    Written::Ok {
        seq_no,
        total,
        successful,
    }
}

fn new_doc_id(c: &mut Cluster) -> String {
    c.new_id().chars().take(20).collect()
}

fn item(index: &str, id: &str, op: &str, w: &Written, c: &Cluster) -> (Value, bool) {
    match w {
        Written::Ok {
            seq_no,
            total,
            successful,
            ..
        } => {
            let (result, status) = match op {
                "update" => ("updated", 200),
                "delete" => ("deleted", 200),
                _ => ("created", 201),
            };
            (
                json!({ "_index": index, "_id": id, "_version": 1, "result": result,
                "_shards": { "total": total, "successful": successful, "failed": 0 },
                "_seq_no": seq_no, "_primary_term": 1, "status": status }),
                false,
            )
        }
        Written::Failed {
            status,
            ty,
            reason,
            shard,
        } => {
            let uuid = c
                .indices
                .get(index)
                .map_or("_na_".to_string(), |i| i.uuid.clone());
            let mut err =
                json!({ "type": ty, "reason": reason, "index_uuid": uuid, "index": index });
            if let Some(s) = shard {
                err["shard"] = json!(s.to_string());
            }
            (
                json!({ "_index": index, "_id": id, "status": status, "error": err }),
                true,
            )
        }
    }
}

/// `POST /_bulk`, `/{index}/_bulk`.
pub fn bulk(c: &mut Cluster, default_index: Option<&str>, req: &Req) -> Reply {
    if req.body.is_empty() {
        return error(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: no requests added;",
            Map::new(),
        );
    }
    if !req.body.ends_with(b"\n") {
        return illegal("The bulk request must be terminated by a newline [\\n]");
    }
    let text = String::from_utf8_lossy(&req.body);
    let mut lines = text.split('\n').filter(|l| !l.trim().is_empty());
    let mut items = Vec::new();
    let mut errors = false;
    while let Some(line) = lines.next() {
        let action: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                return illegal(&format!(
                    "Malformed action/metadata line [{}], expected START_OBJECT but found [{e}]",
                    items.len() + 1
                ));
            }
        };
        let Some((op, meta)) = action
            .as_object()
            .and_then(|m| m.iter().next())
            .map(|(k, v)| (k.clone(), v.clone()))
        else {
            return illegal("Malformed action/metadata line, expected START_OBJECT");
        };
        if !matches!(op.as_str(), "index" | "create" | "update" | "delete") {
            return illegal(&format!(
                "Malformed action/metadata line [{}], expected field [create], [delete], [index] or [update] but found [{op}]",
                items.len() + 1
            ));
        }
        let source_len = if op == "delete" {
            0
        } else {
            lines.next().map_or(0, str::len) as u64
        };
        let Some(index) = meta
            .get("_index")
            .and_then(Value::as_str)
            .or(default_index)
            .map(String::from)
        else {
            return error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: index is missing;",
                Map::new(),
            );
        };
        let id = match meta.get("_id").and_then(|v| {
            v.as_str()
                .map(String::from)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        }) {
            Some(id) => id,
            None => new_doc_id(c),
        };
        let (delta, create) = match op.as_str() {
            "delete" => (-1, false),
            "update" => (0, false),
            _ => (1, true),
        };
        let bytes = if source_len == 0 {
            0
        } else {
            source_len + source_len / 10 + 40
        };
        let w = write(c, &index, &id, delta, bytes, create);
        let (body, failed) = item(&index, &id, &op, &w, c);
        errors |= failed;
        items.push(json!({ op: body }));
    }
    let took = 1 + items.len() as u64 / 200;
    ok(
        200,
        json!({ "errors": errors, "took": took, "items": items }),
    )
}

/// `POST /{index}/_doc`, `PUT|POST /{index}/_doc/{id}`.
pub fn doc(c: &mut Cluster, index: &str, id: Option<&str>, req: &Req) -> Reply {
    let id = id.map(String::from).unwrap_or_else(|| new_doc_id(c));
    let len = req.body.len() as u64;
    let w = write(c, index, &id, 1, len + len / 10 + 40, true);
    match &w {
        Written::Ok { .. } => {
            let (mut body, _) = item(index, &id, "index", &w, c);
            if let Some(m) = body.as_object_mut() {
                m.remove("status");
            }
            ok(201, body)
        }
        Written::Failed {
            status, ty, reason, ..
        } => {
            let mut m = Map::new();
            if *ty == "index_not_found_exception" || *ty == "unavailable_shards_exception" {
                m.insert(
                    "index_uuid".into(),
                    json!(
                        c.indices
                            .get(index)
                            .map_or("_na_".to_string(), |i| i.uuid.clone())
                    ),
                );
                m.insert("index".into(), json!(index));
            }
            error(*status, ty, reason, m)
        }
    }
}

/// `GET|POST /{index}/_search` and `_count`: totals only.
pub fn search(c: &mut Cluster, target: &str, count: bool) -> Reply {
    let names = resolve(c, Some(target));
    if names.is_empty() && !target.contains('*') {
        return index_not_found(target);
    }
    let mut docs = 0;
    let mut shards = 0;
    let mut nodes = Vec::new();
    for n in &names {
        if let Some(i) = c.indices.get_mut(n) {
            docs += i.doc_count();
            shards += i.shards;
            i.query_total += 1;
        }
        for s in c
            .shards
            .iter()
            .filter(|s| &s.index == n && s.primary && s.state.active())
        {
            if let Some(node) = &s.node {
                nodes.push(c.node_name(node).to_string());
            }
        }
    }
    for n in nodes {
        load::searched(c, &n);
    }
    let shards_json = json!({ "total": shards, "successful": shards, "skipped": 0, "failed": 0 });
    if count {
        return ok(200, json!({ "count": docs, "_shards": shards_json }));
    }
    ok(
        200,
        json!({ "took": 1, "timed_out": false, "_shards": shards_json,
        "hits": { "total": { "value": docs.min(10_000), "relation": if docs > 10_000 { "gte" } else { "eq" } }, "max_score": null, "hits": [] } }),
    )
}

/// Index `count` documents of `size` bytes into `index` (auto-created), as the demo load does; false when
/// the index refuses writes.
pub fn index_docs(c: &mut Cluster, index: &str, count: u64, size: u64) -> bool {
    for _ in 0..count {
        let id = new_doc_id(c);
        if let Written::Failed { .. } = write(c, index, &id, 1, size, true) {
            return false;
        }
    }
    true
}
