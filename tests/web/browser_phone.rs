//! What a phone (390x844) and a desktop (1440x900) show in a real browser beyond fitting the window
//! (`browser_layout`): tables become cards, the dashboard puts the state, the running operation, Connect and
//! Actions before the details, the charts' labels stay legible, actions that cannot work are disabled with
//! the reason on screen, and the tenant switcher switches on change.

use std::time::Duration;

use esaas::tenants::Role;
use fantoccini::Locator;
use serde_json::Value;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::common::poll::eventually;
use crate::{Fixture, ROOMY};

/// Run a script returning JSON with the element matched by `selector` as `arguments[0]`.
async fn on(b: &Browser, selector: &str, script: &str) -> Value {
    let el = b.css(selector).await;
    b.client
        .execute(script, vec![serde_json::to_value(&el).unwrap()])
        .await
        .unwrap()
}

/// The top of the element's box, in page coordinates.
async fn top(b: &Browser, selector: &str) -> f64 {
    on(
        b,
        selector,
        "return arguments[0].getBoundingClientRect().top + window.scrollY;",
    )
    .await
    .as_f64()
    .unwrap()
}

/// The computed `display` of the element.
async fn display(b: &Browser, selector: &str) -> String {
    on(
        b,
        selector,
        "return getComputedStyle(arguments[0]).display;",
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

/// The smallest on-screen height of the text labels of the charts drawn for this width (the visible ones).
async fn smallest_chart_text(b: &Browser) -> f64 {
    b.client
        .execute(
            "const hs = [...document.querySelectorAll('svg.chart text')] \
               .filter(t => t.closest('svg').getBoundingClientRect().width > 0) \
               .map(t => t.getBoundingClientRect().height); \
             return hs.length ? Math.min(...hs) : -1;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap()
}

/// Hold a restart of `name` pending for an hour (the reconciler leaves it alone).
async fn hold_restart(f: &Fixture, name: &str) {
    sqlx::query(
        "INSERT INTO operations (cluster_id, tenant_id, kind, state, params, target_generation, next_attempt_at, steps) \
         SELECT id, tenant_id, 'restart', 'pending', '{}'::jsonb, generation, now() + interval '1 hour', \
         '[{\"at\":\"2026-01-01T00:00:00Z\",\"message\":\"requested\"}]' FROM clusters WHERE name = $1",
    )
    .bind(name)
    .execute(&f.app.pool)
    .await
    .unwrap();
}

#[sqlx::test]
async fn phones_get_cards_the_important_things_first_and_legible_charts(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let Some(b) =
        Browser::start("phones_get_cards_the_important_things_first_and_legible_charts").await
    else {
        return;
    };
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "three-nodes").await;
    f.wait_settled("logs", "green").await;
    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    b.login(base, "owner@acme.test").await;
    b.submit_login().await;

    // Phone.
    b.client.set_window_size(390, 844).await.unwrap();
    b.client
        .goto(&format!("{base}/t/acme/clusters"))
        .await
        .unwrap();
    assert_eq!(
        display(&b, "#cluster-logs").await,
        "block",
        "a row is a card"
    );
    let label = on(
        &b,
        "#cluster-logs td[data-label='State']",
        "return getComputedStyle(arguments[0], '::before').content;",
    )
    .await;
    assert_eq!(label, "\"State\"", "each cell under its column's name");
    assert!(
        on(
            &b,
            ".clusters-table thead",
            "return arguments[0].getBoundingClientRect().height;"
        )
        .await
        .as_f64()
        .unwrap()
            <= 1.0,
        "the column heads are for screen readers only"
    );
    b.screenshot("phone-clusters-cards").await;

    b.client
        .goto(&format!("{base}/t/acme/clusters/logs"))
        .await
        .unwrap();
    b.css("#pods-heading").await;
    let (summary, connect, actions, nodesets, pods, history) = (
        top(&b, "#summary").await,
        top(&b, "#connection").await,
        top(&b, "#actions").await,
        top(&b, "#node-sets-heading").await,
        top(&b, "#pods-heading").await,
        top(&b, "#history-heading").await,
    );
    assert!(
        summary < connect && connect < actions && actions < nodesets && nodesets < pods,
        "state, Connect, Actions, then the details: {summary} {connect} {actions} {nodesets} {pods}"
    );
    assert!(
        actions < 844.0 * 3.0,
        "Actions within three screens: {actions}"
    );
    // The narrow chart is the one shown, and its labels are about the size of the page's small text.
    assert_eq!(display(&b, "svg.chart-wide").await, "none");
    assert_eq!(display(&b, "svg.chart-narrow").await, "block");
    let smallest = smallest_chart_text(&b).await;
    assert!(smallest >= 9.0, "chart text {smallest} px high on a phone");
    assert!(history > pods);
    // The live refresh still swaps the (display: contents) #live in place, order kept.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(top(&b, "#summary").await < top(&b, "#connection").await);
    b.screenshot("phone-dashboard-order").await;

    // Desktop: the wide chart, still legible, and tables as tables.
    b.client.set_window_size(1440, 900).await.unwrap();
    b.client.refresh().await.unwrap();
    b.css("#pods-heading").await;
    assert_eq!(display(&b, "svg.chart-narrow").await, "none");
    assert_eq!(display(&b, "svg.chart-wide").await, "block");
    let smallest = smallest_chart_text(&b).await;
    assert!(
        smallest >= 9.0,
        "chart text {smallest} px high on a desktop"
    );
    b.client
        .goto(&format!("{base}/t/acme/clusters"))
        .await
        .unwrap();
    assert_eq!(display(&b, "#cluster-logs").await, "table-row");
    b.assert_console_clean("the phone pages").await;
    b.client.clone().close().await.unwrap();
}

#[sqlx::test]
async fn actions_that_cannot_work_are_disabled_with_the_reason_on_screen(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let Some(b) =
        Browser::start("actions_that_cannot_work_are_disabled_with_the_reason_on_screen").await
    else {
        return;
    };
    let owner = f.user("owner@acme.test", Role::Owner).await;
    f.create_cluster(&owner, "logs", "single-node").await;
    f.wait_settled("logs", "green").await;
    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    b.login(base, "owner@acme.test").await;
    b.submit_login().await;
    b.client.set_window_size(1440, 900).await.unwrap();
    b.client
        .goto(&format!("{base}/t/acme/clusters/logs"))
        .await
        .unwrap();
    // Live while nothing runs.
    assert!(
        b.client
            .find(Locator::Css(
                "#actions a[href='/t/acme/clusters/logs/scale']"
            ))
            .await
            .is_ok()
    );

    hold_restart(&f, "logs").await;
    // The page follows by itself (the actions card comes with the live refresh).
    b.wait_text(
        "#actions",
        "disabled with the reason",
        |t| t.contains("unavailable while the restart operation is pending"),
        Duration::from_secs(10),
    )
    .await;
    let scale = b.css("#action-scale-disabled").await;
    assert!(scale.is_displayed().await.unwrap());
    assert_eq!(
        scale.attr("aria-disabled").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(scale.attr("href").await.unwrap(), None, "no link to follow");
    assert_eq!(
        on(
            &b,
            "#action-scale-disabled",
            "return getComputedStyle(arguments[0]).pointerEvents;"
        )
        .await,
        "none"
    );
    let reason = b.css("#actions-blocked").await;
    assert!(reason.is_displayed().await.unwrap());
    // Scrolled to, the reason and the disabled buttons are on screen together (the reason beside them).
    assert!(
        on(
            &b,
            "#actions-blocked",
            "arguments[0].scrollIntoView({block: 'center'}); \
             const r = arguments[0].getBoundingClientRect(); \
             const s = document.getElementById('action-scale-disabled').getBoundingClientRect(); \
             return r.top >= 0 && s.bottom <= window.innerHeight && r.width > 0;"
        )
        .await
        .as_bool()
        .unwrap(),
        "the reason beside the disabled buttons at 1440x900"
    );
    // Delete stays possible (it supersedes the operation).
    assert!(
        b.client
            .find(Locator::Css(
                "#actions a[href='/t/acme/clusters/logs/delete']"
            ))
            .await
            .is_ok()
    );
    // The restart page by URL: its button is disabled, the reason beside it.
    b.client
        .goto(&format!("{base}/t/acme/clusters/logs/restart"))
        .await
        .unwrap();
    let confirm = b.css("#confirm-action").await;
    assert!(!confirm.is_enabled().await.unwrap());
    assert!(
        b.css("main")
            .await
            .text()
            .await
            .unwrap()
            .contains("a restart is refused until it has finished")
    );
    b.screenshot("actions-disabled").await;
    b.assert_console_clean("the disabled actions").await;
    b.client.clone().close().await.unwrap();
}

#[sqlx::test]
async fn the_tenant_switcher_switches_on_change(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let Some(b) = Browser::start("the_tenant_switcher_switches_on_change").await else {
        return;
    };
    let owner = f.user("owner@acme.test", Role::Owner).await;
    let other =
        crate::create_tenant_with_limits(&f.app.pool, "globex-research-and-development", ROOMY)
            .await;
    crate::add_member(&f.app.pool, other.id, owner.user_id, Role::Member).await;
    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    b.login(base, "owner@acme.test").await;
    b.submit_login().await;
    b.client
        .goto(&format!("{base}/t/acme/clusters"))
        .await
        .unwrap();
    let fallback = b.css(".tenant-switch .autosubmit-fallback").await;
    assert!(
        !fallback.is_displayed().await.unwrap(),
        "no second click needed while JavaScript runs"
    );
    let select = b.css("#tenant-switch-select").await;
    select
        .select_by_value("globex-research-and-development")
        .await
        .unwrap();
    eventually(Duration::from_secs(10), "the switch", || async {
        (b.path().await == "/t/globex-research-and-development/clusters").then_some(())
    })
    .await;
    let selected = b
        .css("#tenant-switch-select")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(selected.as_deref(), Some("globex-research-and-development"));
    b.assert_console_clean("the tenant switch").await;
    b.client.clone().close().await.unwrap();
}
