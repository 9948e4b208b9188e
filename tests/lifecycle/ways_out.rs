//! Ways out of stuck operations (issue 9), on a simulated kubelet that never makes pods ready (its delay set to
//! an hour, as pods that stay Pending in a real cluster): a stalled create can be cancelled (the cluster goes
//! away like a delete), a scale supersedes it, a delete supersedes whatever is unfinished; a cancel restores
//! the spec from before through the quota check; a delete cannot be cancelled once its resource is deleted;
//! two racing changes: one wins, the other gets 409, nothing half-written.

use std::sync::Arc;
use std::time::Duration;

use esaas::clusters::repo;
use esaas::clusters::service::{self, CreateRequest};
use esaas::error::AppError;
use esaas::operations::model::{OperationKind, OperationState};
use esaas::operations::repo::{self as ops, Operation};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use crate::common::k8s::es_resource;
use crate::harness::{self, Env, assert_succeeded, eventually};

const OWNER: &str = "owner@acme.test";

fn es_api(env: &Env) -> Api<DynamicObject> {
    Api::namespaced_with(env.sim.client(), "esaas-acme", &es_resource())
}

/// An environment whose operations stall after one second without progress.
async fn stalling_env(pool: PgPool) -> Env {
    let mut config = harness::test_config(2);
    config.stall_timeout = Duration::from_secs(1);
    Env::with(pool, config).await
}

async fn get_op(env: &Env, id: Uuid) -> Operation {
    let mut conn = env.pool.acquire().await.unwrap();
    ops::get(&mut conn, env.tenant_id, id).await.unwrap()
}

/// A `three-nodes` create whose pods never become ready, once it is marked stalled.
async fn stalled_create(env: &Env, name: &str) -> Operation {
    env.sim.set_kubelet_delay(Duration::from_secs(3600));
    let op = env.create(name, "three-nodes").await;
    let stalled = eventually(Duration::from_secs(20), || async {
        let now = get_op(env, op.id).await;
        now.stalled_reason.is_some().then_some(now)
    })
    .await
    .expect("the create is marked stalled");
    assert_eq!(stalled.state, OperationState::Waiting, "{stalled:?}");
    let reason = stalled.stalled_reason.clone().unwrap();
    assert!(reason.contains("is not ready"), "{reason}");
    stalled
}

async fn active_op(env: &Env, cluster_id: Uuid) -> Option<Operation> {
    let mut conn = env.pool.acquire().await.unwrap();
    ops::active_for_cluster(&mut conn, cluster_id)
        .await
        .unwrap()
}

fn last_step(op: &Operation) -> &str {
    &op.steps.last().expect("a step").message
}

async fn assert_gone(env: &Env, name: &str) {
    let mut conn = env.pool.acquire().await.unwrap();
    assert!(matches!(
        repo::get_by_name(&mut conn, env.tenant_id, name).await,
        Err(AppError::NotFound)
    ));
    assert!(es_api(env).get_opt(name).await.unwrap().is_none());
    let usage = esaas::tenants::quota::usage(&mut conn, env.tenant_id)
        .await
        .unwrap();
    assert_eq!(usage.clusters, 0, "quota released");
}

#[sqlx::test]
async fn a_stalled_create_can_be_cancelled_and_the_cluster_goes_away(pool: PgPool) {
    let env = stalling_env(pool).await;
    let create = stalled_create(&env, "s1").await;
    assert!(es_api(&env).get_opt("s1").await.unwrap().is_some());
    let cancelled = service::cancel(&env.state, &env.caller, create.id)
        .await
        .unwrap();
    assert_eq!(cancelled.state, OperationState::Cancelled);
    assert_eq!(last_step(&cancelled), format!("rolled back by {OWNER}"));
    // What the create applied is removed by a delete operation, like a delete.
    let rollback = active_op(&env, create.cluster_id)
        .await
        .expect("a rollback operation");
    assert_eq!(rollback.kind, OperationKind::Delete);
    assert_eq!(rollback.params["rollback_of"], json!(create.id));
    assert_eq!(rollback.params["rolled_back_by"], OWNER);
    assert_succeeded(&env.wait(&rollback).await);
    assert_gone(&env, "s1").await;
    // A finished operation cannot be cancelled again.
    let err = service::cancel(&env.state, &env.caller, create.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("already finished")),
        "{err:?}"
    );
    let audit: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'operation.cancel'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(audit, 1);
}

#[sqlx::test]
async fn a_scale_supersedes_a_stalled_create_and_a_delete_supersedes_the_scale(pool: PgPool) {
    let env = stalling_env(pool).await;
    let create = stalled_create(&env, "s1").await;
    // A restart is not a corrective change: still refused.
    let err = service::restart(&env.state, &env.caller, "s1")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    let scale = service::scale(&env.state, &env.caller, "s1", "default", 5)
        .await
        .expect("a scale supersedes the stalled create");
    let old = get_op(&env, create.id).await;
    assert_eq!(old.state, OperationState::Superseded);
    assert!(old.finished_at.is_some());
    assert_eq!(
        last_step(&old),
        format!("superseded by scale requested by {OWNER}")
    );
    // The new one starts from the current desired spec.
    assert_eq!(scale.spec_before, old.spec_after);
    assert_eq!(scale.target_generation, 2);
    // It reaches Kubernetes (and then waits on the same unready pods).
    let applied = eventually(Duration::from_secs(10), || async {
        let es = es_api(&env).get("s1").await.ok()?;
        (es.data["spec"]["nodeSets"][0]["count"] == 5).then_some(())
    })
    .await;
    assert!(applied.is_some(), "the scale was applied");
    let waiting = eventually(Duration::from_secs(10), || async {
        let now = get_op(&env, scale.id).await;
        (now.state == OperationState::Waiting).then_some(now)
    })
    .await;
    assert!(waiting.is_some(), "the scale is waiting");

    // A delete supersedes it: the scale ends cancelled, "superseded by delete".
    let delete = service::delete(&env.state, &env.caller, "s1", "s1")
        .await
        .expect("delete always works");
    let scale = get_op(&env, scale.id).await;
    assert_eq!(scale.state, OperationState::Cancelled);
    assert_eq!(
        last_step(&scale),
        format!("superseded by delete requested by {OWNER}")
    );
    assert_succeeded(&env.wait(&delete).await);
    assert_gone(&env, "s1").await;
    let states: Vec<String> = sqlx::query_scalar(
        "SELECT kind || ':' || state FROM operations WHERE cluster_id = $1 ORDER BY created_at",
    )
    .bind(create.cluster_id)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        states,
        ["create:superseded", "scale:cancelled", "delete:succeeded"]
    );
}

#[sqlx::test]
async fn deletion_protection_still_stops_a_delete(pool: PgPool) {
    let env = stalling_env(pool).await;
    let create = stalled_create(&env, "s1").await;
    service::set_deletion_protection(&env.state, &env.caller, "s1", true)
        .await
        .unwrap();
    let err = service::delete(&env.state, &env.caller, "s1", "s1")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(ref m) if m.contains("Deletion protection")));
    assert_eq!(get_op(&env, create.id).await.state, OperationState::Waiting);
}

#[sqlx::test]
async fn a_cancel_restores_the_old_spec_only_when_it_still_fits_the_quota(pool: PgPool) {
    let env = Env::new(pool).await;
    sqlx::query("UPDATE tenants SET max_nodes = 3 WHERE id = $1")
        .bind(env.tenant_id)
        .execute(&env.pool)
        .await
        .unwrap();
    assert_succeeded(&env.wait(&env.create("a", "single-node").await).await);
    let up = service::scale(&env.state, &env.caller, "a", "default", 3)
        .await
        .unwrap();
    assert_succeeded(&env.wait(&up).await);
    // Kubernetes is down: the scale-down stays unfinished (applying, retried)...
    env.sim.set_unavailable(true);
    let down = service::scale(&env.state, &env.caller, "a", "default", 2)
        .await
        .unwrap();
    // ... and another cluster takes the node it freed.
    env.create("b", "single-node").await;
    let generation = |env: &Env| {
        let pool = env.pool.clone();
        let tenant = env.tenant_id;
        async move {
            let mut conn = pool.acquire().await.unwrap();
            repo::get_by_name(&mut conn, tenant, "a").await.unwrap()
        }
    };
    let before = generation(&env).await;
    let err = service::cancel(&env.state, &env.caller, down.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("no longer fits the tenant's quota") && m.contains("nodes")),
        "{err:?}"
    );
    // Nothing half-written: same spec and generation, the scale still unfinished, no rollback, no audit row.
    let after = generation(&env).await;
    assert_eq!(after.generation, before.generation);
    assert_eq!(after.spec, before.spec);
    let still = get_op(&env, down.id).await;
    assert!(still.state.is_active(), "{still:?}");
    let audit: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'operation.cancel'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(audit, 0);

    // With room again, the cancel restores 3 nodes as a new generation, applied by a rollback operation.
    sqlx::query("UPDATE tenants SET max_nodes = 10 WHERE id = $1")
        .bind(env.tenant_id)
        .execute(&env.pool)
        .await
        .unwrap();
    let cancelled = service::cancel(&env.state, &env.caller, down.id)
        .await
        .unwrap();
    assert_eq!(cancelled.state, OperationState::Cancelled);
    let restored = generation(&env).await;
    assert_eq!(restored.generation, before.generation + 1);
    assert_eq!(restored.spec.node_sets[0].count, 3);
    let rollback = active_op(&env, restored.id).await.expect("a rollback");
    assert_eq!(rollback.kind, OperationKind::Scale);
    assert_eq!(rollback.params["rollback_of"], json!(down.id));
    assert_eq!(rollback.target_generation, restored.generation);
    env.sim.set_unavailable(false);
    assert_succeeded(&env.wait(&rollback).await);
    let es = es_api(&env).get("a").await.unwrap();
    assert_eq!(es.data["spec"]["nodeSets"][0]["count"], 3);
}

#[sqlx::test]
async fn a_delete_cannot_be_cancelled_once_its_resource_is_deleted(pool: PgPool) {
    let env = Env::new(pool).await;
    assert_succeeded(&env.wait(&env.create("d", "single-node").await).await);
    // A finalizer keeps the deleted resource visible, so the delete stays waiting.
    let hold = |finalizers: serde_json::Value| {
        Patch::Merge(json!({ "metadata": { "finalizers": finalizers } }))
    };
    es_api(&env)
        .patch(
            "d",
            &PatchParams::default(),
            &hold(json!(["test.esaas.io/hold"])),
        )
        .await
        .unwrap();
    let delete = service::delete(&env.state, &env.caller, "d", "d")
        .await
        .unwrap();
    let waiting = eventually(Duration::from_secs(10), || async {
        let now = get_op(&env, delete.id).await;
        (now.state == OperationState::Waiting).then_some(now)
    })
    .await;
    assert!(waiting.is_some(), "the delete was applied");
    let err = service::cancel(&env.state, &env.caller, delete.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("already been deleted in Kubernetes")),
        "{err:?}"
    );
    let mut conn = env.pool.acquire().await.unwrap();
    assert!(
        repo::get_by_name(&mut conn, env.tenant_id, "d")
            .await
            .unwrap()
            .deleting
    );
    drop(conn);
    es_api(&env)
        .patch("d", &PatchParams::default(), &hold(json!(null)))
        .await
        .unwrap();
    assert_succeeded(&env.wait(&delete).await);
    assert_gone(&env, "d").await;
}

#[sqlx::test]
async fn two_racing_changes_one_wins_the_other_gets_409(pool: PgPool) {
    let wide = PgPoolOptions::new()
        .max_connections(12)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let env = Arc::new(stalling_env(wide.clone()).await);
    let create = stalled_create(&env, "s1").await;
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let mut handles = Vec::new();
    for count in [5u32, 7] {
        let (env, start) = (env.clone(), start.clone());
        handles.push(tokio::spawn(async move {
            start.wait().await;
            service::scale(&env.state, &env.caller, "s1", "default", count).await
        }));
    }
    let mut won = Vec::new();
    let mut refused = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(op) => won.push(op),
            Err(AppError::Conflict(_)) => refused += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!((won.len(), refused), (1, 1), "one wins, one gets 409");
    let winner = &won[0];
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, state FROM operations WHERE cluster_id = $1 ORDER BY created_at",
    )
    .bind(create.cluster_id)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0], ("create".into(), "superseded".into()));
    assert_eq!(rows[1].0, "scale");
    let mut conn = env.pool.acquire().await.unwrap();
    let cluster = repo::get_by_name(&mut conn, env.tenant_id, "s1")
        .await
        .unwrap();
    assert_eq!(cluster.generation, 2, "exactly one change written");
    assert_eq!(
        i64::from(cluster.spec.node_sets[0].count),
        winner.params["count"].as_i64().unwrap()
    );
    let audits: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'cluster.scale'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(audits, 1);
    drop(conn);
    env.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), wide.close()).await;
}

#[sqlx::test]
async fn a_delete_racing_a_scale_leaves_one_active_operation(pool: PgPool) {
    let wide = PgPoolOptions::new()
        .max_connections(12)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let env = Arc::new(stalling_env(wide.clone()).await);
    let create = stalled_create(&env, "s1").await;
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let scale = {
        let (env, start) = (env.clone(), start.clone());
        tokio::spawn(async move {
            start.wait().await;
            service::scale(&env.state, &env.caller, "s1", "default", 5).await
        })
    };
    let delete = {
        let (env, start) = (env.clone(), start.clone());
        tokio::spawn(async move {
            start.wait().await;
            service::delete(&env.state, &env.caller, "s1", "s1").await
        })
    };
    let scale = scale.await.unwrap();
    let delete = delete.await.unwrap().expect("delete always works");
    // Whichever ran first, the delete is the one active operation, and no deadlock surfaced as a 500.
    match &scale {
        Ok(_) | Err(AppError::Conflict(_)) => {}
        Err(e) => panic!("unexpected error: {e:?}"),
    }
    let active = active_op(&env, create.cluster_id).await.unwrap();
    assert_eq!(active.id, delete.id);
    assert_succeeded(&env.wait(&delete).await);
    env.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), wide.close()).await;
}

#[sqlx::test]
async fn a_pending_create_cancelled_leaves_nothing(pool: PgPool) {
    let env = Env::with(pool, harness::test_config(0)).await;
    let (cluster, op) = service::create(
        &env.state,
        &env.caller,
        &CreateRequest {
            name: "later".into(),
            template: Some("single-node".into()),
            spec: None,
        },
    )
    .await
    .unwrap();
    let cancelled = service::cancel(&env.state, &env.caller, op.id)
        .await
        .unwrap();
    assert_eq!(cancelled.state, OperationState::Cancelled);
    assert!(
        active_op(&env, cluster.id).await.is_none(),
        "no rollback needed"
    );
}
