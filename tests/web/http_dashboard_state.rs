//! Issue 10 points 4, 5 and 9 over HTTP: one consistent model on the dashboard (requested numbers from one
//! snapshot, refreshed together), flashes shown once with the right grammar, the state in words (banner,
//! chips, list), what cannot be done now disabled with the reason (deleting, an operation running), a
//! refused resize that keeps the typed values, the delete page of a protected cluster, the one-node restart
//! warning, the member removal confirmation, and the password reveal as POST-redirect-GET.

use esaas::tenants::Role;
use sqlx::PgPool;

use crate::{Fixture, ROOMY, assert_csp_clean, elastic_password};

/// Hold an operation of `kind` in `state` on cluster `name` (the reconciler will not touch it for an hour).
async fn hold_operation(f: &Fixture, name: &str, kind: &str, state: &str, params: &str) {
    sqlx::query(
        "INSERT INTO operations (cluster_id, tenant_id, kind, state, params, target_generation, next_attempt_at, steps) \
         SELECT id, tenant_id, $2, $3, $4::jsonb, generation, now() + interval '1 hour', \
         '[{\"at\":\"2026-01-01T00:00:00Z\",\"message\":\"requested\"}]' FROM clusters WHERE name = $1",
    )
    .bind(name)
    .bind(kind)
    .bind(state)
    .bind(params)
    .execute(&f.app.pool)
    .await
    .unwrap();
}

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} in {html}"))
        + start.len();
    &html[i..i + html[i..].find(end).unwrap()]
}

#[sqlx::test]
async fn after_a_resize_the_summary_and_the_resources_chart_agree(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    let (_, before) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert_eq!(between(&before, "id=\"requested-cpu\">", "<"), "1.5 cores");

    let (status, location) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/resize",
            &[
                ("node_set", "default"),
                ("cpu_cores", "2"),
                ("memory_gib", "4"),
                ("storage_gib", "20"),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    // Right after the request, while it runs, and once it is done: one number, labelled "requested", in the
    // summary and in the chart, on the page and in the refreshed fragment.
    for _ in 0..2 {
        for path in ["/t/acme/clusters/logs", "/t/acme/clusters/logs/live"] {
            let (status, html) = owner.get(&f.app, path).await;
            assert_eq!(status, 200);
            assert_eq!(
                between(&html, "id=\"requested-cpu\">", "<"),
                "2.5 cores",
                "{path}"
            );
            assert_eq!(between(&html, "id=\"requested-memory\">", "<"), "5 GiB");
            assert!(
                html.contains("CPU: this cluster 2.5 cores,")
                    && html.contains("Memory: this cluster 5 GiB,"),
                "the chart shows the same numbers: {html}"
            );
            assert!(html.contains("CPU requested") && html.contains("Nodes running / requested"));
            assert!(
                !html.contains("Allocated resources"),
                "one word for the spec"
            );
        }
        f.wait_settled("logs", "green").await;
    }
}

#[sqlx::test]
async fn a_flash_is_shown_once_with_the_right_grammar(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    let form = crate::three_nodes_form("logs", "3");
    let (status, location) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &crate::fields(&form, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let (_, html) = owner.get(&f.app, &location).await;
    assert!(
        html.contains("Cluster logs requested: 3 nodes are being created."),
        "{html}"
    );
    assert!(!html.contains("nodes is being") && !html.contains("1 nodes"));
    // A reload does not show it again.
    let (_, again) = owner.get(&f.app, &location).await;
    assert!(!again.contains("Cluster logs requested"), "{again}");

    // The refreshed part says whether anything is still in progress; static/js/live.js then removes the
    // page's success messages (they said what had just been requested).
    f.wait_settled("logs", "green").await;
    let (_, live) = owner.get(&f.app, "/t/acme/clusters/logs/live").await;
    assert!(
        live.contains("id=\"live\" class=\"live\" data-settled=\"true\""),
        "{live}"
    );
    let (_, page) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(page.contains("/static/js/live.js"));
}

#[sqlx::test]
async fn a_deleting_cluster_says_so_and_offers_no_changes(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "three-nodes").await;
    f.wait_settled("logs", "green").await;
    // A delete accepted but not yet started: the cluster is still green, Ready, 3 of 3.
    sqlx::query("UPDATE clusters SET deleting = true WHERE name = 'logs'")
        .execute(&f.app.pool)
        .await
        .unwrap();
    hold_operation(&f, "logs", "delete", "pending", "{}").await;

    let (status, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert_eq!(status, 200);
    assert_csp_clean(&html);
    let banner = between(&html, "id=\"state-banner\">", "</div>");
    assert!(
        banner.starts_with("This cluster is being deleted"),
        "{banner}"
    );
    assert!(html.contains("id=\"cluster-state\">Deleting"), "{html}");
    for absent in [
        "/scale",
        "/resize",
        "/restart\"",
        "/upgrade\"",
        "Scale…",
        "Resize…",
    ] {
        assert!(!html.contains(absent), "offered while deleting: {absent}");
    }
    assert!(html.contains("The cluster is being deleted: nothing can be changed now."));
    // The list says so too.
    let (_, list) = owner.get(&f.app, "/t/acme/clusters").await;
    let row = between(&list, "id=\"cluster-logs\"", "</tr>");
    assert!(row.contains("state-deleting\">Deleting"), "{row}");
}

#[sqlx::test]
async fn the_health_chips_count_the_rows_they_stand_beside(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "alpha", "single-node").await;
    f.create_cluster(&owner, "beta", "single-node").await;
    f.wait_settled("alpha", "green").await;
    f.wait_settled("beta", "green").await;
    f.app.shutdown.cancel();
    sqlx::query("UPDATE clusters SET health = 'yellow' WHERE name = 'beta'")
        .execute(&f.app.pool)
        .await
        .unwrap();
    let (_, html) = owner.get(&f.app, "/t/acme/clusters").await;
    let count = |health: &str| {
        between(&html, &format!("?health={health}\""), "</a>")
            .rsplit("<span class=\"count\">")
            .next()
            .unwrap()
            .trim_end_matches("</span>")
            .to_owned()
    };
    assert_eq!(count("yellow"), "1");
    assert_eq!(count("green"), "1");
    let beta = between(&html, "id=\"cluster-beta\"", "</tr>");
    assert!(beta.contains("state-degraded\">Degraded"), "{beta}");
    assert!(
        beta.contains("health yellow · phase Ready · 1 of 1 node ready"),
        "{beta}"
    );
    // The chips refresh with the rows: both sit inside the part htmx swaps.
    let live = &html[html
        .find("id=\"clusters-live\"")
        .expect("one refreshed part")..];
    assert!(
        live.find("class=\"filter-tabs\"").unwrap() < live.find("id=\"cluster-beta\"").unwrap()
    );
    assert!(html.contains("hx-select=\"#clusters-live\""));
}

#[sqlx::test]
async fn actions_that_cannot_work_now_are_disabled_with_the_reason(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    hold_operation(&f, "logs", "restart", "pending", "{}").await;

    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    let reason = between(&html, "id=\"actions-blocked\" role=\"status\">", "</p>");
    assert_eq!(
        reason,
        "Scale, resize, upgrade and restart are unavailable while the restart operation is pending \
         (restarting the nodes one at a time (queued)): wait for it to finish, or cancel it."
    );
    assert!(html.contains("id=\"action-scale-disabled\""), "{html}");
    assert!(html.contains("aria-disabled=\"true\" aria-describedby=\"actions-blocked\""));
    assert!(
        !html.contains("href=\"/t/acme/clusters/logs/scale"),
        "no live Scale link"
    );
    assert!(
        html.contains("id=\"state-banner\">Changing: restarting the nodes one at a time (queued).")
    );
    // Delete and protection still work (a delete supersedes the operation).
    assert!(html.contains("href=\"/t/acme/clusters/logs/delete\""));
    // The refreshed fragment carries the actions card out of band, so it follows the operation.
    let (_, live) = owner.get(&f.app, "/t/acme/clusters/logs/live").await;
    assert!(
        live.contains("id=\"actions-slot\" hx-swap-oob=\"innerHTML\""),
        "{live}"
    );
    assert!(live.contains("id=\"action-scale-disabled\""));
    // The confirmation pages say so and offer no live button.
    let (_, page) = owner.get(&f.app, "/t/acme/clusters/logs/restart").await;
    assert!(
        page.contains("a restart is refused until it has finished"),
        "{page}"
    );
    assert!(page.contains("id=\"confirm-action\" disabled"), "{page}");
    let (_, page) = owner.get(&f.app, "/t/acme/clusters/logs/resize").await;
    assert!(
        page.contains("id=\"confirm-action\" disabled aria-describedby=\"busy-reason\""),
        "{page}"
    );

    // A waiting operation: scale and resize replace it, restart waits, and says why.
    sqlx::query("UPDATE operations SET state = 'waiting' WHERE state = 'pending'")
        .execute(&f.app.pool)
        .await
        .unwrap();
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(
        html.contains("href=\"/t/acme/clusters/logs/scale\""),
        "{html}"
    );
    assert!(html.contains("id=\"action-restart-disabled\""));
    assert!(html.contains(
        "Restart is unavailable until the restart operation (restarting the nodes one at a time) has finished."
    ));
    assert!(html.contains("a scale, resize or upgrade now replaces it"));
}

#[sqlx::test]
async fn a_refused_resize_keeps_what_was_typed(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    hold_operation(&f, "logs", "restart", "pending", "{}").await;
    let (status, html) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/resize",
            &[
                ("node_set", "default"),
                ("cpu_cores", "2.5"),
                ("memory_gib", "6"),
                ("storage_gib", "30"),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(status, 409, "the same page again, not a redirect");
    assert_csp_clean(&html);
    for typed in ["value=\"2.5\"", "value=\"6\"", "value=\"30\""] {
        assert!(html.contains(typed), "{typed} kept: {html}");
    }
    assert!(
        between(&html, "id=\"refused\">", "</div>")
            .contains("A restart operation is pending on this cluster"),
        "{html}"
    );
    let cpu: i64 = sqlx::query_scalar("SELECT cpu_millis FROM clusters WHERE name = 'logs'")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(cpu, 1500, "nothing changed");
}

#[sqlx::test]
async fn the_delete_page_of_a_protected_cluster_offers_the_way_out_not_delete(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    let (status, _) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/protection",
            &[("protection", "on")],
        )
        .await;
    assert_eq!(status, 303);
    let (status, html) = owner.get(&f.app, "/t/acme/clusters/logs/delete").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("id=\"confirm-action\""),
        "no Delete button: {html}"
    );
    assert!(!html.contains("f-confirm_name"), "no name to type");
    assert!(html.contains(
        "Deletion protection is on: this cluster cannot be deleted until it is turned off."
    ));
    assert!(
        html.contains("id=\"turn-off-protection\" href=\"/t/acme/clusters/logs/protection\""),
        "{html}"
    );
    // The way out works, and then the page offers the delete.
    let (status, _) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/protection",
            &[("protection", "off")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs/delete").await;
    assert!(html.contains("id=\"confirm-action\"") && html.contains("f-confirm_name"));
}

#[sqlx::test]
async fn restarting_a_one_node_cluster_warns_before(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "solo", "single-node").await;
    f.create_cluster(&owner, "trio", "three-nodes").await;
    f.wait_settled("solo", "green").await;
    f.wait_settled("trio", "green").await;
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/solo/restart").await;
    assert!(
        html.contains("This cluster has only one node: it is unavailable while that node restarts"),
        "{html}"
    );
    assert!(html.contains(
        "The only Elasticsearch node restarts: the cluster is unavailable until it is back"
    ));
    assert!(
        html.contains("id=\"confirm-action\">"),
        "still possible, after the warning"
    );
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/trio/restart").await;
    assert!(!html.contains("only one node"), "{html}");
    assert!(html.contains("All 3 Elasticsearch nodes restart, one at a time"));
}

#[sqlx::test]
async fn removing_a_member_goes_through_a_confirmation_page(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    let bob = f.user("bob@acme.test", Role::Member).await;
    let (_, html) = owner.get(&f.app, "/t/acme/members").await;
    let page = format!("/t/acme/members/{}/remove", bob.user_id);
    // A link to a page (works without JavaScript), not a form that removes on one click.
    assert!(html.contains(&format!("href=\"{page}\"")), "{html}");
    assert!(!html.contains(&format!("action=\"{page}\"")));
    let (status, confirm) = owner.get(&f.app, &page).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("id=\"confirm-remove\""), "{confirm}");
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM tenant_members WHERE user_id = $1")
        .bind(bob.user_id)
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(still, 1, "looking at the page removes nobody");
    let (status, _) = owner.post_text(&f.app, &page, &[]).await;
    assert_eq!(status, 303);
}

#[sqlx::test]
async fn reveal_is_post_redirect_get_and_a_reload_reveals_nothing(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;
    f.create_cluster(&member, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    let r = member
        .post(&f.app, "/t/acme/clusters/logs/credentials", &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/t/acme/clusters/logs");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("Path=/t/acme/clusters/logs")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Max-Age=60"),
        "{cookie}"
    );
    let password = elastic_password(&f.app, "logs").await;

    let r = member
        .client
        .get(f.app.url("/t/acme/clusters/logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert_eq!(
        between(&html, "id=\"password\" class=\"secret\">", "<"),
        password,
        "the password of the cluster's Secret, shown once"
    );
    assert!(html.contains("id=\"password-once\""));
    // A reload: no password, and no second audit row.
    let (_, again) = member.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(!again.contains(&password), "{again}");
    assert!(again.contains("id=\"reveal-password\""));
    let audits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'cluster.credentials_reveal'",
    )
    .fetch_one(&f.app.pool)
    .await
    .unwrap();
    assert_eq!(audits, 1);
}
