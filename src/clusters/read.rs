//! The one read of a cluster a caller names by tenant slug and cluster name: the tenant, the caller's
//! membership there and the live cluster, in one query. The web's cluster pages and the API's cluster
//! reads both start here; [`crate::tenants::access::decide`] then applies the one visibility rule to what
//! was found (a tenant the caller cannot see is 404 whether the cluster exists or not). The columns are
//! those of [`super::repo`]'s reads; the mapping is checked at compile time against the schema.

use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::repo::{Cluster, LoadBalancerAddresses, ObservedStatus};
use super::state::ActiveWork;
use crate::error::AppResult;
use crate::spec::ClusterSpec;
use crate::tenants::quota::Resources;
use crate::tenants::{Tenant, TenantSlug};

/// What one query found: the tenant, the user's membership role there (as stored), and the cluster.
#[derive(Debug)]
pub struct Found {
    /// The tenant.
    pub tenant: Tenant,
    /// The user's role, if a member.
    pub role: Option<String>,
    /// The live cluster of that name, if any.
    pub cluster: Option<Cluster>,
}

/// The tenant of `slug`, `user_id`'s role there and its live cluster `name`, in one query (`None`: no
/// such tenant).
#[tracing::instrument(skip(conn))]
pub async fn tenant_and_cluster(
    conn: &mut PgConnection,
    user_id: Uuid,
    slug: &str,
    name: &str,
) -> AppResult<Option<Found>> {
    let Some(r) = sqlx::query!(
        r#"SELECT t.id AS t_id, t.slug AS "t_slug: TenantSlug", t.name AS t_name, t.max_clusters,
                  t.max_nodes, t.max_cpu_millis, t.max_memory_mib, t.max_storage_gib,
                  t.created_at AS t_created_at, t.updated_at AS t_updated_at, m.role AS "role?",
                  c.id AS "id?", c.name AS "name?", c.engine AS "engine?",
                  c.spec AS "spec?: Json<ClusterSpec>", c.generation AS "generation?",
                  c.production AS "production?", c.nodes AS "nodes?", c.cpu_millis AS "cpu_millis?",
                  c.memory_mib AS "memory_mib?", c.storage_gib AS "storage_gib?",
                  c.deletion_protection AS "deletion_protection?", c.created_by,
                  u.email AS "created_by_email?", c.created_at AS "created_at?", c.restart_trigger,
                  c.deleting AS "deleting?", c.applied_generation AS "applied_generation?",
                  c.health AS "health?", c.phase AS "phase?", c.available_nodes AS "available_nodes?",
                  c.observed_version AS "observed_version?",
                  c.observed_generation AS "observed_generation?", c.conditions AS "conditions?",
                  c.in_progress AS "in_progress?", c.kibana_health AS "kibana_health?",
                  c.status_observed_at, c.load_balancer_addresses AS "load_balancer_addresses?",
                  (SELECT jsonb_build_object('kind', o.kind, 'state', o.state, 'params', o.params,
                          'stalled_reason', o.stalled_reason)
                   FROM operations o
                   WHERE o.cluster_id = c.id AND o.state IN ('pending', 'applying', 'waiting'))
                   AS "active_operation?: Json<ActiveWork>"
           FROM tenants t
           LEFT JOIN tenant_members m ON m.tenant_id = t.id AND m.user_id = $2
           LEFT JOIN clusters c ON c.tenant_id = t.id AND c.name = $3 AND c.deleted_at IS NULL
           LEFT JOIN users u ON u.id = c.created_by
           WHERE t.slug = $1"#,
        slug,
        user_id,
        name
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let tenant = Tenant {
        id: r.t_id,
        slug: r.t_slug,
        name: r.t_name,
        limits: Resources {
            clusters: r.max_clusters,
            nodes: r.max_nodes,
            cpu_millis: r.max_cpu_millis,
            memory_mib: r.max_memory_mib,
            storage_gib: r.max_storage_gib,
        },
        created_at: r.t_created_at,
        updated_at: r.t_updated_at,
    };
    let cluster = (|| {
        Some(Cluster {
            id: r.id?,
            tenant_id: r.t_id,
            name: r.name?,
            engine: r.engine?,
            spec: r.spec?.0,
            generation: r.generation?,
            production: r.production?,
            resources: Resources::for_cluster(
                r.nodes?,
                r.cpu_millis?,
                r.memory_mib?,
                r.storage_gib?,
            ),
            deletion_protection: r.deletion_protection?,
            created_by: r.created_by,
            created_by_email: r.created_by_email,
            created_at: r.created_at?,
            restart_trigger: r.restart_trigger,
            deleting: r.deleting?,
            applied_generation: r.applied_generation?,
            status: ObservedStatus {
                health: r.health?,
                phase: r.phase?,
                available_nodes: r.available_nodes?,
                observed_version: r.observed_version?,
                observed_generation: r.observed_generation?,
                conditions: r.conditions?,
                in_progress: r.in_progress?,
                kibana_health: r.kibana_health?,
                observed_at: r.status_observed_at,
                load_balancers: LoadBalancerAddresses::from_json(&r.load_balancer_addresses?),
            },
            active_operation: r.active_operation.map(|j| j.0),
        })
    })();
    Ok(Some(Found {
        tenant,
        role: r.role,
        cluster,
    }))
}
