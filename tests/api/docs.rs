//! The OpenAPI document and the documentation page.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

use crate::Api;

#[sqlx::test]
async fn the_openapi_document_describes_every_route(pool: PgPool) {
    let api = Api::start(pool).await;
    // Public: no token needed.
    let r = api
        .http
        .get(api.app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/tenants",
        "/api/v1/tenants/{tenant}",
        "/api/v1/tenants/{tenant}/quota",
        "/api/v1/tenants/{tenant}/members",
        "/api/v1/tenants/{tenant}/members/{user_id}",
        "/api/v1/tenants/{tenant}/clusters",
        "/api/v1/tenants/{tenant}/clusters/{name}",
        "/api/v1/tenants/{tenant}/clusters/{name}/scale",
        "/api/v1/tenants/{tenant}/clusters/{name}/resize",
        "/api/v1/tenants/{tenant}/clusters/{name}/restart",
        "/api/v1/tenants/{tenant}/clusters/{name}/upgrade",
        "/api/v1/tenants/{tenant}/clusters/{name}/deletion-protection",
        "/api/v1/tenants/{tenant}/clusters/{name}/status",
        "/api/v1/tenants/{tenant}/clusters/{name}/pods",
        "/api/v1/tenants/{tenant}/clusters/{name}/credentials",
        "/api/v1/tenants/{tenant}/clusters/{name}/nodes",
        "/api/v1/tenants/{tenant}/clusters/{name}/indices",
        "/api/v1/tenants/{tenant}/clusters/{name}/shards",
        "/api/v1/tenants/{tenant}/clusters/{name}/health-report",
        "/api/v1/tenants/{tenant}/clusters/{name}/indices/{index}/replicas",
        "/api/v1/tenants/{tenant}/operations",
        "/api/v1/tenants/{tenant}/operations/{id}",
        "/api/v1/tenants/{tenant}/operations/{id}/cancel",
        "/api/v1/tenants/{tenant}/audit",
        "/api/v1/audit",
        "/api/v1/templates",
        "/api/v1/versions",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    // Every operation has an id, error answers in problem+json, and changes take an Idempotency-Key.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["operationId"].is_string(), "{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path}");
            if path != "/api/v1/openapi.json" {
                assert!(responses.contains_key("401"), "{method} {path}");
                assert!(responses.contains_key("429"), "{method} {path}");
            }
            if method != "get" {
                let params = op["parameters"].as_array().unwrap();
                assert!(
                    params.iter().any(|p| p["name"] == "Idempotency-Key"),
                    "{method} {path}"
                );
                assert!(responses.contains_key("403"), "{method} {path}");
            }
        }
    }
    // Operation states include the terminal `superseded` (issue 9).
    let states = doc["components"]["schemas"]["OperationStateName"]["enum"]
        .as_array()
        .expect("the operation state enum");
    for state in [
        "pending",
        "applying",
        "waiting",
        "succeeded",
        "failed",
        "cancelled",
        "superseded",
    ] {
        assert!(states.iter().any(|s| s == state), "{state}: {states:?}");
    }
    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail"] {
        assert!(
            problem["required"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == field)
        );
    }
}

#[sqlx::test]
async fn the_documentation_page_loads_only_local_scripts(pool: PgPool) {
    let api = Api::start(pool).await;
    let r = api.http.get(api.app.url("/api/docs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"));
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("style="), "no inline style");
    for asset in [
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/api-docs/init.js",
        "/static/api-docs/docs.css",
    ] {
        assert!(html.contains(asset), "{asset}");
        let r = api.http.get(api.app.url(asset)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
    }
}
