//! One rule for the version a cluster from a template starts on (issue 9, point 7): the web form pre-fills
//! it and the API's template-only create uses it, so a create the form accepts is accepted by the API and
//! the other way round, also when the platform no longer offers the template's version or its major.

use esaas::tenants::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::{Api, PASSWORD};

async fn version_of(api: &Api, name: &str) -> String {
    sqlx::query_scalar(
        "SELECT spec->>'version' FROM clusters WHERE name = $1 AND deleted_at IS NULL",
    )
    .bind(name)
    .fetch_one(api.pool())
    .await
    .unwrap()
}

/// Only these versions are offered.
async fn offer(api: &Api, versions: &[&str]) {
    sqlx::query("UPDATE es_versions SET enabled = (version = ANY($1))")
        .bind(versions)
        .execute(api.pool())
        .await
        .unwrap();
}

#[sqlx::test]
async fn the_form_and_the_api_start_a_template_on_the_same_version(pool: PgPool) {
    let api = Api::start(pool).await;
    let t = api.tenant("acme").await;
    let alice = api
        .user("alice@example.com", false, &[(t, Role::Owner)])
        .await;
    let web = api.app.client();
    let csrf = api.app.login(&web, &alice.email, PASSWORD).await;

    // The templates are on 9.2.1; no 9.x is offered any more (the service used to refuse this create while
    // the form offered 8.19.7), then only an older 9.x (both pick it).
    for (n, (offered, expected)) in [
        (&["8.18.8", "8.19.7"][..], "8.19.7"),
        (&["8.19.7", "9.1.6"][..], "9.1.6"),
    ]
    .into_iter()
    .enumerate()
    {
        offer(&api, offered).await;
        let page = web
            .get(api.app.url("/t/acme/clusters/new?template=three-nodes"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("<option value=\"{expected}\" selected>")),
            "the form pre-fills {expected}"
        );

        let from_api = format!("api-{n}");
        let r = api
            .send(
                Method::POST,
                "/api/v1/tenants/acme/clusters",
                &alice.token,
                &json!({ "name": from_api, "template": "three-nodes" }),
            )
            .await;
        let status = r.status();
        assert_eq!(status, StatusCode::ACCEPTED, "{}", r.text().await.unwrap());
        assert_eq!(version_of(&api, &from_api).await, expected);

        let from_form = format!("web-{n}");
        let form = [
            ("csrf_token", csrf.as_str()),
            ("action", "create"),
            ("template", "three-nodes"),
            ("name", from_form.as_str()),
            ("version", expected),
            ("http_tls", "on"),
            ("node_sets.0.name", "default"),
            ("node_sets.0.roles", "master"),
            ("node_sets.0.roles", "data"),
            ("node_sets.0.roles", "ingest"),
            ("node_sets.0.count", "3"),
            ("node_sets.0.cpu_cores", "1"),
            ("node_sets.0.memory_gib", "2"),
            ("node_sets.0.storage_gib", "10"),
            ("node_sets.0.storage_class", ""),
            ("node_sets.0.attributes", ""),
            ("kibana.enabled", "on"),
            ("kibana.count", "1"),
            ("kibana.cpu_cores", "0.5"),
            ("kibana.memory_gib", "1"),
        ];
        let r = web
            .post(api.app.url("/t/acme/clusters/new"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
        assert_eq!(version_of(&api, &from_form).await, expected);
    }
}
