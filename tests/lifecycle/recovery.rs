//! Ways Kubernetes lets a cluster down: an API server that comes back empty (the resync relists and re-applies
//! what existed), and pods no node can hold (the stall says why, in the scheduler's words).

use std::time::{Duration, Instant};

use esaas::clusters::service::{self, CreateRequest};
use esaas::clusters::spec::ClusterSpecInput;
use esaas::operations::repo as ops;
use esaas::operations::resync;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use sqlx::PgPool;

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
    let pods: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM cluster_pods p JOIN clusters c ON c.id = p.cluster_id \
         WHERE c.name = 'alpha' AND p.ready",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert!(pods >= 3, "the new pods are recorded: {pods}");
}

#[sqlx::test]
async fn a_stale_watch_cache_hides_the_loss_until_the_relist(pool: PgPool) {
    // The periodic resync runs once at start-up, then not for an hour: this test drives it by hand.
    let env = Env::new(pool).await;
    assert_succeeded(&env.wait(&env.create("gamma", "three-nodes").await).await);
    env.sim.restart_empty();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (key, _) = esaas::k8s::engine::cluster_keys("acme", "gamma");
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
