//! The Connect card in a real browser: on a platform that exposes clusters through an Ingress, the
//! external endpoint has a Copy button that copies it (the button says "Copied" and pasting gives the
//! URL) and "Open Kibana" links the external Kibana URL. Screenshots at 1440 px and 390 px.

use std::time::Duration;

use esaas::k8s::expose::{Exposure, IngressSettings, IngressTls};
use esaas::tenants::Role;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::{Fixture, ROOMY};

#[sqlx::test]
async fn the_copy_button_copies_the_external_endpoint(pool: PgPool) {
    let Some(b) = Browser::start("the_copy_button_copies_the_external_endpoint").await else {
        return;
    };
    let f = Fixture::with_config(pool, ROOMY, |c| {
        c.exposure = Exposure::Ingress(IngressSettings {
            domain: "search.example.com".into(),
            class: None,
            tls: IngressTls::ControllerDefault,
        });
    })
    .await;
    let member = f.user("member@acme.test", Role::Member).await;
    f.create_cluster(&member, "logs", "single-node").await;
    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    b.login(base, "member@acme.test").await;
    b.submit_login().await;
    b.client
        .goto(&format!("{base}/t/acme/clusters/logs"))
        .await
        .unwrap();
    let external = b.css("#endpoint-external").await.text().await.unwrap();
    assert_eq!(external, "https://logs-acme.search.example.com");
    let open = b.css("#open-kibana").await;
    assert_eq!(
        open.attr("href").await.unwrap().as_deref(),
        Some("https://logs-acme-kibana.search.example.com")
    );
    b.click("button[data-copy='#endpoint-external']").await;
    b.wait_text(
        "button[data-copy='#endpoint-external']",
        "Copied",
        |t| t == "Copied",
        Duration::from_secs(5),
    )
    .await;
    // What was copied, pasted (Ctrl+V) into the allow-list field: the page may not read the clipboard.
    let field = b.css("#ip_allow_list").await;
    field.clear().await.unwrap();
    field.send_keys("\u{E009}v\u{E000}").await.unwrap();
    let pasted = field.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(pasted, external, "what was copied");
    b.screenshot("connect-ingress-1440").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.css("#connection").await;
    b.screenshot("connect-ingress-390").await;
    b.assert_console_clean("the dashboard").await;
    b.client.clone().close().await.unwrap();
}
