//! Authentication and authorisation: logging in and out (`login`), changing one's password
//! (`password_change`), server-side sessions, login throttling and the extractors (`CurrentUser`,
//! `PlatformAdmin`, `TenantAccess`) that handlers take so that none can forget a check. Password hashing
//! (argon2id) is the accounts' (`crate::accounts::password`); CSRF is the web's (`crate::web::csrf`).

pub mod current_user;
pub mod extractors;
pub mod housekeeping;
pub mod login;
pub mod password_change;
pub mod session;
pub mod tenant_access;
pub mod throttle;

pub use current_user::CurrentUser;
pub use extractors::PlatformAdmin;
pub use tenant_access::TenantAccess;
