//! The quota check: usage derived from live cluster rows, exactness under 50 concurrent transactions,
//! lowered limits (growth blocked, shrinking allowed), the `exclude_cluster` convention and its misuse, the
//! read-only preview.

use std::sync::Arc;

use esaas::audit::Actor;
use esaas::error::AppError;
use esaas::request_meta::RequestMeta;
use esaas::tenants::quota::{self, QuotaDimension, QuotaError, Resources};
use esaas::tenants::repo;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use super::{create_tenant, insert_cluster};

const BIG: Resources = Resources {
    clusters: 1_000,
    nodes: 1_000,
    cpu_millis: 1_000_000,
    memory_mib: 1_000_000,
    storage_gib: 1_000_000,
};

async fn set_limits(pool: &PgPool, tenant_id: Uuid, limits: Resources) -> Vec<QuotaDimension> {
    let mut tx = pool.begin().await.unwrap();
    let change = repo::set_quota(
        &mut tx,
        &Actor::system(),
        &RequestMeta::default(),
        tenant_id,
        limits,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    change.over_limit
}

/// `tasks` concurrent transactions, each reserving `totals` and then inserting a cluster row; returns how
/// many committed.
async fn race(pool: &PgPool, tenant_id: Uuid, tasks: usize, totals: Resources) -> usize {
    // A pool of its own, large enough that every task holds a connection and really contends on the lock.
    let wide = PgPoolOptions::new()
        .max_connections(tasks as u32 + 2)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let start = Arc::new(tokio::sync::Barrier::new(tasks));
    let mut handles = Vec::new();
    for i in 0..tasks {
        let (wide, start) = (wide.clone(), start.clone());
        handles.push(tokio::spawn(async move {
            let mut tx = wide.begin().await.unwrap();
            start.wait().await;
            match quota::check_and_reserve(&mut tx, tenant_id, totals, None).await {
                Ok(check) => {
                    assert!(check.after.clusters <= check.limits.clusters);
                    assert!(check.after.cpu_millis <= check.limits.cpu_millis);
                    insert_cluster(&mut tx, tenant_id, &format!("c{i}"), totals).await;
                    tx.commit().await.unwrap();
                    true
                }
                Err(QuotaError::Exceeded(v)) => {
                    assert!(!v.is_empty());
                    false
                }
                Err(e) => panic!("unexpected error: {e:?}"),
            }
        }));
    }
    let mut committed = 0;
    for h in handles {
        committed += usize::from(h.await.unwrap());
    }
    wide.close().await;
    committed
}

#[sqlx::test]
async fn fifty_concurrent_requests_commit_exactly_what_the_cluster_limit_admits(pool: PgPool) {
    let t = create_tenant(&pool, "race").await;
    set_limits(
        &pool,
        t.id,
        Resources {
            clusters: 10,
            ..BIG
        },
    )
    .await;
    let committed = race(&pool, t.id, 50, Resources::for_cluster(1, 100, 100, 1)).await;
    assert_eq!(committed, 10);
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters WHERE tenant_id = $1")
        .bind(t.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(live, 10);
}

#[sqlx::test]
async fn fifty_concurrent_requests_commit_exactly_what_the_cpu_limit_admits(pool: PgPool) {
    let t = create_tenant(&pool, "cpu").await;
    set_limits(
        &pool,
        t.id,
        Resources {
            cpu_millis: 10_000,
            ..BIG
        },
    )
    .await;
    let committed = race(&pool, t.id, 50, Resources::for_cluster(1, 1_000, 100, 1)).await;
    assert_eq!(committed, 10);
    let mut conn = pool.acquire().await.unwrap();
    assert_eq!(
        quota::usage(&mut conn, t.id).await.unwrap().cpu_millis,
        10_000
    );
}

#[sqlx::test]
async fn usage_is_the_sum_over_live_clusters(pool: PgPool) {
    let t = create_tenant(&pool, "usage").await;
    let other = create_tenant(&pool, "other").await;
    let mut conn = pool.acquire().await.unwrap();
    assert_eq!(
        quota::usage(&mut conn, t.id).await.unwrap(),
        Resources::default()
    );
    insert_cluster(
        &mut conn,
        t.id,
        "a",
        Resources::for_cluster(3, 3000, 6144, 90),
    )
    .await;
    insert_cluster(
        &mut conn,
        t.id,
        "b",
        Resources::for_cluster(2, 1000, 2048, 20),
    )
    .await;
    insert_cluster(
        &mut conn,
        other.id,
        "a",
        Resources::for_cluster(5, 5000, 5, 5),
    )
    .await;
    let deleted = insert_cluster(&mut conn, t.id, "c", Resources::for_cluster(7, 7, 7, 7)).await;
    sqlx::query("UPDATE clusters SET deleted_at = now() WHERE id = $1")
        .bind(deleted)
        .execute(&mut *conn)
        .await
        .unwrap();
    let usage = quota::usage(&mut conn, t.id).await.unwrap();
    assert_eq!(
        usage,
        Resources {
            clusters: 2,
            nodes: 5,
            cpu_millis: 4000,
            memory_mib: 8192,
            storage_gib: 110
        }
    );
    assert_eq!(quota::limits(&mut conn, t.id).await.unwrap(), t.limits);
    assert!(matches!(
        quota::limits(&mut conn, Uuid::new_v4()).await,
        Err(AppError::NotFound)
    ));
}

#[sqlx::test]
async fn a_limit_lowered_below_usage_blocks_growth_but_allows_shrinking(pool: PgPool) {
    let t = create_tenant(&pool, "lowered").await;
    let mut conn = pool.acquire().await.unwrap();
    let existing = insert_cluster(
        &mut conn,
        t.id,
        "big",
        Resources::for_cluster(6, 6000, 6144, 60),
    )
    .await;
    drop(conn);
    let over = set_limits(
        &pool,
        t.id,
        Resources {
            nodes: 4,
            ..t.limits
        },
    )
    .await;
    assert_eq!(over, vec![QuotaDimension::Nodes]);

    let mut tx = pool.begin().await.unwrap();
    // A new cluster of one node grows nodes: refused, headroom 0.
    let Err(QuotaError::Exceeded(v)) =
        quota::check_and_reserve(&mut tx, t.id, Resources::for_cluster(1, 100, 100, 1), None).await
    else {
        panic!("growth above a lowered limit must be refused");
    };
    assert_eq!(v.len(), 1);
    assert_eq!(
        (
            v[0].dimension,
            v[0].limit,
            v[0].usage,
            v[0].delta,
            v[0].headroom
        ),
        (QuotaDimension::Nodes, 4, 6, 1, 0)
    );
    // Scaling the existing cluster up: refused.
    let up = quota::check_and_reserve(
        &mut tx,
        t.id,
        Resources::for_cluster(7, 6000, 6144, 60),
        Some(existing),
    )
    .await;
    assert!(matches!(up, Err(QuotaError::Exceeded(_))), "{up:?}");
    // Scaling it down (still above the limit): allowed; the delta is the difference.
    let down = quota::check_and_reserve(
        &mut tx,
        t.id,
        Resources::for_cluster(5, 5000, 6144, 60),
        Some(existing),
    )
    .await
    .unwrap();
    assert_eq!(
        down.delta,
        Resources {
            clusters: 0,
            nodes: -1,
            cpu_millis: -1000,
            memory_mib: 0,
            storage_gib: 0
        }
    );
    assert_eq!(down.usage.nodes, 6);
    assert_eq!(down.after.nodes, 5);
    // Growing another dimension while nodes stay put: allowed.
    quota::check_and_reserve(
        &mut tx,
        t.id,
        Resources::for_cluster(6, 8000, 6144, 60),
        Some(existing),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
}

#[sqlx::test]
async fn exclusion_replaces_the_current_row_and_misuse_is_refused(pool: PgPool) {
    let t = create_tenant(&pool, "excl").await;
    let other = create_tenant(&pool, "elsewhere").await;
    let mut conn = pool.acquire().await.unwrap();
    let c = insert_cluster(
        &mut conn,
        t.id,
        "one",
        Resources::for_cluster(3, 18_000, 6144, 90),
    )
    .await;
    let foreign = insert_cluster(
        &mut conn,
        other.id,
        "one",
        Resources::for_cluster(1, 1, 1, 1),
    )
    .await;
    drop(conn);
    let mut tx = pool.begin().await.unwrap();
    // The same totals again: usage excludes the current row, so the delta is zero (not a second cluster).
    let same = quota::check_and_reserve(
        &mut tx,
        t.id,
        Resources::for_cluster(3, 18_000, 6144, 90),
        Some(c),
    )
    .await
    .unwrap();
    assert_eq!(same.delta, Resources::default());
    // 22 cores in total on a 20-core limit: the violation reports the usage and the real delta.
    let err = quota::check_and_reserve(
        &mut tx,
        t.id,
        Resources::for_cluster(3, 22_000, 6144, 90),
        Some(c),
    )
    .await
    .unwrap_err();
    let AppError::Validation(fields) = AppError::from(err) else {
        panic!("exceeded is a 422")
    };
    assert_eq!(
        fields.get("quota.cpu_millis"),
        Some(
            "Exceeds the CPU quota (limit 20 cores): this request adds 4 cores, and the tenant has 2 cores left."
        )
    );
    // A difference instead of totals is refused loudly.
    let diff = Resources {
        clusters: 0,
        nodes: 1,
        ..Resources::default()
    };
    assert!(matches!(
        quota::check_and_reserve(&mut tx, t.id, diff, Some(c)).await,
        Err(QuotaError::InvalidRequest(_))
    ));
    let negative = Resources::for_cluster(-1, 0, 0, 0);
    assert!(matches!(
        quota::check_and_reserve(&mut tx, t.id, negative, None).await,
        Err(QuotaError::InvalidRequest(_))
    ));
    // Another tenant's cluster, or an unknown tenant.
    assert!(matches!(
        quota::check_and_reserve(&mut tx, t.id, Resources::for_cluster(1, 1, 1, 1), Some(foreign)).await,
        Err(QuotaError::ClusterNotFound(id)) if id == foreign
    ));
    assert!(matches!(
        quota::check_and_reserve(
            &mut tx,
            Uuid::new_v4(),
            Resources::for_cluster(1, 1, 1, 1),
            None
        )
        .await,
        Err(QuotaError::TenantNotFound)
    ));
}

#[sqlx::test]
async fn preview_shows_every_dimension_and_what_would_exceed(pool: PgPool) {
    let t = create_tenant(&pool, "preview").await;
    let mut conn = pool.acquire().await.unwrap();
    insert_cluster(
        &mut conn,
        t.id,
        "one",
        Resources::for_cluster(3, 18_000, 6144, 90),
    )
    .await;
    let p = quota::preview(
        &mut conn,
        t.id,
        Resources::for_cluster(3, 4_000, 6144, 90),
        None,
    )
    .await
    .unwrap();
    assert!(!p.fits());
    assert_eq!(p.rows.len(), 5);
    let cpu = p
        .rows
        .iter()
        .find(|r| r.dimension == QuotaDimension::CpuMillis)
        .unwrap();
    assert_eq!(
        (cpu.usage, cpu.delta, cpu.after, cpu.headroom, cpu.exceeds),
        (18_000, 4_000, 22_000, 2_000, true)
    );
    assert!(
        p.rows
            .iter()
            .filter(|r| r.dimension != QuotaDimension::CpuMillis)
            .all(|r| !r.exceeds)
    );
    assert_eq!(p.violations().len(), 1);
    let ok = quota::preview(
        &mut conn,
        t.id,
        Resources::for_cluster(1, 1_000, 1024, 10),
        None,
    )
    .await
    .unwrap();
    assert!(ok.fits());
    assert_eq!(ok.after.clusters, 2);
}
