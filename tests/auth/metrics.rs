//! `/metrics`: only a scraper with `ESAAS_METRICS_TOKEN` gets it, and no caller can grow it: invented methods
//! and paths do not become labels. The series it promises exist and move: requests counted by route and
//! status, their latency, applied operations by kind, the database pool.

use secrecy::SecretString;
use sqlx::PgPool;

use super::common::TestApp;
use super::plain_client;

const TOKEN: &str = "scrape-me-9f2c";

async fn scrape(app: &TestApp) -> String {
    let r = plain_client()
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The `esaas_http_requests_total` series of a scrape.
fn request_series(scrape: &str) -> Vec<&str> {
    scrape
        .lines()
        .filter(|l| l.starts_with("esaas_http_requests_total{"))
        .collect()
}

#[sqlx::test]
async fn invented_methods_and_paths_do_not_grow_the_metrics(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| {
        c.metrics_token = Some(SecretString::from(TOKEN.to_owned()));
    })
    .await;
    let client = plain_client();
    // Every label value a request can reach: standard methods on matched and unmatched routes.
    for method in [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "XWARMUP",
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for path in ["/healthz", "/nowhere", "/api/v1/nowhere", "/static/nowhere"] {
            client
                .request(m.clone(), app.url(path))
                .send()
                .await
                .unwrap();
        }
    }
    let before = scrape(&app).await;
    let series_before = request_series(&before).len();

    // 300 requests, each with a new 2 KB method and a new path (under matched and unmatched routes).
    for i in 0..300 {
        let method = format!("M{i}{}", "X".repeat(2048));
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let path = match i % 4 {
            0 => format!("/invented/{i}/{}", "p".repeat(200)),
            1 => format!("/api/v1/tenants/t{i}/clusters/c{i}"),
            2 => format!("/t/t{i}/clusters/c{i}"),
            _ => format!("/static/{i}.css"),
        };
        let r = client.request(m, app.url(&path)).send().await.unwrap();
        assert!(!r.status().is_server_error(), "{path}: {}", r.status());
    }
    let after = scrape(&app).await;
    let series = request_series(&after);
    eprintln!(
        "scrape: {} bytes and {} request series before, {} bytes and {} series after 300 invented methods",
        before.len(),
        series_before,
        after.len(),
        series.len()
    );
    assert!(
        !after.contains("XXXXXXXX")
            && !after.contains("invented")
            && !after.contains("t17/clusters"),
        "raw methods or paths leaked into labels"
    );
    assert!(
        series.iter().all(|l| [
            "method=\"GET\"",
            "method=\"HEAD\"",
            "method=\"POST\"",
            "method=\"PUT\"",
            "method=\"PATCH\"",
            "method=\"DELETE\"",
            "method=\"OPTIONS\"",
            "method=\"OTHER\"",
        ]
        .iter()
        .any(|m| l.contains(m))),
        "{series:#?}"
    );
    // New series only for route templates and statuses the 300 requests reached (a handful), not 300.
    assert!(
        series.len() <= series_before + 12,
        "{} series before, {} after:\n{}",
        series_before,
        series.len(),
        series.join("\n")
    );
    assert!(after.len() < 64 * 1024, "scrape is {} bytes", after.len());
}

#[sqlx::test]
async fn metrics_need_the_scrape_token(pool: PgPool) {
    // Not configured: not served at all.
    let app = TestApp::spawn(pool.clone()).await;
    let r = plain_client()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        !r.text()
            .await
            .unwrap()
            .contains("esaas_http_requests_total")
    );

    let app = TestApp::spawn_with(pool, |c| {
        c.metrics_token = Some(SecretString::from(TOKEN.to_owned()));
    })
    .await;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic c2NyYXBlOm1l"),
        Some(TOKEN),
    ] {
        let mut req = plain_client().get(app.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
        assert_eq!(
            r.headers()["www-authenticate"].to_str().unwrap(),
            "Bearer realm=\"metrics\""
        );
        assert!(!r.text().await.unwrap().contains("esaas_"), "{auth:?}");
    }
    let body = scrape(&app).await;
    assert!(body.contains("esaas_db_pool_connections"), "{body}");
}

/// The value of the series `name{labels}` in a scrape (0 when absent).
fn value(scrape: &str, series: &str) -> f64 {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| {
            v.split_whitespace().next().unwrap().parse().unwrap()
        })
}

#[sqlx::test]
async fn the_series_count_requests_applied_operations_and_the_pool(pool: PgPool) {
    let (app, shutdown) = TestApp::spawn_with_background(pool.clone(), |c| {
        c.metrics_token = Some(SecretString::from(TOKEN.to_owned()));
    })
    .await;
    let requests = "esaas_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}";
    let durations = "esaas_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"}";
    let unmatched = "esaas_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}";
    let applied = "esaas_operation_apply_seconds_count{kind=\"create\"}";
    let before = scrape(&app).await;
    for _ in 0..5 {
        let r = plain_client()
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    for _ in 0..2 {
        let r = plain_client()
            .get(app.url("/nowhere"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
    let after = scrape(&app).await;
    assert_eq!(
        value(&after, requests) - value(&before, requests),
        5.0,
        "{after}"
    );
    assert_eq!(
        value(&after, durations) - value(&before, durations),
        5.0,
        "{after}"
    );
    assert_eq!(
        value(&after, unmatched) - value(&before, unmatched),
        2.0,
        "{after}"
    );
    assert!(after.contains("esaas_http_request_duration_seconds_bucket{"));
    assert!(
        value(&after, "esaas_db_pool_connections") >= 1.0,
        "the pool is measured at scrape time: {after}"
    );
    assert_eq!(value(&after, applied), 0.0, "no operation yet");

    // A cluster request: once the reconciler applied it, the apply-latency histogram has it.
    let roomy = esaas::tenants::quota::Resources {
        clusters: 10,
        nodes: 40,
        cpu_millis: 100_000,
        memory_mib: 262_144,
        storage_gib: 4000,
    };
    let tenant_id = super::common::create_tenant_named(&pool, "acme", "Acme", roomy)
        .await
        .id;
    let owner = app
        .create_user("owner@example.com", super::PASSWORD, false)
        .await;
    let caller = esaas::clusters::service::Caller {
        tenant_id,
        role: esaas::tenants::Role::Owner,
        actor: esaas::audit::Actor::user(owner, "owner@example.com"),
        meta: esaas::request_meta::RequestMeta::default(),
        if_match: None,
    };
    esaas::clusters::service::create(
        &app.state,
        &caller,
        &esaas::clusters::service::CreateRequest {
            name: "logs".into(),
            template: Some("single-node".into()),
            spec: None,
        },
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let now = scrape(&app).await;
        if value(&now, applied) == 1.0 {
            assert!(
                value(&now, "esaas_operation_apply_seconds_sum{kind=\"create\"}") > 0.0,
                "{now}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the applied create never reached the metrics: {now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    shutdown.cancel();
}
