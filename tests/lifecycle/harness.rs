//! A lifecycle test environment: a fresh database, the simulated Kubernetes (kubelet delay 0), the portal's
//! background tasks (watches, observer, reconciler, resync) and a tenant with an owner (made with the shared
//! harness, tests/common). No portal is served: the tests call the cluster service directly.

use std::time::Duration;

use esaas::audit::Actor;
use esaas::clusters::service::{self, Caller, CreateRequest};
use esaas::config::Config;
use esaas::k8s::sim::{Sim, SimOptions};
use esaas::k8s::target::KubeTarget;
use esaas::operations::model::OperationState;
use esaas::operations::repo::{self as ops, Operation};
use esaas::request_meta::RequestMeta;
use esaas::state::AppState;
use esaas::tenants::quota::Resources;
use esaas::tenants::role::Role;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::common;

pub struct Env {
    pub pool: PgPool,
    pub sim: Sim,
    pub state: AppState,
    pub shutdown: CancellationToken,
    pub tenant_id: Uuid,
    pub caller: Caller,
}

pub fn test_config(workers: usize) -> Config {
    let mut config = Config::for_tests("postgres://unused");
    config.reconciler_workers = workers;
    // No periodic resync: the tests that need one drive `resync_all` by hand, and a start-up round racing a
    // test's hand-made drift would repair it before the test looks (seen on CI under load).
    config.resync_interval = Duration::ZERO;
    config
}

impl Env {
    pub async fn new(pool: PgPool) -> Self {
        Self::with(pool, test_config(2)).await
    }

    pub async fn with(pool: PgPool, config: Config) -> Self {
        let sim = Sim::new(SimOptions {
            kubelet_delay: Duration::ZERO,
            run_controllers: true,
            nodes: config.sim_nodes,
            ..SimOptions::default()
        });
        let state = AppState::with_kube(config, pool.clone(), KubeTarget::from_sim(sim.clone()));
        let shutdown = CancellationToken::new();
        esaas::controller::spawn_background(&state, shutdown.clone());
        let limits = Resources {
            clusters: 10,
            nodes: 40,
            cpu_millis: 100_000,
            memory_mib: 262_144,
            storage_gib: 4000,
        };
        let tenant_id = common::create_tenant_named(&pool, "acme", "Acme", limits)
            .await
            .id;
        let owner = "owner@acme.test";
        let user_id = common::create_user(&pool, owner, common::PASSWORD, false).await;
        common::add_member(&pool, tenant_id, user_id, Role::Owner).await;
        let caller = Caller {
            tenant_id,
            role: Role::Owner,
            actor: Actor::user(user_id, owner),
            meta: RequestMeta::default(),
            if_match: None,
        };
        Self {
            pool,
            sim,
            state,
            shutdown,
            tenant_id,
            caller,
        }
    }

    /// A second portal process on the same database and the same Kubernetes.
    pub fn second_portal(&self, workers: usize) -> (AppState, CancellationToken) {
        let state = AppState::with_kube(
            test_config(workers),
            self.pool.clone(),
            KubeTarget::from_sim(self.sim.clone()),
        );
        let shutdown = CancellationToken::new();
        esaas::controller::spawn_background(&state, shutdown.clone());
        (state, shutdown)
    }

    pub async fn create(&self, name: &str, template: &str) -> Operation {
        let (_, op) = service::create(
            &self.state,
            &self.caller,
            &CreateRequest {
                name: name.into(),
                template: Some(template.into()),
                spec: None,
            },
        )
        .await
        .expect("create accepted");
        op
    }

    /// Wait until the operation is finished (or the timeout passes) and return it.
    pub async fn wait(&self, op: &Operation) -> Operation {
        wait_for(&self.pool, self.tenant_id, op.id, Duration::from_secs(30)).await
    }
}

pub async fn wait_for(pool: &PgPool, tenant_id: Uuid, id: Uuid, timeout: Duration) -> Operation {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut conn = pool.acquire().await.unwrap();
        let op = ops::get(&mut conn, tenant_id, id).await.unwrap();
        if !op.state.is_active() || tokio::time::Instant::now() > deadline {
            return op;
        }
        drop(conn);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Poll `check` until it returns Some or the timeout passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// True once (within 10 s) the portal's watch cache has synced and holds every object of the watched kinds
/// that Kubernetes has under the portal's label, each at the resourceVersion Kubernetes has now, and nothing
/// else: the signal that the resync may compare against it. Pods are left out (their status keeps moving and
/// the resync does not look at them).
pub async fn watch_cache_caught_up(env: &Env) -> bool {
    let selector = format!(
        "{}={}",
        esaas::k8s::labels::MANAGED_BY,
        esaas::k8s::labels::MANAGER
    );
    let kinds: Vec<_> = esaas::k8s::watch::watched_resources()
        .into_iter()
        .filter(|r| r.kind != "Pod")
        .collect();
    eventually(Duration::from_secs(10), || async {
        if !env.state.cache.is_synced() {
            return None;
        }
        for resource in &kinds {
            let api: kube::Api<kube::api::DynamicObject> =
                kube::Api::all_with(env.sim.client(), resource);
            let live = api
                .list(&kube::api::ListParams::default().labels(&selector))
                .await
                .expect("list a watched kind");
            let cached = env.state.cache.all_of_kind(&resource.kind).await;
            if cached.len() != live.items.len() {
                return None;
            }
            for object in &live.items {
                let key = esaas::k8s::apply::ObjectKey {
                    kind: resource.kind.clone(),
                    namespace: object.metadata.namespace.clone().unwrap_or_default(),
                    name: object.metadata.name.clone().unwrap_or_default(),
                };
                let cached = env.state.cache.get(&key).await?;
                if cached["metadata"]["resourceVersion"].as_str()
                    != object.metadata.resource_version.as_deref()
                {
                    return None;
                }
            }
        }
        Some(())
    })
    .await
    .is_some()
}

pub fn assert_succeeded(op: &Operation) {
    assert_eq!(
        op.state,
        OperationState::Succeeded,
        "operation {} ({}) ended {} with error {:?}, steps {:?}",
        op.id,
        op.kind,
        op.state,
        op.last_error,
        op.steps
    );
}
