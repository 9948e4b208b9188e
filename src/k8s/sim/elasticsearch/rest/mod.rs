//! The REST face of a simulated Elasticsearch: authentication, routing by method and path, the role check,
//! dispatch to the handlers of each API, and responses as Elasticsearch writes them (`X-elastic-product`, the
//! error envelope, `?pretty`, `filter_path` not supported).

mod cat;
mod cluster;
mod indices;
mod nodes;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::{Map, Value, json};

use super::super::Shared;
use super::auth::{self, Action, AuthFailure, WWW_AUTHENTICATE};
use super::model::Cluster;
use super::{EsUnreachable, lock};

pub use indices::index_docs;

/// Count a search over `target` (the demo load's searches).
pub fn search_docs(c: &mut Cluster, target: &str) {
    let _ = indices::search(c, target, false);
}

/// A parsed request.
pub struct Req {
    /// Method.
    pub method: Method,
    /// Path (decoded segments joined).
    pub path: String,
    /// Path segments.
    pub segs: Vec<String>,
    /// Query parameters.
    pub q: HashMap<String, String>,
    /// Body.
    pub body: Bytes,
}

impl Req {
    /// A boolean query flag (`?v`, `?v=true`).
    pub fn flag(&self, key: &str) -> bool {
        self.q.get(key).is_some_and(|v| v.is_empty() || v == "true")
    }

    /// The body as JSON (empty body: None).
    pub fn json(&self) -> Result<Option<Value>, Reply> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&self.body).map(Some).map_err(|e| {
            error(
                400,
                "parse_exception",
                &format!("failed to parse request body: {e}"),
                Map::new(),
            )
        })
    }
}

/// A response body.
pub enum Body {
    /// JSON.
    Json(Value),
    /// Plain text (cat without `format=json`).
    Text(String),
    /// Nothing (HEAD).
    Empty,
}

/// A response.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Body,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
}

/// A JSON reply.
pub fn ok(status: u16, v: Value) -> Reply {
    Reply {
        status,
        body: Body::Json(v),
        headers: vec![],
    }
}

/// The error envelope: `{"error":{"root_cause":[..],"type","reason",..metadata},"status"}`.
pub fn error(status: u16, ty: &str, reason: &str, meta: Map<String, Value>) -> Reply {
    let mut cause = Map::new();
    cause.insert("type".into(), json!(ty));
    cause.insert("reason".into(), json!(reason));
    cause.extend(meta);
    let cause = Value::Object(cause);
    let mut err = cause.clone();
    err["root_cause"] = json!([cause]);
    let mut ordered = Map::new();
    ordered.insert("root_cause".into(), err["root_cause"].take());
    if let Value::Object(m) = err {
        for (k, v) in m {
            if k != "root_cause" {
                ordered.insert(k, v);
            }
        }
    }
    ok(
        status,
        json!({ "error": Value::Object(ordered), "status": status }),
    )
}

/// 404 `index_not_found_exception`.
pub fn index_not_found(index: &str) -> Reply {
    let mut m = Map::new();
    m.insert("resource.type".into(), json!("index_or_alias"));
    m.insert("resource.id".into(), json!(index));
    m.insert("index_uuid".into(), json!("_na_"));
    m.insert("index".into(), json!(index));
    error(
        404,
        "index_not_found_exception",
        &format!("no such index [{index}]"),
        m,
    )
}

/// 400 `illegal_argument_exception`.
pub fn illegal(reason: &str) -> Reply {
    error(400, "illegal_argument_exception", reason, Map::new())
}

fn unauthorized(reason: &str) -> Reply {
    let mut m = Map::new();
    m.insert(
        "header".into(),
        json!({ "WWW-Authenticate": WWW_AUTHENTICATE }),
    );
    let mut r = error(401, "security_exception", reason, m);
    for v in WWW_AUTHENTICATE {
        r.headers.push(("www-authenticate", v.to_string()));
    }
    r
}

/// What a request is.
enum Route {
    Root,
    Health(Option<String>),
    NodesInfo(Vec<String>),
    NodesStats(Vec<String>),
    Cat(String, Option<String>),
    Explain,
    SettingsGet,
    SettingsPut,
    ClusterStats,
    IndexCreate(String),
    IndexDelete(String),
    IndexGet(String),
    IndexSettingsGet(Option<String>),
    IndexSettingsPut(Option<String>),
    Bulk(Option<String>),
    Doc(String, Option<String>),
    Search(String),
    Count(String),
    NoHandler,
    BadMethod(&'static str),
}

fn route(req: &Req) -> Route {
    let s: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    let get = m == "GET" || m == "HEAD";
    match (m, s.as_slice()) {
        (_, []) if get => Route::Root,
        (_, []) => Route::BadMethod("GET,HEAD"),
        (_, ["_cluster", "health", rest @ ..]) if get => {
            Route::Health(rest.first().map(|s| s.to_string()))
        }
        (_, ["_cluster", "health", ..]) => Route::BadMethod("GET"),
        ("GET" | "POST", ["_cluster", "allocation", "explain"]) => Route::Explain,
        ("GET", ["_cluster", "settings"]) => Route::SettingsGet,
        ("PUT", ["_cluster", "settings"]) => Route::SettingsPut,
        (_, ["_cluster", "settings"]) => Route::BadMethod("GET,PUT"),
        ("GET", ["_cluster", "stats", ..]) => Route::ClusterStats,
        ("GET", ["_nodes", "stats", rest @ ..]) => {
            Route::NodesStats(rest.iter().map(|x| x.to_string()).collect())
        }
        ("GET", ["_nodes", node, "stats", rest @ ..]) => {
            let mut v = vec![format!("node:{node}")];
            v.extend(rest.iter().map(|x| x.to_string()));
            Route::NodesStats(v)
        }
        ("GET", ["_nodes", rest @ ..]) => {
            Route::NodesInfo(rest.iter().map(|x| x.to_string()).collect())
        }
        ("GET", ["_cat", what, rest @ ..]) => {
            Route::Cat(what.to_string(), rest.first().map(|x| x.to_string()))
        }
        ("GET" | "POST", ["_settings"]) if m == "GET" => Route::IndexSettingsGet(None),
        ("PUT", ["_settings"]) => Route::IndexSettingsPut(None),
        ("POST" | "PUT", ["_bulk"]) => Route::Bulk(None),
        ("POST" | "PUT", [index, "_bulk"]) => Route::Bulk(Some(index.to_string())),
        ("POST", [index, "_doc"]) => Route::Doc(index.to_string(), None),
        ("POST" | "PUT", [index, "_doc" | "_create", id]) => {
            Route::Doc(index.to_string(), Some(id.to_string()))
        }
        ("GET" | "POST", [index, "_search"]) => Route::Search(index.to_string()),
        ("GET" | "POST", [index, "_count"]) => Route::Count(index.to_string()),
        ("GET", [index, "_settings", ..]) => Route::IndexSettingsGet(Some(index.to_string())),
        ("PUT", [index, "_settings"]) => Route::IndexSettingsPut(Some(index.to_string())),
        ("PUT", [index]) if !index.starts_with('_') => Route::IndexCreate(index.to_string()),
        ("DELETE", [index]) if !index.starts_with('_') => Route::IndexDelete(index.to_string()),
        ("GET" | "HEAD", [index]) if !index.starts_with('_') => Route::IndexGet(index.to_string()),
        _ => Route::NoHandler,
    }
}

fn action(r: &Route) -> Action {
    let cluster = |name, granted_by, monitoring| Action {
        name,
        index: None,
        granted_by,
        monitoring,
    };
    let index = |name, index: &str, granted_by, monitoring| Action {
        name,
        index: Some(index.to_string()),
        granted_by,
        monitoring,
    };
    match r {
        Route::Root => cluster("cluster:monitor/main", "monitor,manage,all", true),
        Route::Health(_) => cluster("cluster:monitor/health", "monitor,manage,all", true),
        Route::NodesInfo(_) => cluster("cluster:monitor/nodes/info", "monitor,manage,all", true),
        Route::NodesStats(_) => cluster("cluster:monitor/nodes/stats", "monitor,manage,all", true),
        Route::Cat(..) => cluster("cluster:monitor/state", "monitor,manage,all", true),
        Route::Explain => cluster(
            "cluster:monitor/allocation/explain",
            "monitor,manage,all",
            true,
        ),
        Route::SettingsGet => cluster("cluster:monitor/settings", "monitor,manage,all", true),
        Route::SettingsPut => cluster("cluster:admin/settings/update", "manage,all", false),
        Route::ClusterStats => cluster("cluster:monitor/stats", "monitor,manage,all", true),
        Route::IndexCreate(i) => index("indices:admin/create", i, "create_index,manage,all", false),
        Route::IndexDelete(i) => index("indices:admin/delete", i, "delete_index,manage,all", false),
        Route::IndexGet(i) => index(
            "indices:admin/get",
            i,
            "view_index_metadata,manage,all",
            true,
        ),
        Route::IndexSettingsGet(i) => index(
            "indices:monitor/settings/get",
            i.as_deref().unwrap_or("*"),
            "view_index_metadata,manage,all",
            true,
        ),
        Route::IndexSettingsPut(i) => index(
            "indices:admin/settings/update",
            i.as_deref().unwrap_or("*"),
            "manage,all",
            false,
        ),
        Route::Bulk(_) => cluster("indices:data/write/bulk", "all", false),
        Route::Doc(i, _) => index(
            "indices:data/write/index",
            i,
            "create_doc,create,index,write,all",
            false,
        ),
        Route::Search(i) => index("indices:data/read/search", i, "read,all", false),
        Route::Count(i) => index("indices:data/read/search", i, "read,all", false),
        Route::NoHandler | Route::BadMethod(_) => {
            cluster("cluster:monitor/main", "monitor,manage,all", true)
        }
    }
}

fn dispatch(c: &mut Cluster, r: &Route, req: &Req) -> Reply {
    match r {
        Route::Root => cluster::root(c),
        Route::Health(i) => cluster::health(c, i.as_deref(), req),
        Route::NodesInfo(parts) => nodes::info(c, parts, req),
        Route::NodesStats(parts) => nodes::stats(c, parts, req),
        Route::Cat(what, i) => cat::cat(c, what, i.as_deref(), req),
        Route::Explain => cluster::explain(c, req),
        Route::SettingsGet => cluster::get_settings(c, req),
        Route::SettingsPut => cluster::put_settings(c, req),
        Route::ClusterStats => cluster::stats(c),
        Route::IndexCreate(i) => indices::create(c, i, req),
        Route::IndexDelete(i) => indices::delete(c, i),
        Route::IndexGet(i) => indices::get(c, i, req),
        Route::IndexSettingsGet(i) => indices::get_settings(c, i.as_deref(), req),
        Route::IndexSettingsPut(i) => indices::put_settings(c, i.as_deref(), req),
        Route::Bulk(i) => indices::bulk(c, i.as_deref(), req),
        Route::Doc(i, id) => indices::doc(c, i, id.as_deref(), req),
        Route::Search(i) => indices::search(c, i, false),
        Route::Count(i) => indices::search(c, i, true),
        Route::NoHandler => illegal(&format!(
            "no handler found for uri [{}] and method [{}]",
            req.path, req.method
        )),
        Route::BadMethod(allowed) => ok(
            405,
            json!({
                "error": format!("Incorrect HTTP method for uri [{}] and method [{}], allowed: [{}]", req.path, req.method, allowed),
                "status": 405
            }),
        ),
    }
}

/// Decode `%xx` escapes of a path segment.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse(request: &http::Request<Bytes>) -> Req {
    let uri = request.uri();
    let path = uri.path().to_string();
    let segs = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let q = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    Req {
        method: request.method().clone(),
        path,
        segs,
        q,
        body: request.body().clone(),
    }
}

/// Answer one request for the cluster `ns/name` (see [`super::Sim::elasticsearch_request`]).
pub(crate) async fn serve(
    sh: &Shared,
    ns: &str,
    name: &str,
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, EsUnreachable> {
    let req = parse(&request);
    let authorization = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let wait = cluster::wait_deadline(&req);
    loop {
        let cluster = sh.es.get(sh, ns, name)?;
        let reply = {
            let mut c = lock(&cluster);
            if c.nodes.is_empty() {
                return Err(EsUnreachable::NoReadyNodes);
            }
            let (reply, write) = answer(&mut c, &req, authorization.as_deref());
            // A change may move the health: the background tick looks at this cluster next time.
            c.touched |= write;
            reply
        };
        if reply.status == 408
            && let Some(deadline) = wait
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        return Ok(render(reply, &req));
    }
}

/// Authenticate, authorise and dispatch; also says whether the request changed the cluster.
fn answer(c: &mut Cluster, req: &Req, authorization: Option<&str>) -> (Reply, bool) {
    let caller = match auth::authenticate(&c.users, authorization) {
        Ok(caller) => caller,
        Err(AuthFailure::Missing) => {
            return (
                unauthorized(&format!(
                    "missing authentication credentials for REST request [{}]",
                    req.path
                )),
                false,
            );
        }
        Err(AuthFailure::Wrong(user)) => {
            return (
                unauthorized(&format!(
                    "unable to authenticate user [{user}] for REST request [{}]",
                    req.path
                )),
                false,
            );
        }
    };
    let r = route(req);
    let a = action(&r);
    let allowed = caller.superuser() || caller.may(&a);
    if !allowed {
        return (
            error(
                403,
                "security_exception",
                &auth::forbidden_reason(&a, &caller),
                Map::new(),
            ),
            false,
        );
    }
    let reply = dispatch(c, &r, req);
    (reply, !a.monitoring && req.method != Method::GET)
}

fn render(reply: Reply, req: &Req) -> http::Response<Bytes> {
    let (content_type, bytes) = match reply.body {
        Body::Json(_) if req.method == Method::HEAD => ("application/json", Bytes::new()),
        Body::Json(v) => {
            let text = if req.flag("pretty") {
                serde_json::to_vec_pretty(&v)
            } else {
                serde_json::to_vec(&v)
            };
            ("application/json", Bytes::from(text.unwrap_or_default()))
        }
        Body::Text(t) => ("text/plain; charset=UTF-8", Bytes::from(t)),
        Body::Empty => ("application/json", Bytes::new()),
    };
    let mut b = http::Response::builder()
        .status(reply.status)
        .header("x-elastic-product", "Elasticsearch")
        .header(http::header::CONTENT_TYPE, content_type);
    for (k, v) in reply.headers {
        b = b.header(k, v);
    }
    b.body(bytes)
        .unwrap_or_else(|_| http::Response::new(Bytes::new()))
}
