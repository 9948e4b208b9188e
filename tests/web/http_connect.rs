//! The dashboard's Connect card over HTTP: internal only it says so in a sentence; with an Ingress it shows
//! the external endpoint and Kibana URL with Copy buttons and "Open Kibana"; and the IP allow-list form:
//! a member saves it (redirect, flash, audit row, the list shown), a bad entry is refused at the field with
//! what was typed kept, and a viewer sees no form and is refused.

use esaas::k8s::expose::{Exposure, IngressSettings, IngressTls};
use esaas::tenants::Role;
use sqlx::PgPool;

use crate::{Fixture, ROOMY};

#[sqlx::test]
async fn an_internal_cluster_says_so_and_has_no_external_address(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "three-nodes").await;
    let (status, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"internal-only\">Internal only: reachable from inside Kubernetes"));
    assert!(!html.contains("id=\"endpoint-external\""));
    assert!(!html.contains("Open Kibana"));
    assert!(html.contains("data-copy=\"#endpoint\""));
    assert!(html.contains("data-copy=\"#kibana-internal\""));
    assert!(html.contains("No allow-list: the endpoints are open to anyone who can reach them"));
}

#[sqlx::test]
async fn an_ingress_cluster_shows_its_external_endpoint_and_kibana(pool: PgPool) {
    let f = Fixture::with_config(pool, ROOMY, |c| {
        c.exposure = Exposure::Ingress(IngressSettings {
            domain: "search.example.com".into(),
            class: None,
            tls: IngressTls::ControllerDefault,
        });
    })
    .await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "three-nodes").await;
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    for needle in [
        "<code id=\"endpoint-external\">https://logs-acme.search.example.com</code>",
        "data-copy=\"#endpoint-external\"",
        "<code id=\"kibana-external\">https://logs-acme-kibana.search.example.com</code>",
        "data-copy=\"#kibana-external\"",
        "id=\"open-kibana\" href=\"https://logs-acme-kibana.search.example.com\"",
        "https://logs-acme.search.example.com/_cluster/health?pretty",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    assert!(!html.contains("id=\"internal-only\""));
}

#[sqlx::test]
async fn members_edit_the_allow_list_and_viewers_may_not(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;
    let viewer = f.user("viewer@acme.test", Role::Viewer).await;
    f.create_cluster(&member, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    let path = "/t/acme/clusters/logs/allow-list";

    // A bad entry: 422, the message at the field naming the line, the text kept, nothing stored.
    let (status, html) = member
        .post_text(
            &f.app,
            path,
            &[("ip_allow_list", "203.0.113.0/24\n10.1.2.3/8")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"ip_allow_list-error\">Line 2: 10.1.2.3/8 has bits set after the prefix: did you mean 10.0.0.0/8?"), "{html}");
    assert!(html.contains(">203.0.113.0/24\n10.1.2.3/8</textarea>"));
    let stored: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT spec->'ip_allow_list' FROM clusters WHERE name = 'logs'")
            .fetch_one(&f.app.pool)
            .await
            .unwrap();
    assert_eq!(stored, None);

    // A good one: redirect to the dashboard, which shows it; audited as a reconfigure.
    let (status, location) = member
        .post_text(
            &f.app,
            path,
            &[("ip_allow_list", "203.0.113.0/24, 198.51.100.7")],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, "/t/acme/clusters/logs"));
    let (_, html) = member.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(
        html.contains("The IP allow-list now has 2 networks"),
        "the flash"
    );
    assert!(
        html.contains("<li><code>198.51.100.7/32</code></li><li><code>203.0.113.0/24</code></li>")
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action LIKE 'cluster.%' AND after::text LIKE '%198.51.100.7/32%'",
    )
    .fetch_one(&f.app.pool)
    .await
    .unwrap();
    assert!(audited >= 1, "the change is in the audit log");

    // A viewer sees the list but no form, and a forged post is refused.
    let (_, html) = viewer.get(&f.app, "/t/acme/clusters/logs").await;
    assert!(html.contains("<code>203.0.113.0/24</code>"));
    assert!(!html.contains("id=\"allow-list-form\""));
    let (status, _) = viewer
        .post_text(&f.app, path, &[("ip_allow_list", "0.0.0.0/0")])
        .await;
    assert_eq!(status, 403);

    // Without the CSRF token: refused, nothing changes.
    let r = member
        .client
        .post(f.app.url(path))
        .form(&[("ip_allow_list", "0.0.0.0/0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
