//! Every change made through the cluster pages and the account page writes its audit row: scale, resize,
//! restart, upgrade, deletion protection (on and off), cancel, token revoke and delete, each with the
//! signed-in user as the actor, the tenant, the target and the request's id (table-driven; the pages have
//! no reconfigure). The reconciler runs, so each change really completes before the next.

use esaas::tenants::Role;
use sqlx::PgPool;

use crate::{Fixture, ROOMY, Session};

/// Form fields.
type Form = Vec<(&'static str, &'static str)>;

/// One audit row: actor, actor's user id, tenant, target kind, target, request id.
type AuditRow = (
    String,
    Option<uuid::Uuid>,
    Option<uuid::Uuid>,
    String,
    String,
    Option<String>,
);

/// POST a form (with the session's CSRF token) carrying our own request id; return the status.
async fn post_with_id(
    f: &Fixture,
    s: &Session,
    path: &str,
    fields: &[(&str, &str)],
    id: &str,
) -> u16 {
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", s.token.as_str())];
    form.extend_from_slice(fields);
    s.client
        .post(f.app.url(path))
        .header("x-request-id", id)
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test]
async fn every_page_change_writes_its_audit_row(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    let (status, _) = owner
        .post_text(
            &f.app,
            "/account/tokens",
            &[("name", "ci"), ("expires_in_days", "30")],
        )
        .await;
    assert_eq!(status, 200);
    let token_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'ci'")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    let revoke = format!("/account/tokens/{token_id}/revoke");

    // (path, form, action, target kind); "cancel" is a pending operation made just before.
    let steps: Vec<(String, Form, &str, &str)> = vec![
        (
            "/t/acme/clusters/logs/scale".into(),
            vec![("node_set", "default"), ("count", "3"), ("step", "confirm")],
            "cluster.scale",
            "cluster",
        ),
        (
            "/t/acme/clusters/logs/resize".into(),
            vec![
                ("node_set", "default"),
                ("cpu_cores", "2"),
                ("memory_gib", "2"),
                ("storage_gib", "10"),
                ("step", "confirm"),
            ],
            "cluster.resize",
            "cluster",
        ),
        (
            "/t/acme/clusters/logs/restart".into(),
            vec![],
            "cluster.restart",
            "cluster",
        ),
        (
            "/t/acme/clusters/logs/upgrade".into(),
            vec![("version", "8.19.7")],
            "cluster.upgrade",
            "cluster",
        ),
        (
            "/t/acme/clusters/logs/protection".into(),
            vec![("protection", "on")],
            "cluster.deletion_protection",
            "cluster",
        ),
        (
            "/t/acme/clusters/logs/protection".into(),
            vec![("protection", "off")],
            "cluster.deletion_protection",
            "cluster",
        ),
        ("cancel".into(), vec![], "operation.cancel", "cluster"),
        (revoke, vec![], "token.revoke", "token"),
        (
            "/t/acme/clusters/logs/delete".into(),
            vec![("confirm_name", "logs")],
            "cluster.delete",
            "cluster",
        ),
    ];
    for (i, (path, form, action, kind)) in steps.into_iter().enumerate() {
        if action == "cluster.upgrade" {
            sqlx::query("UPDATE clusters SET spec = jsonb_set(spec, '{version}', '\"8.18.8\"')")
                .execute(&f.app.pool)
                .await
                .unwrap();
        }
        let path = if path == "cancel" {
            // A restart the reconciler will not pick up for an hour: pending, so it can be cancelled.
            let id: uuid::Uuid = sqlx::query_scalar(
                "INSERT INTO operations (cluster_id, tenant_id, kind, target_generation, next_attempt_at, \
                 steps) SELECT id, tenant_id, 'restart', generation, now() + interval '1 hour', '[]' \
                 FROM clusters WHERE name = 'logs' RETURNING id",
            )
            .fetch_one(&f.app.pool)
            .await
            .unwrap();
            format!("/t/acme/clusters/logs/operations/{id}/cancel")
        } else {
            path
        };
        let count = |action: &'static str| {
            let pool = f.app.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_log WHERE action = $1")
                    .bind(action)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let before = count(action).await;
        let request_id = format!("web-audit-{i}");
        let status = post_with_id(&f, &owner, &path, &form, &request_id).await;
        assert_eq!(status, 303, "{path}");
        assert_eq!(count(action).await, before + 1, "{path}: one {action} row");
        let (actor, actor_user_id, tenant_id, target_kind, target, stored_id): AuditRow =
            sqlx::query_as(
            "SELECT actor, actor_user_id, tenant_id, target_kind, target, request_id FROM audit_log \
             WHERE action = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(action)
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
        assert_eq!(actor, "owner@acme.test", "{action}");
        assert_eq!(actor_user_id, Some(owner.user_id), "{action}");
        assert_eq!(stored_id.as_deref(), Some(request_id.as_str()), "{action}");
        assert_eq!(target_kind, kind, "{action}");
        if kind == "cluster" {
            assert_eq!(target, "logs", "{action}");
        } else {
            assert!(!target.is_empty(), "{action}");
        }
        if kind != "token" {
            assert_eq!(tenant_id, Some(f.tenant_id), "{action}");
        }
        if action != "cluster.delete" {
            f.wait_settled("logs", "green").await;
        }
    }
}
