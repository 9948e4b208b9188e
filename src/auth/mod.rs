//! Authentication and authorisation on the HTTP side: passwords (argon2id), server-side sessions, CSRF,
//! login throttling and the extractors (`CurrentUser`, `PlatformAdmin`; `TenantAccess` lives with the
//! tenants) that handlers take so that none can forget a check.

pub mod current_user;
pub mod extractors;
pub mod housekeeping;
pub mod login;
pub mod password;
pub mod password_change;
pub mod session;
pub mod tenant_access;
pub mod throttle;

pub use current_user::CurrentUser;
pub use extractors::PlatformAdmin;
pub use tenant_access::TenantAccess;
