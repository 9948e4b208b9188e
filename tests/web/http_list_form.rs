//! The clusters list and the request form over HTTP: empty state, rows with health and operations, the
//! health filter, errors kept with the input, the quota refusal at the field, the htmx preview fragment.

use esaas::tenants::Role;
use esaas::tenants::quota::Resources;
use sqlx::PgPool;

use crate::{Fixture, ROOMY, assert_csp_clean, fields, three_nodes_form};

#[sqlx::test]
async fn empty_list_leads_to_the_request_form(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;
    let (status, html) = member.get(&f.app, "/t/acme/clusters").await;
    assert_eq!(status, 200);
    assert!(html.contains("No clusters yet"), "{html}");
    assert!(html.contains("href=\"/t/acme/clusters/new\""));
    assert!(html.contains("Request a cluster"));
    assert_csp_clean(&html);

    let viewer = f.user("viewer@acme.test", Role::Viewer).await;
    let (status, html) = viewer.get(&f.app, "/t/acme/clusters").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("/t/acme/clusters/new"),
        "viewers get no request button"
    );
    assert!(
        html.contains("Your role (viewer) may look at clusters but not request or change them"),
        "the page says who may request: {html}"
    );
}

#[sqlx::test]
async fn list_shows_health_operations_and_filters(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "alpha", "single-node").await;
    f.create_cluster(&owner, "beta", "three-nodes").await;
    f.wait_settled("alpha", "green").await;
    f.wait_settled("beta", "green").await;
    // A pending operation with a Kubernetes error and a stall, and a red cluster, written as the
    // lifecycle would.
    sqlx::query("UPDATE clusters SET health = 'red' WHERE tenant_id = $1 AND name = 'beta'")
        .bind(f.tenant_id)
        .execute(&f.app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO operations (cluster_id, tenant_id, kind, state, target_generation, last_error, \
         stalled_reason, steps, next_attempt_at) \
         SELECT id, tenant_id, 'restart', 'applying', generation, 'waiting for Kubernetes: connection refused', \
         'no progress from Kubernetes for 600 s', '[{\"at\":\"2026-01-01T00:00:00Z\",\"message\":\"restart requested\"}]', \
         now() + interval '1 hour' FROM clusters WHERE name = 'beta'",
    )
    .execute(&f.app.pool)
    .await
    .unwrap();

    let (status, html) = owner.get(&f.app, "/t/acme/clusters").await;
    assert_eq!(status, 200);
    assert_csp_clean(&html);
    let alpha = &html[html.find("id=\"cluster-alpha\"").unwrap()..];
    let alpha = &alpha[..alpha.find("</tr>").unwrap()];
    assert!(alpha.contains("state-ready\">Ready"), "{alpha}");
    assert!(alpha.contains("health green · phase Ready"), "{alpha}");
    assert!(alpha.contains("1/1"), "{alpha}");
    assert!(alpha.contains("owner@acme.test"));
    let beta = &html[html.find("id=\"cluster-beta\"").unwrap()..];
    let beta = &beta[..beta.find("</tr>").unwrap()];
    assert!(beta.contains("state-stalled\">Stalled"), "{beta}");
    assert!(beta.contains("health red"), "{beta}");
    assert!(beta.contains("restart · applying"), "{beta}");
    assert!(
        beta.contains("waiting for Kubernetes: connection refused"),
        "{beta}"
    );
    assert!(beta.contains("stalled"), "{beta}");

    let (_, html) = owner.get(&f.app, "/t/acme/clusters?health=red").await;
    assert!(html.contains("id=\"cluster-beta\""));
    assert!(!html.contains("id=\"cluster-alpha\""));
    assert!(
        html.contains("aria-current=\"page\">"),
        "the filter in force is marked"
    );
    let (_, html) = owner.get(&f.app, "/t/acme/clusters?health=yellow").await;
    assert!(html.contains("No yellow clusters"));
    // An unknown filter value shows everything.
    let (_, html) = owner.get(&f.app, "/t/acme/clusters?health=purple").await;
    assert!(html.contains("id=\"cluster-alpha\"") && html.contains("id=\"cluster-beta\""));
}

#[sqlx::test]
async fn form_errors_come_back_beside_the_fields_with_the_input_kept(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;
    let (status, html) = member.get(&f.app, "/t/acme/clusters/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("?template=three-nodes"), "template cards");
    assert!(
        !html.contains("id=\"cluster-form\""),
        "no form before a template is chosen"
    );

    let (status, html) = member
        .get(&f.app, "/t/acme/clusters/new?template=hot-warm-cold")
        .await;
    assert_eq!(status, 200);
    assert_csp_clean(&html);
    assert!(html.contains("value=\"data=hot\""), "attributes pre-filled");
    assert!(html.contains("Fits your tenant"), "{html}");
    assert!(html.contains("<label for=\"f-node_sets-3-count\">"));

    let owned = three_nodes_form("Bad_Name!", "three");
    let mut form = fields(&owned, &[("action", "create")]);
    form.retain(|(k, _)| *k != "node_sets.0.attributes");
    form.push(("node_sets.0.attributes", "hot"));
    let (status, html) = member
        .post_text(&f.app, "/t/acme/clusters/new", &form)
        .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("value=\"Bad_Name!\""), "the name is kept");
    assert!(html.contains("value=\"three\""), "the count is kept");
    assert!(html.contains("value=\"hot\""), "the attributes are kept");
    let at = |id: &str| {
        let start = html
            .find(&format!("id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no {id} in {html}"));
        html[start..start + html[start..].find("</p>").unwrap()].to_owned()
    };
    assert!(!at("e-name").is_empty());
    assert!(at("e-node_sets-0-count").contains("Enter a whole number"));
    assert!(at("e-node_sets-0-attributes").contains("key=value"));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains("id=\"error-summary\""));
    assert!(
        html.contains("href=\"#f-node_sets-0-count\""),
        "the summary links to the field"
    );
    let clusters: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(clusters, 0);

    // Add and remove node sets without JavaScript.
    let owned = three_nodes_form("logs", "3");
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned, &[("action", "add_node_set")]),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"node_sets.1.name\" type=\"text\" value=\"set-2\""),
        "{html}"
    );
    assert!(html.contains("value=\"logs\""));
    let mut owned2 = owned.clone();
    owned2.push(("node_sets.1.name", "extra".into()));
    owned2.push(("node_sets.1.count", "2".into()));
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned2, &[("action", "remove_node_set:0")]),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"node_sets.0.name\" type=\"text\" value=\"extra\""),
        "{html}"
    );
    assert!(!html.contains("node_sets.1.name"));

    // A valid request redirects to the dashboard with a message.
    let (status, location) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, "/t/acme/clusters/logs");
    let (status, html) = member.get(&f.app, &location).await;
    assert_eq!(status, 200);
    assert!(html.contains("Cluster logs requested"), "flash shown");

    // The same name again: refused at the name, input kept.
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("already exists"), "{html}");
}

#[sqlx::test]
async fn quota_refusal_is_shown_at_the_field(pool: PgPool) {
    let limits = Resources { nodes: 5, ..ROOMY };
    let f = Fixture::new(pool, limits, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;
    let owned = three_nodes_form("big", "7");

    // The preview button: 200, the panel and the field say it.
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned, &[("action", "preview")]),
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Exceeds your tenant"), "{html}");
    let slot = &html[html.find("id=\"q-node_sets-0-count\">").unwrap()..];
    assert!(
        slot.starts_with(
            "id=\"q-node_sets-0-count\">Exceeds the nodes quota (limit 5 nodes): this request adds 7 nodes, and the tenant has 5 nodes left."
        ),
        "{slot}"
    );

    // Submitting anyway: 422, nothing created, the service's verdict at the field and in the panel.
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"q-node_sets-0-count\">Exceeds the nodes quota"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"quota-refusal\""),
        "the service's refusal has the preview's words, so it is not repeated in a banner: {html}"
    );
    assert_eq!(
        html.matches("Exceeds the nodes quota").count(),
        1,
        "one message per limit: {html}"
    );
    assert!(html.contains("ask a platform admin to raise it"), "{html}");
    assert!(html.contains("value=\"7\""));
    let clusters: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(clusters, 0);

    // The htmx preview: the panel and out-of-band slots only.
    let r = member
        .post(&f.app, "/t/acme/clusters/new/preview", &fields(&owned, &[]))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.trim_start()
            .starts_with("<section class=\"card quota-panel quota-refused\" id=\"quota-preview\""),
        "{html}"
    );
    assert!(!html.contains("<html"));
    assert!(
        html.contains("id=\"q-node_sets-0-count\" hx-swap-oob=\"true\">Exceeds the nodes quota")
    );
    assert!(html.contains("id=\"q-name\" hx-swap-oob=\"true\"></p>"));
    let fits = three_nodes_form("small", "3");
    let html = member
        .post(&f.app, "/t/acme/clusters/new/preview", &fields(&fits, &[]))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Fits your tenant"));
    assert!(html.contains("id=\"q-node_sets-0-count\" hx-swap-oob=\"true\"></p>"));
}
