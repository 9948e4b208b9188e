//! Cluster lifecycle against the simulated Kubernetes through the real kube-rs client: requests become
//! operations, the reconciler applies them, the observer completes them; drift repair, Kubernetes errors,
//! kill-and-restart and two reconcilers on one database.

#[path = "../common/mod.rs"]
mod common;
mod harness;
#[path = "../common/ready_watch.rs"]
mod ready_watch;
mod recovery;
mod ways_out;

use std::collections::BTreeSet;
use std::time::Duration;

use common::k8s::es_resource;
use esaas::clusters::repo;
use esaas::clusters::service::{self, CreateRequest};
use esaas::controller::resync;
use esaas::error::AppError;
use esaas::k8s::apply::FIELD_MANAGER;
use esaas::operations::model::OperationState;
use esaas::spec::NodeSetSize;
use harness::{Env, assert_succeeded, eventually};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use ready_watch::ReadyWatch;
use sqlx::PgPool;

fn es_api(env: &Env) -> Api<DynamicObject> {
    Api::namespaced_with(env.sim.client(), "esaas-acme", &es_resource())
}

async fn ready_pods(env: &Env, cluster: &str) -> usize {
    let pods: Api<Pod> = Api::namespaced(env.sim.client(), "esaas-acme");
    let list = pods
        .list(&ListParams::default().labels(&format!(
            "esaas.io/cluster={cluster},app.kubernetes.io/name=elasticsearch"
        )))
        .await
        .unwrap();
    list.items
        .iter()
        .filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count()
}

#[sqlx::test]
async fn create_becomes_ready_and_green(pool: PgPool) {
    let env = Env::new(pool).await;
    let op = env.create("logs", "three-nodes").await;
    assert_eq!(op.state, OperationState::Pending);
    let op = env.wait(&op).await;
    assert_succeeded(&op);
    assert!(
        op.k8s_generation.is_some(),
        "the applied generation is recorded"
    );
    let mut conn = env.pool.acquire().await.unwrap();
    let cluster = repo::get_by_name(&mut conn, env.tenant_id, "logs")
        .await
        .unwrap();
    assert_eq!(cluster.status.phase, "Ready");
    assert_eq!(cluster.status.health, "green");
    assert_eq!(cluster.status.available_nodes, 3);
    assert_eq!(ready_pods(&env, "logs").await, 3);
    let es = es_api(&env).get("logs").await.unwrap();
    let labels = es.metadata.labels.unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "esaas");
    assert_eq!(labels["esaas.io/tenant"], "acme");
    // The observer records one row per pod, all ready (pod events may arrive just after the completion).
    let rows = eventually(Duration::from_secs(5), || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM cluster_pods WHERE cluster_id = $1 AND ready AND component = 'elasticsearch'",
        )
        .bind(cluster.id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
        (n == 3).then_some(n)
    })
    .await;
    assert_eq!(rows, Some(3));
    let history: i64 =
        sqlx::query_scalar("SELECT count(*) FROM cluster_status_history WHERE cluster_id = $1")
            .bind(cluster.id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(history >= 1, "status history recorded");
}

#[sqlx::test]
async fn scale_up_and_down(pool: PgPool) {
    let env = Env::new(pool).await;
    assert_succeeded(
        &env.wait(&env.create("search", "dedicated-masters").await)
            .await,
    );
    let mut conn = env.pool.acquire().await.unwrap();
    let cluster = repo::get_by_name(&mut conn, env.tenant_id, "search")
        .await
        .unwrap();
    let data = cluster
        .spec
        .node_sets
        .iter()
        .find(|s| s.holds_data() && !s.is_master_eligible())
        .expect("a data node set")
        .name
        .to_string();
    let sts_name = format!("search-es-{data}");
    let sts: Api<StatefulSet> = Api::namespaced(env.sim.client(), "esaas-acme");
    for count in [4u32, 1] {
        let op = service::scale(&env.state, &env.caller, "search", &data, count)
            .await
            .unwrap();
        assert_succeeded(&env.wait(&op).await);
        let replicas = sts.get(&sts_name).await.unwrap().spec.unwrap().replicas;
        assert_eq!(replicas, Some(count as i32));
        // Pod events may arrive just after the completion.
        let rows = eventually(Duration::from_secs(5), || async {
            let pods: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM cluster_pods WHERE cluster_id = $1 AND node_set = $2",
            )
            .bind(cluster.id)
            .bind(&data)
            .fetch_one(&env.pool)
            .await
            .unwrap();
            (pods == i64::from(count)).then_some(pods)
        })
        .await;
        assert_eq!(
            rows,
            Some(i64::from(count)),
            "pod rows follow the scale to {count}"
        );
    }
}

#[sqlx::test]
async fn resize_and_upgrade(pool: PgPool) {
    let env = Env::new(pool).await;
    // Start on 8.x so that an upgrade target exists.
    let template = esaas::clusters::templates::template("three-nodes").unwrap();
    let mut input = esaas::spec::ClusterSpecInput::from_spec(&template.spec);
    input.version = "8.19.7".into();
    let (_, op) = service::create(
        &env.state,
        &env.caller,
        &CreateRequest {
            name: "app".into(),
            template: Some("three-nodes".into()),
            spec: Some(input),
        },
    )
    .await
    .unwrap();
    assert_succeeded(&env.wait(&op).await);
    let mut conn = env.pool.acquire().await.unwrap();
    let cluster = repo::get_by_name(&mut conn, env.tenant_id, "app")
        .await
        .unwrap();
    let set = cluster.spec.node_sets[0].clone();
    let size = NodeSetSize {
        cpu_millis: set.cpu_millis * 2,
        memory_mib: set.memory_mib * 2,
        storage_gib: set.storage_gib + 10,
    };
    let op = service::resize(
        &env.state,
        &env.caller,
        "app",
        set.name.as_str(),
        size.into(),
    )
    .await
    .unwrap();
    assert_succeeded(&env.wait(&op).await);
    let es = es_api(&env).get("app").await.unwrap();
    let container = &es.data["spec"]["nodeSets"][0]["podTemplate"]["spec"]["containers"][0];
    let expected = serde_json::to_value(esaas::k8s::eck::quantity::memory_mib(i64::from(
        set.memory_mib * 2,
    )))
    .unwrap();
    assert_eq!(
        container["resources"]["limits"]["memory"], expected,
        "{container}"
    );

    // Shrinking storage is refused at the field and changes nothing.
    let shrink = NodeSetSize {
        storage_gib: 1,
        ..size
    };
    let err = service::resize(
        &env.state,
        &env.caller,
        "app",
        set.name.as_str(),
        shrink.into(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, AppError::Validation(ref f) if f.get("storage_gib").is_some()),
        "{err:?}"
    );

    let from = cluster.spec.version;
    let rules = {
        let mut conn = env.pool.acquire().await.unwrap();
        service::spec_rules(&mut conn).await.unwrap()
    };
    let to = rules
        .allowed_versions
        .iter()
        .filter(|v| **v > from && esaas::spec::is_upgrade_allowed(&from, v))
        .max()
        .copied()
        .expect("an allowed upgrade target");
    let op = service::upgrade(&env.state, &env.caller, "app", &to.to_string())
        .await
        .unwrap();
    assert_succeeded(&env.wait(&op).await);
    let cluster = repo::get_by_name(&mut conn, env.tenant_id, "app")
        .await
        .unwrap();
    assert_eq!(cluster.status.observed_version, to.to_string());
    // Downgrades are refused.
    let err = service::upgrade(&env.state, &env.caller, "app", &from.to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Validation(_)), "{err:?}");
}

/// The Elasticsearch pods of cluster `roll`.
const ES_PODS_OF_ROLL: &str = "esaas.io/cluster=roll,app.kubernetes.io/name=elasticsearch";

#[sqlx::test]
async fn restart_replaces_every_pod_one_at_a_time(pool: PgPool) {
    let env = Env::new(pool).await;
    assert_succeeded(&env.wait(&env.create("roll", "three-nodes").await).await);
    let pods: Api<Pod> = Api::namespaced(env.sim.client(), "esaas-acme");
    let lp = ListParams::default().labels(ES_PODS_OF_ROLL);
    let before: Vec<String> = pods
        .list(&lp)
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.metadata.uid.clone().unwrap())
        .collect();
    assert_eq!(before.len(), 3);
    let es_before = serde_json::to_value(es_api(&env).get("roll").await.unwrap()).unwrap();
    env.sim.set_kubelet_delay(Duration::from_millis(150));
    // Every change of the pods is seen through a watch (not sampled), from before the restart on.
    let watch = ReadyWatch::start(pods.clone(), ES_PODS_OF_ROLL).await;
    let op = service::restart(&env.state, &env.caller, "roll")
        .await
        .unwrap();
    assert_succeeded(&env.wait(&op).await);
    // The Elasticsearch object as Kubernetes holds it: only the trigger annotations changed (besides what
    // the API server and ECK keep moving: resourceVersion, generation, managedFields, status).
    let es_after = serde_json::to_value(es_api(&env).get("roll").await.unwrap()).unwrap();
    let trigger = esaas::k8s::eck::RESTART_TRIGGER_ANNOTATION;
    assert!(es_after["metadata"]["annotations"][trigger].is_string());
    let strip = |mut v: serde_json::Value| {
        let meta = v["metadata"].as_object_mut().unwrap();
        for volatile in ["resourceVersion", "generation", "managedFields"] {
            meta.remove(volatile);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
            a.remove(trigger);
        }
        if meta
            .get("annotations")
            .is_some_and(|a| a.as_object().is_some_and(|m| m.is_empty()))
        {
            meta.remove("annotations");
        }
        v.as_object_mut().unwrap().remove("status");
        for set in v["spec"]["nodeSets"].as_array_mut().unwrap() {
            let Some(pod_meta) = set
                .pointer_mut("/podTemplate/metadata")
                .and_then(|m| m.as_object_mut())
            else {
                continue;
            };
            if let Some(a) = pod_meta
                .get_mut("annotations")
                .and_then(|a| a.as_object_mut())
            {
                a.remove(trigger);
            }
            if pod_meta
                .get("annotations")
                .is_some_and(|a| a.as_object().is_some_and(|m| m.is_empty()))
            {
                pod_meta.remove("annotations");
            }
        }
        v
    };
    assert_ne!(es_before, es_after);
    assert_eq!(
        strip(es_after),
        strip(es_before),
        "a restart changed more of the Elasticsearch object than its trigger annotations"
    );
    // Once the watch shows the pods Kubernetes has, all Ready, its minimum covers the whole restart.
    let caught_up = eventually(Duration::from_secs(10), || async {
        let live: BTreeSet<String> = pods
            .list(&lp)
            .await
            .unwrap()
            .items
            .iter()
            .map(|p| p.metadata.uid.clone().unwrap())
            .collect();
        let watched = watch.pods();
        let uids: BTreeSet<String> = watched.values().map(|(uid, _)| uid.clone()).collect();
        (uids == live && watched.values().all(|(_, ready)| *ready)).then_some(())
    })
    .await;
    assert!(
        caught_up.is_some(),
        "the watch shows the pods: {:?}",
        watch.pods()
    );
    let min_ready = watch.min_ready();
    assert_eq!(
        min_ready, 2,
        "one pod at a time, so never fewer than count-1 ready, and one was down (saw {min_ready})"
    );
    let after: Vec<String> = pods
        .list(&lp)
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.metadata.uid.clone().unwrap())
        .collect();
    assert_eq!(after.len(), 3);
    assert!(
        after.iter().all(|uid| !before.contains(uid)),
        "every pod was replaced"
    );
}

#[sqlx::test]
async fn delete_removes_everything_and_frees_quota(pool: PgPool) {
    let env = Env::new(pool).await;
    assert_succeeded(&env.wait(&env.create("tmp", "single-node").await).await);
    let err = service::delete(&env.state, &env.caller, "tmp", "wrong")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Validation(_)));
    service::set_deletion_protection(&env.state, &env.caller, "tmp", true)
        .await
        .unwrap();
    let err = service::delete(&env.state, &env.caller, "tmp", "tmp")
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(_)),
        "protection refuses: {err:?}"
    );
    service::set_deletion_protection(&env.state, &env.caller, "tmp", false)
        .await
        .unwrap();
    let op = service::delete(&env.state, &env.caller, "tmp", "tmp")
        .await
        .unwrap();
    assert_succeeded(&env.wait(&op).await);
    assert!(es_api(&env).get_opt("tmp").await.unwrap().is_none());
    let gone = eventually(Duration::from_secs(10), || async {
        (ready_pods(&env, "tmp").await == 0).then_some(())
    })
    .await;
    assert!(gone.is_some(), "pods deleted by cascade");
    let mut conn = env.pool.acquire().await.unwrap();
    let usage = esaas::tenants::quota::usage(&mut conn, env.tenant_id)
        .await
        .unwrap();
    assert_eq!(usage.clusters, 0);
    assert_eq!(usage.nodes, 0);
    // The name can be reused.
    assert_succeeded(&env.wait(&env.create("tmp", "single-node").await).await);
}

#[sqlx::test]
async fn resync_repairs_drift_and_is_silent_when_nothing_changed(pool: PgPool) {
    let env = Env::new(pool).await;
    assert_succeeded(&env.wait(&env.create("drift", "three-nodes").await).await);
    // Wait until the watch cache holds what Kubernetes has (every managed object at its current
    // resourceVersion): only then may the resync trust it.
    assert!(
        harness::watch_cache_caught_up(&env).await,
        "the watch cache caught up with Kubernetes"
    );
    env.sim.reset_request_counts();
    let report = resync::resync_all(&env.state).await.unwrap();
    assert_eq!(report.applied, 0, "{report:?}");
    assert_eq!(report.clusters, 1);
    let counts = env.sim.request_counts();
    let writes: u64 = ["create", "update", "patch", "delete", "get", "list"]
        .iter()
        .map(|v| counts.get(*v).copied().unwrap_or(0))
        .sum();
    assert_eq!(
        writes, 0,
        "no Kubernetes request beyond the watches: {counts:?}"
    );

    // Someone deletes the Elasticsearch resource by hand: the resync recreates it.
    es_api(&env)
        .delete("drift", &DeleteParams::default())
        .await
        .unwrap();
    let missing = eventually(Duration::from_secs(5), || async {
        let key = esaas::k8s::engine::default_engine().primary("acme", "drift");
        env.state.cache.get(&key).await.is_none().then_some(())
    })
    .await;
    assert!(missing.is_some());
    let report = resync::resync_all(&env.state).await.unwrap();
    assert!(report.applied >= 1, "{report:?}");
    assert!(
        es_api(&env).get_opt("drift").await.unwrap().is_some(),
        "recreated"
    );

    // Someone else edits a field we own (with force): the resync puts it back.
    let patch = serde_json::json!({
        "apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
        "metadata": {"name": "drift"}, "spec": {"version": "8.0.0"}
    });
    es_api(&env)
        .patch(
            "drift",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(&patch),
        )
        .await
        .unwrap();
    let seen = eventually(Duration::from_secs(5), || async {
        let key = esaas::k8s::engine::default_engine().primary("acme", "drift");
        let obj = env.state.cache.get(&key).await?;
        (obj["spec"]["version"] == "8.0.0").then_some(())
    })
    .await;
    assert!(seen.is_some(), "the watch saw the edit");
    let report = resync::resync_all(&env.state).await.unwrap();
    assert!(report.applied >= 1, "{report:?}");
    let es = es_api(&env).get("drift").await.unwrap();
    assert_ne!(es.data["spec"]["version"], "8.0.0");
    let managers: Vec<String> = es
        .metadata
        .managed_fields
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(managers.iter().any(|m| m == FIELD_MANAGER), "{managers:?}");
}

#[sqlx::test]
async fn kubernetes_errors_are_retried_then_succeed(pool: PgPool) {
    let env = Env::new(pool).await;
    env.sim.inject_write_failures(3, 500);
    let op = env.create("flaky", "single-node").await;
    let retried = eventually(Duration::from_secs(10), || async {
        let mut conn = env.pool.acquire().await.unwrap();
        let now = esaas::operations::repo::get(&mut conn, env.tenant_id, op.id)
            .await
            .unwrap();
        (now.attempts >= 1
            && now
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("waiting for Kubernetes")))
        .then_some(now)
    })
    .await;
    assert!(
        retried.is_some(),
        "the operation shows it is waiting for Kubernetes"
    );
    assert_succeeded(&env.wait(&op).await);

    // An API that is down entirely: the operation waits, then resumes.
    env.sim.set_unavailable(true);
    let op = service::restart(&env.state, &env.caller, "flaky")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut conn = env.pool.acquire().await.unwrap();
    let now = esaas::operations::repo::get(&mut conn, env.tenant_id, op.id)
        .await
        .unwrap();
    assert!(
        now.state.is_active(),
        "not lost, not failed: {:?}",
        now.state
    );
    env.sim.set_unavailable(false);
    assert_succeeded(&env.wait(&op).await);
}

#[sqlx::test]
async fn killed_portal_resumes_without_duplicates(pool: PgPool) {
    let wide = sqlx::postgres::PgPoolOptions::new()
        .max_connections(12)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    // The first portal has no reconciler workers: the test runs its reconciler pass as a task of its own,
    // to kill it at the worst moment.
    let env = Env::with(wide.clone(), harness::test_config(0)).await;
    let op = env.create("resume", "three-nodes").await;
    // Hold the cluster's row (as a slow writer would): the pass claims the operation, applies the objects,
    // marks the operation applied, and then waits here to mark the cluster applied. Kubernetes has the
    // objects; Postgres has nothing of it committed.
    let mut holder = wide.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM clusters WHERE id = $1 FOR UPDATE")
        .bind(op.cluster_id)
        .execute(&mut *holder)
        .await
        .unwrap();
    let pass = {
        let state = env.state.clone();
        tokio::spawn(async move { esaas::controller::reconciler::run_once(&state).await })
    };
    let blocked_pid = eventually(Duration::from_secs(15), || async {
        sqlx::query_scalar::<_, i32>(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE '%applied_generation = greatest%'",
        )
        .fetch_optional(&wide)
        .await
        .unwrap()
    })
    .await
    .expect("the pass reached the commit of its apply");
    let applied = es_api(&env).get("resume").await.unwrap();
    assert!(!pass.is_finished());
    // Kill it there: the task dies, and with it its session (Postgres rolls the transaction back).
    pass.abort();
    assert!(pass.await.unwrap_err().is_cancelled());
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(blocked_pid)
        .execute(&wide)
        .await
        .unwrap();
    holder.rollback().await.unwrap();
    env.shutdown.cancel();
    let mut conn = wide.acquire().await.unwrap();
    let after_kill = esaas::operations::repo::get(&mut conn, env.tenant_id, op.id)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(
        after_kill.state,
        OperationState::Pending,
        "nothing of the killed pass committed: {:?}",
        after_kill.steps
    );
    assert_eq!(after_kill.attempts, 0);

    // A new portal process on the same database and Kubernetes resumes the operation.
    let (_state, shutdown) = env.second_portal(2);
    let done = harness::wait_for(&wide, env.tenant_id, op.id, Duration::from_secs(30)).await;
    assert_succeeded(&done);
    assert_eq!(done.attempts, 1, "one recorded apply: {:?}", done.steps);
    let applied_steps = done
        .steps
        .iter()
        .filter(|s| s.message.starts_with("applied"))
        .count();
    assert_eq!(applied_steps, 1, "{:?}", done.steps);
    // One object, the same one (same uid), unchanged by the re-apply (generation 1): no duplicate.
    let all = es_api(&env).list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 1, "exactly one Elasticsearch resource");
    assert_eq!(all.items[0].metadata.uid, applied.metadata.uid);
    assert_eq!(all.items[0].metadata.generation, Some(1));
    let operations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM operations WHERE cluster_id = $1")
            .bind(op.cluster_id)
            .fetch_one(&wide)
            .await
            .unwrap();
    assert_eq!(operations, 1, "one operation, completed once");
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), wide.close()).await;
}

#[sqlx::test]
async fn two_reconcilers_apply_each_operation_once(pool: PgPool) {
    let env = Env::new(pool).await;
    let (_second, second_shutdown) = env.second_portal(2);
    let mut ops = Vec::new();
    for i in 0..6 {
        ops.push(env.create(&format!("c{i}"), "single-node").await);
    }
    for op in &ops {
        let done = env.wait(op).await;
        assert_succeeded(&done);
        assert_eq!(done.attempts, 1, "applied exactly once: {:?}", done.steps);
        let applied_steps = done
            .steps
            .iter()
            .filter(|s| s.message.starts_with("applied"))
            .count();
        assert_eq!(applied_steps, 1, "{:?}", done.steps);
    }
    let all = es_api(&env).list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 6);
    second_shutdown.cancel();
}

#[sqlx::test]
async fn refused_requests_change_nothing(pool: PgPool) {
    let env = Env::new(pool).await;
    sqlx::query("UPDATE tenants SET max_nodes = 2 WHERE id = $1")
        .bind(env.tenant_id)
        .execute(&env.pool)
        .await
        .unwrap();
    let err = service::create(
        &env.state,
        &env.caller,
        &CreateRequest {
            name: "big".into(),
            template: Some("three-nodes".into()),
            spec: None,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Validation(_)), "{err:?}");
    let err = service::create(
        &env.state,
        &env.caller,
        &CreateRequest {
            name: "Bad_Name".into(),
            template: Some("single-node".into()),
            spec: None,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, AppError::Validation(ref f) if f.get("name").is_some()),
        "{err:?}"
    );
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM clusters) + (SELECT count(*) FROM operations)",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(n, 0, "no cluster and no operation written");
    // The only rows: the quota refusal, audited as denied (a bad name is an input error, not a refusal).
    let audit: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, outcome FROM audit_log WHERE action LIKE 'cluster.%' ORDER BY id",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [("cluster.create".to_owned(), "denied".to_owned())],
        "only the refusal is recorded"
    );
    // A viewer cannot change anything.
    let mut viewer = env.caller.clone();
    viewer.role = esaas::tenants::role::Role::Viewer;
    let err = service::create(
        &env.state,
        &viewer,
        &CreateRequest {
            name: "v".into(),
            template: Some("single-node".into()),
            spec: None,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)));
}

#[sqlx::test]
async fn pending_operations_can_be_cancelled(pool: PgPool) {
    let env = Env::with(pool, harness::test_config(0)).await;
    let op = env.create("later", "single-node").await;
    let err = service::scale(&env.state, &env.caller, "later", "default", 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(_) | AppError::Validation(_)),
        "one active operation: {err:?}"
    );
    let cancelled = service::cancel(&env.state, &env.caller, op.id)
        .await
        .unwrap();
    assert_eq!(cancelled.state, OperationState::Cancelled);
    let mut conn = env.pool.acquire().await.unwrap();
    assert!(matches!(
        repo::get_by_name(&mut conn, env.tenant_id, "later").await,
        Err(AppError::NotFound)
    ));
    let usage = esaas::tenants::quota::usage(&mut conn, env.tenant_id)
        .await
        .unwrap();
    assert_eq!(usage.clusters, 0, "quota released");
}

#[sqlx::test]
async fn an_operation_without_progress_is_marked_stalled(pool: PgPool) {
    let mut config = harness::test_config(2);
    config.stall_timeout = Duration::from_secs(1);
    let env = Env::with(pool, config).await;
    assert_succeeded(&env.wait(&env.create("stuck", "three-nodes").await).await);
    env.sim.set_kubelet_delay(Duration::from_millis(100));
    let pods: Api<Pod> = Api::namespaced(env.sim.client(), "esaas-acme");
    let op = service::restart(&env.state, &env.caller, "stuck")
        .await
        .unwrap();
    // Fail whichever pod the roll replaces first.
    let failed = eventually(Duration::from_secs(10), || async {
        let list = pods
            .list(&ListParams::default().labels("esaas.io/cluster=stuck"))
            .await
            .ok()?;
        let p = list.items.iter().find(|p| {
            !p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })?;
        let name = p.metadata.name.clone()?;
        env.sim.fail_pod("esaas-acme", &name);
        Some(name)
    })
    .await;
    assert!(failed.is_some(), "a pod was being replaced");
    let stalled = eventually(Duration::from_secs(15), || async {
        let mut conn = env.pool.acquire().await.unwrap();
        let now = esaas::operations::repo::get(&mut conn, env.tenant_id, op.id)
            .await
            .unwrap();
        now.stalled_reason.clone()
    })
    .await;
    let reason = stalled.expect("marked stalled");
    assert!(!reason.is_empty());
}

#[sqlx::test]
async fn a_stale_if_match_is_refused_under_the_row_lock(pool: PgPool) {
    let env = Env::new(pool).await;
    let op = env.create("logs", "single-node").await;
    env.wait(&op).await;
    let mut conn = env.pool.acquire().await.unwrap();
    let generation = repo::get_by_name(&mut conn, env.tenant_id, "logs")
        .await
        .unwrap()
        .generation;
    drop(conn);
    let count_rows = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT count(*) FROM operations) + (SELECT count(*) FROM audit_log)",
        )
        .fetch_one(&env.pool)
        .await
        .unwrap()
    };
    let before = count_rows().await;
    // The caller read the cluster at an older generation (another change landed after its read and before
    // its transaction): every kind of change is refused with 412 and writes nothing.
    let stale = env
        .caller
        .clone()
        .with_if_match(Some(&format!("\"{}\"", generation - 1)));
    let errors = [
        service::scale(&env.state, &stale, "logs", "default", 2)
            .await
            .unwrap_err(),
        service::restart(&env.state, &stale, "logs")
            .await
            .unwrap_err(),
        service::set_deletion_protection(&env.state, &stale, "logs", true)
            .await
            .unwrap_err(),
        service::delete(&env.state, &stale, "logs", "logs")
            .await
            .unwrap_err(),
    ];
    for err in errors {
        assert!(
            matches!(&err, AppError::PreconditionFailed { detail, etag } if detail.contains(&format!("generation {generation}")) && *etag == format!("\"{generation}\"")),
            "{err:?}"
        );
    }
    assert_eq!(count_rows().await, before, "nothing written");
    // The current generation (or `*`) passes.
    let fresh = env
        .caller
        .clone()
        .with_if_match(Some(&format!("W/\"x\", \"{generation}\"")));
    service::set_deletion_protection(&env.state, &fresh, "logs", true)
        .await
        .unwrap();
    let any = env.caller.clone().with_if_match(Some("*"));
    service::set_deletion_protection(&env.state, &any, "logs", false)
        .await
        .unwrap();
}
