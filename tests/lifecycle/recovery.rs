//! Ways Kubernetes lets a cluster down: an API server that comes back empty (the resync relists and re-applies
//! what existed), tenant objects and Kibana changed by hand (the resync restores them), a portal restarted
//! with a new, empty simulated Kubernetes (recreated from Postgres), and pods no node can hold (the stall says
//! why, in the scheduler's words).

use std::time::{Duration, Instant};

use esaas::clusters::service::{self, CreateRequest};
use esaas::controller::resync;
use esaas::k8s::apply::ObjectKey;
use esaas::k8s::sim::{Sim, SimNodes, SimOptions};
use esaas::k8s::target::KubeTarget;
use esaas::operations::repo as ops;
use esaas::spec::ClusterSpecInput;
use esaas::state::AppState;
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::common::k8s::es_resource;
use crate::harness::{self, Env, assert_succeeded, eventually};
use crate::{es_api, ready_pods};

#[sqlx::test]
async fn clusters_come_back_when_kubernetes_restarts_empty(pool: PgPool) {
    let interval = Duration::from_secs(1);
    let mut config = harness::test_config(2);
    config.resync_interval = interval;
    let env = Env::with(pool, config).await;
    let alpha = env.create("alpha", "three-nodes").await;
    let beta = env.create("beta", "single-node").await;
    assert_succeeded(&env.wait(&alpha).await);
    assert_succeeded(&env.wait(&beta).await);

    // The control plane comes back from nothing; the portal's watches resume from resourceVersions the new
    // server has not reached and hear nothing about what was lost.
    env.sim.restart_empty();
    let wiped = Instant::now();
    assert!(es_api(&env).get_opt("alpha").await.unwrap().is_none());

    let back = eventually(Duration::from_secs(20), || async {
        let alpha = es_api(&env).get_opt("alpha").await.ok()??;
        let beta = es_api(&env).get_opt("beta").await.ok()??;
        Some((alpha, beta, wiped.elapsed()))
    })
    .await;
    let (_, _, took) = back.expect("both clusters re-applied");
    println!(
        "re-applied {took:?} after the API server lost everything (resync interval {interval:?})"
    );
    assert!(
        took < 3 * interval + Duration::from_secs(2),
        "within about one resync interval: {took:?}"
    );
    let namespaces: Api<Namespace> = Api::all(env.sim.client());
    assert!(
        namespaces.get_opt("esaas-acme").await.unwrap().is_some(),
        "the tenant namespace too"
    );

    // And they run again, seen by the observer (a recreated object has a new uid and a low
    // resourceVersion: it is not mistaken for an old event).
    let green = eventually(Duration::from_secs(20), || async {
        if ready_pods(&env, "alpha").await < 3 || ready_pods(&env, "beta").await < 1 {
            return None;
        }
        let row: (String, i32) = sqlx::query_as(
            "SELECT health, available_nodes FROM clusters WHERE tenant_id = $1 AND name = 'alpha'",
        )
        .bind(env.tenant_id)
        .fetch_one(&env.pool)
        .await
        .ok()?;
        (row == ("green".to_owned(), 3)).then_some(())
    })
    .await;
    assert!(green.is_some(), "alpha is green again");
    // The observer records pods from their own events, which may come after the cluster's status.
    let recorded = eventually(Duration::from_secs(10), || async {
        let pods: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM cluster_pods p JOIN clusters c ON c.id = p.cluster_id \
             WHERE c.name = 'alpha' AND p.ready",
        )
        .fetch_one(&env.pool)
        .await
        .ok()?;
        (pods >= 3).then_some(pods)
    })
    .await;
    assert!(recorded.is_some(), "the new pods are recorded");
}

#[sqlx::test]
async fn a_stale_watch_cache_hides_the_loss_until_the_relist(pool: PgPool) {
    // The lifecycle harness runs no periodic resync: this test drives it by hand.
    let env = Env::new(pool).await;
    assert_succeeded(&env.wait(&env.create("gamma", "three-nodes").await).await);
    env.sim.restart_empty();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let key = esaas::k8s::engine::default_engine().primary("acme", "gamma");
    assert!(
        env.state.cache.get(&key).await.is_some(),
        "the resumed watches did not hear about the loss"
    );
    let blind = resync::resync_all(&env.state).await.unwrap();
    assert_eq!(
        blind.applied, 0,
        "comparing with the stale cache: {blind:?}"
    );
    assert!(es_api(&env).get_opt("gamma").await.unwrap().is_none());

    assert!(
        env.state.cache.relist(Duration::from_secs(10)).await,
        "relisted"
    );
    assert!(
        env.state.cache.get(&key).await.is_none(),
        "the cache now knows"
    );
    let report = resync::resync_all(&env.state).await.unwrap();
    assert!(
        report.applied >= 4,
        "namespace, quota, network policy, Elasticsearch (and Kibana): {report:?}"
    );
    assert!(es_api(&env).get_opt("gamma").await.unwrap().is_some());

    // An unchanged cluster after the relist: nothing to apply, and the relist forwarded nothing new.
    let settled = eventually(Duration::from_secs(20), || async {
        (ready_pods(&env, "gamma").await == 3).then_some(())
    })
    .await;
    assert!(settled.is_some(), "gamma runs again");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(env.state.cache.relist(Duration::from_secs(10)).await);
    let quiet = resync::resync_all(&env.state).await.unwrap();
    assert_eq!(quiet.applied, 0, "{quiet:?}");
}

#[sqlx::test]
async fn a_create_bigger_than_any_node_stalls_with_the_scheduler_reason(pool: PgPool) {
    let mut config = harness::test_config(2);
    config.stall_timeout = Duration::from_secs(1);
    let env = Env::with(pool, config).await;
    let template = esaas::clusters::templates::template("single-node").unwrap();
    let mut input = ClusterSpecInput::from_spec(&template.spec);
    input.node_sets[0].cpu_millis = Some(12_000i64.into());
    let (_, op) = service::create(
        &env.state,
        &env.caller,
        &CreateRequest {
            name: "big".into(),
            template: Some("single-node".into()),
            spec: Some(input),
        },
    )
    .await
    .expect("accepted: the quota has room, only the nodes are too small");
    let set = template.spec.node_sets[0].name.as_str().to_owned();
    let reason = eventually(Duration::from_secs(20), || async {
        let mut conn = env.pool.acquire().await.unwrap();
        ops::get(&mut conn, env.tenant_id, op.id)
            .await
            .unwrap()
            .stalled_reason
    })
    .await
    .expect("marked stalled");
    assert_eq!(
        reason,
        format!(
            "pod big-es-{set}-0 cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu"
        )
    );
    let pod_reason: String =
        sqlx::query_scalar("SELECT reason FROM cluster_pods WHERE name = $1 AND NOT ready")
            .bind(format!("big-es-{set}-0"))
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(
        pod_reason.starts_with("cannot be scheduled: "),
        "{pod_reason}"
    );
}

fn kibana_api(env_sim: &esaas::k8s::sim::Sim) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kibana.k8s.elastic.co", "v1", "Kibana"),
        "kibanas",
    );
    Api::namespaced_with(env_sim.client(), "esaas-acme", &ar)
}

fn key(kind: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind: kind.into(),
        namespace: "esaas-acme".into(),
        name: name.into(),
    }
}

#[sqlx::test]
async fn the_resync_restores_tenant_objects_and_kibana(pool: PgPool) {
    let env = Env::new(pool).await;
    assert_succeeded(&env.wait(&env.create("drift", "single-node").await).await);
    assert!(
        harness::watch_cache_caught_up(&env).await,
        "the watch cache caught up with Kubernetes"
    );
    let policies: Api<NetworkPolicy> = Api::namespaced(env.sim.client(), "esaas-acme");
    let quotas: Api<ResourceQuota> = Api::namespaced(env.sim.client(), "esaas-acme");
    let kibanas = kibana_api(&env.sim);
    let policy_before = policies.get("esaas-tenant-isolation").await.unwrap().spec;
    let quota_before = quotas.get("esaas-tenant-quota").await.unwrap().spec;
    let kibana_before = kibanas.get("drift").await.unwrap();

    // By hand: the tenant's NetworkPolicy deleted, its ResourceQuota raised (by another manager, forced),
    // the cluster's Kibana deleted.
    policies
        .delete("esaas-tenant-isolation", &DeleteParams::default())
        .await
        .unwrap();
    let raised = serde_json::json!({
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": { "name": "esaas-tenant-quota" },
        "spec": { "hard": { "limits.cpu": "999" } }
    });
    quotas
        .patch(
            "esaas-tenant-quota",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(&raised),
        )
        .await
        .unwrap();
    kibanas
        .delete("drift", &DeleteParams::default())
        .await
        .unwrap();
    let seen = eventually(Duration::from_secs(10), || async {
        let cache = &env.state.cache;
        let quota = cache
            .get(&key("ResourceQuota", "esaas-tenant-quota"))
            .await?;
        (cache
            .get(&key("NetworkPolicy", "esaas-tenant-isolation"))
            .await
            .is_none()
            && cache.get(&key("Kibana", "drift")).await.is_none()
            && quota["spec"]["hard"]["limits.cpu"] == "999")
            .then_some(())
    })
    .await;
    assert!(seen.is_some(), "the watches saw the three changes");

    let report = resync::resync_all(&env.state).await.unwrap();
    assert_eq!(report.applied, 3, "policy, quota and Kibana: {report:?}");
    assert_eq!(
        policies.get("esaas-tenant-isolation").await.unwrap().spec,
        policy_before,
        "the NetworkPolicy is back as it was"
    );
    assert_eq!(
        quotas.get("esaas-tenant-quota").await.unwrap().spec,
        quota_before,
        "the quota is the tenant's again"
    );
    let kibana = kibanas.get("drift").await.unwrap();
    assert_ne!(kibana.metadata.uid, kibana_before.metadata.uid, "recreated");
    assert_eq!(kibana.data["spec"], kibana_before.data["spec"]);
}

#[sqlx::test]
async fn a_restarted_portal_recreates_its_simulated_kubernetes_from_postgres(pool: PgPool) {
    let env = Env::new(pool).await;
    assert_succeeded(&env.wait(&env.create("alpha", "three-nodes").await).await);
    let cluster_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM clusters WHERE name = 'alpha'")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    // The portal stops; the new process starts its own simulated Kubernetes, empty.
    env.shutdown.cancel();
    let sim = Sim::new(SimOptions {
        kubelet_delay: Duration::ZERO,
        run_controllers: true,
        nodes: SimNodes::default(),
        ..SimOptions::default()
    });
    let es: Api<DynamicObject> = Api::namespaced_with(sim.client(), "esaas-acme", &es_resource());
    assert!(es.get_opt("alpha").await.unwrap().is_none());
    // The new process runs the periodic resync: its first round, at start-up, restores the cluster.
    let mut config = harness::test_config(2);
    config.resync_interval = Duration::from_secs(3600);
    let state = AppState::with_kube(config, env.pool.clone(), KubeTarget::from_sim(sim.clone()));
    let shutdown = CancellationToken::new();
    esaas::controller::spawn_background(&state, shutdown.clone());
    let started = Instant::now();
    let back = eventually(Duration::from_secs(20), || async {
        let namespaces: Api<Namespace> = Api::all(sim.client());
        namespaces.get_opt("esaas-acme").await.ok()??;
        let quotas: Api<ResourceQuota> = Api::namespaced(sim.client(), "esaas-acme");
        quotas.get_opt("esaas-tenant-quota").await.ok()??;
        let policies: Api<NetworkPolicy> = Api::namespaced(sim.client(), "esaas-acme");
        policies.get_opt("esaas-tenant-isolation").await.ok()??;
        kibana_api(&sim).get_opt("alpha").await.ok()??;
        es.get_opt("alpha").await.ok()?
    })
    .await
    .expect("the cluster's objects are applied to the new Kubernetes");
    println!("recreated {:?} after the restart", started.elapsed());
    assert_eq!(back.data["spec"]["nodeSets"][0]["count"], 3);
    // It runs again (the observer sees the new pods), and no operation was needed for it.
    let green = eventually(Duration::from_secs(20), || async {
        let row: (String, i32) =
            sqlx::query_as("SELECT health, available_nodes FROM clusters WHERE id = $1")
                .bind(cluster_id)
                .fetch_one(&env.pool)
                .await
                .ok()?;
        (row == ("green".to_owned(), 3)).then_some(())
    })
    .await;
    assert!(green.is_some(), "alpha is green on the new Kubernetes");
    let operations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM operations WHERE cluster_id = $1")
            .bind(cluster_id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(operations, 1, "only the create: the resync restored it");
    shutdown.cancel();
}
