//! The dashboard and its live fragment over HTTP: what it shows for a green cluster, the stale-status
//! warning, and who sees what (viewers, other tenants). The credentials reveal (POST-redirect-GET) is in
//! `http_dashboard_state`.

use std::time::Duration;

use esaas::tenants::Role;
use sqlx::PgPool;

use crate::common::poll::eventually;
use crate::{Fixture, ROOMY, assert_csp_clean, create_tenant_with_limits};

#[sqlx::test]
async fn dashboard_shows_a_green_cluster(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "three-nodes").await;
    f.wait_settled("logs", "green").await;

    let (status, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert_eq!(status, 200);
    assert_csp_clean(&html);
    assert!(
        !html.contains("Kubernetes: simulated <span"),
        "the target is said once, not 'simulated [simulated]'"
    );
    for needle in [
        "id=\"cluster-health\">green",
        "id=\"cluster-nodes\">3/3",
        "Ready",
        "9.2.1",
        "3.5 cores",
        "7 GiB",
        "30 GiB",
        "ECK",
        "class=\"tag tag-sim\">simulated",
        "https://logs-es-http.esaas-acme.svc:9200",
        "id=\"curl-line\"",
        "data-copy=\"#curl-line\"",
        "logs-kb-http.esaas-acme.svc:5601",
        "id=\"reveal-password\"",
        "create · succeeded",
        " by owner@acme.test ·",
        "from template three-nodes",
        "<svg class=\"chart chart-wide\"",
        "<svg class=\"chart chart-narrow\"",
        "Nodes ready and health over time",
        "Requested resources against the tenant quota",
        "hx-get=\"/t/acme/clusters/logs/live\"",
        "hx-trigger=\"every 3s\"",
        "/static/vendor/htmx-2.0.11.min.js",
        "\"allowEval\":false",
        "/t/acme/clusters/logs/scale?node_set=default",
        "/t/acme/clusters/logs/restart",
        "/t/acme/clusters/logs/delete",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    // Three ready pods and Kibana in the pod table (pod events may arrive just after the completion).
    eventually(
        Duration::from_secs(10),
        "3 ES pods + Kibana ready",
        || async {
            let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
            let ready = html
                .matches("<span class=\"badge badge-green\">ready</span>")
                .count();
            (ready == 3 + 1).then_some(())
        },
    )
    .await;
    assert!(!html.contains("id=\"stale-warning\""), "fresh status");

    // The live fragment is the same part, alone.
    let r = owner
        .client
        .get(f.app.url("/t/acme/clusters/logs/live"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let fragment = r.text().await.unwrap();
    assert!(
        fragment.trim_start().starts_with("<div id=\"live\""),
        "{fragment}"
    );
    assert!(!fragment.contains("<html"));
    assert!(fragment.contains("id=\"cluster-nodes\">3/3"));
    assert!(
        !fragment.contains("id=\"connection\""),
        "static parts are not refreshed"
    );
}

#[sqlx::test]
async fn stale_status_is_flagged_and_the_page_still_renders(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    f.app.shutdown.cancel();
    sqlx::query("UPDATE clusters SET status_observed_at = now() - interval '5 minutes'")
        .execute(&f.app.pool)
        .await
        .unwrap();
    // A quiet cluster is not stale while the portal is in contact with Kubernetes.
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(!html.contains("id=\"stale-warning\""), "{html}");
    // The observer lost contact 4 minutes ago.
    sqlx::query("UPDATE kube_contact SET last_ok_at = now() - interval '4 minutes'")
        .execute(&f.app.pool)
        .await
        .unwrap();
    let (status, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"stale-warning\""), "{html}");
    assert!(
        html.contains("Status is stale: no contact with Kubernetes since")
            && html.contains("last observed 5 min"),
        "{html}"
    );

    sqlx::query(
        "UPDATE clusters SET status_observed_at = NULL, created_at = now() - interval '2 minutes'",
    )
    .execute(&f.app.pool)
    .await
    .unwrap();
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(
        html.contains("No status from Kubernetes yet: no contact with Kubernetes since"),
        "{html}"
    );
}

#[sqlx::test]
async fn viewers_see_no_actions_and_are_refused(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    let viewer = f.user("viewer@acme.test", Role::Viewer).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;

    let (status, html) = viewer.get(&f.app, "/t/acme/clusters/logs").await;
    assert_eq!(status, 200);
    for absent in [
        "/scale",
        "/resize",
        "/restart",
        "/delete",
        "/protection",
        "/upgrade",
        "reveal-password",
    ] {
        assert!(!html.contains(absent), "viewer sees {absent}");
    }
    assert!(html.contains("Your role can look at this cluster but not change it"));
    assert!(html.contains("Your role may not see credentials"));

    for page in [
        "/new",
        "/new?template=three-nodes",
        "/logs/scale",
        "/logs/resize",
        "/logs/restart",
        "/logs/delete",
        "/logs/upgrade",
        "/logs/protection",
    ] {
        let (status, _) = viewer.get(&f.app, &format!("/t/acme/clusters{page}")).await;
        assert_eq!(status, 403, "GET {page}");
    }
    let posts: [(&str, &[(&str, &str)]); 7] = [
        (
            "/logs/scale",
            &[("node_set", "default"), ("count", "3"), ("step", "confirm")],
        ),
        (
            "/logs/resize",
            &[
                ("node_set", "default"),
                ("cpu_cores", "2"),
                ("memory_gib", "2"),
                ("storage_gib", "10"),
                ("step", "confirm"),
            ],
        ),
        ("/logs/restart", &[]),
        ("/logs/delete", &[("confirm_name", "logs")]),
        ("/logs/protection", &[("protection", "on")]),
        ("/logs/upgrade", &[("version", "9.2.1")]),
        ("/logs/credentials", &[]),
    ];
    for (path, form) in posts {
        let r = viewer
            .post(&f.app, &format!("/t/acme/clusters{path}"), form)
            .await;
        assert_eq!(r.status(), 403, "POST {path}");
        let body = r.text().await.unwrap();
        assert!(body.contains("403"), "an error page: {body}");
    }
    let owned = crate::three_nodes_form("other", "3");
    let r = viewer
        .post(
            &f.app,
            "/t/acme/clusters/new",
            &crate::fields(&owned, &[("action", "create")]),
        )
        .await;
    assert_eq!(r.status(), 403);
    let ops: i64 = sqlx::query_scalar("SELECT count(*) FROM operations")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(ops, 1, "only the owner's create");
}

#[sqlx::test]
async fn other_tenants_clusters_are_not_found(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    // Someone who owns another tenant.
    let other_tenant = create_tenant_with_limits(&f.app.pool, "globex", ROOMY).await;
    let outsider = f
        .member_of(other_tenant.id, "boss@globex.test", Role::Owner)
        .await;
    for path in [
        "/t/acme/clusters",
        "/t/acme/clusters/logs",
        "/t/acme/clusters/logs/live",
        "/t/acme/clusters/new",
    ] {
        let (status, _) = outsider.get(&f.app, path).await;
        assert_eq!(status, 404, "GET {path}");
    }
    let r = outsider
        .post(&f.app, "/t/acme/clusters/logs/restart", &[])
        .await;
    assert_eq!(r.status(), 404);
    // Their own tenant does not have it either.
    let (status, _) = outsider.get(&f.app, "/t/globex/clusters/logs").await;
    assert_eq!(status, 404);
    let (status, _) = outsider.get(&f.app, "/t/globex/clusters/logs/live").await;
    assert_eq!(status, 404);
}
