//! The layout in a real browser at a desktop (1440x900) and a phone (390x844) width: every page of a
//! member's and a platform admin's journey renders without sideways scrolling of the page (wide tables
//! scroll inside their own box), the request form's submit button is on screen without scrolling, and a
//! screenshot of every page at both widths lands in `target/screenshots/` (`layout-<width>-<page>.png`).

use std::time::Duration;

use esaas::tenants::Role;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::{Fixture, ROOMY};

const WIDTHS: [(u32, u32); 2] = [(1440, 900), (390, 844)];

/// The page's width beyond the window's (0: no sideways scroll) and the viewport width.
async fn overflow(b: &Browser) -> (i64, i64) {
    let v = b
        .client
        .execute(
            "return [document.documentElement.scrollWidth - window.innerWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_i64().unwrap(), v[1].as_i64().unwrap())
}

/// Whether the element's box lies within the window as the page first shows (no scrolling).
async fn on_screen(b: &Browser, selector: &str) -> bool {
    let el = b.css(selector).await;
    b.client
        .execute(
            "const r = arguments[0].getBoundingClientRect(); \
             return r.top >= 0 && r.bottom <= window.innerHeight && r.width > 0;",
            vec![serde_json::to_value(&el).unwrap()],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap()
}

#[sqlx::test]
async fn every_page_fits_the_phone_and_the_desktop_without_sideways_scrolling(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let Some(b) =
        Browser::start("every_page_fits_the_phone_and_the_desktop_without_sideways_scrolling")
            .await
    else {
        return;
    };
    let admin = f
        .app
        .create_user("admin@acme.test", crate::PASSWORD, true)
        .await;
    crate::add_member(&f.app.pool, f.tenant_id, admin, Role::Owner).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "three-nodes").await;
    f.wait_settled("logs", "green").await;

    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    b.login(base, "admin@acme.test").await;
    b.submit_login().await;
    let pages = [
        ("clusters", "/t/acme/clusters"),
        ("templates", "/t/acme/clusters/new"),
        ("request", "/t/acme/clusters/new?template=hot-warm-cold"),
        ("dashboard", "/t/acme/clusters/logs"),
        ("scale", "/t/acme/clusters/logs/scale"),
        ("resize", "/t/acme/clusters/logs/resize"),
        ("topology", "/t/acme/clusters/logs/topology"),
        ("upgrade", "/t/acme/clusters/logs/upgrade"),
        ("restart", "/t/acme/clusters/logs/restart"),
        ("protection", "/t/acme/clusters/logs/protection"),
        ("delete", "/t/acme/clusters/logs/delete"),
        ("members", "/t/acme/members"),
        ("quota", "/t/acme/quota"),
        ("tenant-audit", "/t/acme/audit"),
        ("account", "/account"),
        ("tokens", "/account/tokens"),
        ("admin-tenants", "/admin/tenants"),
        ("admin-users", "/admin/users"),
        ("admin-storage-classes", "/admin/storage-classes"),
        ("admin-audit", "/admin/audit"),
        ("not-found", "/t/acme/clusters/nope"),
    ];
    let mut too_wide = Vec::new();
    for (w, h) in WIDTHS {
        b.client.set_window_size(w, h).await.unwrap();
        for (name, path) in pages {
            b.client.goto(&format!("{base}{path}")).await.unwrap();
            b.css("main").await;
            tokio::time::sleep(Duration::from_millis(150)).await;
            let (over, viewport) = overflow(&b).await;
            if over > 1 {
                too_wide.push(format!("{name} at {viewport} px: {over} px too wide"));
            }
            if name == "not-found" {
                b.assert_console_clean_except(name, &["404 (Not Found)"])
                    .await;
            }
            b.screenshot(&format!("layout-{w}-{name}")).await;
        }
        // The request form's buttons are on screen as the page opens, however long the form is.
        b.client
            .goto(&format!(
                "{base}/t/acme/clusters/new?template=hot-warm-cold"
            ))
            .await
            .unwrap();
        assert!(
            on_screen(&b, "#submit-request").await,
            "the Request button is out of reach at {w}x{h}"
        );
        b.client
            .goto(&format!("{base}/t/acme/clusters/logs/topology"))
            .await
            .unwrap();
        assert!(on_screen(&b, "#apply-topology").await, "at {w}x{h}");
    }
    assert!(
        too_wide.is_empty(),
        "pages wider than the window: {too_wide:#?}"
    );
    // The navigation stays on error pages: a 404 inside the signed-in layout.
    b.client
        .goto(&format!("{base}/t/acme/clusters/nope"))
        .await
        .unwrap();
    b.assert_console_clean_except("the 404 page", &["404 (Not Found)"])
        .await;
    assert!(
        b.client
            .find(fantoccini::Locator::Css(
                "header a[href='/t/acme/clusters']"
            ))
            .await
            .is_ok(),
        "the 404 page keeps the navigation"
    );
    b.client.clone().close().await.unwrap();
}
