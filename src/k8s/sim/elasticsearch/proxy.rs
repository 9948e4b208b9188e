//! The Kubernetes service-proxy path of the simulated API for the `<name>-es-http` Services:
//! `/api/v1/namespaces/{ns}/services/{scheme:}{name}-es-http{:9200}/proxy/{path}` reaches the simulated
//! Elasticsearch `ns/name` with `{path}` and the query string.
//!
//! Elasticsearch credentials: the `X-Es-Authorization` header (for kubectl and kube clients, whose
//! `Authorization` carries the API's bearer token), or, on this path only, `Authorization: Basic ...` itself
//! (`curl -u elastic:...`), which the socket guard ([`super::super::exposure`]) accepts there in place of the
//! bearer token. A real API server would strip the header, which is why the portal does not use this path.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::super::Shared;
use super::super::status::StatusError;
use super::EsUnreachable;

/// Header carrying the Elasticsearch credentials through the proxy.
pub const ES_AUTHORIZATION: &str = "x-es-authorization";

/// `(namespace, cluster name, service name, rest of the path)` when `path` is an ES service-proxy path.
pub fn match_path(path: &str) -> Option<(String, String, String, String)> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (ns, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("services/")?;
    let (service, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let tail = if rest == "proxy" {
        ""
    } else {
        rest.strip_prefix("proxy/")?
    };
    let svc = service
        .strip_prefix("https:")
        .or_else(|| service.strip_prefix("http:"))
        .unwrap_or(service);
    let svc = svc
        .strip_suffix(":9200")
        .or_else(|| svc.strip_suffix(":https"))
        .unwrap_or(svc);
    let name = svc.strip_suffix("-es-http")?;
    if ns.is_empty() || name.is_empty() {
        return None;
    }
    Some((
        ns.to_string(),
        name.to_string(),
        svc.to_string(),
        format!("/{tail}"),
    ))
}

/// Is `path` an ES service-proxy path (the socket guard lets Basic credentials through there)?
pub fn is_proxy_path(path: &str) -> bool {
    match_path(path).is_some()
}

/// Serve a proxied request.
pub async fn serve(sh: &Shared, req: axum::extract::Request) -> Response {
    let Some((ns, name, service, tail)) = match_path(req.uri().path()) else {
        return StatusError::unknown_resource().into_response();
    };
    let uri = match req.uri().query() {
        Some(q) => format!("{tail}?{q}"),
        None => tail,
    };
    let credentials = req.headers().get(ES_AUTHORIZATION).cloned().or_else(|| {
        req.headers()
            .get(http::header::AUTHORIZATION)
            .filter(|v| {
                v.to_str()
                    .is_ok_and(|s| s.trim_start().to_ascii_lowercase().starts_with("basic "))
            })
            .cloned()
    });
    let mut builder = http::Request::builder()
        .method(req.method().clone())
        .uri(uri);
    if let Some(c) = credentials {
        builder = builder.header(http::header::AUTHORIZATION, c);
    }
    if let Some(ct) = req.headers().get(http::header::CONTENT_TYPE) {
        builder = builder.header(http::header::CONTENT_TYPE, ct.clone());
    }
    let body = match axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return StatusError::new(413, "RequestEntityTooLarge", "request body too large")
                .into_response();
        }
    };
    let Ok(es_req) = builder.body(body) else {
        return StatusError::new(400, "BadRequest", "invalid proxied request").into_response();
    };
    match super::rest::serve(sh, &ns, &name, es_req).await {
        Ok(resp) => resp.map(|b: Bytes| Body::from(b)).into_response(),
        Err(EsUnreachable::NoSuchCluster(..)) => {
            StatusError::new(404, "NotFound", format!("services \"{service}\" not found"))
                .into_response()
        }
        Err(EsUnreachable::NoReadyNodes) => StatusError::new(
            503,
            "ServiceUnavailable",
            format!("no endpoints available for service \"{service}\""),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_paths() {
        assert_eq!(
            match_path(
                "/api/v1/namespaces/t1/services/https:logs-es-http:9200/proxy/_cluster/health"
            ),
            Some((
                "t1".into(),
                "logs".into(),
                "logs-es-http".into(),
                "/_cluster/health".into()
            ))
        );
        assert_eq!(
            match_path("/api/v1/namespaces/t1/services/logs-es-http:9200/proxy/"),
            Some((
                "t1".into(),
                "logs".into(),
                "logs-es-http".into(),
                "/".into()
            ))
        );
        assert!(
            match_path("/api/v1/namespaces/t1/services/logs-es-transport:9300/proxy/").is_none()
        );
        assert!(match_path("/api/v1/namespaces/t1/services/logs-es-http").is_none());
    }
}
