//! A minimal OpenAPI v3 surface: `/openapi/v3` lists one document per group-version, and each document declares
//! the PATCH operation of every kind with its `x-kubernetes-group-version-kind` and the `fieldValidation` query
//! parameter. That is all kubectl needs to trust server-side field validation instead of downloading schemas for
//! client-side validation (which would make `kubectl apply` fail). No schemas are served; `/openapi/v2` is 404.

use serde_json::{Map, Value, json};

use super::registry::Registry;

const HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: the index of group-version documents.
pub fn root(reg: &Registry) -> Value {
    let mut paths = Map::new();
    let mut gvs: Vec<(String, String)> = reg
        .iter()
        .map(|(_, k)| (k.group.clone(), k.version.clone()))
        .collect();
    gvs.dedup();
    for (g, v) in gvs {
        let p = gv_path(&g, &v);
        paths.insert(
            p.clone(),
            json!({ "serverRelativeURL": format!("/openapi/v3/{p}?hash={HASH}") }),
        );
    }
    json!({ "paths": paths })
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`, when served.
pub fn document(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut paths = Map::new();
    for (_, k) in reg
        .iter()
        .filter(|(_, k)| k.group == group && k.version == version)
    {
        let base = format!("/{}", gv_path(group, version));
        let item = if k.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", k.plural)
        } else {
            format!("{base}/{}/{{name}}", k.plural)
        };
        let gvk = json!({ "group": k.group, "version": k.version, "kind": k.kind });
        paths.insert(
            item,
            json!({
                "patch": {
                    "operationId": format!("patch{}", k.kind),
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk,
                    "parameters": [
                        { "name": "dryRun", "in": "query", "schema": { "type": "string" } },
                        { "name": "fieldManager", "in": "query", "schema": { "type": "string" } },
                        { "name": "fieldValidation", "in": "query", "schema": { "type": "string" } },
                        { "name": "force", "in": "query", "schema": { "type": "boolean" } }
                    ],
                    "responses": { "200": { "description": "OK" } }
                }
            }),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes (simulated)", "version": "v1.33.0" },
        "paths": paths,
        "components": { "schemas": {} },
    }))
}
