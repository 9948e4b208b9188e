//! Discovery documents and kube-rs `Discovery` against the emulator.

use kube::discovery::{Discovery, Scope};

use crate::common::{api_only, raw};

#[tokio::test]
async fn discovery_documents() {
    let sim = api_only();
    let (c, v) = raw(&sim, "GET", "/version", "", "").await;
    assert_eq!(c, 200);
    assert_eq!(v["major"], "1");
    let (_, api) = raw(&sim, "GET", "/api", "", "").await;
    assert_eq!(api["versions"][0], "v1");
    let (_, groups) = raw(&sim, "GET", "/apis", "", "").await;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .map(|g| g.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    for g in [
        "apps",
        "networking.k8s.io",
        "policy",
        "elasticsearch.k8s.elastic.co",
        "kibana.k8s.elastic.co",
    ] {
        assert!(names.contains(&g), "{g} in {names:?}");
    }
    let (_, core) = raw(&sim, "GET", "/api/v1", "", "").await;
    let pods = core["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["name"] == "pods"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(pods["namespaced"], true);
    assert_eq!(pods["shortNames"][0], "po");
    let (_, es) = raw(&sim, "GET", "/apis/elasticsearch.k8s.elastic.co/v1", "", "").await;
    let res: Vec<&str> = es["resources"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(res, vec!["elasticsearches", "elasticsearches/status"]);
    assert_eq!(es["resources"][0]["shortNames"][0], "es");
    assert_eq!(raw(&sim, "GET", "/openapi/v2", "", "").await.0, 404);
    let (c, oa) = raw(&sim, "GET", "/openapi/v3", "", "").await;
    assert_eq!(c, 200);
    assert!(
        oa["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .is_some()
    );
}

#[tokio::test]
async fn kube_discovery_finds_custom_resources() {
    let sim = api_only();
    let d = Discovery::new(sim.client()).run().await.expect("discovery");
    let (ar, caps) = d
        .groups()
        .flat_map(|g| g.recommended_resources())
        .find(|(ar, _)| ar.kind == "Elasticsearch")
        .expect("Elasticsearch discovered");
    assert_eq!(ar.plural, "elasticsearches");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(d.groups().any(|g| g.name() == "kibana.k8s.elastic.co"));
}
