//! Every change through the API writes its audit row: resize, restart, upgrade, reconfigure, scale,
//! deletion protection, cancel, delete and token revoke, each with the caller as the actor, the tenant, the
//! target and the request id the answer carried (table-driven, one request after the other).

use esaas::tenants::Role;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::Api;

/// One audit row, as the test reads it.
#[derive(Debug, sqlx::FromRow)]
struct Row {
    actor: String,
    actor_user_id: Option<uuid::Uuid>,
    tenant_id: Option<uuid::Uuid>,
    target_kind: String,
    target: String,
    outcome: String,
    request_id: Option<String>,
}

#[sqlx::test]
async fn every_api_change_writes_its_audit_row(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    api.create_cluster("acme", "logs", &alice.token).await;
    api.settle(t, "logs").await;
    let http_tls = api
        .get("/api/v1/tenants/acme/clusters/logs", &alice.token)
        .await
        .json::<Value>()
        .await
        .unwrap()["spec"]["http_tls"]
        .as_bool()
        .unwrap();
    let token: Value = api
        .send(
            Method::POST,
            "/api/v1/tokens",
            &alice.token,
            &json!({ "name": "ci" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let token_id = token["id"].as_str().unwrap().to_owned();

    // (method, path, body, action, target kind). The upgrade starts from an older version (set in SQL); the
    // second restart stays pending for the cancel; every other operation is settled before the next step.
    let revoke = format!("/api/v1/tokens/{token_id}");
    let steps: Vec<(Method, String, Option<Value>, &str, &str)> = vec![
        (
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/scale".into(),
            Some(json!({ "node_set": "default", "count": 3 })),
            "cluster.scale",
            "cluster",
        ),
        (
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/resize".into(),
            Some(json!({ "node_set": "default", "memory_mib": 4096 })),
            "cluster.resize",
            "cluster",
        ),
        (
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/restart".into(),
            None,
            "cluster.restart",
            "cluster",
        ),
        (
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/upgrade".into(),
            Some(json!({ "version": "8.19.7" })),
            "cluster.upgrade",
            "cluster",
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/acme/clusters/logs".into(),
            Some(json!({ "http_tls": !http_tls })),
            "cluster.reconfigure",
            "cluster",
        ),
        (
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/deletion-protection".into(),
            Some(json!({ "enabled": true })),
            "cluster.deletion_protection",
            "cluster",
        ),
        (
            Method::PUT,
            "/api/v1/tenants/acme/clusters/logs/deletion-protection".into(),
            Some(json!({ "enabled": false })),
            "cluster.deletion_protection",
            "cluster",
        ),
        (
            Method::POST,
            "/api/v1/tenants/acme/clusters/logs/restart".into(),
            None,
            "cluster.restart",
            "cluster",
        ),
        (
            Method::POST,
            "cancel the restart".into(),
            None,
            "operation.cancel",
            "cluster",
        ),
        (Method::DELETE, revoke, None, "token.revoke", "token"),
        (
            Method::DELETE,
            "/api/v1/tenants/acme/clusters/logs?confirm_name=logs".into(),
            None,
            "cluster.delete",
            "cluster",
        ),
    ];
    for (method, path, body, action, kind) in steps {
        if action == "cluster.upgrade" {
            sqlx::query("UPDATE clusters SET spec = jsonb_set(spec, '{version}', '\"8.18.8\"')")
                .execute(api.pool())
                .await
                .unwrap();
        }
        let path = if action == "operation.cancel" {
            let id: uuid::Uuid = sqlx::query_scalar(
                "SELECT id FROM operations WHERE state = 'pending' AND kind = 'restart'",
            )
            .fetch_one(api.pool())
            .await
            .unwrap();
            format!("/api/v1/tenants/acme/operations/{id}/cancel")
        } else {
            path
        };
        let before: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(api.pool())
            .await
            .unwrap();
        let mut req = api.req(method.clone(), &path, &alice.token);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        let after: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(api.pool())
            .await
            .unwrap();
        assert_eq!(after, before + 1, "{method} {path}: one {action} row");
        let row: Row = sqlx::query_as(
            "SELECT actor, actor_user_id, tenant_id, target_kind, target, outcome, request_id \
             FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(action)
        .fetch_one(api.pool())
        .await
        .unwrap();
        assert!(
            row.actor.starts_with("alice@example.com (token "),
            "{row:?}"
        );
        assert_eq!(row.actor_user_id, Some(alice.user_id), "{action}");
        assert_eq!(row.outcome, "ok", "{action}");
        assert_eq!(
            row.request_id.as_deref(),
            Some(request_id.as_str()),
            "{action}: the answer's request id"
        );
        if kind == "token" {
            assert_eq!(row.target_kind, "token");
            assert!(!row.target.is_empty());
        } else {
            assert_eq!(row.tenant_id, Some(t), "{action}");
            if !kind.is_empty() {
                assert_eq!(
                    (row.target_kind.as_str(), row.target.as_str()),
                    (kind, "logs")
                );
            }
        }
        let cancel_next = action == "cluster.restart" && after == 2;
        if !cancel_next {
            api.settle(t, "logs").await;
        }
    }
}
