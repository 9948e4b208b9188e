//! One unit convention on every page (issue 10, point 3): the request and resize forms take CPU in cores and
//! memory in GiB and store the millicores and MiB the API uses; refusals and the quota preview speak in
//! cores and GiB beside the field; no page of the journey shows a millicore value or MiB.

use esaas::tenants::Role;
use esaas::tenants::quota::Resources;
use regex::Regex;
use sqlx::PgPool;

use crate::{Fixture, ROOMY, assert_csp_clean, fields, three_nodes_form};

/// `three_nodes_form` with CPU and memory per node and per Kibana instance replaced.
fn sized_form(
    name: &str,
    count: &str,
    (cpu, memory): (&str, &str),
    (kibana_cpu, kibana_memory): (&str, &str),
) -> Vec<(&'static str, String)> {
    let mut form = three_nodes_form(name, count);
    for (key, value) in &mut form {
        match *key {
            "node_sets.0.cpu_cores" => *value = cpu.into(),
            "node_sets.0.memory_gib" => *value = memory.into(),
            "kibana.cpu_cores" => *value = kibana_cpu.into(),
            "kibana.memory_gib" => *value = kibana_memory.into(),
            _ => {}
        }
    }
    form
}

/// The text of the element with `id` up to its closing `</p>`.
fn at(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no {id} in {html}"));
    let text = &html[start..];
    text[text.find('>').unwrap() + 1..text.find("</p>").unwrap()].to_owned()
}

#[sqlx::test]
async fn cores_and_gib_typed_in_the_forms_are_stored_as_millicores_and_mib(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;

    // The form shows the template in cores and GiB, with steps a person uses.
    let (status, html) = member
        .get(&f.app, "/t/acme/clusters/new?template=three-nodes")
        .await;
    assert_eq!(status, 200);
    assert_csp_clean(&html);
    assert!(html.contains("CPU per node (cores)"), "{html}");
    assert!(html.contains("Memory per node (GiB)"), "{html}");
    assert!(
        html.contains(
            "name=\"node_sets.0.cpu_cores\" type=\"number\" inputmode=\"decimal\" min=\"0\" step=\"0.25\" value=\"1\""
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "name=\"node_sets.0.memory_gib\" type=\"number\" inputmode=\"decimal\" min=\"0\" step=\"0.5\" value=\"2\""
        ),
        "{html}"
    );
    assert!(
        html.contains("name=\"kibana.cpu_cores\" type=\"number\" inputmode=\"decimal\" min=\"0\" step=\"0.25\" value=\"0.5\""),
        "{html}"
    );

    let owned = sized_form("logs", "3", ("1.5", "2.5"), ("0.75", "1.5"));
    let (status, location) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let row: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT cpu_millis, memory_mib, (spec->'node_sets'->0->>'cpu_millis')::bigint, \
         (spec->'node_sets'->0->>'memory_mib')::bigint, (spec->'kibana'->>'cpu_millis')::bigint, \
         (spec->'kibana'->>'memory_mib')::bigint FROM clusters WHERE name = 'logs'",
    )
    .fetch_one(&f.app.pool)
    .await
    .unwrap();
    // 3 x 1.5 cores + 0.75 for Kibana; 3 x 2.5 GiB + 1.5 GiB.
    assert_eq!(row, (5250, 9216, 1500, 2560, 750, 1536));

    // The resize form starts from the current size in cores and GiB and stores what is typed.
    f.wait_settled("logs", "green").await;
    let (status, html) = member
        .get(&f.app, "/t/acme/clusters/logs/resize?node_set=default")
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"cpu_cores\" type=\"number\" inputmode=\"decimal\" min=\"0\" step=\"0.25\" value=\"1.5\""),
        "{html}"
    );
    assert!(
        html.contains("name=\"memory_gib\" type=\"number\" inputmode=\"decimal\" min=\"0\" step=\"0.5\" value=\"2.5\""),
        "{html}"
    );
    assert!(
        html.contains("Now: 3 nodes of 1.5 cores, 2.5 GiB, 10 GiB."),
        "{html}"
    );
    let (status, location) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/resize",
            &[
                ("node_set", "default"),
                ("cpu_cores", "2.25"),
                ("memory_gib", "3"),
                ("storage_gib", "10"),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let (_, html) = member.get(&f.app, &location).await;
    assert!(
        html.contains("Resizing node set default to 2.25 cores, 3 GiB, 10 GiB per node."),
        "{html}"
    );
    let sizes: (i64, i64) = sqlx::query_as(
        "SELECT (spec->'node_sets'->0->>'cpu_millis')::bigint, (spec->'node_sets'->0->>'memory_mib')::bigint \
         FROM clusters WHERE name = 'logs'",
    )
    .fetch_one(&f.app.pool)
    .await
    .unwrap();
    assert_eq!(sizes, (2250, 3072));
}

#[sqlx::test]
async fn size_refusals_and_the_quota_preview_speak_in_cores_and_gib(pool: PgPool) {
    let limits = Resources {
        cpu_millis: 4000,
        ..ROOMY
    };
    let f = Fixture::new(pool, limits, 0).await;
    let member = f.user("member@acme.test", Role::Member).await;

    // Beyond the per-node bounds: the message in cores/GiB beside the field, the input kept, nothing stored.
    let owned = sized_form("logs", "3", ("20", "2"), ("0.5", "0.5"));
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&owned, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 422, "{html}");
    assert_eq!(
        at(&html, "e-node_sets-0-cpu_cores"),
        "Choose from 0.25 to 16 cores."
    );
    assert_eq!(at(&html, "e-kibana-memory_gib"), "Choose from 1 to 64 GiB.");
    assert!(html.contains("value=\"20\""), "the input is kept");
    assert!(
        html.contains("href=\"#f-node_sets-0-cpu_cores\">Node set 1 (default): CPU</a>: Choose from 0.25 to 16 cores."),
        "the summary links to the field: {html}"
    );
    assert!(
        html.contains("aria-describedby=\"q-node_sets-0-cpu_cores e-node_sets-0-cpu_cores\" aria-invalid=\"true\""),
        "{html}"
    );
    assert!(
        !html.contains("millicores") && !html.contains("MiB"),
        "{html}"
    );
    let typo = sized_form("logs", "3", ("1,5", "two"), ("0.5", "1"));
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&typo, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 422, "{html}");
    assert_eq!(
        at(&html, "e-node_sets-0-memory_gib"),
        "Enter a number of GiB, such as 1.5."
    );
    assert!(
        !html.contains("id=\"e-node_sets-0-cpu_cores\""),
        "a decimal comma is read as a point: {html}"
    );
    let clusters: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(clusters, 0);

    // Over the tenant's 4 cores: 3 x 1.5 + 0.5 = 5 cores, over by 1 core, in the panel and at the fields.
    let big = sized_form("logs", "3", ("1.5", "2"), ("0.5", "1"));
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&big, &[("action", "preview")]),
        )
        .await;
    assert_eq!(status, 200);
    let row = &html[html.find("id=\"quota-row-cpu_millis\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("<td class=\"num\">0 cores</td>"), "{row}");
    assert!(row.contains("<td class=\"num\">+5 cores</td>"), "{row}");
    assert!(row.contains("over by 1 core</strong>"), "{row}");
    assert!(row.contains("of 4 cores"), "{row}");
    let expected = "Exceeds the CPU quota (limit 4 cores): this request adds 5 cores, and the tenant has 4 cores left.";
    assert_eq!(at(&html, "q-node_sets-0-cpu_cores"), expected);
    assert_eq!(
        at(&html, "q-kibana-cpu_cores"),
        "",
        "said once, at the field that adds the most CPU"
    );
    // The htmx preview says the same in its out-of-band slots.
    let fragment = member
        .post(&f.app, "/t/acme/clusters/new/preview", &fields(&big, &[]))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        fragment.contains(&format!(
            "id=\"q-node_sets-0-cpu_cores\" hx-swap-oob=\"true\">{expected}"
        )),
        "{fragment}"
    );
    // Submitting anyway: the service's refusal, in cores.
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&big, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        at(&html, "q-node_sets-0-cpu_cores"),
        expected,
        "the service's refusal in the preview's words, in cores"
    );

    // The resize form: the bound beside the field, the quota in cores, the input kept.
    let (status, _) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(
                &sized_form("logs", "3", ("1", "2"), ("0.5", "1")),
                &[("action", "create")],
            ),
        )
        .await;
    assert_eq!(status, 303);
    f.wait_settled("logs", "green").await;
    let resize = |cpu: &'static str, step: &'static str| {
        [
            ("node_set", "default"),
            ("cpu_cores", cpu),
            ("memory_gib", "2"),
            ("storage_gib", "10"),
            ("step", step),
        ]
    };
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/resize",
            &resize("17", "confirm"),
        )
        .await;
    assert_eq!(status, 422, "{html}");
    assert_eq!(at(&html, "e-cpu_cores"), "Choose from 0.25 to 16 cores.");
    assert!(html.contains("value=\"17\""), "the input is kept: {html}");
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/resize",
            &resize("1.25", "preview"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        at(&html, "q-cpu_cores"),
        "Exceeds the CPU quota (limit 4 cores): this request adds 0.75 cores, and the tenant has 0.5 cores left."
    );
    let (status, html) = member
        .post_text(
            &f.app,
            "/t/acme/clusters/logs/resize",
            &resize("1.25", "confirm"),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains(
            "Exceeds the CPU quota (limit 4 cores): this request adds 0.75 cores, and the tenant has 0.5 cores left."
        ),
        "{html}"
    );
    assert!(html.contains("value=\"1.25\""), "the input is kept: {html}");
}

/// The text a person reads: tags, scripts and styles removed.
fn visible_text(html: &str) -> String {
    let strip = Regex::new(r"(?s)<script.*?</script>|<style.*?</style>|<[^>]*>").unwrap();
    strip.replace_all(html, " ").into_owned()
}

#[sqlx::test]
async fn no_page_of_the_journey_shows_millicores_or_mib(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 0).await;
    let owner = f.user("owner@acme.test", Role::Owner).await;
    // Odd sizes (0.3 cores, 1.3 GiB) read as decimals, not as "300m" or "1331 MiB".
    let odd = sized_form("logs", "3", ("0.3", "1.3"), ("0.5", "1"));
    let (status, location) = owner
        .post_text(
            &f.app,
            "/t/acme/clusters/new",
            &fields(&odd, &[("action", "create")]),
        )
        .await;
    assert_eq!(status, 303, "{location}");
    f.wait_settled("logs", "green").await;
    let admin = f.platform_admin("root@example.com").await;

    let millicores = Regex::new(r"\b\d[\d,.]*\s?m\b").unwrap();
    let mib = Regex::new(r"\bMiB\b|millicore").unwrap();
    let pages: [(&crate::Session, &str); 11] = [
        (&owner, "/t/acme/clusters"),
        (&owner, "/t/acme/clusters/logs"),
        (&owner, "/t/acme/clusters/logs/live"),
        (&owner, "/t/acme/quota"),
        (&owner, "/t/acme/clusters/new"),
        (&owner, "/t/acme/clusters/new?template=hot-warm-cold"),
        (&owner, "/t/acme/clusters/logs/resize"),
        (&owner, "/t/acme/clusters/logs/delete"),
        (&admin, "/admin/tenants"),
        (&admin, "/admin/tenants/new"),
        (&admin, "/admin/tenants/acme/quota"),
    ];
    let mut seen_cores = 0;
    for (session, path) in pages {
        let (status, html) = session.get(&f.app, path).await;
        assert_eq!(status, 200, "GET {path}: {html}");
        let text = visible_text(&html);
        if let Some(m) = millicores.find(&text) {
            panic!(
                "GET {path} shows a millicore value `{}`: {text}",
                m.as_str()
            );
        }
        if let Some(m) = mib.find(&text) {
            panic!("GET {path} shows `{}`: {text}", m.as_str());
        }
        if text.contains(" cores") || text.contains(" core ") {
            seen_cores += 1;
        }
    }
    assert!(seen_cores >= 8, "the pages say cores: {seen_cores}");
    // The odd sizes themselves, where they are shown.
    let (_, html) = owner.get(&f.app, "/t/acme/clusters/logs").await;
    let text = visible_text(&html);
    assert!(text.contains("0.3 cores"), "{text}");
    assert!(text.contains("1.3 GiB"), "{text}");
    let (_, html) = owner.get(&f.app, "/t/acme/quota").await;
    assert!(
        visible_text(&html).contains("1.4 cores of 100 cores"),
        "{html}"
    );
}
