//! The pods' `portforward` subresource on the served emulator, through the portal's own port-forward
//! transport (kube-rs `Api::portforward` over WebSocket, then TLS trusting ECK's CA from
//! `<name>-es-http-certs-public` and checking the Service name, then HTTP/1.1): the path a portal outside
//! the Kubernetes cluster (`ESAAS_KUBE=kubeconfig`) takes to each Elasticsearch.

use std::sync::Arc;
use std::time::Duration;

use esaas::elasticsearch::client::ClientOptions;
use esaas::elasticsearch::connect::{ClusterAddress, Connector, TransportMode};
use esaas::elasticsearch::transport::dial::PortForwardDialer;
use esaas::elasticsearch::transport::http::{HttpTransport, TlsSettings};
use esaas::elasticsearch::{Credentials, EsClient, EsError};
use esaas::k8s::portal_user::PortalUserKey;
use esaas::k8s::sim::{Sim, SimOptions};
use esaas::k8s::target::KubeTarget;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret};
use kube::api::{Api, DynamicObject, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use crate::controllers::{create_index, es_ar, es_object, wait_green};

/// A client of the emulator served on loopback, through the kubeconfig it writes (HTTPS, bearer token).
async fn served(sim: &Sim) -> kube::Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sim.clone();
    tokio::spawn(async move { serving.serve(listener).await });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    sim.write_kubeconfig(addr, &path).unwrap();
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_reaches_each_cluster_over_https() {
    let sim = Sim::new(SimOptions {
        kubelet_delay: Duration::from_millis(5),
        run_controllers: true,
        ..SimOptions::default()
    });
    let ns = "esaas-acme";
    let namespaces: Api<Namespace> = Api::all(sim.client());
    let namespace: Namespace =
        serde_json::from_value(json!({ "metadata": { "name": ns } })).unwrap();
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    let es: Api<DynamicObject> = Api::namespaced_with(sim.client(), ns, &es_ar());
    es.create(&PostParams::default(), &es_object("logs", "8.15.0", 2))
        .await
        .unwrap();
    wait_green(&es, "logs", 2).await;
    create_index(&sim, ns, "logs", "events", 2, 1).await;

    let target = KubeTarget {
        client: served(&sim).await,
        name: "kubeconfig".into(),
        sim: None,
    };
    let connector = Connector::new(
        target.clone(),
        TransportMode::PortForward,
        PortalUserKey::random(),
        ClientOptions::default(),
    );
    assert_eq!(connector.mode, TransportMode::PortForward);
    let address = ClusterAddress {
        id: uuid::Uuid::new_v4(),
        tenant_slug: "acme".into(),
        name: "logs".into(),
        tls: true,
    };
    let client = connector.elastic_client(&address).await.unwrap();
    let health = client
        .health()
        .await
        .expect("health through the port-forward");
    assert_eq!(health.cluster_name, "logs");
    assert_eq!(health.number_of_nodes, 2);
    assert_eq!(health.active_shards, 4, "{health:?}");
    // The same connection carries further requests (keep-alive through the forwarded stream).
    let forwards = || {
        sim.request_counts()
            .get("portforward")
            .copied()
            .unwrap_or(0)
    };
    let opened = forwards();
    assert!(opened >= 1, "{:?}", sim.request_counts());
    let shards = client.cat_shards().await.unwrap();
    assert_eq!(shards.len(), 4);
    client.info().await.unwrap();
    assert_eq!(forwards(), opened, "no new port-forward for later requests");
    assert!(shards.iter().all(|s| s.index == "events"), "{shards:?}");

    // The portal's own user has no credentials in this bare cluster (its file-realm Secret is the engine's
    // doing): Elasticsearch itself refuses it, through the same path.
    let refused = connector
        .portal_client(&address)
        .await
        .unwrap()
        .health()
        .await;
    assert!(
        matches!(refused, Err(EsError::Authentication { .. })),
        "{refused:?}"
    );

    // Each cluster has its own CA: the second cluster is reached with its own, and refused with the first's
    // before any request is sent.
    es.create(&PostParams::default(), &es_object("other", "8.15.0", 1))
        .await
        .unwrap();
    wait_green(&es, "other", 1).await;
    let other_address = ClusterAddress {
        name: "other".into(),
        ..address.clone()
    };
    let other = connector.elastic_client(&other_address).await.unwrap();
    assert_eq!(other.health().await.unwrap().cluster_name, "other");
    let secrets: Api<Secret> = Api::namespaced(target.client.clone(), ns);
    let logs_ca = secrets
        .get("logs-es-http-certs-public")
        .await
        .unwrap()
        .data
        .unwrap()["ca.crt"]
        .0
        .clone();
    let host = other_address.service_host();
    let transport = HttpTransport::new(
        Arc::new(PortForwardDialer {
            client: target.client.clone(),
            namespace: ns.into(),
            name: "other".into(),
            port: 9200,
        }),
        Some(TlsSettings::new(&logs_ca, &host).unwrap()),
        &format!("{host}:9200"),
    );
    let credentials = Credentials {
        username: "elastic".into(),
        password: "irrelevant".to_owned().into(),
    };
    let mistrusted = EsClient::new(Arc::new(transport), credentials, ClientOptions::default())
        .health()
        .await;
    assert!(
        matches!(&mistrusted, Err(EsError::Tls(e)) if e.contains("certificate")),
        "{mistrusted:?}"
    );

    // Ports with nothing behind them answer on the error channel, as the kubelet does.
    let pods: Api<Pod> = Api::namespaced(target.client.clone(), ns);
    let mut forwarder = pods
        .portforward("logs-es-default-0", &[9300])
        .await
        .unwrap();
    let error = forwarder.take_error(9300).unwrap().await;
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("connection refused")),
        "{error:?}"
    );
    // A pod that does not exist is a 404 from the API server.
    let missing = pods.portforward("logs-es-default-9", &[9200]).await;
    assert!(missing.is_err());
}
