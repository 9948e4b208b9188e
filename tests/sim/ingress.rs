//! `networking.k8s.io/v1` Ingress on the simulated Kubernetes, through the typed kube-rs client as the
//! portal uses it (discovery, server-side apply, get, list by label, watch, delete), and the simulated cloud
//! controller: a `LoadBalancer` Service gets an external address, and the simulated ECK turns
//! `spec.http.service` into such a Service.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::discovery::{Discovery, Scope};
use serde_json::json;

use crate::common::{api_only, eventually, with_controllers};
use crate::controllers::es_ar;

fn rendered_ingress() -> Ingress {
    let ctx = esaas::k8s::eck::RenderContext {
        tenant_slug: "acme".into(),
        cluster_name: "logs".into(),
        cluster_id: uuid::Uuid::nil(),
        restart_trigger: None,
        portal_user_password: esaas::k8s::portal_user::PortalPassword::from_static("pw"),
        exposure: esaas::k8s::expose::Exposure::Ingress(esaas::k8s::expose::IngressSettings {
            domain: "search.example.com".into(),
            class: Some("nginx".into()),
            tls: esaas::k8s::expose::IngressTls::ControllerDefault,
        }),
    };
    let spec = esaas::clusters::templates::template("three-nodes")
        .unwrap()
        .spec;
    let mut ingress = esaas::k8s::eck::render(&ctx, &spec).ingress.unwrap();
    ingress.metadata.namespace = Some("default".into());
    ingress
}

#[tokio::test]
async fn ingresses_are_discovered_applied_listed_watched_and_deleted() {
    let sim = api_only();
    let discovery = Discovery::new(sim.client()).run().await.expect("discovery");
    let (resource, caps) = discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .find(|(r, _)| r.kind == "Ingress")
        .expect("Ingress is discovered");
    assert_eq!(
        (
            resource.group.as_str(),
            resource.version.as_str(),
            resource.plural.as_str()
        ),
        ("networking.k8s.io", "v1", "ingresses")
    );
    assert_eq!(caps.scope, Scope::Namespaced);

    let api: Api<Ingress> = Api::namespaced(sim.client(), "default");
    let mut watch = api
        .watch(&WatchParams::default().labels("esaas.io/cluster=logs"), "0")
        .await
        .expect("watch")
        .boxed();
    let body = rendered_ingress();
    let applied = api
        .patch(
            "logs",
            &PatchParams::apply("esaas").force(),
            &Patch::Apply(&body),
        )
        .await
        .expect("server-side apply creates it");
    assert!(applied.metadata.uid.is_some());
    assert_eq!(applied.metadata.generation, Some(1));
    let spec = applied.spec.as_ref().unwrap();
    assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    assert_eq!(
        spec.rules.as_ref().unwrap()[0].host.as_deref(),
        Some("logs-acme.search.example.com")
    );
    match tokio::time::timeout(Duration::from_secs(5), watch.try_next()).await {
        Ok(Ok(Some(WatchEvent::Added(seen)))) => {
            assert_eq!(seen.metadata.name.as_deref(), Some("logs"))
        }
        other => panic!("expected ADDED, got {other:?}"),
    }

    // Applying the same body again changes nothing; dropping a field (the allow-list annotation) removes it.
    let again = api
        .patch(
            "logs",
            &PatchParams::apply("esaas").force(),
            &Patch::Apply(&body),
        )
        .await
        .unwrap();
    assert_eq!(
        again.metadata.resource_version,
        applied.metadata.resource_version
    );
    let mut narrower = body.clone();
    narrower.metadata.annotations.as_mut().unwrap().insert(
        esaas::k8s::eck::ingress::SOURCE_RANGE_ANNOTATION.into(),
        "203.0.113.0/24".into(),
    );
    api.patch(
        "logs",
        &PatchParams::apply("esaas").force(),
        &Patch::Apply(&narrower),
    )
    .await
    .unwrap();
    let got = api.get("logs").await.unwrap();
    assert_eq!(
        got.metadata.annotations.unwrap()[esaas::k8s::eck::ingress::SOURCE_RANGE_ANNOTATION],
        "203.0.113.0/24"
    );
    let back = api
        .patch(
            "logs",
            &PatchParams::apply("esaas").force(),
            &Patch::Apply(&body),
        )
        .await
        .unwrap();
    assert!(
        !back
            .metadata
            .annotations
            .unwrap()
            .contains_key(esaas::k8s::eck::ingress::SOURCE_RANGE_ANNOTATION),
        "a field the manager stopped sending is removed"
    );

    let listed = api
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=esaas"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let none = api
        .list(&ListParams::default().labels("esaas.io/cluster=other"))
        .await
        .unwrap();
    assert!(none.items.is_empty());

    api.delete("logs", &DeleteParams::default()).await.unwrap();
    assert!(api.get_opt("logs").await.unwrap().is_none());
    let deleted = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(event) = watch.try_next().await.unwrap() {
            if let WatchEvent::Deleted(gone) = event {
                return gone;
            }
        }
        panic!("the watch ended")
    })
    .await
    .expect("a DELETED event");
    assert_eq!(deleted.metadata.name.as_deref(), Some("logs"));
}

fn service(kind: &str) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "edge"},
        "spec": {"type": kind, "selector": {"app": "edge"}, "ports": [{"port": 9200}]}
    }))
    .unwrap()
}

fn lb_ip(svc: &Service) -> Option<String> {
    svc.status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?
        .ip
        .clone()
}

#[tokio::test]
async fn load_balancer_services_get_an_external_address_and_lose_it() {
    let sim = with_controllers();
    let api: Api<Service> = Api::namespaced(sim.client(), "default");
    api.create(&PostParams::default(), &service("LoadBalancer"))
        .await
        .unwrap();
    let ip = eventually(
        Duration::from_secs(10),
        "a load balancer address",
        || async { lb_ip(&api.get("edge").await.unwrap()) },
    )
    .await;
    assert!(ip.starts_with("203.0.113."), "{ip}");
    api.patch(
        "edge",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"type": "ClusterIP"}})),
    )
    .await
    .unwrap();
    eventually(Duration::from_secs(10), "the address to go", || async {
        lb_ip(&api.get("edge").await.unwrap())
            .is_none()
            .then_some(())
    })
    .await;
    api.create(&PostParams::default(), &{
        let mut s = service("ClusterIP");
        s.metadata.name = Some("inside".into());
        s
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(lb_ip(&api.get("inside").await.unwrap()), None);
}

#[tokio::test]
async fn the_simulated_eck_makes_the_http_service_a_load_balancer() {
    let sim = with_controllers();
    let es: Api<kube::api::DynamicObject> = Api::namespaced_with(sim.client(), "default", &es_ar());
    let mut object = crate::controllers::es_object("logs", "9.2.1", 1);
    object.data["spec"]["http"] = json!({"service": {
        "metadata": {"labels": {"app.kubernetes.io/managed-by": "esaas", "esaas.io/cluster": "logs"}},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                 "loadBalancerSourceRanges": ["203.0.113.0/24"]}
    }});
    es.create(&PostParams::default(), &object).await.unwrap();
    let services: Api<Service> = Api::namespaced(sim.client(), "default");
    let svc = eventually(
        Duration::from_secs(10),
        "logs-es-http with an address",
        || async {
            let svc = services.get_opt("logs-es-http").await.unwrap()?;
            lb_ip(&svc).map(|_| svc)
        },
    )
    .await;
    let spec = svc.spec.unwrap();
    assert_eq!(spec.type_.as_deref(), Some("LoadBalancer"));
    assert_eq!(spec.external_traffic_policy.as_deref(), Some("Local"));
    assert_eq!(
        spec.load_balancer_source_ranges,
        Some(vec!["203.0.113.0/24".to_owned()])
    );
    assert_eq!(
        spec.selector.unwrap()["elasticsearch.k8s.elastic.co/cluster-name"],
        "logs",
        "the operator's selector stays"
    );
    let labels = svc.metadata.labels.unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "esaas");
    assert_eq!(labels["common.k8s.elastic.co/type"], "elasticsearch");
}
