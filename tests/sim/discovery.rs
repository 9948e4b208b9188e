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

/// ECK's CustomResourceDefinitions can be read as kube-rs types (what `esaas serve` checks in kubeconfig
/// mode), Established, with the names and scope the served kinds have; a cluster without ECK serves neither
/// the definitions nor the kinds.
#[tokio::test]
async fn the_eck_definitions_are_served_when_eck_is_installed() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let sim = api_only();
    let crds: kube::Api<CustomResourceDefinition> = kube::Api::all(sim.client());
    let es = crds
        .get("elasticsearches.elasticsearch.k8s.elastic.co")
        .await
        .unwrap();
    assert_eq!(es.spec.group, "elasticsearch.k8s.elastic.co");
    assert_eq!(es.spec.names.kind, "Elasticsearch");
    assert_eq!(es.spec.names.short_names, Some(vec!["es".to_owned()]));
    assert_eq!(es.spec.scope, "Namespaced");
    assert_eq!(es.spec.versions[0].name, "v1");
    assert!(
        es.spec.versions[0]
            .subresources
            .as_ref()
            .unwrap()
            .status
            .is_some()
    );
    let conditions = es.status.unwrap().conditions.unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True"),
        "{conditions:?}"
    );
    let names: Vec<String> = crds
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(
        names,
        [
            "elasticsearches.elasticsearch.k8s.elastic.co",
            "kibanas.kibana.k8s.elastic.co"
        ]
    );

    let bare = esaas::k8s::sim::Sim::new(esaas::k8s::sim::SimOptions {
        run_controllers: false,
        eck_installed: false,
        ..esaas::k8s::sim::SimOptions::default()
    });
    let crds: kube::Api<CustomResourceDefinition> = kube::Api::all(bare.client());
    assert!(
        crds.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let (code, _) = raw(
        &bare,
        "GET",
        "/apis/elasticsearch.k8s.elastic.co/v1",
        "",
        "",
    )
    .await;
    assert_eq!(code, 404);
}
