//! The actions over HTTP, through their confirmation pages: scale with the quota preview (and its refusal
//! at the field), a conflict while another operation runs (the form again, with the reason), upgrade targets, deletion protection, delete by
//! typing the name, cancel of a pending operation, and the live fragment leading back to the list once
//! the cluster is gone.

use std::time::Duration;

use esaas::tenants::Role;
use esaas::tenants::quota::Resources;
use sqlx::PgPool;

use crate::common::poll::eventually;
use crate::{Fixture, ROOMY, assert_csp_clean, es_resource};

#[sqlx::test]
async fn scale_goes_through_a_confirmation_page_with_the_quota(pool: PgPool) {
    let limits = Resources { nodes: 6, ..ROOMY };
    let f = Fixture::new(pool, limits, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;
    f.create_cluster(&member, "logs", "three-nodes").await;
    f.wait_settled("logs", "green").await;

    let (status, html) = member
        .get(&f.app, "/t/acme/clusters/logs/scale?node_set=default")
        .await;
    assert_eq!(status, 200);
    assert_csp_clean(&html);
    assert!(html.contains("<label for=\"f-count\">"));
    assert!(html.contains("value=\"3\""));
    assert!(html.contains("Fits your tenant"));

    // Preview 7 nodes: over the 6-node limit, said at the count.
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/scale",
            &[("node_set", "default"), ("count", "7"), ("step", "preview")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"q-count\">Exceeds the nodes quota (limit 6 nodes): this request adds 4 nodes, and the tenant has 3 nodes left."),
        "{html}"
    );
    // Confirming anyway is refused by the service, at the field.
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/scale",
            &[("node_set", "default"), ("count", "7"), ("step", "confirm")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"q-count\">Exceeds the nodes quota (limit 6 nodes)"),
        "the same words after confirming: {html}"
    );
    assert!(html.contains("value=\"7\""));
    // An even count on a production cluster: the spec rule at the field.
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/scale",
            &[("node_set", "default"), ("count", "4"), ("step", "confirm")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"e-count\">"), "{html}");
    assert!(html.contains("odd"), "{html}");

    // 5 nodes: accepted.
    let (status, location) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/scale",
            &[("node_set", "default"), ("count", "5"), ("step", "confirm")],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, "/t/acme/clusters/logs");
    // While the scale runs, a restart conflicts: back to the dashboard with the message. (It may also have
    // finished already on the fast simulated kubelet; then the restart is accepted.)
    let (status, location) = member
        .post_text(&f.app, "/t/acme/clusters/logs/restart", &[])
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, "/t/acme/clusters/logs");
    let (_, html) = member.get(&f.app, &location).await;
    assert!(
        html.contains("wait for it to finish") || html.contains("Restarting logs"),
        "{html}"
    );
    f.wait_settled("logs", "green").await;
    let nodes: i64 = sqlx::query_scalar("SELECT nodes FROM clusters WHERE name = 'logs'")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(nodes, 5);
}

#[sqlx::test]
async fn conflicts_become_a_message_on_the_dashboard(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    // Hold an operation pending (the reconciler will not pick it up for an hour).
    sqlx::query(
        "INSERT INTO operations (cluster_id, tenant_id, kind, target_generation, next_attempt_at, steps) \
         SELECT id, tenant_id, 'restart', generation, now() + interval '1 hour', \
         '[{\"at\":\"2026-01-01T00:00:00Z\",\"message\":\"restart requested\"}]' FROM clusters WHERE name = 'logs'",
    )
    .execute(&f.app.pool)
    .await
    .unwrap();
    let (status, location) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/resize",
            &[
                ("node_set", "default"),
                ("cpu_cores", "2"),
                ("memory_gib", "2"),
                ("storage_gib", "10"),
                ("step", "confirm"),
            ],
        )
        .await;
    // Refused: the resize page again (409) with the typed values and the reason.
    assert_eq!(status, 409);
    assert!(
        location.contains("A restart operation is pending on this cluster"),
        "{location}"
    );
    assert!(location.contains("value=\"2\""), "{location}");
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    // The pending operation can be cancelled from the dashboard, through a confirmation page.
    assert!(html.contains("Cancel this operation"), "{html}");
    let start = html.find("/operations/").unwrap();
    let link =
        &html[html[..start].rfind('"').unwrap() + 1..start + html[start..].find('"').unwrap()];
    let (status, page) = owner.get(&f.app, link).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Cancel the restart operation on logs?"),
        "{page}"
    );
    let (status, location) = owner.post_text(&f.app, link, &[]).await;
    assert_eq!(status, 303);
    let (_, html) = owner.get(&f.app, &location).await;
    assert!(
        html.contains("The restart operation was cancelled"),
        "{html}"
    );
    assert!(html.contains("restart · cancelled"));
}

#[sqlx::test]
async fn upgrade_offers_only_allowed_targets(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    // On the newest version: no upgrade offered.
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(!html.contains("/t/acme/clusters/logs/upgrade"));
    // Pretend it runs 8.18.8: only 8.19.7 is offered (9.1 and later need 8.19 first).
    sqlx::query("UPDATE clusters SET spec = jsonb_set(spec, '{version}', '\"8.18.8\"')")
        .execute(&f.app.pool)
        .await
        .unwrap();
    let (status, html) = owner.get(&f.app, "/t/acme/clusters/logs/upgrade").await;
    assert_eq!(status, 200);
    let options: Vec<&str> = html
        .match_indices("<option value=\"")
        .map(|(i, _)| &html[i + 15..i + 15 + html[i + 15..].find('"').unwrap()])
        .filter(|v| v.contains('.'))
        .collect();
    assert_eq!(options, ["8.19.7"]);
    let (status, html) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/upgrade",
            &[("version", "9.2.1")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("needs 8.19 or later first"), "{html}");
    let (status, html) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/upgrade",
            &[("version", "8.0.0")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"e-version\">"), "{html}");
    let (status, location) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/upgrade",
            &[("version", "8.19.7")],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, "/t/acme/clusters/logs");
    // The effect: the upgrade ran, the spec in Postgres and the Elasticsearch resource name 8.19.7, and
    // the observed version follows.
    f.wait_settled("logs", "green").await;
    let (db_version, state): (String, String) = sqlx::query_as(
        "SELECT c.spec->>'version', o.state FROM clusters c JOIN operations o ON o.cluster_id = c.id \
         WHERE c.name = 'logs' AND o.kind = 'upgrade'",
    )
    .fetch_one(&f.app.pool)
    .await
    .unwrap();
    assert_eq!(
        (db_version.as_str(), state.as_str()),
        ("8.19.7", "succeeded")
    );
    let es = kube::Api::<kube::api::DynamicObject>::namespaced_with(
        f.app.state.kube.client.clone(),
        "esaas-acme",
        &es_resource(),
    )
    .get("logs")
    .await
    .expect("the Elasticsearch resource");
    assert_eq!(es.data["spec"]["version"], "8.19.7", "{:?}", es.data);
    eventually(
        Duration::from_secs(10),
        "observed version 8.19.7",
        || async {
            let observed: String =
                sqlx::query_scalar("SELECT observed_version FROM clusters WHERE name = 'logs'")
                    .fetch_one(&f.app.pool)
                    .await
                    .unwrap();
            (observed == "8.19.7").then_some(())
        },
    )
    .await;
}

#[sqlx::test]
async fn delete_needs_the_name_and_no_protection(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;

    // Protection on, through its confirmation page.
    let (status, page) = owner.get(&f.app, "/t/acme/clusters/logs/protection").await;
    assert_eq!(status, 200);
    assert!(page.contains("Turn on deletion protection for logs?"));
    let (status, _) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/protection",
            &[("protection", "on")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(html.contains("Deletion protection is on"));
    assert!(
        !html.contains("/t/acme/clusters/logs/delete\""),
        "no delete button while protected"
    );
    // The delete page itself (reached by URL) has no Delete button, only the reason and the way out.
    let (status, page) = owner.get(&f.app, "/t/acme/clusters/logs/delete").await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("id=\"confirm-action\""),
        "no Delete button: {page}"
    );
    assert!(
        page.contains(
            "href=\"/t/acme/clusters/logs/protection\">Turn off deletion protection…</a>"
        ),
        "{page}"
    );
    let (status, location) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/delete",
            &[("confirm_name", "logs")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, html) = owner.get(&f.app, &location).await;
    assert!(
        html.contains("Deletion protection is on; turn it off first."),
        "{html}"
    );
    owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/protection",
            &[("protection", "off")],
        )
        .await;

    // The wrong name: 422 at the field, typed text kept.
    let (status, html) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/delete",
            &[("confirm_name", "log")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"e-confirm_name\">Type the cluster"),
        "{html}"
    );
    assert!(html.contains("value=\"log\""));

    let (status, location) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/delete",
            &[("confirm_name", "logs")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, "/t/acme/clusters/logs");
    // Once it is gone, htmx's refresh is sent to the list.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = owner
            .client
            .get(f.app.url("/t/acme/clusters/logs/live"))
            .header("hx-request", "true")
            .send()
            .await
            .unwrap();
        if let Some(to) = r.headers().get("hx-redirect") {
            assert_eq!(to, "/t/acme/clusters");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The dashboard of the deleted cluster (where the delete request redirected) sends the browser to the
    // list with a message; a name that never existed stays a plain 404.
    let r = owner
        .client
        .get(f.app.url("/t/acme/clusters/logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/t/acme/clusters");
    let (_, html) = owner.get(&f.app, "/t/acme/clusters").await;
    assert!(html.contains("Cluster logs no longer exists."), "{html}");
    assert!(html.contains("No clusters yet"));
    let (status, _) = owner.get(&f.app, "/t/acme/clusters/never-was").await;
    assert_eq!(status, 404);
}

#[sqlx::test]
async fn a_stalled_operation_can_be_cancelled_or_superseded_from_the_dashboard(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "three-nodes").await;
    f.wait_settled("logs", "green").await;
    // An operation stuck waiting (as when its pods never become ready), marked stalled; its Kubernetes
    // generation is never reached, so the observer cannot complete it.
    sqlx::query(
        "INSERT INTO operations (cluster_id, tenant_id, kind, state, target_generation, k8s_generation, \
         stalled_reason, steps) \
         SELECT id, tenant_id, 'reconfigure', 'waiting', generation, 999, 'pod logs-es-default-0 is not ready', \
         '[{\"at\":\"2026-01-01T00:00:00Z\",\"message\":\"reconfigure requested\"}]' FROM clusters WHERE name = 'logs'",
    )
    .execute(&f.app.pool)
    .await
    .unwrap();
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(
        html.contains("pod logs-es-default-0 is not ready"),
        "{html}"
    );
    assert!(html.contains("Cancel this operation"), "{html}");
    let start = html.find("/operations/").unwrap();
    let link =
        &html[html[..start].rfind('"').unwrap() + 1..start + html[start..].find('"').unwrap()];
    let (status, page) = owner.get(&f.app, link).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("stalled (pod logs-es-default-0 is not ready)"),
        "{page}"
    );
    assert!(
        !page.contains("flash-warning"),
        "a waiting operation can be cancelled: {page}"
    );
    // The delete page says a delete would supersede it.
    let (_, page) = owner.get(&f.app, "/t/acme/clusters/logs/delete").await;
    assert!(page.contains("deleting supersedes it"), "{page}");
    // A scale supersedes it instead.
    let (status, location) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/scale",
            &[("node_set", "default"), ("count", "5"), ("step", "confirm")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, html) = owner.get(&f.app, &location).await;
    assert!(!html.contains("flash-error"), "{html}");
    assert!(html.contains("reconfigure · superseded"), "{html}");
    assert!(
        html.contains("superseded by scale requested by owner@acme.test"),
        "{html}"
    );
}
