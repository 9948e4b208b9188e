//! Tenants: teams with members, roles and a quota.

pub mod access;
pub mod members;
pub mod quota;
pub mod repo;
pub mod role;
pub mod service;
pub mod slug;

pub use repo::Tenant;
pub use role::Role;
pub use slug::{TenantName, TenantSlug};
