//! The audit pages: filters (tenant, actor, action prefix, dates), keyset pagination by 50, tenant scoping.

use esaas::audit::{self, Actor, AuditEntry};
use esaas::request_meta::RequestMeta;
use esaas::tenants::Role;
use sqlx::PgPool;
use uuid::Uuid;

use super::common::TestApp;
use super::{add_member, create_tenant};

async fn write(pool: &PgPool, actor: &Actor, tenant_id: Option<Uuid>, action: &str, target: &str) {
    let mut conn = pool.acquire().await.unwrap();
    audit::record(
        &mut conn,
        AuditEntry {
            actor,
            tenant_id,
            action,
            target_kind: "test",
            target,
            outcome: "ok",
            before: None,
            after: Some(serde_json::json!({ "n": target })),
            meta: &RequestMeta::default(),
        },
    )
    .await
    .unwrap();
}

/// Ids of the rows on a page, in order (`id="audit-N"`).
fn ids(html: &str) -> Vec<i64> {
    html.match_indices("id=\"audit-")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// The href of the link with this text.
fn link(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!(">{text}</a>"))?;
    let start = html[..end].rfind("<a href=\"")? + 9;
    let len = html[start..].find('"')?;
    Some(
        html[start..start + len]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

#[sqlx::test]
async fn admins_page_through_and_filter_the_audit_log(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let a = create_tenant(&pool, "alpha").await;
    let b = create_tenant(&pool, "beta").await;
    let s = app.sign_in("root@example.com", true).await;
    let ann = Actor {
        user_id: None,
        label: "ann@example.com".into(),
    };
    let bob = Actor {
        user_id: None,
        label: "bob@example.com".into(),
    };
    sqlx::query("DELETE FROM audit_log")
        .execute(&pool)
        .await
        .unwrap();
    for i in 0..120 {
        let (actor, tenant) = if i % 2 == 0 {
            (&ann, a.id)
        } else {
            (&bob, b.id)
        };
        let action = if i % 3 == 0 {
            "member.add"
        } else {
            "cluster.scale"
        };
        write(&pool, actor, Some(tenant), action, &format!("t{i}")).await;
    }

    let (status, html) = s.get(&app, "/admin/audit").await;
    assert_eq!(status, 200);
    let first = ids(&html);
    assert_eq!(first.len(), 50);
    assert!(first.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert!(link(&html, "← Newer").is_none());
    let older = link(&html, "Older →").expect("an older page");
    let (_, html) = s.get(&app, &older).await;
    let second = ids(&html);
    assert_eq!(second.len(), 50);
    assert!(second[0] < first[49]);
    let (_, html) = s.get(&app, &link(&html, "Older →").unwrap()).await;
    let third = ids(&html);
    assert_eq!(third.len(), 20);
    assert!(link(&html, "Older →").is_none(), "the last page");
    let (_, html) = s.get(&app, &link(&html, "← Newer").unwrap()).await;
    assert_eq!(ids(&html), second, "paging back up gives the same page");

    // Filters, kept in the pager links.
    let (_, html) = s
        .get(&app, "/admin/audit?tenant=alpha&action=member.")
        .await;
    let rows = ids(&html);
    assert_eq!(rows.len(), 20, "even i and i % 3 == 0: 20 rows");
    assert!(!html.contains("beta</a>"));
    let (_, html) = s.get(&app, "/admin/audit?actor=BOB@example").await;
    assert_eq!(ids(&html).len(), 50);
    let older = link(&html, "Older →").unwrap();
    assert!(older.contains("actor=BOB%40example"), "{older}");
    let (_, html) = s.get(&app, &older).await;
    assert_eq!(ids(&html).len(), 10, "{older}");
    assert!(!html.contains("ann@example.com"));

    let today = chrono::Utc::now().date_naive();
    let (_, html) = s
        .get(
            &app,
            &format!("/admin/audit?from={today}&to={today}&action=cluster."),
        )
        .await;
    assert_eq!(ids(&html).len(), 50);
    let tomorrow = today.succ_opt().unwrap();
    let (_, html) = s.get(&app, &format!("/admin/audit?from={tomorrow}")).await;
    assert!(ids(&html).is_empty());
    assert!(html.contains("No audit rows match."));

    // Bad filters are explained beside the field, input kept.
    let (status, html) = s
        .get(&app, "/admin/audit?from=yesterday&tenant=nosuch")
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"from-error\">Enter a date as YYYY-MM-DD."));
    assert!(html.contains("No tenant has the slug"));
    assert!(html.contains("value=\"yesterday\""));
    let (status, html) = s
        .get(&app, &format!("/admin/audit?from={tomorrow}&to={today}"))
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"to-error\">The end date is before the start date."));
}

#[sqlx::test]
async fn a_tenant_audit_log_shows_only_that_tenant(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let a = create_tenant(&pool, "alpha").await;
    let b = create_tenant(&pool, "beta").await;
    let s = app.sign_in("owner@example.com", false).await;
    let owner = s.user_id;
    add_member(&pool, a.id, owner, Role::Admin).await;
    let actor = Actor::user(owner, "owner@example.com");
    write(&pool, &actor, Some(a.id), "cluster.create", "mine").await;
    write(&pool, &actor, Some(b.id), "cluster.create", "theirs").await;
    write(&pool, &actor, None, "user.create", "global").await;
    let (status, html) = s.get(&app, "/t/alpha/audit").await;
    assert_eq!(status, 200);
    assert!(html.contains("test: mine"));
    assert!(!html.contains("test: theirs") && !html.contains("test: global"));
    // A tenant filter in the query cannot widen the scope.
    let (_, html) = s.get(&app, "/t/alpha/audit?tenant=beta").await;
    assert!(!html.contains("test: theirs"));
}
