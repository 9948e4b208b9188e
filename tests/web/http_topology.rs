//! The request form's helpers and the topology form of an existing cluster over HTTP: preset sizes, the
//! storage class chosen from the platform's list, template descriptions with code, a node set added and
//! Kibana removed through a `reconfigure`, and refusals (a viewer, a quota) written to the audit log.

use esaas::tenants::Role;
use esaas::tenants::quota::Resources;
use sqlx::PgPool;

use crate::{Fixture, ROOMY, fields, three_nodes_form};

/// The topology form's fields for the `three-nodes` cluster `logs` as created, plus `extra`.
fn topology_fields(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    let mut owned: Vec<(&'static str, String)> = three_nodes_form("logs", "3")
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "template" | "name" | "version" | "http_tls"))
        .collect();
    owned.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    owned
}

#[sqlx::test]
async fn a_preset_fills_the_sizes_and_the_storage_class_comes_from_the_list(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;
    let (status, html) = member
        .get(&f.app, "/t/acme/clusters/new?template=hot-warm-cold")
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<code>data</code>"),
        "the description's code is rendered, not shown with backticks"
    );
    let grid = &html[html.find("template-grid").unwrap()..];
    let grid = &grid[..grid.find("</ul>").unwrap()];
    assert!(!grid.contains('`'), "{grid}");
    assert!(
        html.contains("<option value=\"\" selected>Platform default (standard)</option>"),
        "{html}"
    );
    assert!(
        !html.contains("name=\"node_sets.0.storage_class\" type=\"text\""),
        "no free text for the storage class"
    );

    let owned = three_nodes_form("logs", "3");
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned, &[("action", "preset:0:m")]),
        )
        .await;
    assert_eq!(status, 200);
    for (field, value) in [
        ("cpu_cores", "2"),
        ("memory_gib", "4"),
        ("storage_gib", "128"),
    ] {
        let id = format!("id=\"f-node_sets-0-{field}\"");
        let input = &html[html.find(&id).unwrap()..];
        let input = &input[..input.find('>').unwrap()];
        assert!(input.contains(&format!("value=\"{value}\"")), "{input}");
    }
    assert!(
        html.contains("value=\"preset:0:m\" class=\"btn btn-small preset preset-current\" aria-pressed=\"true\""),
        "{html}"
    );
    assert!(
        html.contains("value=\"logs\""),
        "the rest of the input is kept"
    );

    // A class the platform does not offer is refused at the field, in a sentence.
    let mut odd = three_nodes_form("logs", "3");
    odd.retain(|(k, _)| *k != "node_sets.0.storage_class");
    odd.push(("node_sets.0.storage_class", "does-not-exist".into()));
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&odd, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains(
            "\u{201c}does-not-exist\u{201d} is not offered; choose one of \u{201c}standard\u{201d}"
        ),
        "{html}"
    );
    assert!(html.contains(">does-not-exist (not offered)</option>"));
}

#[sqlx::test]
async fn the_topology_form_adds_a_node_set_and_removes_kibana(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;
    f.create_cluster(&member, "logs", "three-nodes").await;
    f.wait_settled("logs", "green").await;

    let (status, html) = member.get(&f.app, "/t/acme/clusters/logs/topology").await;
    assert_eq!(status, 200);
    assert!(html.contains("Node sets and Kibana of logs"));
    assert!(html.contains("name=\"node_sets.0.name\" type=\"text\" value=\"default\""));
    assert!(html.contains("id=\"apply-topology\""));

    // Add a node set: the form comes back with a second one, nothing is written yet.
    let owned = topology_fields(&[("kibana.enabled", "on")]);
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/topology",
            &fields(&owned, &[("action", "add_node_set")]),
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"node_sets.1.name\" type=\"text\" value=\"set-2\""));

    // Apply two node sets and no Kibana (its checkbox left out).
    let mut owned: Vec<(&'static str, String)> = topology_fields(&[])
        .into_iter()
        .filter(|(k, _)| !k.starts_with("kibana."))
        .collect();
    for (k, v) in [
        ("node_sets.1.name", "extra"),
        ("node_sets.1.roles", "data"),
        ("node_sets.1.count", "2"),
        ("node_sets.1.cpu_cores", "1"),
        ("node_sets.1.memory_gib", "2"),
        ("node_sets.1.storage_gib", "10"),
        ("node_sets.1.storage_class", ""),
        ("node_sets.1.attributes", ""),
    ] {
        owned.push((k, v.to_owned()));
    }
    let (status, location) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/topology",
            &fields(&owned, &[("action", "apply")]),
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, "/t/acme/clusters/logs");
    let (kind, sets, kibana): (String, i64, bool) = sqlx::query_as(
        "SELECT o.kind, jsonb_array_length(c.spec->'node_sets')::bigint,
                c.spec ? 'kibana' AND c.spec->'kibana' <> 'null'::jsonb
         FROM operations o JOIN clusters c ON c.id = o.cluster_id
         WHERE c.name = 'logs' ORDER BY o.created_at DESC LIMIT 1",
    )
    .fetch_one(&f.app.pool)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), sets, kibana), ("reconfigure", 2, false));
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'cluster.reconfigure' AND outcome = 'ok'",
    )
    .fetch_one(&f.app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    f.wait_settled("logs", "green").await;
}

#[sqlx::test]
async fn refusals_are_audited_once_per_reason(pool: PgPool) {
    let limits = Resources { nodes: 5, ..ROOMY };
    let f = Fixture::new(pool, limits, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    let viewer = f.user("viewer@acme.test", Role::Viewer).await;
    f.create_cluster(&owner, "logs", "three-nodes").await;

    let (status, _) = viewer.get(&f.app, "/t/acme/clusters/logs/topology").await;
    assert_eq!(status, 403);
    let owned = topology_fields(&[("kibana.enabled", "on")]);
    for _ in 0..3 {
        let (status, _) = viewer
            .post_text(
                &f.app,
                "/t/acme/clusters/logs/topology",
                &fields(&owned, &[("action", "apply")]),
            )
            .await;
        assert_eq!(status, 403);
    }
    // Over the quota through the request form.
    let big = three_nodes_form("big", "7");
    let (status, _) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&big, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 422);

    let rows: Vec<(String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT action, actor, after->>'reason', (after->>'count')::bigint
         FROM audit_log WHERE outcome = 'denied' ORDER BY action",
    )
    .fetch_all(&f.app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (action, actor, reason, _) = &rows[0];
    assert_eq!(
        (action.as_str(), actor.as_str()),
        ("cluster.create", "owner@acme.test")
    );
    assert!(reason.contains("Exceeds the nodes quota"), "{reason}");
    let (action, actor, reason, count) = &rows[1];
    assert_eq!(
        (action.as_str(), actor.as_str()),
        ("cluster.reconfigure", "viewer@acme.test")
    );
    assert!(reason.contains("may not change clusters"), "{reason}");
    assert_eq!(*count, Some(3), "repetitions are counted into one row");
    let clusters: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(clusters, 1, "nothing was written by the refused requests");
}

#[sqlx::test]
async fn error_pages_keep_the_navigation(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let viewer = f.user("viewer@acme.test", Role::Viewer).await;
    let (status, html) = viewer.get(&f.app, "/t/acme/clusters/nope").await;
    assert_eq!(status, 404);
    assert!(html.contains("class=\"mainnav\""), "{html}");
    assert!(
        html.contains("viewer@acme.test"),
        "the account menu is there"
    );
    let (status, html) = viewer.get(&f.app, "/t/acme/clusters/new").await;
    assert_eq!(status, 403);
    assert!(html.contains("class=\"mainnav\"") && html.contains("may look at clusters"));
    // Anonymous callers keep the plain page (nothing to navigate to).
    let r = reqwest::get(f.app.url("/t/acme/clusters/nope/live"))
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(!body.contains("class=\"mainnav\""));
}
