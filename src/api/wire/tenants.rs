//! Tenants, members, roles and quotas on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::tenants::Role;
use crate::tenants::quota::Resources;

/// A member's role in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Everything, including managing owners.
    Owner,
    /// Everything except touching owners.
    Admin,
    /// Requests and changes clusters; sees credentials.
    Member,
    /// Reads only.
    Viewer,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::Member => Self::Member,
            Role::Viewer => Self::Viewer,
        }
    }
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Owner => Role::Owner,
            RoleName::Admin => Role::Admin,
            RoleName::Member => Role::Member,
            RoleName::Viewer => Role::Viewer,
        }
    }
}

/// Quota limits of a tenant (also the body of `PUT .../quota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaLimits {
    /// Most clusters.
    #[schema(example = 5, minimum = 0, maximum = 10_000)]
    pub max_clusters: i64,
    /// Most Elasticsearch nodes.
    #[schema(example = 20, minimum = 0, maximum = 100_000)]
    pub max_nodes: i64,
    /// Most CPU, millicores.
    #[schema(example = 20000, minimum = 0, maximum = 1_000_000_000)]
    pub max_cpu_millis: i64,
    /// Most memory, MiB.
    #[schema(example = 65536, minimum = 0, maximum = 1_000_000_000)]
    pub max_memory_mib: i64,
    /// Most storage, GiB.
    #[schema(example = 1000, minimum = 0, maximum = 1_000_000_000)]
    pub max_storage_gib: i64,
}

impl From<Resources> for QuotaLimits {
    fn from(r: Resources) -> Self {
        Self {
            max_clusters: r.clusters,
            max_nodes: r.nodes,
            max_cpu_millis: r.cpu_millis,
            max_memory_mib: r.memory_mib,
            max_storage_gib: r.storage_gib,
        }
    }
}

impl From<QuotaLimits> for Resources {
    fn from(q: QuotaLimits) -> Self {
        Resources {
            clusters: q.max_clusters,
            nodes: q.max_nodes,
            cpu_millis: q.max_cpu_millis,
            memory_mib: q.max_memory_mib,
            storage_gib: q.max_storage_gib,
        }
    }
}

/// Resource usage of a tenant, summed over its live clusters' desired specs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    /// Live clusters.
    pub clusters: i64,
    /// Elasticsearch nodes.
    pub nodes: i64,
    /// CPU, millicores.
    pub cpu_millis: i64,
    /// Memory, MiB.
    pub memory_mib: i64,
    /// Storage, GiB.
    pub storage_gib: i64,
}

impl From<Resources> for Usage {
    fn from(r: Resources) -> Self {
        Self {
            clusters: r.clusters,
            nodes: r.nodes,
            cpu_millis: r.cpu_millis,
            memory_mib: r.memory_mib,
            storage_gib: r.storage_gib,
        }
    }
}

/// A tenant's quota: limits, usage, and the dimensions above their limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotaView {
    /// Limits.
    pub limits: QuotaLimits,
    /// Usage.
    pub usage: Usage,
    /// Dimensions (`clusters`, `nodes`, `cpu_millis`, `memory_mib`, `storage_gib`) whose usage is above the
    /// limit (after a limit was lowered): growth there is refused until usage drops.
    pub over_limit: Vec<String>,
}

/// A tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantView {
    /// Id.
    pub id: Uuid,
    /// Slug (URL segment).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Your role in it (`null`: you see it as a platform admin, not a member).
    pub role: Option<RoleName>,
    /// Quota limits.
    pub limits: QuotaLimits,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of name or limits.
    pub updated_at: DateTime<Utc>,
}

/// The tenants you can see.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantList {
    /// Tenants, by name.
    pub items: Vec<TenantView>,
}

/// A member of a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// User id.
    pub user_id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: RoleName,
    /// The account is disabled.
    pub disabled: bool,
    /// Joined at.
    pub created_at: DateTime<Utc>,
}

/// The members of a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    /// Members, owners first.
    pub items: Vec<MemberView>,
}
