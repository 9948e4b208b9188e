//! The HTTP face of the emulator: one axum fallback handler that parses Kubernetes API paths and query strings,
//! counts requests by verb, applies fault injection, and dispatches to discovery, read, write and watch.
//!
//! Requests carrying the [`Internal`] extension (set only by the in-process client of the simulated controllers,
//! never reachable over the network) are neither counted nor subject to fault injection, latency or
//! unavailability.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::discovery;
use super::openapi;
use super::render::Format;
use super::status::{ApiResult, StatusError, json_response};
use super::verbs::Ctx;

/// Request extension marking requests of the simulated controllers.
#[derive(Debug, Clone, Copy)]
pub struct Internal;

const MAX_BODY: usize = 32 * 1024 * 1024;

/// The emulator as an axum router.
pub fn router(sh: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(sh)
}

/// A parsed resource path.
#[derive(Debug, Clone)]
pub struct Target {
    /// Kind index.
    pub kind: usize,
    /// Namespace from the path.
    pub ns: Option<String>,
    /// Object name from the path.
    pub name: Option<String>,
    /// The `/status` subresource.
    pub status: bool,
}

enum Route {
    Doc(Value),
    Text(&'static str),
    Resource(Target),
}

fn route(sh: &Shared, path: &str) -> ApiResult<Route> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let reg = &sh.registry;
    let (group, version, rest) = match segs.as_slice() {
        [] => {
            return Ok(Route::Doc(
                json!({ "paths": ["/api", "/api/v1", "/apis", "/version", "/healthz"] }),
            ));
        }
        ["version"] => return Ok(Route::Doc(discovery::version())),
        ["healthz" | "livez" | "readyz", ..] => return Ok(Route::Text("ok")),
        ["openapi", "v3"] => return Ok(Route::Doc(openapi::root(reg))),
        ["openapi", "v3", "api", v] => {
            return openapi::document(reg, "", v)
                .map(Route::Doc)
                .ok_or_else(StatusError::unknown_resource);
        }
        ["openapi", "v3", "apis", g, v] => {
            return openapi::document(reg, g, v)
                .map(Route::Doc)
                .ok_or_else(StatusError::unknown_resource);
        }
        ["api"] => return Ok(Route::Doc(discovery::api_versions())),
        ["apis"] => return Ok(Route::Doc(discovery::api_groups(reg))),
        ["apis", g] => {
            return discovery::api_group(reg, g)
                .map(Route::Doc)
                .ok_or_else(StatusError::unknown_resource);
        }
        ["api", v] => {
            return discovery::resource_list(reg, "", v)
                .map(Route::Doc)
                .ok_or_else(StatusError::unknown_resource);
        }
        ["apis", g, v] => {
            return discovery::resource_list(reg, g, v)
                .map(Route::Doc)
                .ok_or_else(StatusError::unknown_resource);
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(StatusError::unknown_resource()),
    };
    let namespaced_path = matches!(rest, ["namespaces", _, plural, ..]
        if reg.find(group, version, plural).is_some_and(|i| reg.get(i).namespaced));
    let (ns, tail) = if namespaced_path {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let (plural, name, sub) = match tail {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(*n), None),
        [p, n, s] => (*p, Some(*n), Some(*s)),
        _ => return Err(StatusError::unknown_resource()),
    };
    let kind = reg
        .find(group, version, plural)
        .ok_or_else(StatusError::unknown_resource)?;
    let k = reg.get(kind);
    if k.namespaced && ns.is_none() && name.is_some() {
        return Err(StatusError::unknown_resource());
    }
    let status = match sub {
        None => false,
        Some("status") if k.has_status => true,
        Some(_) => return Err(StatusError::unknown_resource()),
    };
    Ok(Route::Resource(Target {
        kind,
        ns,
        name: name.map(String::from),
        status,
    }))
}

fn verb(method: &Method, t: &Target, q: &HashMap<String, String>) -> &'static str {
    let watch = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    match (method.as_str(), t.name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "invalid",
    }
}

fn is_write(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

async fn handle(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let internal = req.extensions().get::<Internal>().is_some();
    if !internal && sh.is_unavailable() {
        return StatusError::from_code(503, "the simulated API server is unavailable")
            .into_response();
    }
    if !internal {
        let latency = sh.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }
    if super::portforward::match_path(req.uri().path()).is_some() {
        if !internal {
            sh.count("portforward");
        }
        return super::portforward::serve(sh, req).await;
    }
    if super::elasticsearch::proxy::is_proxy_path(req.uri().path()) {
        if !internal {
            sh.count("proxy");
        }
        return super::elasticsearch::proxy::serve(&sh, req).await;
    }
    let method = req.method().clone();
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let (accept, content_type, agent) = {
        let hdr = |name: header::HeaderName| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        (
            hdr(header::ACCEPT),
            hdr(header::CONTENT_TYPE),
            hdr(header::USER_AGENT),
        )
    };
    let target = match route(&sh, req.uri().path()) {
        Ok(Route::Resource(t)) => t,
        Ok(Route::Doc(d)) => {
            if !internal {
                sh.count("discovery");
            }
            return if method == Method::GET {
                json_response(200, &d)
            } else {
                StatusError::method_not_allowed(method.as_str()).into_response()
            };
        }
        Ok(Route::Text(t)) => return t.into_response(),
        Err(e) => return e.into_response(),
    };
    let verb = verb(&method, &target, &q);
    if !internal {
        sh.count(verb);
        if is_write(verb)
            && let Some(code) = sh.take_injected_failure()
        {
            return StatusError::from_code(
                code,
                "injected failure (simulated Kubernetes fault injection)",
            )
            .into_response();
        }
    }
    if verb == "invalid" {
        return StatusError::method_not_allowed(method.as_str()).into_response();
    }
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return StatusError::new(413, "RequestEntityTooLarge", "request body too large")
                .into_response();
        }
    };
    let fmt = Format::from_accept(&accept, q.get("includeObject").map(String::as_str));
    let fmt = if internal { fmt.lean() } else { fmt };
    let ctx = Ctx {
        sh: &sh,
        t: &target,
        q: &q,
        fmt,
        body: &body,
        content_type: &content_type,
        agent: &agent,
    };
    let result = match verb {
        "get" => ctx.get(),
        "list" => ctx.list(),
        "watch" => ctx.watch(),
        "create" => ctx.create(),
        "update" => ctx.update(),
        "patch" => ctx.patch(),
        "delete" => ctx.delete(),
        _ => ctx.delete_collection(),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}
