//! The dashboard's "Elasticsearch" section in a real browser (the harness of [`crate::browser`]): a green
//! `three-nodes` cluster with an index of 3 shards × 1 replica lists three nodes and six started copies;
//! scaled to one node it turns yellow and says why, offering "set replicas to 0"; a viewer is not offered
//! the fix and is refused it; the member's click applies it (audited) and the section turns green again.
//!
//! Timing: the portal's own inspector loop runs (as `esaas serve` starts it) with a 1 s interval, and the
//! section refreshes itself every 5 s through htmx, so every expectation is a wait with a deadline.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use esaas::tenants::Role;
use serde_json::Value;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::{Fixture, ROOMY};

const INDEX: &str = "logs-2026.12.01";

/// Long enough for an inspector poll (1 s) plus an htmx refresh of the section (5 s), several times over.
const SECTION: Duration = Duration::from_secs(40);

/// The cells' text of every body row of the table `selector` (empty when the table is not there).
async fn rows(b: &Browser, selector: &str) -> Vec<Vec<String>> {
    let script = format!(
        "return Array.from(document.querySelectorAll({:?})).map(r => \
         Array.from(r.cells).map(c => c.innerText.trim()));",
        format!("{selector} tbody tr")
    );
    match b.client.execute(&script, vec![]).await {
        Ok(Value::Array(rows)) => rows
            .iter()
            .map(|r| {
                r.as_array()
                    .map(|cells| {
                        cells
                            .iter()
                            .map(|c| c.as_str().unwrap_or_default().to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Wait until the rows of table `selector` satisfy `ok` (the section is swapped in by htmx).
async fn wait_rows(
    b: &Browser,
    selector: &str,
    what: &str,
    ok: impl Fn(&[Vec<String>]) -> bool,
) -> Vec<Vec<String>> {
    let deadline = Instant::now() + SECTION;
    loop {
        let found = rows(b, selector).await;
        if ok(&found) {
            return found;
        }
        if Instant::now() > deadline {
            let _ = b
                .screenshot(&format!("failed-{}", what.replace(' ', "-")))
                .await;
            panic!("{selector} never showed {what}; last rows: {found:#?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Tag the section element now on the page with a script property (not markup, so a swap drops it).
async fn mark_section(b: &Browser) {
    b.client
        .execute(
            "document.getElementById('elasticsearch').esaasMark = true;",
            vec![],
        )
        .await
        .unwrap();
}

/// Whether htmx has replaced the tagged section since [`mark_section`].
async fn section_swapped(b: &Browser) -> bool {
    b.client
        .execute(
            "const s = document.getElementById('elasticsearch'); return !!s && !s.esaasMark;",
            vec![],
        )
        .await
        .unwrap()
        == Value::Bool(true)
}

/// "As of 3 s ago": a small age in seconds, and a `datetime` within the last minute.
async fn assert_fresh_timestamp(b: &Browser) {
    let age = b
        .wait_text(
            "#es-age",
            "an age in seconds",
            |t| regex::Regex::new(r"^\d+ s ago$").unwrap().is_match(t),
            SECTION,
        )
        .await;
    let seconds: i64 = age.split(' ').next().unwrap().parse().unwrap();
    assert!(seconds < 60, "the snapshot is stale: {age}");
    let line = b
        .css("#elasticsearch > p.muted")
        .await
        .text()
        .await
        .unwrap();
    assert!(line.starts_with("As of "), "{line}");
    let iso = b
        .css("#es-age")
        .await
        .attr("datetime")
        .await
        .unwrap()
        .expect("a datetime attribute");
    let at = chrono::DateTime::parse_from_rfc3339(&iso).expect("an RFC 3339 time");
    let behind = chrono::Utc::now() - at.with_timezone(&chrono::Utc);
    assert!(
        behind < chrono::Duration::seconds(60) && behind > chrono::Duration::seconds(-5),
        "datetime {iso} is {behind} behind"
    );
}

#[sqlx::test]
async fn elasticsearch_section_explains_yellow_and_applies_the_replicas_fix_in_a_browser(
    pool: PgPool,
) {
    let f = Fixture::with_config(pool, ROOMY, |c| {
        c.sim_kubelet_delay = Duration::from_millis(100);
        c.es_poll_interval = Duration::from_secs(1);
    })
    .await;
    let Some(b) = Browser::start(
        "elasticsearch_section_explains_yellow_and_applies_the_replicas_fix_in_a_browser",
    )
    .await
    else {
        return;
    };
    esaas::monitoring::inspector::spawn(&f.app.state, f.app.shutdown.clone());
    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    let member = f.user("member@acme.test", Role::Member).await;
    let viewer = f.user("viewer@acme.test", Role::Viewer).await;
    f.create_cluster(&member, "logs", "three-nodes").await;
    f.wait_settled("logs", "green").await;

    // The tenant's own `elastic` user creates the index (the portal's user may only read).
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM clusters WHERE name = 'logs'")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    let address = esaas::monitoring::inspector::repo::address(&f.app.pool, id)
        .await
        .unwrap()
        .expect("a live cluster");
    let elastic = f.app.state.es.elastic_client(&address).await.unwrap();
    elastic.create_index(INDEX, 3, 1).await.unwrap();

    b.login(base, "member@acme.test").await;
    b.submit_login().await;
    b.client
        .goto(&format!("{base}/t/acme/clusters/logs"))
        .await
        .unwrap();
    b.css("#elasticsearch").await;

    // Three nodes holding six copies, one of them the elected master; the index green, 3 × 1.
    let nodes = wait_rows(&b, "#es-nodes", "three nodes with six copies", |r| {
        r.len() == 3
            && r.iter()
                .map(|n| n[7].parse::<u64>().unwrap_or(0))
                .sum::<u64>()
                == 6
    })
    .await;
    assert_eq!(
        nodes.iter().filter(|n| n[0].ends_with(" master")).count(),
        1,
        "one elected master: {nodes:?}"
    );
    for n in &nodes {
        assert!(n[1].contains("master") && n[1].contains("data"), "{n:?}");
        assert!(n[6].contains("GiB"), "disk against the total: {n:?}");
    }
    let indices = wait_rows(&b, "#es-indices", "the index green", |r| {
        r.iter().any(|i| i[0] == INDEX && i[1] == "green")
    })
    .await;
    let index = indices.iter().find(|i| i[0] == INDEX).unwrap();
    assert_eq!(index[3], "3 × 1", "{index:?}");
    b.wait_text("#es-status", "green", |t| t == "green", SECTION)
        .await;
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#es-problems"))
            .await
            .is_err()
    );
    b.wait_text(
        "#elasticsearch > p.muted",
        "the three-node summary",
        |t| t.contains("3 nodes (3 data), 6 active shard copies") && t.contains("0 unassigned"),
        SECTION,
    )
    .await;
    assert_fresh_timestamp(&b).await;
    b.screenshot("08-elasticsearch-green").await;

    // The index's shards: each shard's primary and replica started, on different nodes.
    b.click(&format!("#es-indices a[href*='index={INDEX}']"))
        .await;
    let shards = wait_rows(&b, "#es-shards", "six started copies", |r| {
        r.len() == 6 && r.iter().all(|s| s[2] == "STARTED")
    })
    .await;
    let node_names: BTreeSet<&str> = nodes
        .iter()
        .map(|n| n[0].trim_end_matches(" master"))
        .collect();
    for shard in ["0", "1", "2"] {
        let copies: Vec<&Vec<String>> = shards.iter().filter(|s| s[0] == shard).collect();
        assert_eq!(copies.len(), 2, "{shards:?}");
        assert_eq!(
            copies
                .iter()
                .map(|c| c[1].as_str())
                .collect::<BTreeSet<_>>(),
            BTreeSet::from(["primary", "replica"])
        );
        assert_ne!(copies[0][3], copies[1][3], "two copies on one node");
        assert!(copies.iter().all(|c| node_names.contains(c[3].as_str())));
    }
    b.screenshot("09-elasticsearch-shards").await;

    // Down to one node: every replica has nowhere to go.
    b.click("a[href='/t/acme/clusters/logs/scale?node_set=default']")
        .await;
    b.set_value("#f-count", "1").await;
    b.click("#confirm-action").await;
    b.wait_text(
        ".flash-success",
        "scale accepted",
        |t| t.contains("Scaling node set default to 1"),
        Duration::from_secs(10),
    )
    .await;
    b.wait_text("#es-status", "yellow", |t| t == "yellow", SECTION)
        .await;
    let explanation = b
        .wait_text(
            "#es-problems",
            "the explanation",
            |t| t.contains(&format!("3 replicas of `{INDEX}` cannot be assigned")),
            SECTION,
        )
        .await;
    assert!(
        explanation.contains("Why is this cluster yellow?"),
        "{explanation}"
    );
    assert!(
        explanation.contains("Add a data node, or set replicas to 0."),
        "{explanation}"
    );
    let offered = b
        .css(".es-fix input[name=replicas]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(offered.as_deref(), Some("0"), "the fix offers 0 replicas");
    wait_rows(&b, "#es-nodes", "one node", |r| r.len() == 1).await;
    b.wait_text(
        "#elasticsearch > p.muted",
        "the one-node summary",
        |t| t.contains("1 node (1 data), 3 active shard copies") && t.contains("3 unassigned"),
        SECTION,
    )
    .await;
    b.screenshot("10-elasticsearch-yellow").await;

    // A viewer reads the same explanation without the fix, and the fix is refused to them.
    let (status, page) = viewer.get(&f.app, "/t/acme/clusters/logs").await;
    assert_eq!(status, 200);
    assert!(page.contains("Why is this cluster yellow?"));
    assert!(!page.contains("es-fix"), "no fix form for a viewer");
    let replicas = format!("/t/acme/clusters/logs/indices/{INDEX}/replicas");
    let (status, _) = viewer
        .post_text(&f.app, &replicas, &[("replicas", "0")])
        .await;
    assert_eq!(status, 403, "a viewer may not set replicas");
    let audited = |pool: PgPool| async move {
        sqlx::query_as::<_, (Option<uuid::Uuid>, String, String, Value, Value)>(
            "SELECT actor_user_id, target, outcome, before, after FROM audit_log \
             WHERE action = 'cluster.index_replicas' ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    assert_eq!(
        audited(f.app.pool.clone())
            .await
            .iter()
            .filter(|r| r.2 == "ok")
            .count(),
        0
    );

    // What the member types into the fix survives the section's refresh (htmx swaps the whole section).
    b.set_value(".es-fix input[name=replicas]", "2").await;
    mark_section(&b).await;
    let deadline = Instant::now() + SECTION;
    while !section_swapped(&b).await {
        assert!(Instant::now() < deadline, "the section never refreshed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let typed = b
        .css(".es-fix input[name=replicas]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        typed.as_deref(),
        Some("2"),
        "a refresh wiped the typed value"
    );
    b.assert_console_clean("the refreshed yellow section").await;
    b.set_value(".es-fix input[name=replicas]", "0").await;

    // The member applies the fix: no confirmation step, the page comes back green.
    b.click(".es-fix button[type=submit]").await;
    b.wait_text(
        ".flash-success",
        "the fix applied",
        |t| t.contains(&format!("Replicas of `{INDEX}` set to 0.")),
        Duration::from_secs(15),
    )
    .await;
    b.wait_text("#es-status", "green again", |t| t == "green", SECTION)
        .await;
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#es-problems"))
            .await
            .is_err()
    );
    let indices = wait_rows(&b, "#es-indices", "the index at 3 × 0", |r| {
        r.iter()
            .any(|i| i[0] == INDEX && i[1] == "green" && i[3] == "3 × 0")
    })
    .await;
    assert_eq!(indices.len(), 1, "{indices:?}");
    assert_fresh_timestamp(&b).await;
    b.screenshot("11-elasticsearch-fixed").await;

    let rows = audited(f.app.pool.clone()).await;
    let ok: Vec<_> = rows.iter().filter(|r| r.2 == "ok").collect();
    assert_eq!(ok.len(), 1, "one audited change: {rows:?}");
    let (actor, target, _, before, after) = ok[0];
    assert_eq!(*actor, Some(member.user_id));
    assert_eq!(target, "logs");
    assert_eq!(
        before,
        &serde_json::json!({ "index": INDEX, "replicas": 1 })
    );
    assert_eq!(after, &serde_json::json!({ "index": INDEX, "replicas": 0 }));
    b.assert_console_clean("the end of the test").await;
    b.client.clone().close().await.unwrap();
}
