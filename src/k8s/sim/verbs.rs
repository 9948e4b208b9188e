//! The verb handlers behind the router: each parses its query parameters and body, runs the operation on the
//! store under the lock, and renders the answer in the negotiated format.
//!
//! Bodies are decoded as a real API server decodes them: create, update and delete (when it has a body) take
//! `application/json` or `application/yaml` (no `Content-Type` means JSON, as in the apiserver's
//! `NegotiateInputSerializer`); any other type is 415 `UnsupportedMediaType` and nothing changes. Patches
//! take only the patch media types. So a browser's `text/plain` "simple" POST can create nothing. (A real
//! server also decodes `application/vnd.kubernetes.protobuf` for built-in kinds; the emulator does not, and
//! answers it like a custom resource's endpoint would: 415 listing JSON and YAML.)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::admission::WriteReq;
use super::gc::Propagation;
use super::http::Target;
use super::patch::PatchType;
use super::read::{self, ListReq};
use super::render::{self, Format};
use super::selector::{FieldSelector, LabelSelector};
use super::status::{ApiResult, StatusError, json_bytes_response};
use super::stored::Stored;
use super::watch::{self, WatchReq};
use super::write::{self, DeleteOpts};

/// How the body of a create, update or delete is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputType {
    Json,
    Yaml,
}

impl InputType {
    /// From a `Content-Type` (parameters ignored; absent means JSON, as on a real API server).
    fn from_content_type(ct: &str) -> ApiResult<Self> {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "" | "application/json" => Ok(Self::Json),
            "application/yaml" => Ok(Self::Yaml),
            _ => Err(StatusError::unsupported_media_type(
                "the body of the request was in an unknown format - accepted media types include: \
                 application/json, application/yaml",
            )),
        }
    }
}

/// One request being served.
pub struct Ctx<'a> {
    /// Shared state.
    pub sh: &'a Arc<Shared>,
    /// Parsed path.
    pub t: &'a Target,
    /// Query parameters.
    pub q: &'a HashMap<String, String>,
    /// Output format.
    pub fmt: Format,
    /// Request body.
    pub body: &'a Bytes,
    /// Content-Type header.
    pub content_type: &'a str,
    /// User-Agent header.
    pub agent: &'a str,
}

impl Ctx<'_> {
    fn kind(&self) -> &super::registry::ResourceKind {
        self.sh.registry.get(self.t.kind)
    }

    fn name(&self) -> &str {
        self.t.name.as_deref().unwrap_or("")
    }

    fn key(&self) -> (String, String) {
        (
            self.t.ns.clone().unwrap_or_default(),
            self.name().to_string(),
        )
    }

    fn dry_run(&self) -> bool {
        self.q.get("dryRun").is_some_and(|d| d == "All")
    }

    fn selectors(&self) -> ApiResult<(LabelSelector, FieldSelector)> {
        let l = LabelSelector::parse(self.q.get("labelSelector").map_or("", String::as_str))
            .map_err(StatusError::bad_request)?;
        let f = FieldSelector::parse(self.q.get("fieldSelector").map_or("", String::as_str))
            .map_err(StatusError::bad_request)?;
        Ok((l, f))
    }

    fn reply(&self, code: u16, obj: &Stored) -> Response {
        json_bytes_response(code, render::object_bytes(self.kind(), obj, self.fmt))
    }

    fn write_req(&self) -> WriteReq {
        let manager = self.q.get("fieldManager").cloned().unwrap_or_else(|| {
            let ua = self.agent.split('/').next().unwrap_or("").trim();
            if ua.is_empty() {
                "unknown".to_string()
            } else {
                ua.to_string()
            }
        });
        WriteReq {
            kind: self.t.kind,
            ns: self.t.ns.clone(),
            manager,
            dry_run: self.dry_run(),
            status_sub: self.t.status,
        }
    }

    fn json_body(&self) -> ApiResult<Value> {
        serde_json::from_slice(self.body)
            .map_err(|e| StatusError::bad_request(format!("invalid JSON body: {e}")))
    }

    /// The body of a create, update or delete, in one of the media types a real API server decodes.
    fn object_body(&self) -> ApiResult<Value> {
        match InputType::from_content_type(self.content_type)? {
            InputType::Json => self.json_body(),
            InputType::Yaml => serde_yaml::from_slice(self.body)
                .map_err(|e| StatusError::bad_request(format!("invalid YAML body: {e}"))),
        }
    }

    /// Serve the `get` verb.
    pub fn get(&self) -> ApiResult<Response> {
        let obj = read::get(&self.sh.registry, &self.sh.lock(), self.t.kind, &self.key())?;
        Ok(self.reply(200, &obj))
    }

    /// Serve the `list` verb.
    pub fn list(&self) -> ApiResult<Response> {
        let (labels, fields) = self.selectors()?;
        let limit = match self.q.get("limit").filter(|l| !l.is_empty()) {
            Some(l) => l
                .parse::<usize>()
                .map_err(|_| StatusError::bad_request(format!("invalid limit: {l}")))?,
            None => 0,
        };
        let cont = self.q.get("continue").filter(|c| !c.is_empty()).cloned();
        let req = ListReq {
            kind: self.t.kind,
            ns: self.t.ns.clone(),
            labels,
            fields,
            limit,
            cont,
        };
        let page = read::list(&self.sh.lock(), &req)?;
        Ok(json_bytes_response(
            200,
            render::list_bytes(self.kind(), &page, self.fmt),
        ))
    }

    /// Serve the `watch` verb.
    pub fn watch(&self) -> ApiResult<Response> {
        let (labels, fields) = self.selectors()?;
        let secs = match self.q.get("timeoutSeconds").filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse::<u64>()
                .map_err(|_| StatusError::bad_request(format!("invalid timeoutSeconds: {s}")))?,
            None => 1800,
        };
        let flag = |k: &str| self.q.get(k).is_some_and(|v| v == "true" || v == "1");
        let req = WatchReq {
            kind: self.t.kind,
            ns: self.t.ns.clone(),
            labels,
            fields,
            rv: self.q.get("resourceVersion").cloned(),
            send_initial: flag("sendInitialEvents"),
            bookmarks: flag("allowWatchBookmarks"),
            timeout: Duration::from_secs(secs.min(24 * 3600)),
            fmt: self.fmt,
        };
        Ok(watch::start(self.sh.clone(), req))
    }

    /// Serve the `create` verb.
    pub fn create(&self) -> ApiResult<Response> {
        let body = self.object_body()?;
        let w = self.write_req();
        let obj = write::create(self.sh, &w, body)?;
        Ok(self.reply(201, &obj))
    }

    /// Serve the `update` verb.
    pub fn update(&self) -> ApiResult<Response> {
        let body = self.object_body()?;
        let w = self.write_req();
        let obj = write::replace(self.sh, &w, self.name(), body)?;
        Ok(self.reply(200, &obj))
    }

    /// Serve the `patch` verb.
    pub fn patch(&self) -> ApiResult<Response> {
        let ptype = PatchType::from_content_type(self.content_type).ok_or_else(|| {
            StatusError::unsupported_media_type(format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {:?})", self.content_type))
        })?;
        let body: Value = match ptype {
            PatchType::Apply => match serde_json::from_slice(self.body) {
                Ok(v) => v,
                Err(_) => serde_yaml::from_slice(self.body).map_err(|e| {
                    StatusError::bad_request(format!("invalid apply configuration: {e}"))
                })?,
            },
            _ => self.json_body()?,
        };
        let mut w = self.write_req();
        if ptype == PatchType::Apply {
            w.manager = self.q.get("fieldManager").cloned().unwrap_or_default();
        }
        let force = self.q.get("force").is_some_and(|f| f == "true");
        let (obj, created) = write::patch(self.sh, &w, self.name(), ptype, &body, force)?;
        Ok(self.reply(if created { 201 } else { 200 }, &obj))
    }

    fn delete_opts(&self) -> ApiResult<DeleteOpts> {
        let body: Value = if self.body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            self.object_body()?
        };
        let policy = body
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .or(self.q.get("propagationPolicy").map(String::as_str));
        let mut propagation = match policy {
            Some(p) => Propagation::parse(p).ok_or_else(|| {
                StatusError::bad_request(format!("invalid propagationPolicy: {p}"))
            })?,
            None => Propagation::Background,
        };
        if policy.is_none() && body.get("orphanDependents") == Some(&json!(true)) {
            propagation = Propagation::Orphan;
        }
        let dry_body = body
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|d| d == "All"));
        Ok(DeleteOpts {
            propagation,
            uid: body
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(String::from),
            resource_version: body
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(String::from),
            dry_run: self.dry_run() || dry_body,
        })
    }

    /// Serve the `delete` verb.
    pub fn delete(&self) -> ApiResult<Response> {
        let opts = self.delete_opts()?;
        let key = self.key();
        let obj = self
            .sh
            .mutate(|st| write::delete(&self.sh.registry, st, self.t.kind, &key, &opts))?;
        Ok(self.reply(200, &obj))
    }

    /// Serve the `delete_collection` verb.
    pub fn delete_collection(&self) -> ApiResult<Response> {
        let opts = self.delete_opts()?;
        let (labels, fields) = self.selectors()?;
        let req = ListReq {
            kind: self.t.kind,
            ns: self.t.ns.clone(),
            labels,
            fields,
            limit: 0,
            cont: None,
        };
        let page = self.sh.mutate(|st| {
            let page = read::list(st, &req)?;
            let mut items = Vec::new();
            for o in &page.items {
                let key = (o.namespace.clone(), o.name.clone());
                if let Ok(d) = write::delete(&self.sh.registry, st, self.t.kind, &key, &opts) {
                    items.push(d);
                }
            }
            Ok::<_, StatusError>(read::ListPage {
                items,
                rv: st.rv,
                cont: None,
                remaining: None,
            })
        })?;
        Ok(json_bytes_response(
            200,
            render::list_bytes(self.kind(), &page, self.fmt),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::InputType;

    #[test]
    fn bodies_are_json_or_yaml_like_on_a_real_api_server() {
        assert_eq!(InputType::from_content_type("").unwrap(), InputType::Json);
        assert_eq!(
            InputType::from_content_type("application/json; charset=utf-8").unwrap(),
            InputType::Json
        );
        assert_eq!(
            InputType::from_content_type("application/yaml").unwrap(),
            InputType::Yaml
        );
        for refused in [
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/vnd.kubernetes.protobuf",
        ] {
            let e = InputType::from_content_type(refused).unwrap_err();
            assert_eq!(
                (e.code, e.reason),
                (415, "UnsupportedMediaType"),
                "{refused}"
            );
        }
    }
}
