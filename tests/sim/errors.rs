//! Failure answers: Status bodies and codes for bad input (400/404/405/409/415/422), robustness against garbage,
//! fault injection, unavailability and request counting.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde_json::{Value, json};

use crate::common::{api_only, raw};

fn assert_status(body: &Value, code: u16, reason: &str) {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn status_codes_for_bad_input() {
    let sim = api_only();
    let cms = "/api/v1/namespaces/default/configmaps";
    let (c, b) = raw(&sim, "POST", cms, "application/json", "{not json").await;
    assert_eq!(c, 400);
    assert_status(&b, 400, "BadRequest");

    let (c, b) = raw(&sim, "GET", "/api/v1/namespaces/default/widgets", "", "").await;
    assert_eq!(c, 404);
    assert_status(&b, 404, "NotFound");
    let (c, b) = raw(&sim, "GET", &format!("{cms}/missing"), "", "").await;
    assert_status(&b, 404, "NotFound");
    assert_eq!(c, 404);
    assert_eq!(b["details"]["name"], "missing");

    let ok = r#"{"metadata":{"name":"dup"}}"#;
    assert_eq!(raw(&sim, "POST", cms, "application/json", ok).await.0, 201);
    let (c, b) = raw(&sim, "POST", cms, "application/json", ok).await;
    assert_eq!(c, 409);
    assert_status(&b, 409, "AlreadyExists");

    let (c, b) = raw(
        &sim,
        "POST",
        cms,
        "application/json",
        r#"{"metadata":{"name":"Bad_Name"}}"#,
    )
    .await;
    assert_eq!(c, 422);
    assert_status(&b, 422, "Invalid");
    assert_eq!(b["details"]["causes"][0]["field"], "metadata.name");
    let (c, _) = raw(
        &sim,
        "POST",
        cms,
        "application/json",
        r#"{"metadata":{"name":"x","labels":{"bad key":"v"}}}"#,
    )
    .await;
    assert_eq!(c, 422);

    let (c, b) = raw(&sim, "PUT", cms, "application/json", ok).await;
    assert_eq!(c, 405);
    assert_status(&b, 405, "MethodNotAllowed");
    let (c, _) = raw(&sim, "POST", &format!("{cms}/dup"), "application/json", ok).await;
    assert_eq!(c, 405);
    let (c, _) = raw(&sim, "OPTIONS", cms, "", "").await;
    assert_eq!(c, 405);

    let (c, b) = raw(
        &sim,
        "POST",
        cms,
        "application/json",
        r#"{"metadata":{"name":"y","namespace":"other"}}"#,
    )
    .await;
    assert_eq!(c, 400, "{b}");
    let (c, _) = raw(
        &sim,
        "POST",
        cms,
        "application/json",
        r#"{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"z"}}"#,
    )
    .await;
    assert_eq!(c, 400);
    let (c, _) = raw(&sim, "POST", cms, "application/json", "[1,2]").await;
    assert_eq!(c, 400);
    let (c, _) = raw(&sim, "GET", "/api/v1/configmaps/x", "", "").await;
    assert_eq!(c, 404, "a namespaced item needs a namespace");
    let (c, _) = raw(
        &sim,
        "GET",
        "/api/v1/namespaces/default/configmaps/x/status",
        "",
        "",
    )
    .await;
    assert_eq!(c, 404, "configmaps have no status subresource");
}

#[tokio::test]
async fn names_follow_dns_rules_through_kube_rs() {
    let sim = api_only();
    let ns: Api<Namespace> = Api::all(sim.client());
    let err = ns
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({ "metadata": { "name": "a.b" } })).expect("ns"),
        )
        .await
        .expect_err("label only");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 422 && s.reason == "Invalid"));
    let svc: Api<Service> = Api::default_namespaced(sim.client());
    let err = svc
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({ "metadata": { "name": "my.svc" }, "spec": {} }))
                .expect("svc"),
        )
        .await
        .expect_err("label only");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 422));
    let cms: Api<ConfigMap> = Api::default_namespaced(sim.client());
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({ "metadata": { "name": "dotted.name-ok" } })).expect("cm"),
    )
    .await
    .expect("subdomain ok");
}

#[tokio::test]
async fn garbage_never_panics() {
    let sim = api_only();
    let cases = [
        ("GET", "/apis"),
        ("GET", "/apis/unknown.group/v1"),
        ("GET", "/apis/apps/v9/statefulsets"),
        ("GET", "/api/v1/namespaces/default/pods?limit=abc"),
        (
            "GET",
            "/api/v1/namespaces/default/pods?watch=true&resourceVersion=notanumber&timeoutSeconds=1",
        ),
        (
            "GET",
            "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=-5",
        ),
        ("GET", "/api/v1/namespaces//pods"),
        ("GET", "/api/v1/namespaces/default/pods/a/b/c/d"),
        ("PATCH", "/api/v1/namespaces/default/pods/none"),
        ("DELETE", "/api/v1/namespaces/default/pods/none"),
        ("GET", "/%%%/\u{0}"),
    ];
    for (m, p) in cases {
        let uri = p.replace('\u{0}', "%00");
        let (c, _) = raw(&sim, m, &uri, "application/merge-patch+json", "{\"a\":").await;
        assert!((200..500).contains(&c), "{m} {p} -> {c}");
    }
    let (c, b) = raw(
        &sim,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/none",
        "application/json",
        "{garbage",
    )
    .await;
    assert!(c == 400 || c == 404, "{c} {b}");
    // A huge watch timeout is clamped, not an overflow.
    let req = http::Request::get(
        "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=18446744073709551615",
    )
    .body(axum::body::Body::empty())
    .expect("request");
    let resp = tower::ServiceExt::oneshot(sim.router(), req)
        .await
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 200);
    let deep = "[".repeat(10_000);
    let (c, _) = raw(
        &sim,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        &deep,
    )
    .await;
    assert_eq!(c, 400);
}

#[tokio::test]
async fn fault_injection_unavailability_and_counts() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let cm = |n: &str| -> ConfigMap {
        serde_json::from_value(json!({ "metadata": { "name": n } })).expect("cm")
    };
    sim.reset_request_counts();
    sim.inject_write_failures(2, 500);
    for _ in 0..2 {
        let err = api
            .create(&PostParams::default(), &cm("f"))
            .await
            .expect_err("injected");
        assert!(matches!(err, kube::Error::Api(s) if s.code == 500));
    }
    assert!(
        api.get_opt("f").await.expect("reads unaffected").is_none(),
        "failed writes change nothing"
    );
    api.create(&PostParams::default(), &cm("f"))
        .await
        .expect("third write succeeds");
    sim.inject_write_failures(1, 409);
    let err = api
        .create(&PostParams::default(), &cm("g"))
        .await
        .expect_err("409");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"));

    sim.set_unavailable(true);
    let err = api.list(&ListParams::default()).await.expect_err("down");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 503));
    sim.set_unavailable(false);
    api.list(&ListParams::default()).await.expect("back");

    let counts = sim.request_counts();
    assert_eq!(counts.get("create"), Some(&4));
    assert_eq!(counts.get("get"), Some(&1));
    assert_eq!(
        counts.get("list"),
        Some(&1),
        "requests refused while unavailable are not served, so not counted"
    );
    sim.reset_request_counts();
    assert!(sim.request_counts().is_empty());
}
